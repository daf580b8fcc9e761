from markupsafe import Markup, escape

from odoo import _, api, models

from ..lib.signing import verification


class HocbaVerificationService(models.AbstractModel):
    """Checks a transcript file (signed PDF or XML) against the trusted roots of
    the current company: every signature, the chain to the roots, the
    revocation status at signing time and whether every required tier signed;
    and says the outcome in words (a summary line, an HTML table).

    Used by the verification wizard, the parents' portal, the transfer import
    and the transcripts received from other schools.  Reads the company's
    settings as superuser: the callers decide who may verify."""

    _name = "hocba.verification.service"
    _description = "Digital transcripts: verification service"

    @api.model
    def trusted_roots(self):
        """The PEM roots the current company trusts ("" when none)."""
        return self.env.company.sudo().hocba_trusted_roots_pem or ""

    @api.model
    def verify(self, data):
        """The pure-layer report of ``data`` against this school's trusted roots."""
        revocation = None
        if (self.env.company.sudo().hocba_revocation_check or "require") != "off":
            revocation = verification.ocsp_revocation(timeout=10)
        return verification.verify_document(data, self.trusted_roots().encode(), revocation=revocation)

    @api.model
    def summary(self, report):
        """One sentence saying the verdict of ``report``."""
        if report["verdict"]:
            return _("Genuine: every signature is intact and trusted, and every required signer signed.")
        if report["missing_tiers"]:
            return _(
                "Not valid: signatures are missing (%(tiers)s).",
                tiers=", ".join(self._tier_labels().get(t, t) for t in report["missing_tiers"]),
            )
        return _("Not valid: see the signatures and errors below.")

    @api.model
    def report_html(self, report):
        """``report`` as an HTML table of its signatures and a list of its problems."""
        tiers = self._tier_labels()
        yes, no = _("yes"), _("no")
        rows = []
        embedded = report.get("embedded_xml") or {}
        # a PDF's subject teachers sign the XML it carries: show them too
        for sig in report["signatures"] + list(embedded.get("signatures") or []):
            rows.append(
                Markup("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>")
                % (
                    sig.get("signer") or "",
                    tiers.get(sig.get("tier"), sig.get("tier") or ""),
                    sig.get("time") or "",
                    yes if sig.get("intact") else no,
                    yes if sig.get("chain_ok") else no,
                    sig.get("revocation") or "",
                    yes if sig.get("timestamp") else no,
                )
            )
        errors = (
            report["errors"]
            + list(embedded.get("errors") or [])
            + [e for sig in report["signatures"] for e in sig.get("errors", [])]
        )
        head = Markup(
            "<p><b>%s</b>: %s (%s)</p><table class='table table-sm'><thead><tr>"
            "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
            "</tr></thead><tbody>"
        ) % (
            _("Pupil"),
            report.get("pupil_name") or "?",
            report.get("school_year") or "?",
            _("Signer"),
            _("Role"),
            _("Time"),
            _("Intact"),
            _("Trusted chain"),
            _("Revocation"),
            _("Timestamp"),
        )
        body = Markup("").join(rows)
        tail = Markup("</tbody></table>")
        if errors:
            tail += Markup("<p><b>%s</b></p><ul>%s</ul>") % (
                _("Problems found"),
                Markup("").join(Markup("<li>%s</li>") % escape(e) for e in errors[:30]),
            )
        return head + body + tail

    @api.model
    def _tier_labels(self):
        return dict(self.env["hocba.signature"]._fields["tier"]._description_selection(self.env))
