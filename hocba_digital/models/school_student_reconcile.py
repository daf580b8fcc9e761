from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ..lib.rules import personal_id as pid
from ..lib.population.reconcile import FIELDS as IDENTITY_FIELDS

RECONCILE_STATES = [("unchecked", "Unchecked"), ("matched", "Matched"),
                    ("mismatched", "Mismatched"), ("not_found", "Not found")]
RECONCILE_FIELDS = ("reconcile_state", "reconcile_date", "reconcile_diff")
TARGET_RATE = 0.98  # the school's plan: over 98% of pupils verified against the population database
ENROLLED = ("studying", "transferred_in")


def _id(record_or_id):
    return record_or_id.id if isinstance(record_or_id, models.BaseModel) else int(record_or_id)


class SchoolStudent(models.Model):
    """Reconciliation of the pupil's identity with the population database.

    ``reconcile_state`` is written only by a reconciliation round
    (``hocba.reconciliation``); changing the name, birth date, sex or personal
    ID of a checked pupil sets it back to unchecked, since what was checked is
    no longer what is recorded.
    """

    _inherit = "school.student"

    reconcile_state = fields.Selection(
        RECONCILE_STATES, string="Reconciliation", default="unchecked", required=True,
        readonly=True, tracking=True, copy=False, index=True,
        help="Outcome of the last check of the name, birth date, sex and personal ID against "
             "the national population database (CSDLQG về dân cư).")
    reconcile_date = fields.Datetime(string="Reconciled on", readonly=True, copy=False)
    reconcile_diff = fields.Text(
        string="Differences found", readonly=True, copy=False,
        help="What the population database holds differently, from the last reconciliation.")
    reconcile_line_ids = fields.One2many(
        "hocba.reconciliation.line", "student_id", string="Reconciliation history",
        groups="hocba_digital.group_hocba_homeroom_teacher,hocba_digital.group_hocba_clerk,"
               "hocba_digital.group_hocba_it_officer")

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            for vals in vals_list:
                if vals.get("reconcile_state", "unchecked") != "unchecked" or any(
                        vals.get(f) for f in RECONCILE_FIELDS[1:]):
                    raise AccessError(_("The reconciliation status of a pupil is set by "
                                        "reconciliation rounds only."))
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su and set(vals) & set(RECONCILE_FIELDS):
            raise AccessError(_("The reconciliation status of a pupil is set by "
                                "reconciliation rounds only."))
        unproven = self._hocba_identity_changed(vals)
        result = super().write(vals)
        if unproven:
            unproven.sudo().write({"reconcile_state": "unchecked", "reconcile_diff": False})
        return result

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
        changed = checked_sudo.filtered(lambda s: any(
            (" ".join((s.name or "").split()) if f == "name" else s[f] or None) != (value or None)
            for f, value in new.items()))
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
        if not self.env.su and (company not in user.company_ids
                                or not user.has_group("hocba_digital.group_hocba_user")):
            raise AccessError(_("Only the staff of %(school)s see its reconciliation figures.",
                                school=company.sudo().name))
        domain = [("company_id", "=", company.id), ("status", "in", ENROLLED)]
        if year:
            domain.append(("year_id", "=", _id(year)))
        students_sudo = self.sudo().with_context(active_test=True)
        counts = dict.fromkeys([state for state, _label in RECONCILE_STATES], 0)
        counts.update(students_sudo._read_group(domain, ["reconcile_state"], ["__count"]))
        total = sum(counts.values())
        return dict(counts, total=total, rate=counts["matched"] / total if total else 0.0,
                    target=TARGET_RATE)

    def _hocba_reconcile_ref(self):
        """The pupil code sent to the population database and found again in its answer."""
        self.ensure_one()
        student_sudo = self.sudo()
        return (student_sudo.moet_code or student_sudo.school_code or "HS-%d" % self.id).strip()
