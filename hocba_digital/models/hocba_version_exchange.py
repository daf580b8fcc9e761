from odoo import fields, models


class HocbaVersion(models.Model):
    """An issued version goes to the transcript store as a package."""

    _inherit = "hocba.version"

    exchange_ids = fields.One2many("hocba.exchange", "version_id", string="Packages sent")

    def _hocba_issue(self):
        result = super()._hocba_issue()
        self.env["hocba.exchange"]._hocba_queue(self)
        return result
