import base64
import datetime
import io
import zipfile

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..lib.documents import html_pdf, transcript_layout, transfer_package, xml_profile
from ..models.hocba_issue_log import REQUESTER_RELATIONS

ISSUABLE = ("issued", "superseded")


class HocbaIssueWizard(models.TransientModel):
    """The clerk hands out a pupil's signed transcript, and registers it:

    * a **copy**: the signed PDF of one version, bytes unchanged (a signed
      PDF is an original, there is nothing to certify);
    * an **extract** (bản trích lục) of one school year: a ZIP of the signed PDF
      and XML of that version, unchanged, with an unsigned cover sheet that
      summarises them and says where to verify them;
    * a **transfer package** for a pupil leaving the school: every issued and
      superseded version of every year (and any received from an earlier
      school), with a manifest (``lib.transfer_package``).

    Every issue is an entry of the register (``hocba.issue.log``) with the
    SHA-256 of the file handed out.
    """

    _name = "hocba.issue.wizard"
    _description = "Issue a copy, an extract or a transfer package"

    kind = fields.Selection(
        [
            ("copy", "Copy (signed PDF as issued)"),
            ("extract", "Extract of the school year (signed files and a cover sheet)"),
            ("transfer_out", "Transfer package (every year, for another school)"),
        ],
        required=True,
        default="copy",
    )
    version_id = fields.Many2one("hocba.version", string="Version", domain=[("state", "in", ISSUABLE)])
    student_id = fields.Many2one(
        "school.student", string="Pupil", compute="_compute_student_id", store=True, readonly=False
    )
    requester_partner_id = fields.Many2one("res.partner", string="Requester (contact)")
    requester_name = fields.Char(string="Requested by", compute="_compute_requester_name", store=True, readonly=False)
    requester_relation = fields.Selection(
        REQUESTER_RELATIONS, string="Relation to the pupil", required=True, default="parent"
    )
    reason = fields.Text(required=True)
    state = fields.Selection([("draft", "To issue"), ("done", "Issued")], default="draft")
    log_id = fields.Many2one("hocba.issue.log", string="Register entry", readonly=True)
    result_file = fields.Binary(string="File to hand out", readonly=True, attachment=False)
    result_filename = fields.Char(readonly=True)

    @api.depends("version_id")
    def _compute_student_id(self):
        for wizard in self:
            wizard.student_id = wizard.version_id.student_id or wizard.student_id

    @api.depends("requester_partner_id")
    def _compute_requester_name(self):
        for wizard in self:
            wizard.requester_name = wizard.requester_partner_id.name or wizard.requester_name

    @api.onchange("requester_partner_id")
    def _onchange_requester_partner_id(self):
        if self.requester_partner_id and self.requester_partner_id in self.student_id.sudo().guardian_ids:
            self.requester_relation = "parent"

    def action_issue(self):
        self.ensure_one()
        Register = self.env["hocba.issue.log"]
        Register._hocba_check_clerk()
        if self.state == "done":
            raise UserError(_("This was issued already: start again for another one."))
        if not (self.requester_name or "").strip():
            raise UserError(_("Say who asked for it."))
        number = Register._hocba_next_number(self.student_id.company_id or self.env.company)
        if self.kind == "transfer_out":
            data, filename, versions, count, note = self._hocba_transfer_package()
        else:
            data, filename, versions, count, note = self._hocba_copy_or_extract(number)
        log = Register._hocba_register(
            self.kind,
            self.student_id,
            versions,
            data,
            name=number,
            channel="back_office",
            requester_partner_id=self.requester_partner_id.id,
            requester_name=self.requester_name.strip(),
            requester_relation=self.requester_relation,
            reason=self.reason,
            file_name=filename,
            document_count=count,
            note=note,
        )
        self.write(
            {"state": "done", "log_id": log.id, "result_file": base64.b64encode(data), "result_filename": filename}
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": _("Issued"),
        }

    # ---- copy and extract ----

    def _hocba_stored(self, version, field, sha_field):
        """The bytes of a signed file, refused if they no longer match the
        hash recorded when the version was issued."""
        data = base64.b64decode(version[field] or b"")
        if not data:
            return b""
        if version[sha_field] and transfer_package.sha256(data) != version[sha_field]:
            raise UserError(
                _(
                    "The stored file of %(version)s does not match the SHA-256 "
                    "recorded at issue: it must not be handed out. Tell the IT "
                    "officer.",
                    version=version.display_name,
                )
            )
        return data

    def _hocba_copy_or_extract(self, number):
        version = self.version_id
        if not version or version.state not in ISSUABLE:
            raise UserError(_("Choose an issued version of the transcript."))
        note = _("Superseded version") if version.state == "superseded" else False
        pdf = self._hocba_stored(version, "pdf_file", "pdf_sha256")
        if self.kind == "copy":
            if not pdf:
                raise UserError(_("This version has no signed PDF."))
            return pdf, version.pdf_filename, version, 1, note
        xml = self._hocba_stored(version, "xml_file", "xml_sha256")
        if not xml:
            raise UserError(_("This version has no signed XML."))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("0-cover-sheet.pdf", self._hocba_cover_pdf(version, number, xml, pdf))
            archive.writestr(version.xml_filename, xml)
            if pdf:
                archive.writestr(version.pdf_filename, pdf)
        filename = version.xml_filename[:-4] + "-extract.zip"
        return buffer.getvalue(), filename, version, 3 if pdf else 2, note

    def _hocba_cover_pdf(self, version, number, xml, pdf):
        """An unsigned sheet on top of the signed files: what they are, for
        whom, and where to verify them."""
        files = [(version.xml_filename, transfer_package.sha256(xml))]
        if pdf:
            files.append((version.pdf_filename, transfer_package.sha256(pdf)))
        lang = self.env["hocba.xml.mapping"]._hocba_lang()
        relations = dict(
            self.with_context(lang=lang)
            ._fields["requester_relation"]
            ._description_selection(self.with_context(lang=lang).env)
        )
        html = (
            self.env["ir.qweb"]
            .with_context(lang=lang)
            ._render(
                "hocba_digital.hocba_issue_cover_sheet",
                {
                    "doc": transcript_layout.prepare(xml_profile.parse(xml)),
                    "number": number,
                    "wizard": self,
                    "files": files,
                    "relation": relations.get(self.requester_relation, ""),
                    "version": version.with_context(lang=lang),
                    "company": version.company_id,
                    "issued_on": format_date(self.with_context(lang=lang).env, fields.Date.context_today(self)),
                    "verify_url": "%s/hocba/verify/%s" % (version.get_base_url(), version.document_id),
                },
            )
        )
        try:
            return html_pdf.html_to_pdf(html)
        except html_pdf.HtmlPdfError as exc:
            raise UserError(_("The cover sheet could not be made: %(why)s", why=exc)) from exc

    # ---- transfer out ----

    def _hocba_transfer_package(self):
        student = self.student_id
        if not student:
            raise UserError(_("Choose the pupil who leaves the school."))
        versions = self.env["hocba.version"].search(
            [("student_id", "=", student.id), ("state", "in", ISSUABLE)], order="year_id, number"
        )
        received = student.transfer_document_ids
        if not versions and not received:
            raise UserError(_("%(pupil)s has no issued transcript to transfer.", pupil=student.name))
        documents = []
        for version in versions:
            common = {
                "document_id": version.document_id,
                "version": version.number,
                "state": version.state,
                "school_year": version.year_id.name,
                "class_name": version.class_id.name,
                "grade": int(version.class_id.grade or 0),
                "issued_at": version.issued_at.replace(tzinfo=datetime.timezone.utc).isoformat()
                if version.issued_at
                else None,
                "replaces": version.replaces_id.document_id or None,
            }
            for kind, field in (("xml", "xml_file"), ("pdf", "pdf_file")):
                data = self._hocba_stored(version, field, "%s_sha256" % kind)
                if data:
                    documents.append(dict(common, kind=kind, data=data))
        for document in received:
            documents.append(
                {
                    "kind": document.kind,
                    "data": base64.b64decode(document.file or b""),
                    "document_id": document.document_id,
                    "version": document.version,
                    "state": document.state,
                    "school_year": document.school_year,
                    "class_name": document.class_name,
                    "grade": document.grade,
                    "issued_at": document.issued_at,
                    "replaces": None,
                    "school": {"name": document.school_name, "code": document.school_code},
                }
            )
        company = student.company_id
        data, manifest = transfer_package.build(
            {"name": company.name, "code": company.hocba_school_code, "authority": company.hocba_authority},
            {
                "full_name": student.name,
                "birth_date": student.birth_date.isoformat() if student.birth_date else None,
                "sex": student.sex,
                "moet_code": student.moet_code or None,
                "school_code": student.school_code or None,
            },
            documents,
        )
        filename = "hocba-transfer-%s.zip" % (student.school_code or student.moet_code or student.id)
        note = _(
            "%(versions)s version(s), %(received)s file(s) received from earlier schools",
            versions=len(versions),
            received=len(received),
        )
        return data, filename, versions, len(manifest["documents"]), note
