import base64

from markupsafe import Markup, escape

from odoo import _, api, fields, models

from ..lib.signing import verification

VERDICT_SELECTION = [("valid", "Genuine"), ("invalid", "Not valid")]


class HocbaVerificationWizard(models.TransientModel):
    """Checks a transcript file (signed PDF or XML) brought to the school:
    every signature, the chain to the trusted roots, the revocation status at
    signing time and whether every required tier signed."""

    _name = "hocba.verification.wizard"
    _description = "Transcript verification"

    file = fields.Binary(string="File (PDF or XML)", required=True)
    filename = fields.Char()
    verdict = fields.Selection(VERDICT_SELECTION, readonly=True)
    summary = fields.Char(readonly=True)
    report_html = fields.Html(readonly=True, sanitize=True)

    @api.model
    def _hocba_trusted_roots(self):
        return self.env.company.sudo().hocba_trusted_roots_pem or ""

    @api.model
    def _hocba_verify(self, data):
        """The pure-layer report of ``data`` against this school's trusted roots."""
        revocation = None
        if (self.env.company.sudo().hocba_revocation_check or "require") != "off":
            revocation = verification.ocsp_revocation(timeout=10)
        return verification.verify_document(
            data, self._hocba_trusted_roots().encode(), revocation=revocation)

    def action_verify(self):
        self.ensure_one()
        report = self._hocba_verify(base64.b64decode(self.file or b""))
        self.write({
            "verdict": "valid" if report["verdict"] else "invalid",
            "summary": self._hocba_summary(report),
            "report_html": self._hocba_html(report),
        })
        return {
            "type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
            "view_mode": "form", "target": "new", "name": _("Verification"),
        }

    @api.model
    def _hocba_summary(self, report):
        if report["verdict"]:
            return _("Genuine: every signature is intact and trusted, and every required "
                     "signer signed.")
        if report["missing_tiers"]:
            return _("Not valid: signatures are missing (%(tiers)s).",
                     tiers=", ".join(self._hocba_tier_labels().get(t, t)
                                     for t in report["missing_tiers"]))
        return _("Not valid: see the signatures and errors below.")

    @api.model
    def _hocba_tier_labels(self):
        return dict(self.env["hocba.signature"]._fields["tier"]._description_selection(self.env))

    @api.model
    def _hocba_html(self, report):
        tiers = self._hocba_tier_labels()
        yes, no = _("yes"), _("no")
        rows = []
        embedded = report.get("embedded_xml") or {}
        # a PDF's subject teachers sign the XML it carries: show them too
        for sig in report["signatures"] + list(embedded.get("signatures") or []):
            rows.append(Markup(
                "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>"
            ) % (sig.get("signer") or "", tiers.get(sig.get("tier"), sig.get("tier") or ""),
                 sig.get("time") or "", yes if sig.get("intact") else no,
                 yes if sig.get("chain_ok") else no, sig.get("revocation") or "",
                 yes if sig.get("timestamp") else no))
        errors = report["errors"] + list(embedded.get("errors") or []) + [
            e for sig in report["signatures"] for e in sig.get("errors", [])]
        head = Markup(
            "<p><b>%s</b>: %s (%s)</p><table class='table table-sm'><thead><tr>"
            "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
            "</tr></thead><tbody>") % (
            _("Pupil"), report.get("pupil_name") or "?", report.get("school_year") or "?",
            _("Signer"), _("Role"), _("Time"), _("Intact"), _("Trusted chain"),
            _("Revocation"), _("Timestamp"))
        body = Markup("").join(rows)
        tail = Markup("</tbody></table>")
        if errors:
            tail += Markup("<p><b>%s</b></p><ul>%s</ul>") % (
                _("Problems found"), Markup("").join(Markup("<li>%s</li>") % escape(e)
                                                     for e in errors[:30]))
        return head + body + tail
