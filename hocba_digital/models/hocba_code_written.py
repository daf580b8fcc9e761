from odoo import api, models
from odoo.exceptions import UserError


class HocbaCodeWritten(models.AbstractModel):
    """Records the addon's services write and nobody edits: signatures, versions,
    registers, documents received from other schools.  Access rights are checked
    first (a stranger gets the access error, not this one); then the model says
    whether the operation may go on."""

    _name = "hocba.code.written"
    _description = "Record written by the addon's services only"

    def _hocba_edit_refusal(self, operation, vals=None):
        """Why ``operation`` ('create', 'write', 'unlink') is refused here, or
        None when it may go on.  ``vals`` is given for 'write'."""
        raise NotImplementedError

    def _hocba_guard(self, operation, vals=None):
        self.check_access(operation)
        message = self._hocba_edit_refusal(operation, vals)
        if message:
            raise UserError(message)

    @api.model_create_multi
    def create(self, vals_list):
        self._hocba_guard("create")
        return super().create(vals_list)

    def write(self, vals):
        self._hocba_guard("write", vals)
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_code_written(self):
        # unlink() checked the access rights already
        message = self._hocba_edit_refusal("unlink")
        if message:
            raise UserError(message)
