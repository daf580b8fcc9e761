from odoo import _, api, fields, models
from odoo.exceptions import UserError


class SchoolStudent(models.Model):
    """The signed transcripts a pupil brought from earlier schools."""

    _inherit = "school.student"

    transfer_document_ids = fields.One2many(
        "hocba.transfer.document", "student_id", string="Transcripts from earlier schools",
        readonly=True)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_registered(self):
        students_sudo = self.sudo()
        registered = students_sudo.filtered("transfer_document_ids") or students_sudo.env[
            "hocba.issue.log"].search([("student_id", "in", self.ids)], limit=1).student_id
        if registered:
            raise UserError(_(
                "%(name)s has documents from other schools or entries in the register of copies "
                "and transfers, which must be kept: archive the pupil instead.",
                name=registered[0].name))
