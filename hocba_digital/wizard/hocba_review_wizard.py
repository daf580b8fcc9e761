from odoo import fields, models


class HocbaReviewWizard(models.TransientModel):
    """Asks for the reason of a review step that must record one: unlocking or
    sending back a class, or sending a sheet back to its teacher."""

    _name = "hocba.review.wizard"
    _description = "Review reason"

    action = fields.Selection(
        [("unlock", "Unlock the class"), ("return", "Send the class back"), ("send_back", "Send the sheet back")],
        required=True,
    )
    class_id = fields.Many2one("school.class")
    sheet_id = fields.Many2one("hocba.entry.sheet")
    reason = fields.Text(required=True)

    def action_confirm(self):
        self.ensure_one()
        if self.action == "unlock":
            self.class_id.action_unlock(self.reason)
        elif self.action == "return":
            self.class_id.action_return(self.reason)
        else:
            self.sheet_id.action_send_back(self.reason)
        return {"type": "ir.actions.act_window_close"}
