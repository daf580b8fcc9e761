from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..groups import CLERK, HOMEROOM_TEACHER, IT_OFFICER, USER, VICE_PRINCIPAL, any_of
from ..lib.population.reconcile import FIELDS as IDENTITY_FIELDS
from ..lib.rules import personal_id as pid

PERSONAL_ID_GROUPS = any_of(VICE_PRINCIPAL, IT_OFFICER)
RECONCILE_STATES = [
    ("unchecked", "Unchecked"),
    ("matched", "Matched"),
    ("mismatched", "Mismatched"),
    ("not_found", "Not found"),
]
RECONCILE_FIELDS = ("reconcile_state", "reconcile_date", "reconcile_diff")
TARGET_RATE = 0.98  # the school's plan: over 98% of pupils verified against the population database
ENROLLED = ("studying", "transferred_in")


def _id(record_or_id):
    return record_or_id.id if isinstance(record_or_id, models.BaseModel) else int(record_or_id)


class SchoolStudent(models.Model):
    """A pupil (học sinh) and the identity data the transcript is built from.

    Access:

    * a subject teacher reads the pupils of the classes they teach, nothing else;
    * a homeroom teacher reads and edits the identity data of their own class;
    * a head of subject group reads the pupils of their group's classes;
    * the vice principal reads, creates and edits every pupil; only the
      principal deletes one;
    * the IT officer (reconciliation) and the clerk (copies, transfers) read
      every pupil; the accountant none;
    * a parent (portal user) reads only the pupils they are a guardian of.

    The personal ID is stored in ``personal_id``, a field only the vice
    principal, the principal and the IT officer can read.  Everybody else goes
    through ``personal_id_display``, which shows the number in full to those
    roles, to the pupil's own homeroom teacher and to the pupil's guardians,
    and masked to anyone else.
    """

    _name = "school.student"
    _description = "Pupil"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "class_id, given_name, name, id"
    _check_company_auto = True

    name = fields.Char(string="Full name", required=True, tracking=True)
    given_name = fields.Char(
        compute="_compute_given_name", store=True, help="Last word of the full name: Vietnamese lists are sorted by it."
    )
    sex = fields.Selection([("male", "Male"), ("female", "Female")], required=True, tracking=True)
    birth_date = fields.Date(required=True, tracking=True)
    birth_place = fields.Char(tracking=True)
    hometown = fields.Char(string="Home town", tracking=True)
    address = fields.Char(string="Current address", tracking=True)
    ethnicity = fields.Char(default="Kinh", tracking=True)
    nationality_id = fields.Many2one(
        "res.country",
        string="Nationality",
        tracking=True,
        default=lambda self: self.env.ref("base.vn", raise_if_not_found=False),
    )
    personal_id = fields.Char(
        string="Personal ID (full)",
        groups=PERSONAL_ID_GROUPS,
        copy=False,
        index=True,
        help="12-digit personal identification number (mã định danh cá nhân).",
    )
    personal_id_display = fields.Char(
        string="Personal ID",
        compute="_compute_personal_id_display",
        inverse="_inverse_personal_id_display",
        compute_sudo=True,
        help="12-digit personal identification number (mã định danh cá nhân); masked for staff who do not need it.",
    )
    personal_id_warning = fields.Char(compute="_compute_personal_id_display", compute_sudo=True)
    can_see_personal_id = fields.Boolean(compute="_compute_personal_id_display", compute_sudo=True)
    moet_code = fields.Char(
        string="MOET pupil code", tracking=True, copy=False, help="Mã định danh Bộ GD&ĐT, given by the sector database."
    )
    school_code = fields.Char(string="School pupil code", tracking=True, copy=False)
    register_number = fields.Char(string="Register number", help="Số đăng bộ.", copy=False)
    enrolment_date = fields.Date(string="Enrolled on")
    status = fields.Selection(
        [
            ("studying", "Studying"),
            ("transferred_in", "Transferred in"),
            ("transferred_out", "Transferred out"),
            ("left", "Left school"),
            ("suspended", "Temporarily absent"),
        ],
        default="studying",
        required=True,
        tracking=True,
    )
    class_id = fields.Many2one("school.class", string="Class", index=True, tracking=True, check_company=True)
    grade = fields.Selection(related="class_id.grade", store=True)
    year_id = fields.Many2one(related="class_id.year_id", store=True, index=True)
    homeroom_user_id = fields.Many2one(related="class_id.homeroom_user_id")
    guardian_ids = fields.Many2many(
        "res.partner",
        "school_student_guardian_rel",
        "student_id",
        "partner_id",
        string="Guardians",
        help="Parents or guardians; they can be invited to the portal.",
    )
    elective_subject_ids = fields.Many2many(
        "school.subject",
        string="Electives taken",
        help="Elective subjects the pupil takes (foreign language in grades 1-2, ethnic "
        "minority language); only these are assessed for the pupil.",
    )
    transcript_ids = fields.One2many("hocba.transcript", "student_id", string="Transcripts")
    father_name = fields.Char(compute="_compute_parent_names")
    mother_name = fields.Char(compute="_compute_parent_names")
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    active = fields.Boolean(default=True)

    # per school: in a database serving a whole Department, a pupil who moves
    # has a record in each school, with the same national number
    _sql_constraints = [
        (
            "personal_id_uniq",
            "unique(personal_id, company_id)",
            "Another pupil of this school already has this personal ID.",
        ),
    ]

    @api.depends("name")
    def _compute_given_name(self):
        for student in self:
            words = (student.name or "").split()
            student.given_name = words[-1] if words else False

    @api.depends("personal_id", "sex", "birth_date", "class_id.homeroom_user_id", "guardian_ids")
    @api.depends_context("uid")
    def _compute_personal_id_display(self):
        for student in self:
            allowed = student._hocba_can_see_personal_id()
            number = student.personal_id
            student.can_see_personal_id = allowed
            student.personal_id_display = number if allowed else pid.mask(number)
            issues = student._hocba_personal_id_issues() if allowed else []
            student.personal_id_warning = (
                "\n".join(self._hocba_personal_id_message(i) for i in issues if not i.is_error) or False
            )

    def _inverse_personal_id_display(self):
        for student in self:
            value = student.personal_id_display
            if value and "•" in value:
                continue  # the masked text came back unchanged from a form or an export
            if not student._hocba_can_see_personal_id():
                raise ValidationError(
                    _(
                        "Only the pupil's homeroom teacher, the vice principal, the principal "
                        "or the IT officer can change a personal ID."
                    )
                )
            student_sudo = student.sudo()
            new_number = pid.normalize(value)
            if student_sudo.personal_id != new_number:
                student_sudo.personal_id = new_number
                student.message_post(body=_("Personal ID changed."))

    @api.depends("guardian_ids.hocba_guardian_relation", "guardian_ids.name")
    def _compute_parent_names(self):
        for student in self:
            by_relation = {g.hocba_guardian_relation: g.name for g in student.guardian_ids}
            student.father_name = by_relation.get("father", False)
            student.mother_name = by_relation.get("mother", False)

    @api.constrains("personal_id", "sex", "birth_date")
    def _check_personal_id(self):
        for student in self.sudo():
            errors = pid.errors(student._hocba_personal_id_issues())
            if errors:
                raise ValidationError(
                    _(
                        "Pupil %(name)s: %(problems)s",
                        name=student.name,
                        problems=" ".join(self._hocba_personal_id_message(e) for e in errors),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            for vals in vals_list:
                if vals.get("reconcile_state", "unchecked") != "unchecked" or any(
                    vals.get(f) for f in RECONCILE_FIELDS[1:]
                ):
                    raise AccessError(_("The reconciliation status of a pupil is set by reconciliation rounds only."))
        for vals in vals_list:
            if "personal_id" in vals:
                vals["personal_id"] = pid.normalize(vals["personal_id"])
        self._hocba_check_personal_ids_free(
            [
                (vals.get("name"), vals.get("personal_id"), vals.get("company_id") or self.env.company.id)
                for vals in vals_list
            ]
        )
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su and set(vals) & set(RECONCILE_FIELDS):
            raise AccessError(_("The reconciliation status of a pupil is set by reconciliation rounds only."))
        unproven = self._hocba_identity_changed(vals)
        if "class_id" in vals and not self.env.su and not self.env.user.has_group(VICE_PRINCIPAL):
            raise AccessError(_("Only the vice principal or the principal can move a pupil to another class."))
        if "personal_id" in vals:
            vals = dict(vals, personal_id=pid.normalize(vals["personal_id"]))
            self._hocba_check_personal_ids_free(
                [
                    (student.name, vals["personal_id"], vals.get("company_id") or student.company_id.id)
                    for student in self
                ]
            )
        result = super().write(vals)
        if unproven:
            # what was checked is no longer what is recorded
            unproven.sudo().write({"reconcile_state": "unchecked", "reconcile_diff": False})
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_with_transcripts(self):
        with_transcripts = self.sudo().filtered("transcript_ids")
        if with_transcripts:
            raise UserError(
                _(
                    "%(name)s has transcripts, which must be kept: archive the pupil instead.",
                    name=with_transcripts[0].name,
                )
            )

    # ---- Business methods ----

    def _hocba_can_see_personal_id(self):
        self.ensure_one()
        user = self.env.user
        return bool(
            user._is_superuser()
            or user.has_group(VICE_PRINCIPAL)
            or user.has_group(IT_OFFICER)
            or (self.class_id and self.class_id.sudo().homeroom_user_id == user)
            or user.partner_id in self.sudo().guardian_ids
        )

    def _hocba_check_personal_ids_free(self, named_numbers):
        """Refuse numbers already used by other pupils of the same school, before
        the database does (``named_numbers``: ``(name, number, company id)``).

        The unique index stays as the guarantee under concurrency; this check
        only exists to say which pupil holds the number.
        """
        numbers = [number for _name, number, _company in named_numbers if number]
        if not numbers:
            return
        holders = (
            self.sudo()
            .with_context(active_test=False)
            .search([("personal_id", "in", numbers), ("id", "not in", self.ids)])
        )
        holder_by_number = {(holder.personal_id, holder.company_id.id): holder for holder in holders}
        seen = {}
        for name, number, company in named_numbers:
            if not number:
                continue
            key = (number, company)
            holder_name = holder_by_number[key].name if key in holder_by_number else seen.get(key)
            if holder_name:
                raise ValidationError(
                    _("Pupil %(name)s: the personal ID is already used by %(other)s.", name=name, other=holder_name)
                )
            seen[key] = name

    def _hocba_personal_id_issues(self):
        self.ensure_one()
        student_sudo = self.sudo()
        return pid.check(
            student_sudo.personal_id,
            sex=student_sudo.sex,
            year=student_sudo.birth_date.year if student_sudo.birth_date else None,
        )

    @api.model
    def _hocba_personal_id_message(self, issue):
        """The sentence shown to the user for an issue found by ``lib.personal_id.check``."""
        sexes = dict(self._fields["sex"]._description_selection(self.env))
        params = dict(issue.params)
        for key in ("encoded", "recorded"):
            if params.get(key) in sexes:
                params[key] = sexes[params[key]]
        templates = {
            "not_digits": _("The personal ID %(value)s must contain digits only."),
            "length": _("The personal ID must have 12 digits, not %(length)s."),
            "sex_mismatch": _(
                "Digit 4 of the personal ID (%(digit)s) is for a %(encoded)s pupil, but the "
                "pupil is recorded as %(recorded)s."
            ),
            "century_mismatch": _(
                "Digit 4 of the personal ID (%(digit)s) gives the birth year %(encoded)s, "
                "which is in another century than the recorded birth year %(recorded)s."
            ),
            "year_mismatch": _(
                "Digits 5-6 of the personal ID (%(digits)s) give the birth year %(encoded)s, "
                "but the pupil was born in %(recorded)s."
            ),
            "unknown_province": _("Digits 1-3 of the personal ID (%(code)s) are not a known province code."),
            "country_code": _(
                "Digits 1-3 of the personal ID (%(code)s) are not a Vietnamese province code "
                "(a birth registered abroad?)."
            ),
        }
        return templates[issue.code] % params

    def action_invite_guardians(self):
        """Odoo's portal wizard for the pupil's guardians, who then find the
        pupil's issued transcripts at /my. Their language is set to Vietnamese
        (when installed) so the invitation is written in it."""
        self.ensure_one()
        user = self.env.user
        if not (self.homeroom_user_id == user or user.has_group(CLERK) or user.has_group(VICE_PRINCIPAL)):
            raise AccessError(
                _(
                    "Only the homeroom teacher of %(name)s, the clerk or the school "
                    "management can invite the guardians.",
                    name=self.name,
                )
            )
        guardians = self.sudo().guardian_ids
        if not guardians:
            raise UserError(_("%(name)s has no guardian to invite yet.", name=self.name))
        if "vi_VN" in dict(self.env["res.lang"].get_installed()):
            guardians.filtered(lambda p: p.lang != "vi_VN").write({"lang": "vi_VN"})
        wizard = self.env["portal.wizard"].with_context(active_ids=guardians.ids, active_model="res.partner").create({})
        return {
            "type": "ir.actions.act_window",
            "res_model": "portal.wizard",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
            "name": _("Invite guardians to the portal"),
        }

    # ----------------------------------------------------------------------
    # The signed transcripts a pupil brought from earlier schools.
    # ----------------------------------------------------------------------

    transfer_document_ids = fields.One2many(
        "hocba.transfer.document", "student_id", string="Transcripts from earlier schools", readonly=True
    )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_registered(self):
        students_sudo = self.sudo()
        registered = (
            students_sudo.filtered("transfer_document_ids")
            or students_sudo.env["hocba.issue.log"].search([("student_id", "in", self.ids)], limit=1).student_id
        )
        if registered:
            raise UserError(
                _(
                    "%(name)s has documents from other schools or entries in the register of copies "
                    "and transfers, which must be kept: archive the pupil instead.",
                    name=registered[0].name,
                )
            )

    # ----------------------------------------------------------------------
    # Reconciliation of the pupil's identity with the population database.
    # ``reconcile_state`` is written only by a reconciliation round
    # (``hocba.reconciliation``); changing the name, birth date, sex or personal ID of a
    # checked pupil sets it back to unchecked, since what was checked is no longer what
    # is recorded.
    # ----------------------------------------------------------------------

    reconcile_state = fields.Selection(
        RECONCILE_STATES,
        string="Reconciliation",
        default="unchecked",
        required=True,
        readonly=True,
        tracking=True,
        copy=False,
        index=True,
        help="Outcome of the last check of the name, birth date, sex and personal ID against "
        "the national population database (CSDLQG về dân cư).",
    )
    reconcile_date = fields.Datetime(string="Reconciled on", readonly=True, copy=False)
    reconcile_diff = fields.Text(
        string="Differences found",
        readonly=True,
        copy=False,
        help="What the population database holds differently, from the last reconciliation.",
    )
    reconcile_line_ids = fields.One2many(
        "hocba.reconciliation.line",
        "student_id",
        string="Reconciliation history",
        groups=any_of(HOMEROOM_TEACHER, CLERK, IT_OFFICER),
    )

    def _hocba_identity_changed(self, vals):
        """The checked pupils among ``self`` whose identity ``vals`` change."""
        if not set(vals) & set(IDENTITY_FIELDS):
            return self.browse()
        checked_sudo = self.sudo().filtered(lambda s: s.reconcile_state != "unchecked")
        new = {}
        if "name" in vals:
            new["name"] = " ".join((vals["name"] or "").split())
        if "birth_date" in vals:
            new["birth_date"] = fields.Date.to_date(vals["birth_date"])
        if "sex" in vals:
            new["sex"] = vals["sex"]
        if "personal_id" in vals:
            new["personal_id"] = pid.normalize(vals["personal_id"])
        changed = checked_sudo.filtered(
            lambda s: any(
                (" ".join((s.name or "").split()) if f == "name" else s[f] or None) != (value or None)
                for f, value in new.items()
            )
        )
        return changed.with_env(self.env)

    @api.model
    def _hocba_reconciliation_stats(self, company, year=None):
        """The school's reconciliation figures, for the steering dashboard.

        Counts the active pupils of ``company`` (a res.company or its id) who
        study there (studying or transferred in), of ``year`` (school.year or id)
        when given.  Returns ``{"total", "matched", "mismatched", "not_found",
        "unchecked", "rate", "target"}``; ``rate`` is matched / total (0.0 for
        no pupil), ``target`` 0.98.  Any staff member of the school may ask:
        the figures are school-wide, whatever pupils the caller can open.
        """
        company = self.env["res.company"].browse(_id(company))
        user = self.env.user
        if not self.env.su and (company not in user.company_ids or not user.has_group(USER)):
            raise AccessError(
                _("Only the staff of %(school)s see its reconciliation figures.", school=company.sudo().name)
            )
        domain = [("company_id", "=", company.id), ("status", "in", ENROLLED)]
        if year:
            domain.append(("year_id", "=", _id(year)))
        students_sudo = self.sudo().with_context(active_test=True)
        counts = dict.fromkeys([state for state, _label in RECONCILE_STATES], 0)
        counts.update(students_sudo._read_group(domain, ["reconcile_state"], ["__count"]))
        total = sum(counts.values())
        return dict(counts, total=total, rate=counts["matched"] / total if total else 0.0, target=TARGET_RATE)

    def _hocba_reconcile_ref(self):
        """The pupil code sent to the population database and found again in its answer."""
        self.ensure_one()
        student_sudo = self.sudo()
        return (student_sudo.moet_code or student_sudo.school_code or "HS-%d" % self.id).strip()
