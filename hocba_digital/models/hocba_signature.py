from odoo import _, api, fields, models

from .. import service_scope
from .hocba_certificate import TIER_SELECTION


class HocbaSignature(models.Model):
    """One tier's XAdES signature on one version of a transcript.

    Written only by the signing service (as superuser, after every check), never
    edited: the one change allowed is ``valid`` -> ``invalidated``, made by the
    correction flow when the data it covers changes.  Everyone who reads the
    transcript reads its signatures.
    """

    _name = "hocba.signature"
    _inherit = ["hocba.code.written"]
    _description = "Transcript signature"
    _order = "version_id, sequence, id"
    _check_company_auto = True

    version_id = fields.Many2one("hocba.version", required=True, index=True, ondelete="cascade")
    transcript_id = fields.Many2one(related="version_id.transcript_id", store=True, index=True)
    class_id = fields.Many2one(related="version_id.class_id", store=True, index=True)
    company_id = fields.Many2one(related="version_id.company_id", store=True)
    tier = fields.Selection(TIER_SELECTION, required=True)
    sequence = fields.Integer(compute="_compute_sequence", store=True)
    subject_id = fields.Many2one("school.subject", index=True)
    wrapper_id = fields.Char(string="XML element", required=True)
    signer_user_id = fields.Many2one("res.users", string="Signed by", required=True)
    signer_name = fields.Char(required=True, help="Common name of the signing certificate.")
    certificate_id = fields.Many2one("hocba.certificate", required=True, ondelete="restrict")
    signed_at = fields.Datetime(string="Signed on", required=True)
    content = fields.Text(string="ds:Signature", required=True)
    covered_digest = fields.Char(
        string="Digest of the signed part",
        help="SHA-256 of the signed subject block, canonicalised: shows that the results of "
        "a school subject changed without verifying the signature.",
    )
    state = fields.Selection(
        [("valid", "Valid"), ("invalidated", "Invalidated")], default="valid", required=True, index=True
    )
    invalidated_reason = fields.Char(string="Why invalidated")

    _sql_constraints = [
        (
            "one_valid_per_place",
            "EXCLUDE (version_id WITH =, wrapper_id WITH =) WHERE (state = 'valid')",
            "This part of the transcript is already signed.",
        ),
    ]

    @api.depends("tier")
    def _compute_sequence(self):
        order = [key for key, _label in TIER_SELECTION]
        for signature in self:
            signature.sequence = order.index(signature.tier) if signature.tier else 0

    @api.depends("tier", "subject_id", "signer_name")
    def _compute_display_name(self):
        tiers = dict(self._fields["tier"]._description_selection(self.env))
        for signature in self:
            label = tiers.get(signature.tier, "")
            if signature.subject_id:
                label = "%s (%s)" % (label, signature.subject_id.name)
            signature.display_name = "%s: %s" % (label, signature.signer_name or "")

    def _hocba_edit_refusal(self, operation, vals=None):
        if operation == "create":
            return (
                None
                if service_scope.active(service_scope.SIGNING)
                else _("Signatures are made by signing, not created by hand.")
            )
        if operation == "unlink":
            return (
                None
                if service_scope.active(service_scope.VERSION_CLEANUP)
                else _("A signature cannot be deleted. Request a correction of the transcript instead.")
            )
        # the only change a signature knows: it stops counting after a correction
        invalidating = (
            not set(vals) - {"state", "invalidated_reason"} and vals.get("state", "invalidated") == "invalidated"
        )
        if invalidating and service_scope.active(service_scope.SIGNING):
            return None
        return _("A signature cannot be changed. Request a correction of the transcript instead.")
