import logging

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

MODULE = "hocba_digital_demo"
PARAM = "hocba_digital.demo_progress"
# the class the demo shows as behind: its homeroom teacher and its English
# teacher (the demo login gvbm) have not submitted what is already due
BEHIND_CLASS = "3B"
ON_TIME_ELSEWHERE = ("1A", "4A")  # filled by the loader, and signed by the demo PKI


class HocbaDemoLoader(models.AbstractModel):
    """The demo school's progress: classes at various stages, one clearly behind,
    and the steering committee's first monthly report."""

    _inherit = "hocba.demo.loader"

    @api.model
    def _load_demo_progress(self):
        """Every class but 1A and 4A gets the assessments already due (before
        today) filled and submitted, except the sheets of 3B's homeroom teacher
        and of ``gvbm`` there; then the principal and the vice principal, who read
        Odoo's inbox (the demo sends no e-mail), receive the monthly report."""
        Param = self.env["ir.config_parameter"].sudo()
        year = self.env.ref(f"{MODULE}.demo_school_year_current", raise_if_not_found=False)
        if not year or Param.get_param(PARAM):
            return
        today = fields.Date.context_today(self)
        behind = self.env.ref(f"{MODULE}.demo_class_{BEHIND_CLASS.lower()}")
        late_teachers = behind.homeroom_user_id | self.env.ref(f"{MODULE}.user_demo_gvbm")
        due = year.class_ids.filtered(lambda c: c.name not in ON_TIME_ELSEWHERE).sheet_ids.filtered(
            lambda s: (
                s.due_date
                and s.due_date < today
                and s.state == "draft"
                and not (s.class_id == behind and s.user_id in late_teachers)
            )
        )
        self.with_context(tracking_disable=True)._demo_fill(due)
        committee = self.env.ref(f"{MODULE}.user_demo_hieutruong") | self.env.ref(f"{MODULE}.user_demo_phohieutruong")
        committee.write({"notification_type": "inbox"})
        year._hocba_send_progress_report(today)
        Param.set_param(PARAM, fields.Date.to_string(today))
        _logger.info("Demo progress: %d sheets already due filled, %s behind", len(due), BEHIND_CLASS)
