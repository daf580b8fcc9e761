import base64
import json

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import service_scope
from ..lib.documents import transfer_package
from ..models.hocba_issue_log import REQUESTER_RELATIONS


class HocbaTransferImportWizard(models.TransientModel):
    """The clerk imports the transfer package of a pupil who arrives from
    another school.

    Every file's hash is checked against the manifest and every file is
    verified (``lib.verification``) against this school's trusted roots
    (company setting *Trusted root certificates*: the sending school's CA, or
    the national root above it, must be there).  The package is imported as
    a whole or not at all: one problem and nothing is written but the report
    shown here.
    """

    _name = "hocba.transfer.import.wizard"
    _description = "Import a transfer package"

    file = fields.Binary(string="Transfer package (ZIP)", required=True, attachment=False)
    filename = fields.Char()
    student_id = fields.Many2one(
        "school.student",
        string="Pupil",
        required=True,
        help="The pupil as enrolled in this school; the signed "
        "documents must be about them (name, birth date, "
        "personal ID).",
    )
    requester_partner_id = fields.Many2one("res.partner", string="Brought by (contact)")
    requester_name = fields.Char(
        string="Brought by", help="Who handed the package over; by default the sending school."
    )
    requester_relation = fields.Selection(
        REQUESTER_RELATIONS, string="Relation to the pupil", required=True, default="other_school"
    )
    reason = fields.Text(default=lambda self: _("Transfer of the pupil to our school"))
    state = fields.Selection(
        [("draft", "To check"), ("refused", "Refused"), ("ready", "Verified"), ("done", "Imported")], default="draft"
    )
    summary = fields.Char(readonly=True)
    report_html = fields.Html(string="Report", readonly=True, sanitize=True)
    log_id = fields.Many2one("hocba.issue.log", string="Register entry", readonly=True)

    @api.onchange("file")
    def _onchange_file(self):
        self.state = "draft"

    def action_check(self):
        self.ensure_one()
        self._hocba_show(self._hocba_inspect())
        return self._hocba_reopen()

    def action_import(self):
        self.ensure_one()
        if self.state == "done":
            raise UserError(_("This package was imported already."))
        # checked again: the file may have changed since the check
        report = self._hocba_inspect()
        self._hocba_show(report)
        if report["verdict"]:
            self._hocba_attach(report)
        return self._hocba_reopen()

    # ---- checks ----

    def _hocba_inspect(self):
        self.env["hocba.issue.log"]._hocba_check_clerk()
        if not self.student_id:
            raise UserError(_("Choose the pupil the package is for."))
        data = base64.b64decode(self.file or b"")
        verifier = self.env["hocba.verification.service"].with_company(self.student_id.company_id)
        # compared with the signed XML's, never shown: the clerk does not read it
        student_sudo = self.student_id.sudo()
        expected = {
            "full_name": student_sudo.name,
            "personal_id": student_sudo.personal_id,
            "birth_date": student_sudo.birth_date.isoformat() if student_sudo.birth_date else None,
        }
        report = transfer_package.inspect(data, verifier.verify, expected)
        hashes = [d["actual_sha256"] for d in report["documents"] if d["actual_sha256"]]
        if hashes and self.env["hocba.transfer.document"].search_count(
            [("student_id", "=", self.student_id.id), ("sha256", "in", hashes)]
        ):
            report["errors"].append(
                _("documents of this package were imported for %(pupil)s already", pupil=self.student_id.name)
            )
            report["verdict"] = False
        return report

    def _hocba_summary(self, report):
        school = report["school"].get("name") or "?"
        count = len(report["documents"])
        if report["verdict"]:
            return _(
                "Verified: the %(count)s file(s) sent by %(school)s are intact, signed and trusted.",
                count=count,
                school=school,
            )
        bad = len([d for d in report["documents"] if not d["ok"]])
        return _(
            "Refused: %(bad)s of %(count)s file(s) do not verify and %(errors)s problem(s) "
            "with the package itself. Nothing was imported.",
            bad=bad,
            count=count,
            errors=len(report["errors"]),
        )

    def _hocba_show(self, report):
        self.write(
            {
                "state": "ready" if report["verdict"] else "refused",
                "summary": self._hocba_summary(report),
                "report_html": self._hocba_html(report),
            }
        )

    @api.model
    def _hocba_html(self, report):
        states = dict(self.env["hocba.transfer.document"]._fields["state"]._description_selection(self.env))
        yes, no = _("yes"), _("no")
        head = Markup("<p><b>%s</b>: %s (%s) &middot; <b>%s</b>: %s &middot; <b>SHA-256</b>: <code>%s</code></p>") % (
            _("From"),
            report["school"].get("name") or "?",
            report["school"].get("code") or "",
            _("Pupil"),
            report["pupil"].get("full_name") or "?",
            report["sha256"] or "",
        )
        rows = Markup("").join(
            Markup("<tr class='%s'><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>")
            % (
                "" if doc["ok"] else "table-danger",
                doc["path"] or "?",
                doc["manifest"].get("school_year") or "",
                doc["manifest"].get("version") or "",
                states.get(doc["manifest"].get("state"), doc["manifest"].get("state") or ""),
                yes if doc["hash_ok"] else no,
                (doc["verification"] or {}).get("verdict_text") or "",
                "; ".join(doc["errors"]),
            )
            for doc in report["documents"]
        )
        table = Markup(
            "<table class='table table-sm'><thead><tr><th>%s</th><th>%s</th><th>%s</th>"
            "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>%s</tbody>"
            "</table>"
        ) % (
            _("File"),
            _("School year"),
            _("Version"),
            _("Status"),
            _("Hash matches"),
            _("Signatures"),
            _("Problems"),
            rows,
        )
        problems = Markup("")
        if report["errors"]:
            problems = Markup("<p><b>%s</b></p><ul>%s</ul>") % (
                _("Problems with the package"),
                Markup("").join(Markup("<li>%s</li>") % e for e in report["errors"][:30]),
            )
        return head + problems + table

    def _hocba_reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": _("Import a transfer package"),
        }

    # ---- import ----

    def _hocba_attach(self, report):
        """Everything in one go, after a verdict on the whole package."""
        self.env["hocba.issue.log"]._hocba_check_clerk()
        school = report["school"]
        student = self.student_id
        data = base64.b64decode(self.file or b"")
        log = self.env["hocba.issue.log"]._hocba_register(
            "transfer_in",
            student,
            None,
            data,
            channel="back_office",
            requester_partner_id=self.requester_partner_id.id,
            requester_name=(self.requester_name or "").strip() or school.get("name"),
            requester_relation=self.requester_relation,
            reason=self.reason,
            other_school=" ".join(filter(None, [school.get("name"), school.get("code") and "(%s)" % school["code"]])),
            file_name=self.filename or "transfer.zip",
            document_count=len(report["documents"]),
        )
        _manifest, files, _errors = transfer_package.read(data)
        # what the signed XML says, not the manifest (state and date excepted:
        # the state was checked against the signed "Replaces" links)
        signed = {doc["header"].get("document_id"): doc["header"] for doc in report["documents"] if doc["header"]}
        values = []
        for doc in report["documents"]:
            said = doc["manifest"]
            header = signed[said["document_id"]]
            issuer = header.get("school") or {}
            verification = doc["verification"]
            values.append(
                {
                    "company_id": student.company_id.id,
                    "student_id": student.id,
                    "import_log_id": log.id,
                    "kind": doc["kind"],
                    "file": base64.b64encode(files[doc["path"]]),
                    "filename": doc["path"].rsplit("/", 1)[-1],
                    "sha256": doc["actual_sha256"],
                    "school_name": issuer.get("name"),
                    "school_code": issuer.get("code"),
                    "school_year": header.get("school_year"),
                    "class_name": header.get("class_name"),
                    "grade": header.get("grade") or 0,
                    "document_id": header.get("document_id"),
                    "version": header.get("version"),
                    "state": said.get("state"),
                    "issued_at": said.get("issued_at"),
                    "verified": True,
                    "verdict_text": verification.get("verdict_text"),
                    "report_json": json.dumps(verification, ensure_ascii=False, default=str),
                }
            )
        with service_scope.granted(service_scope.TRANSFER_IMPORT):
            self.env["hocba.transfer.document"].sudo().create(values)
        self.write({"state": "done", "log_id": log.id})
