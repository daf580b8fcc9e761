from odoo import api, fields, models

from ..lib.rules import assessment, catalogue

# the codes and their order are the rules' (lib), the words the model's (translated)
TRAIT_LEVEL_LABELS = {"T": "T - Good", "Đ": "Đ - Satisfactory", "C": "C - Needs effort"}
TRAIT_LEVEL_SELECTION = [(code, TRAIT_LEVEL_LABELS[code]) for code in assessment.TRAIT_LEVELS]


class HocbaTraitAssessment(models.Model):
    """The 5 qualities and the competencies of one pupil at one period.

    One row per pupil and period, one level and one comment column per quality
    or competency (``lib.catalogue.TRAITS``): the homeroom teacher fills a class
    in one grid, a row per pupil, as on the Ministry's template.

    Access: read as the transcript; written by the homeroom teacher of the
    class while the homeroom sheet is a draft and the class is not locked.
    """

    _name = "hocba.trait.assessment"
    _description = "Qualities and competencies"
    _inherit = ["hocba.transcript.line"]
    _order = "transcript_id, period"

    grade = fields.Selection(related="transcript_id.grade")

    for _code, _kind, _label, _first in catalogue.TRAITS:
        locals()[f"level_{_code}"] = fields.Selection(TRAIT_LEVEL_SELECTION, string=_label, tracking=True)
        locals()[f"comment_{_code}"] = fields.Text(string=f"{_label}: comment")
    del _code, _kind, _label, _first

    _sql_constraints = [
        (
            "transcript_period_uniq",
            "unique(transcript_id, period)",
            "Qualities and competencies are already recorded for that period.",
        ),
    ]

    def _hocba_marks(self):
        """``[(trait code, level, comment)]`` of the traits assessed in the pupil's grade."""
        self.ensure_one()
        return [
            (code, self[f"level_{code}"], self[f"comment_{code}"]) for code in catalogue.traits_of_grade(self.grade)
        ]

    @api.model
    def _hocba_trait_labels(self):
        return {
            code: self._fields[f"level_{code}"].get_description(self.env)["string"] for code, *_rest in catalogue.TRAITS
        }
