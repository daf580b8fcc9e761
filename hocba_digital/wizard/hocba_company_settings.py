from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..groups import IT_OFFICER


class HocbaCompanySettings(models.AbstractModel):
    """Base of the IT officer's settings wizards: a few fields of the school
    (the current company) kept by the IT officer without giving them the rest
    of the company record.  Only the IT officer opens or saves one; the
    company is read and written as superuser.

    A wizard names its fields (``_hocba_company_fields``: wizard field ->
    company field) and says why others are refused (``_hocba_refusal``)."""

    _name = "hocba.company.settings"
    _description = "Digital transcripts: settings kept by the IT officer"

    # wizard field -> company field, read when the wizard opens
    _hocba_company_fields = {}

    company_id = fields.Many2one("res.company", default=lambda self: self.env.company, required=True, readonly=True)

    def _hocba_refusal(self):
        """The message of the AccessError given to anyone but the IT officer."""
        raise NotImplementedError

    def _hocba_check_it_officer(self):
        if not self.env.user.has_group(IT_OFFICER):
            raise AccessError(self._hocba_refusal())

    @api.model
    def default_get(self, fields_list):
        self._hocba_check_it_officer()
        values = super().default_get(fields_list)
        values.update(self._hocba_read_company(self.env.company.sudo()))
        return values

    @api.model
    def _hocba_read_company(self, company_sudo):
        """The wizard's values, read from ``company_sudo``."""
        return {name: company_sudo[field] for name, field in self._hocba_company_fields.items()}

    def _hocba_save(self, vals):
        """Write ``vals`` (company fields) on the wizard's company, for the IT officer only."""
        self.ensure_one()
        self._hocba_check_it_officer()
        self.company_id.sudo().write(vals)
        return {"type": "ir.actions.act_window_close"}
