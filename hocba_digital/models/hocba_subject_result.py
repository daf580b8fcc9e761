from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..lib.rules import assessment, catalogue

# the codes and their order are the rules' (lib), the words the model's (translated)
SUBJECT_LEVEL_LABELS = {"T": "T - Completed well", "H": "H - Completed", "C": "C - Not yet completed"}
SUBJECT_LEVEL_SELECTION = [(code, SUBJECT_LEVEL_LABELS[code]) for code in assessment.SUBJECT_LEVELS]


class HocbaSubjectResult(models.Model):
    """One pupil's level, test score and comment in one subject at one period.

    Access: read as the transcript it belongs to; written only by the teacher
    whose entry sheet holds it, while that sheet is a draft and the class is
    not locked (record rules, and ``_hocba_check_editable`` for everyone).
    Rows are created with the transcripts, never by hand.
    """

    _name = "hocba.subject.result"
    _description = "Subject result"
    _inherit = ["hocba.transcript.line"]
    _order = "transcript_id, subject_sequence, period"

    subject_id = fields.Many2one("school.subject", required=True, index=True)
    subject_sequence = fields.Integer(related="subject_id.sequence", store=True)
    level = fields.Selection(SUBJECT_LEVEL_SELECTION, tracking=True)
    score = fields.Char(size=4, tracking=True, help="Periodic test score: a whole number from 1 to 10.")
    score_value = fields.Integer(compute="_compute_score_value", store=True, aggregator="avg")
    score_required = fields.Boolean(compute="_compute_score_required", store=True)
    comment = fields.Text(tracking=True)

    _sql_constraints = [
        (
            "transcript_subject_period_uniq",
            "unique(transcript_id, subject_id, period)",
            "This subject already has a result for that period.",
        ),
    ]

    @api.depends("subject_id", "period", "transcript_id.grade")
    def _compute_score_required(self):
        lines = self.env["school.subject.grade"].search([("subject_id", "in", self.subject_id.ids)])
        tested = {
            (line.subject_id.id, line.grade, period)
            for line in lines
            for period in catalogue.PERIODS
            if line[f"test_{period}"]
        }
        for result in self:
            result.score_required = (result.subject_id.id, result.transcript_id.grade, result.period) in tested

    @api.depends("score")
    def _compute_score_value(self):
        for result in self:
            result.score_value = int(result.score) if result.score else 0

    @api.constrains("score", "score_required")
    def _check_score(self):
        for result in self:
            if not result.score:
                continue
            if not result.score_required:
                raise ValidationError(
                    _(
                        "%(subject)s has no periodic test at %(period)s in grade %(grade)s: leave the score empty.",
                        subject=result.subject_id.name,
                        period=dict(self._fields["period"]._description_selection(self.env))[result.period],
                        grade=result.transcript_id.grade,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "score" in vals:
                vals["score"] = self._hocba_clean_score(vals["score"])
        return super().create(vals_list)

    def write(self, vals):
        if "score" in vals:
            vals = dict(vals, score=self._hocba_clean_score(vals["score"]))
        return super().write(vals)

    def _hocba_signed_scope(self):
        return {"subjects": self.subject_id}

    @api.model
    def _hocba_clean_score(self, value):
        """Refuse what is not a whole number from 1 to 10, saying why; canonical text otherwise."""
        problem = assessment.score_problem(value)
        if problem:
            raise ValidationError(self._hocba_score_message(problem, value))
        return assessment.normalize_score(value)

    @api.model
    def _hocba_score_message(self, problem, value):
        return {
            "not_a_number": _("“%(value)s” is not a test score: type a whole number from 1 to 10.", value=value),
            "not_whole": _("%(value)s is not a whole number: test scores have no decimals (1 to 10).", value=value),
            "below_one": _("%(value)s is not a valid test score: the lowest score is 1.", value=value),
            "above_ten": _("%(value)s is not a valid test score: the highest score is 10.", value=value),
        }[problem]
