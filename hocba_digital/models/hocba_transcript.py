from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .. import service_scope
from ..groups import CLERK, PRINCIPAL, VICE_PRINCIPAL
from ..lib.rules import assessment, catalogue, quality_check
from ..lib.signing import chain as signing_chain

# the codes and their order are the rules' (lib), the words the model's (translated)
RESULT_LABELS = {
    "HTXS": "HTXS - Completed excellently",
    "HTT": "HTT - Completed well",
    "HT": "HT - Completed",
    "CHT": "CHT - Not yet completed",
}
RESULT_SELECTION = [(code, RESULT_LABELS[code]) for code in assessment.RESULTS]
HOMEROOM_FIELDS = {
    "height_cm",
    "weight_kg",
    "days_absent_excused",
    "days_absent_unexcused",
    "homeroom_comment",
    "result_override",
    "override_reason",
    "reward_exemplary",
    "reward_exemplary_reason",
    "reward_other",
}
PRINCIPAL_FIELDS = {"promotion", "promotion_note"}


class HocbaTranscript(models.Model):
    """The transcript (học bạ) of one pupil for one school year.

    Access:

    * a subject teacher reads the transcripts of the classes they teach, and
      writes only their subject results, through their entry sheets;
    * the homeroom teacher reads and edits the transcripts of their class
      (health, attendance, comments, qualities and competencies, result
      override, rewards), never the promotion decision;
    * a head of subject group reads the transcripts of their group's classes
      and locks a class when its data is clean;
    * the vice principal reads every transcript and approves locked classes;
    * only the principal decides promotion or repetition of a CHT pupil, and
      deletes a transcript;
    * the IT officer and the clerk read every transcript; the accountant none.

    Nothing in a locked or approved class can be changed, by anyone, until it
    is unlocked with a recorded reason.
    """

    _name = "hocba.transcript"
    _description = "Transcript"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "year_id desc, class_id, student_given_name, student_id"
    _check_company_auto = True

    student_id = fields.Many2one(
        "school.student", string="Pupil", required=True, index=True, check_company=True, ondelete="restrict"
    )
    student_given_name = fields.Char(related="student_id.given_name", store=True)
    year_id = fields.Many2one("school.year", required=True, index=True, check_company=True)
    class_id = fields.Many2one("school.class", required=True, index=True, check_company=True, ondelete="restrict")
    grade = fields.Selection(related="class_id.grade", store=True)
    company_id = fields.Many2one(related="class_id.company_id", store=True, index=True, precompute=True)
    review_state = fields.Selection(related="class_id.review_state")
    # identity as it stands on the pupil record; frozen by the signed version
    birth_date = fields.Date(related="student_id.birth_date")
    birth_place = fields.Char(related="student_id.birth_place")
    ethnicity = fields.Char(related="student_id.ethnicity")
    sex = fields.Selection(related="student_id.sex")
    personal_id_display = fields.Char(
        string="Personal ID",
        compute="_compute_personal_id_display",
        help="Masked for staff who do not need it, as on the pupil.",
    )
    moet_code = fields.Char(related="student_id.moet_code")

    height_cm = fields.Float(string="Height (cm)", digits=(5, 1), tracking=True)
    weight_kg = fields.Float(string="Weight (kg)", digits=(5, 1), tracking=True)
    days_absent_excused = fields.Integer(string="Days absent (excused)", tracking=True)
    days_absent_unexcused = fields.Integer(string="Days absent (unexcused)", tracking=True)
    homeroom_comment = fields.Text(tracking=True)
    subject_result_ids = fields.One2many("hocba.subject.result", "transcript_id")
    trait_assessment_ids = fields.One2many("hocba.trait.assessment", "transcript_id")

    result_computed = fields.Selection(
        RESULT_SELECTION, string="Result by the rules", compute="_compute_result", store=True
    )
    result_reason = fields.Text(string="Why", compute="_compute_result", store=True)
    result_override = fields.Selection(RESULT_SELECTION, tracking=True)
    override_reason = fields.Char(tracking=True)
    result = fields.Selection(
        RESULT_SELECTION, string="Year result", compute="_compute_result", store=True, tracking=True
    )
    reward_excellent = fields.Boolean(
        string="Excellent pupil (proposed)",
        compute="_compute_result",
        store=True,
        help="Học sinh Xuất sắc: proposed for every HTXS pupil (Art. 13).",
    )
    reward_exemplary = fields.Boolean(
        string="Exemplary pupil",
        tracking=True,
        help="Học sinh Tiêu biểu: proposed by the homeroom teacher for an HTT pupil.",
    )
    reward_exemplary_reason = fields.Char(tracking=True)
    reward_other = fields.Text(string="Other rewards", tracking=True)
    completes_grade = fields.Boolean(compute="_compute_result", store=True)
    completes_primary = fields.Boolean(compute="_compute_result", store=True)
    promotion = fields.Selection(
        [("promote", "Promoted after summer support"), ("repeat", "Repeats the grade")],
        tracking=True,
        help="Decided by the principal for pupils not yet completing the grade.",
    )
    promotion_note = fields.Char(tracking=True)

    _sql_constraints = [
        (
            "student_year_uniq",
            "unique(student_id, year_id)",
            "This pupil already has a transcript for that school year.",
        ),
    ]

    @api.depends("student_id.name", "year_id.name")
    def _compute_display_name(self):
        for transcript in self:
            transcript.display_name = "%s - %s" % (transcript.student_id.name or "", transcript.year_id.name or "")

    @api.depends("student_id")
    @api.depends_context("uid")
    def _compute_personal_id_display(self):
        for transcript in self:
            transcript.personal_id_display = transcript.student_id.personal_id_display

    @api.depends(
        "subject_result_ids.level",
        "subject_result_ids.score",
        "result_override",
        "grade",
        "trait_assessment_ids.period",
        *("trait_assessment_ids.level_" + code for code, *_rest in catalogue.TRAITS),
    )
    def _compute_result(self):
        for transcript in self:
            outcome = transcript._hocba_year_result()
            transcript.result_computed = outcome.result
            transcript.result_reason = "\n".join(self._hocba_reason_text(r) for r in outcome.reasons) or False
            result = transcript.result_override or outcome.result
            transcript.result = result
            transcript.reward_excellent = "excellent" in assessment.proposed_rewards(result)
            transcript.completes_grade = assessment.completes_grade(result)
            transcript.completes_primary = transcript.completes_grade and transcript.grade == "5"

    @api.constrains("promotion")
    def _check_promotion(self):
        for transcript in self:
            if transcript.promotion and transcript.completes_grade:
                raise ValidationError(
                    _(
                        "%(pupil)s completes the grade: promotion or repetition is only decided "
                        "for pupils whose result is CHT.",
                        pupil=transcript.student_id.name,
                    )
                )

    @api.constrains("result_override", "override_reason", "reward_exemplary", "reward_exemplary_reason", "result")
    def _check_reasons(self):
        for transcript in self:
            if transcript.result_override and not (transcript.override_reason or "").strip():
                raise ValidationError(
                    _("%(pupil)s: say why the year result is changed by hand.", pupil=transcript.student_id.name)
                )
            if transcript.reward_exemplary:
                if transcript.result != "HTT":
                    raise ValidationError(
                        _(
                            "%(pupil)s: only a pupil whose result is HTT can be proposed as exemplary pupil.",
                            pupil=transcript.student_id.name,
                        )
                    )
                if not (transcript.reward_exemplary_reason or "").strip():
                    raise ValidationError(
                        _(
                            "%(pupil)s: say in which subject the pupil stood out or which quality "
                            "or competency progressed.",
                            pupil=transcript.student_id.name,
                        )
                    )

    def write(self, vals):
        self.check_access("write")
        if not service_scope.active(service_scope.SIGNING):
            if {"correction_state", "correction_reason"} & set(vals):
                raise UserError(_("Use the correction buttons to request or open a correction."))
            self._hocba_check_signed(data=True)
        self._hocba_check_editable()
        self._hocba_check_field_roles(vals)
        return super().write(vals)

    # ---- Business methods ----

    def _hocba_check_editable(self):
        locked = self.filtered(
            lambda t: t.class_id.review_state in ("locked", "approved") and t.correction_state != "open"
        )
        if locked and not service_scope.active(service_scope.SIGNING):
            raise UserError(
                _(
                    "Class %(name)s is locked for checking: ask the head of the subject group or "
                    "the vice principal to unlock it, with a reason, before changing anything.",
                    name=locked[0].class_id.name,
                )
            )

    def _hocba_check_field_roles(self, vals):
        if self.env.su:
            return
        user = self.env.user
        if PRINCIPAL_FIELDS & set(vals) and not user.has_group(PRINCIPAL):
            raise AccessError(_("Only the principal decides promotion or repetition."))
        if HOMEROOM_FIELDS & set(vals):
            foreign = self.filtered(lambda t: t.class_id.homeroom_user_id != user)
            if foreign:
                raise AccessError(
                    _(
                        "Only the homeroom teacher of %(name)s completes these parts of the transcript.",
                        name=foreign[0].class_id.name,
                    )
                )

    def _hocba_year_result(self):
        """Art. 9 on the end-of-year marks of this transcript."""
        self.ensure_one()
        subject_marks = [
            assessment.SubjectMark(
                r.subject_id.name, r.level or None, int(r.score) if r.score else None, r.score_required
            )
            for r in self.subject_result_ids
            if r.period == "end_year"
        ]
        end_year = self.trait_assessment_ids.filtered(lambda a: a.period == "end_year")[:1]
        labels = self.env["hocba.trait.assessment"]._hocba_trait_labels()
        trait_marks = (
            [assessment.TraitMark(labels[code], level or None) for code, level, _comment in end_year._hocba_marks()]
            if end_year
            else [assessment.TraitMark(labels[code]) for code in catalogue.traits_of_grade(self.grade)]
        )
        return assessment.year_result(subject_marks, trait_marks)

    @api.model
    def _hocba_reason_text(self, reason):
        templates = {
            "missing_level": _("%(name)s: no end-of-year level yet"),
            "missing_score": _("%(name)s: no end-of-year test score yet"),
            "score_below": _("%(name)s end-of-year score %(score)s < %(minimum)s"),
            "subject_not_t": _("%(name)s: level %(level)s, not T"),
            "trait_not_t": _("%(name)s: %(level)s, not T"),
            "subject_c": _("%(name)s: not yet completed (C)"),
            "trait_c": _("%(name)s: needs effort (C)"),
        }
        return templates[reason.code] % reason.params

    @api.model
    def _hocba_prepare_class(self, school_class):
        """Create what is missing for ``school_class``: transcripts, a result row per
        subject and period, a traits row per period, and the entry sheets."""
        pupils = school_class.student_ids.filtered(lambda p: p.status == "studying")
        existing = {t.student_id: t for t in school_class.transcript_ids}
        new = self.create(
            [
                {"student_id": pupil.id, "year_id": school_class.year_id.id, "class_id": school_class.id}
                for pupil in pupils
                if pupil not in existing
            ]
        )
        transcripts = school_class.transcript_ids | new
        lines = self.env["school.subject.grade"].search([("grade", "=", school_class.grade)])
        Sheet = self.env["hocba.entry.sheet"]
        sheets = {(s.kind, s.subject_id, s.period): s for s in school_class.sheet_ids}

        def sheet_for(kind, subject, period):
            key = (kind, subject, period)
            if key not in sheets:
                sheets[key] = Sheet.create(
                    {"class_id": school_class.id, "kind": kind, "period": period, "subject_id": subject.id}
                )
            return sheets[key]

        done = {(r.transcript_id, r.subject_id, r.period) for r in transcripts.subject_result_ids}
        result_vals = []
        for line in lines:
            takers = transcripts.filtered(
                lambda t: not line.is_elective or line.subject_id in t.student_id.elective_subject_ids
            )
            for period in catalogue.PERIODS:
                if not takers:
                    continue
                sheet = sheet_for("subject", line.subject_id, period)
                result_vals += [
                    {"transcript_id": t.id, "subject_id": line.subject_id.id, "period": period, "sheet_id": sheet.id}
                    for t in takers
                    if (t, line.subject_id, period) not in done
                ]
        self.env["hocba.subject.result"].create(result_vals)
        traits_done = {(a.transcript_id, a.period) for a in transcripts.trait_assessment_ids}
        trait_vals = []
        for period in catalogue.PERIODS:
            sheet = sheet_for("homeroom", self.env["school.subject"], period)
            trait_vals += [
                {"transcript_id": t.id, "period": period, "sheet_id": sheet.id}
                for t in transcripts
                if (t, period) not in traits_done
            ]
        self.env["hocba.trait.assessment"].create(trait_vals)
        return transcripts

    def _hocba_quality_data(self):
        """Plain data of each transcript for ``lib.quality_check``."""
        labels = self.env["hocba.trait.assessment"]._hocba_trait_labels()
        data = []
        for transcript in self:
            pupil = transcript.student_id
            end_year = transcript.trait_assessment_ids.filtered(lambda a: a.period == "end_year")[:1]
            data.append(
                quality_check.PupilData(
                    name=pupil.name,
                    personal_id=pupil.personal_id,
                    sex=pupil.sex,
                    birth_year=pupil.birth_date.year if pupil.birth_date else None,
                    subject_marks=tuple(
                        (
                            r.subject_id.name,
                            r.period,
                            r.level or None,
                            int(r.score) if r.score else None,
                            r.score_required,
                            r.comment,
                        )
                        for r in transcript.subject_result_ids
                    ),
                    trait_marks=tuple(
                        (labels[code], level or None, comment) for code, level, comment in end_year._hocba_marks()
                    )
                    if end_year
                    else (),
                    stored_result=transcript.result,
                    override_reason=transcript.override_reason,
                    year_result=transcript._hocba_year_result(),
                )
            )
        return data

    # ----------------------------------------------------------------------
    # The signing side of the transcript: its versions, what its signatures freeze, and
    # the correction flow (request -> principal opens -> re-sign).
    # ----------------------------------------------------------------------

    version_ids = fields.One2many("hocba.version", "transcript_id", string="Versions")
    current_version_id = fields.Many2one("hocba.version", compute="_compute_current_version", string="Current version")
    issued_version_id = fields.Many2one("hocba.version", compute="_compute_current_version", string="Issued version")
    signature_ids = fields.One2many("hocba.signature", "transcript_id", string="Signatures")
    signing_state = fields.Selection(
        [
            ("unsigned", "Not signed"),
            ("subjects", "Subjects signing"),
            ("homeroom", "Signed by the homeroom teacher"),
            ("principal", "Signed by the principal"),
            ("issued", "Issued"),
            ("correction", "Correction"),
        ],
        compute="_compute_current_version",
        string="Signing",
    )
    correction_state = fields.Selection(
        [("requested", "Correction requested"), ("open", "Being corrected")], readonly=True, copy=False, tracking=True
    )
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

    @api.ondelete(at_uninstall=False)
    def _unlink_except_signed(self):
        if self.sudo().version_ids:
            raise UserError(
                _("A transcript that has been signed is never deleted: its versions are the school's record.")
            )

    # ---- versions ----

    def _hocba_current_version(self):
        """The latest version, read through ``version_ids`` so that a loop over
        a class reads the versions of all its transcripts in one query."""
        self.ensure_one()
        return self.sudo().version_ids.sorted("number")[-1:]

    def _hocba_new_version(self, previous=None, reason=None):
        self.ensure_one()
        last = self._hocba_current_version()
        with service_scope.granted(service_scope.SIGNING):
            return (
                self.env["hocba.version"]
                .sudo()
                .create(
                    {
                        "transcript_id": self.id,
                        "number": (last.number or 0) + 1,
                        "replaces_id": previous.id if previous else False,
                        "correction_reason": reason or False,
                    }
                )
            )

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
                raise UserError(
                    _(
                        "%(name)s is signed: its data can no longer change. Ask for a correction "
                        "(the principal opens it, then the signatures are made again).",
                        name=transcript.display_name,
                    )
                )

    def _hocba_break_signatures(self, version, subjects, data):
        valid = version._hocba_valid_signatures()
        broken = valid.filtered(lambda s: s.tier != signing_chain.SUBJECT)
        if subjects:
            broken |= valid.filtered(lambda s: s.subject_id in subjects)
        if broken:
            with service_scope.granted(service_scope.SIGNING):
                broken.sudo().write(
                    {"state": "invalidated", "invalidated_reason": _("The data it covers changed during a correction.")}
                )

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
            if not (
                transcript.class_id.homeroom_user_id == user or user.has_group(VICE_PRINCIPAL) or user.has_group(CLERK)
            ):
                raise AccessError(
                    _(
                        "Only the homeroom teacher, the clerk or the school management "
                        "can request a correction of %(name)s.",
                        name=transcript.display_name,
                    )
                )
            if not transcript.version_ids:
                raise UserError(
                    _("%(name)s has no signature yet: it can still be changed directly.", name=transcript.display_name)
                )
            if transcript.correction_state:
                raise UserError(_("A correction of %(name)s is already under way.", name=transcript.display_name))
        with service_scope.granted(service_scope.SIGNING):
            self.sudo().write({"correction_state": "requested", "correction_reason": reason})
        principals = self.env.ref(PRINCIPAL).users
        for transcript in self.sudo():
            for principal in principals.filtered(lambda u: transcript.company_id in u.company_ids):
                transcript.activity_schedule(
                    "mail.mail_activity_data_todo", user_id=principal.id, summary=_("Correction requested"), note=reason
                )
            transcript.message_post(
                body=_("Correction requested by %(user)s: %(reason)s", user=self.env.user.name, reason=reason)
            )
        return True

    def action_open_correction(self):
        """The principal opens a requested correction: an issued version gets a
        successor in which the subject signatures still matching are kept."""
        if not self.env.user.has_group(PRINCIPAL):
            raise AccessError(_("Only the principal can open a transcript for correction."))
        for transcript in self.sudo():
            if transcript.correction_state != "requested":
                raise UserError(_("Nobody asked for a correction of %(name)s.", name=transcript.display_name))
            version = transcript._hocba_current_version()
            with service_scope.granted(service_scope.SIGNING):
                if version.state == "issued":
                    new = transcript._hocba_new_version(version, transcript.correction_reason)
                    self.env["hocba.signature"].sudo().create(
                        [
                            {
                                "version_id": new.id,
                                "tier": s.tier,
                                "subject_id": s.subject_id.id,
                                "wrapper_id": s.wrapper_id,
                                "signer_user_id": s.signer_user_id.id,
                                "signer_name": s.signer_name,
                                "certificate_id": s.certificate_id.id,
                                "signed_at": s.signed_at,
                                "content": s.content,
                                "covered_digest": s.covered_digest,
                            }
                            for s in version._hocba_valid_signatures()
                            if s.tier == signing_chain.SUBJECT
                        ]
                    )
                else:
                    transcript._hocba_break_signatures(version, None, True)
                transcript.write({"correction_state": "open"})
            transcript.activity_feedback(["mail.mail_activity_data_todo"])
            transcript.message_post(body=_("Opened for correction by %(user)s.", user=self.env.user.name))
        return True
