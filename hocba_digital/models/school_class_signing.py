from odoo import _, models

from ..lib.signing import chain as signing_chain


class SchoolClass(models.Model):
    """Who the transcripts of a class wait for, as activities: the next people
    in the chain get one ("Sign transcripts"), the others' are marked done."""

    _inherit = "school.class"

    def _hocba_waiting_for(self):
        """Users whose signature the class's transcripts wait for now."""
        self.ensure_one()
        Service = self.env["hocba.signing.service"].sudo()
        users = self.env["res.users"]
        seal = self.env["hocba.certificate"].sudo().search(
            [("purpose", "=", "seal"), ("company_id", "=", self.company_id.id)])
        principals = self.env.ref("hocba_digital.group_hocba_principal").users.filtered(
            lambda u: self.company_id in u.company_ids)
        # the group also holds administrators: the principal is who holds a certificate
        principals = self.env["hocba.certificate"].sudo().search([
            ("purpose", "=", "personal"), ("company_id", "=", self.company_id.id),
            ("user_id", "in", principals.ids)]).user_id or principals
        for transcript in self.sudo().transcript_ids:
            version = transcript._hocba_current_version()
            state = Service._hocba_chain_state(transcript, version)
            if state.issued:
                continue
            unsigned = [code for code in state.subjects if code not in state.signed_subjects]
            if unsigned:
                users |= transcript.subject_result_ids.filtered(
                    lambda r: r.period == "end_year" and r.subject_id.code in unsigned
                    and r.sheet_id.state == "submitted").sheet_id.user_id
            elif signing_chain.HOMEROOM not in state.signed:
                users |= self.homeroom_user_id if state.homeroom_ready else users.browse()
            elif signing_chain.PRINCIPAL not in state.signed:
                users |= principals if state.class_approved else users.browse()
            else:
                users |= seal.user_id
        return users

    def _hocba_plan_signing_activities(self):
        activity_type = self.env.ref("hocba_digital.mail_activity_type_hocba_sign",
                                     raise_if_not_found=False)
        if not activity_type:
            return
        for school_class in self.sudo():
            waiting = school_class._hocba_waiting_for()
            current = school_class.activity_ids.filtered(
                lambda a: a.activity_type_id == activity_type)
            asked = current.user_id
            current.filtered(lambda a: a.user_id not in waiting).action_feedback(
                feedback=_("Signed, or no longer waiting for this person."))
            for user in waiting - asked:
                school_class.activity_schedule(
                    activity_type_id=activity_type.id, user_id=user.id,
                    summary=_("Sign the transcripts of %(name)s", name=school_class.name))
