import json

from odoo import _, api, fields, models

from .. import service_scope


class HocbaTransferDocument(models.Model):
    """One signed file of a transcript received from another school with a
    transfer package (PDF or XML, bytes unchanged), attached to the pupil
    with the report of its verification at import.

    Made only by the import of a package that verified as a whole
    (``hocba.transfer.import.wizard``); never changed or deleted afterwards.
    The pupil's homeroom teacher, the vice principal, the principal, the IT
    officer and the clerk read them; so do the pupil's guardians (portal).
    """

    _name = "hocba.transfer.document"
    _inherit = ["hocba.code.written"]
    _description = "Transcript received from another school"
    _order = "student_id, school_year desc, version desc, kind desc, id"
    _check_company_auto = True
    _rec_name = "filename"

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda self: self.env.company
    )
    student_id = fields.Many2one(
        "school.student",
        string="Pupil",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
        check_company=True,
    )
    import_log_id = fields.Many2one(
        "hocba.issue.log", string="Register entry", required=True, readonly=True, index=True, ondelete="restrict"
    )
    kind = fields.Selection([("xml", "Signed XML"), ("pdf", "Signed PDF")], required=True, readonly=True)
    file = fields.Binary(string="Signed file", attachment=True, readonly=True, copy=False)
    filename = fields.Char(string="File name", readonly=True)
    sha256 = fields.Char(string="SHA-256", readonly=True, index=True)
    school_name = fields.Char(string="Issued by school", readonly=True)
    school_code = fields.Char(readonly=True)
    school_year = fields.Char(readonly=True, index=True)
    class_name = fields.Char(string="Class", readonly=True)
    grade = fields.Integer(readonly=True)
    document_id = fields.Char(readonly=True, index=True)
    version = fields.Integer(readonly=True)
    state = fields.Selection(
        [("issued", "Issued"), ("superseded", "Superseded")], string="Status at the sending school", readonly=True
    )
    issued_at = fields.Char(string="Issued on", readonly=True, help="As the sending school's manifest says.")
    verified = fields.Boolean(string="Verified at import", readonly=True)
    verdict_text = fields.Char(string="Verification", readonly=True)
    report_json = fields.Text(string="Verification report (JSON)", readonly=True)
    report_html = fields.Html(string="Verification report", compute="_compute_report_html", sanitize=True)

    @api.depends("report_json")
    def _compute_report_html(self):
        service = self.env["hocba.verification.service"]
        for document in self:
            report = json.loads(document.report_json) if document.report_json else None
            document.report_html = service.report_html(report) if report else False

    def _hocba_edit_refusal(self, operation, vals=None):
        if operation == "write":
            return _("A document received from another school never changes.")
        if operation == "unlink":
            return _("A document received from another school is kept.")
        if not service_scope.active(service_scope.TRANSFER_IMPORT):
            return _("Documents of other schools arrive with a verified transfer package, not by hand.")
        return None

    def action_download(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": "/web/content/hocba.transfer.document/%s/file/%s?download=true" % (self.id, self.filename),
            "target": "self",
        }
