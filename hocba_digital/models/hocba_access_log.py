from odoo import _, api, fields, models


class HocbaAccessLog(models.Model):
    """The register of what was looked at: every public verification and
    every download of a signed file on the portal. Copies, extracts and
    transfer packages are in the clerk's register, ``hocba.issue.log``.
    Written by the code only, never edited."""

    _name = "hocba.access.log"
    _inherit = ["hocba.code.written"]
    _description = "Register of verifications and downloads"
    _order = "create_date desc, id desc"

    kind = fields.Selection(
        [("verify", "Verification"), ("download_pdf", "PDF downloaded"), ("download_xml", "XML downloaded")],
        required=True,
        readonly=True,
        index=True,
    )
    version_id = fields.Many2one("hocba.version", readonly=True, index=True, ondelete="set null")
    student_id = fields.Many2one(related="version_id.student_id", store=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True, default=lambda self: self.env.company)
    user_id = fields.Many2one("res.users", string="By", readonly=True, default=lambda self: self.env.user)
    remote_addr = fields.Char(string="IP address", readonly=True)
    verdict = fields.Char(readonly=True)
    file_sha256 = fields.Char(string="File SHA-256", readonly=True)
    note = fields.Char(readonly=True)

    @api.model
    def _hocba_log(self, kind, version=None, remote_addr=None, verdict=None, file_sha256=None, note=None):
        return self.sudo().create(
            {
                "kind": kind,
                "version_id": version.id if version else False,
                "company_id": (version.company_id if version else self.env.company).id,
                "user_id": self.env.user.id,
                "remote_addr": remote_addr,
                "verdict": verdict,
                "file_sha256": file_sha256,
                "note": note,
            }
        )

    def _hocba_edit_refusal(self, operation, vals=None):
        # written by _hocba_log as superuser; deleting is left to the access rights
        return _("The register cannot be changed.") if operation == "write" else None
