from odoo import _, api, fields, models

from ..lib.population import reconcile as pr
from ..lib.rules import personal_id as pid
from .school_student import PERSONAL_ID_GROUPS

OUTCOMES = [(pr.MATCHED, "Matched"), (pr.MISMATCHED, "Mismatched"), (pr.NOT_FOUND, "Not found")]
SEXES = [(pid.MALE, "Male"), (pid.FEMALE, "Female")]


class HocbaReconciliationLine(models.Model):
    """What one round found for one pupil: the outcome, which fields differ,
    what the school sent and what the population database holds.

    Read by the roles that run rounds and by the pupil's current homeroom
    teacher; written by the code only.  Personal IDs are stored in fields only
    the vice principal, the principal and the IT officer read; everybody else
    sees them through ``*_personal_id_display``, in full for those who may see
    the pupil's number (the homeroom teacher), masked for the others.
    """

    _name = "hocba.reconciliation.line"
    _description = "Identity reconciliation result of a pupil"
    _order = "date desc, reconciliation_id desc, class_id, student_id"
    _check_company_auto = True

    reconciliation_id = fields.Many2one(
        "hocba.reconciliation", string="Round", required=True, ondelete="cascade", index=True, readonly=True
    )
    date = fields.Datetime(related="reconciliation_id.date", store=True, string="Checked on")
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    student_id = fields.Many2one(
        "school.student",
        string="Pupil",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
        check_company=True,
    )
    class_id = fields.Many2one(
        "school.class", string="Class", readonly=True, index=True, help="The pupil's class at the time of the round."
    )
    outcome = fields.Selection(OUTCOMES, required=True, readonly=True, index=True)
    matched_percent = fields.Integer(
        string="Matched (%)",
        readonly=True,
        aggregator="avg",
        help="100 for a match, 0 otherwise: averaged, the rate of a group of pupils.",
    )
    name_differs = fields.Boolean(string="Name differs", readonly=True)
    birth_date_differs = fields.Boolean(string="Birth date differs", readonly=True)
    sex_differs = fields.Boolean(string="Sex differs", readonly=True)
    personal_id_differs = fields.Boolean(string="Personal ID differs", readonly=True)
    differences = fields.Char(string="Differing fields", readonly=True)
    sent_name = fields.Char(string="Name sent", readonly=True)
    sent_birth_date = fields.Date(string="Birth date sent", readonly=True)
    sent_sex = fields.Selection(SEXES, string="Sex sent", readonly=True)
    sent_personal_id = fields.Char(string="Personal ID sent (full)", readonly=True, groups=PERSONAL_ID_GROUPS)
    population_name = fields.Char(string="Name in the population database", readonly=True)
    population_birth_date = fields.Date(string="Birth date in the population database", readonly=True)
    population_sex = fields.Selection(SEXES, string="Sex in the population database", readonly=True)
    population_personal_id = fields.Char(
        string="Personal ID in the population database (full)", readonly=True, groups=PERSONAL_ID_GROUPS
    )
    sent_personal_id_display = fields.Char(
        string="Personal ID sent", compute="_compute_personal_id_display", compute_sudo=True
    )
    population_personal_id_display = fields.Char(
        string="Personal ID in the population database", compute="_compute_personal_id_display", compute_sudo=True
    )

    @api.depends("sent_personal_id", "population_personal_id", "student_id")
    @api.depends_context("uid")
    def _compute_personal_id_display(self):
        for line in self:
            shown = pid.mask
            if line.student_id._hocba_can_see_personal_id():
                shown = str
            line.sent_personal_id_display = shown(line.sent_personal_id or "")
            line.population_personal_id_display = shown(line.population_personal_id or "")

    @api.model
    def _hocba_field_labels(self):
        return {"name": _("Name"), "birth_date": _("Birth date"), "sex": _("Sex"), "personal_id": _("Personal ID")}

    @api.model
    def _hocba_line_vals(self, pupil, sent, found, outcome):
        labels = self._hocba_field_labels()
        differing = set(outcome.fields)
        vals = {
            "student_id": pupil.id,
            "company_id": pupil.company_id.id,
            "class_id": pupil.class_id.id,
            "outcome": outcome.state,
            "matched_percent": 100 if outcome.state == pr.MATCHED else 0,
            "differences": ", ".join(labels[f] for f in outcome.fields) or False,
            "sent_name": sent.name,
            "sent_birth_date": sent.birth_date,
            "sent_sex": sent.sex,
            "sent_personal_id": sent.personal_id or False,
        }
        vals.update({f + "_differs": f in differing for f in pr.FIELDS})
        if found is not None:
            vals.update(
                population_name=found.name,
                population_birth_date=found.birth_date,
                population_sex=found.sex,
                population_personal_id=found.personal_id,
            )
        return vals
