from odoo import api, fields, models


class ReportHocbaProgress(models.AbstractModel):
    """The monthly progress report of a school year (QWeb): the school's figures
    per grade, class and tier, the deadlines, the late classes and who they wait
    for.  ``data["today"]`` (ISO date) fixes the day it speaks of; the day the
    report is printed by default.  Read by those who read the progress."""

    _name = "report.hocba_digital.report_progress"
    _description = "Digital transcripts: monthly progress report"

    @api.model
    def _get_report_values(self, docids, data=None):
        Progress = self.env["hocba.progress"]
        Progress._hocba_check_reader()
        years = self.env["school.year"].browse(docids)
        today = fields.Date.to_date((data or {}).get("today")) or fields.Date.context_today(self)
        return {
            "doc_ids": docids,
            "doc_model": "school.year",
            "docs": years,
            "reports": [Progress._hocba_json(Progress._hocba_progress_data(year, today)) for year in years],
        }
