from markupsafe import Markup

from odoo import _, api, fields, models


class SchoolClass(models.Model):
    """Deadline alerts: when, at the current pace, a class will miss the
    signing or the sync deadline, the principal gets an activity on the class.
    One per class and deadline: it is not repeated while the projection stays
    the same; when the projection changes (stalled, late, overdue, or another
    deadline date) the old one is closed and a new one says what changed; when
    the class is back on track it is closed."""

    _inherit = "school.class"

    hocba_progress_alerts = fields.Json(
        string="Deadline alerts sent", copy=False, groups="hocba_digital.group_hocba_principal",
        help="Per deadline, the projection the principal was last alerted about and the "
             "activities that said it.")

    @api.model
    def _hocba_alert_deadlines(self, data, principals):
        """Compare each class's forecasts in ``data`` (see
        ``hocba.progress._hocba_progress_data``) with the alerts already sent;
        returns the activities scheduled."""
        activity_type = self.env.ref("hocba_digital.mail_activity_type_hocba_deadline",
                                     raise_if_not_found=False)
        scheduled = self.env["mail.activity"]
        if not activity_type or not principals:
            return scheduled
        for info in data["classes"]:
            class_sudo = self.sudo().browse(info["id"])
            alerts = dict(class_sudo.hocba_progress_alerts or {})
            for kind, forecast in info["forecasts"].items():
                key = "%s:%s" % (forecast.deadline, forecast.status) if forecast and forecast.misses \
                    else False
                sent = alerts.get(kind) or {}
                if sent.get("key", False) == key:
                    continue
                self.env["mail.activity"].sudo().browse(sent.get("activity_ids", [])).exists() \
                    .action_feedback(feedback=_("The projection changed.") if key
                                     else _("Back on track."))
                alerts.pop(kind, None)
                if key:
                    activities = class_sudo._hocba_schedule_alert(
                        activity_type, principals, kind, info, data)
                    alerts[kind] = {"key": key, "activity_ids": activities.ids}
                    scheduled |= activities
            if alerts != (class_sudo.hocba_progress_alerts or {}):
                class_sudo.hocba_progress_alerts = alerts
        return scheduled

    def _hocba_schedule_alert(self, activity_type, principals, kind, info, data):
        self.ensure_one()
        activities = self.env["mail.activity"]
        for principal in principals:
            summary, note = self.with_context(lang=principal.lang)._hocba_alert_texts(kind, info)
            activities |= self.activity_schedule(
                activity_type_id=activity_type.id, user_id=principal.id,
                date_deadline=data["today"], summary=summary, note=note)
        return activities

    def _hocba_alert_texts(self, kind, info):
        """``(summary, note)`` of the alert, in the language of the context."""
        Progress = self.env["hocba.progress"]
        forecast = info["forecasts"][kind]
        summary = _("%(name)s may miss the deadline: %(deadline)s, %(date)s", name=self.name,
                    deadline=Progress._hocba_deadline_label(kind),
                    date=Progress._hocba_date(forecast.deadline))
        waiting = ", ".join(info["waiting_for"].mapped("name")) or _("nobody named")
        note = Markup("<p>%s</p><p>%s</p>") % (Progress._hocba_forecast_text(forecast),
                                                _("Waiting for: %(people)s", people=waiting))
        if info["overdue"]:
            late = ", ".join(Progress._hocba_late_people(info["overdue"]))
            note += Markup("<p>%s</p>") % _("Late at data entry: %(people)s", people=late)
        return summary, note
