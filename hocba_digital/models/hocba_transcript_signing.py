from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..lib.signing import chain as signing_chain


class HocbaTranscript(models.Model):
    """The signing side of the transcript: its versions, what its signatures
    freeze, and the correction flow (request -> principal opens -> re-sign)."""

    _inherit = "hocba.transcript"

    version_ids = fields.One2many("hocba.version", "transcript_id", string="Versions")
    current_version_id = fields.Many2one(
        "hocba.version", compute="_compute_current_version", string="Current version")
    issued_version_id = fields.Many2one(
        "hocba.version", compute="_compute_current_version", string="Issued version")
    signature_ids = fields.One2many("hocba.signature", "transcript_id", string="Signatures")
    signing_state = fields.Selection(
        [("unsigned", "Not signed"), ("subjects", "Subjects signing"),
         ("homeroom", "Signed by the homeroom teacher"), ("principal", "Signed by the principal"),
         ("issued", "Issued"), ("correction", "Correction")],
        compute="_compute_current_version", string="Signing")
    correction_state = fields.Selection(
        [("requested", "Correction requested"), ("open", "Being corrected")],
        readonly=True, copy=False, tracking=True)
    correction_reason = fields.Text(readonly=True, copy=False, tracking=True)

    @api.depends("version_ids.state", "version_ids.signature_ids.state", "correction_state")
    def _compute_current_version(self):
        for transcript in self:
            versions = transcript.version_ids.sorted("number", reverse=True)
            current = versions[:1]
            transcript.current_version_id = current
            transcript.issued_version_id = versions.filtered(lambda v: v.state == "issued")[:1]
            tiers = set(current._hocba_valid_signatures().mapped("tier"))
            if transcript.correction_state == "open":
                state = "correction"
            elif current.state == "issued":
                state = "issued"
            elif signing_chain.PRINCIPAL in tiers:
                state = "principal"
            elif signing_chain.HOMEROOM in tiers:
                state = "homeroom"
            elif tiers:
                state = "subjects"
            else:
                state = "unsigned"
            transcript.signing_state = state

    def write(self, vals):
        self.check_access("write")
        if not self.env.context.get("hocba_signing_service"):
            if {"correction_state", "correction_reason"} & set(vals):
                raise UserError(_("Use the correction buttons to request or open a correction."))
            self._hocba_check_signed(data=True)
        return super().write(vals)

    def unlink(self):
        self.check_access("unlink")
        if self.sudo().version_ids:
            raise UserError(_("A transcript that has been signed is never deleted: its "
                              "versions are the school's record."))
        return super().unlink()

    # ---- versions ----

    def _hocba_current_version(self):
        """The latest version, read through ``version_ids`` so that a loop over
        a class reads the versions of all its transcripts in one query."""
        self.ensure_one()
        return self.sudo().version_ids.sorted("number")[-1:]

    def _hocba_new_version(self, previous=None, reason=None):
        self.ensure_one()
        last = self._hocba_current_version()
        return self.env["hocba.version"].sudo().with_context(hocba_signing_service=True).create({
            "transcript_id": self.id, "number": (last.number or 0) + 1,
            "replaces_id": previous.id if previous else False,
            "correction_reason": reason or False,
        })

    # ---- what signatures freeze ----

    def _hocba_check_signed(self, subjects=None, data=False):
        """Refuse a change to what a valid signature covers, to everyone, the
        administrator included, unless the transcript is open for correction
        (then the change breaks the signatures it touches)."""
        for transcript in self:
            version = transcript._hocba_current_version()
            if not version:
                continue
            if transcript.correction_state == "open":
                transcript._hocba_break_signatures(version, subjects, data)
                continue
            valid = version._hocba_valid_signatures()
            # a signature over "data" freezes everything; a subject's only its block
            frozen = version.state != "signing" or any(s.tier != signing_chain.SUBJECT for s in valid)
            signed_subjects = valid.filtered(lambda s: s.tier == signing_chain.SUBJECT).subject_id
            if frozen or (subjects and subjects & signed_subjects):
                raise UserError(_(
                    "%(name)s is signed: its data can no longer change. Ask for a correction "
                    "(the principal opens it, then the signatures are made again).",
                    name=transcript.display_name))

    def _hocba_break_signatures(self, version, subjects, data):
        service = {"hocba_signing_service": True}
        valid = version._hocba_valid_signatures()
        broken = valid.filtered(lambda s: s.tier != signing_chain.SUBJECT)
        if subjects:
            broken |= valid.filtered(lambda s: s.subject_id in subjects)
        if broken:
            broken.sudo().with_context(**service).write({
                "state": "invalidated",
                "invalidated_reason": _("The data it covers changed during a correction.")})

    # ---- actions ----

    def action_open_signing(self):
        """The signing dialog (the PIN is typed there and sent only with the
        signing call; it is never a field of any record)."""
        return {
            "type": "ir.actions.client",
            "tag": "hocba_digital.sign_dialog",
            "target": "new",
            "name": _("Sign"),
            "params": {"transcript_ids": self.ids},
        }

    def action_request_correction(self, reason):
        if not (reason or "").strip():
            raise UserError(_("Say what must be corrected."))
        user = self.env.user
        for transcript in self:
            if not (transcript.class_id.homeroom_user_id == user
                    or user.has_group("hocba_digital.group_hocba_vice_principal")
                    or user.has_group("hocba_digital.group_hocba_clerk")):
                raise AccessError(_("Only the homeroom teacher, the clerk or the school management "
                                    "can request a correction of %(name)s.",
                                    name=transcript.display_name))
            if not transcript.version_ids:
                raise UserError(_("%(name)s has no signature yet: it can still be changed "
                                  "directly.", name=transcript.display_name))
            if transcript.correction_state:
                raise UserError(_("A correction of %(name)s is already under way.",
                                  name=transcript.display_name))
        self.sudo().with_context(hocba_signing_service=True).write(
            {"correction_state": "requested", "correction_reason": reason})
        principals = self.env.ref("hocba_digital.group_hocba_principal").users
        for transcript in self.sudo():
            for principal in principals.filtered(lambda u: transcript.company_id in u.company_ids):
                transcript.activity_schedule(
                    "mail.mail_activity_data_todo", user_id=principal.id,
                    summary=_("Correction requested"), note=reason)
            transcript.message_post(body=_("Correction requested by %(user)s: %(reason)s",
                                           user=self.env.user.name, reason=reason))
        return True

    def action_open_correction(self):
        """The principal opens a requested correction: an issued version gets a
        successor in which the subject signatures still matching are kept."""
        if not self.env.user.has_group("hocba_digital.group_hocba_principal"):
            raise AccessError(_("Only the principal can open a transcript for correction."))
        for transcript in self.sudo():
            if transcript.correction_state != "requested":
                raise UserError(_("Nobody asked for a correction of %(name)s.",
                                  name=transcript.display_name))
            version = transcript._hocba_current_version()
            service = {"hocba_signing_service": True}
            if version.state == "issued":
                new = transcript._hocba_new_version(version, transcript.correction_reason)
                self.env["hocba.signature"].sudo().with_context(**service).create([{
                    "version_id": new.id, "tier": s.tier, "subject_id": s.subject_id.id,
                    "wrapper_id": s.wrapper_id, "signer_user_id": s.signer_user_id.id,
                    "signer_name": s.signer_name, "certificate_id": s.certificate_id.id,
                    "signed_at": s.signed_at, "content": s.content,
                    "covered_digest": s.covered_digest,
                } for s in version._hocba_valid_signatures() if s.tier == signing_chain.SUBJECT])
            else:
                transcript._hocba_break_signatures(version, None, True)
            transcript.with_context(**service).write({"correction_state": "open"})
            transcript.activity_feedback(["mail.mail_activity_data_todo"])
            transcript.message_post(body=_("Opened for correction by %(user)s.",
                                           user=self.env.user.name))
        return True
