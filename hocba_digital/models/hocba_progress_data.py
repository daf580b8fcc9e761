import datetime

from odoo import _, api, models
from odoo.exceptions import AccessError

from ..lib.rules import progress

VIEW_FIELDS = ["class_id", "class_name", "grade", "homeroom_user_id", "review_state",
               *(key for key in progress.FIGURES if key != "sheets_overdue"), "synced", "reconciled"]


class HocbaProgress(models.Model):
    """The figures of one school year, put together for the dashboard, the
    monthly report and the deadline alerts: the view's rows, the pace of the
    signatures, the forecasts against the year's deadlines and who each class
    waits for.  Everything here is read for the steering committee: the user's
    right to read the progress is checked first, then the details behind the
    figures (sheets, signatures, teachers) are read as superuser."""

    _inherit = "hocba.progress"

    @api.model
    def _hocba_check_reader(self):
        if not self.has_access("read"):
            raise AccessError(_("Only the principal, the vice principal and the IT officer "
                                "follow the progress of the roll-out."))

    @api.model
    def _hocba_committee(self, company):
        """``(principals, vice principals)``: the users of the school's steering
        committee, from the staff of ``company`` and their tiers."""
        employees_sudo = self.env["hr.employee"].sudo().search([
            ("company_id", "=", company.id), ("user_id", "!=", False),
            ("hocba_tier", "in", ["principal", "vice_principal"])])
        users = employees_sudo.user_id.filtered(lambda u: u.active and not u.share)
        principals = users.filtered(lambda u: u.has_group("hocba_digital.group_hocba_principal"))
        return principals, users - principals

    @api.model
    def _hocba_progress_data(self, year, today, all_waiting=True):
        """Everything the committee sees about ``year`` on ``today`` (plain values,
        users as recordsets).  Who a class waits for is looked up for every
        class, or with ``all_waiting=False`` only for the late ones."""
        self._hocba_check_reader()
        year.check_access("read")
        rows = self.search_read([("year_id", "=", year.id)], VIEW_FIELDS)
        classes_sudo = self.env["school.class"].sudo().browse([r["id"] for r in rows])
        overdue, entering = self._hocba_draft_sheets(year, classes_sudo, today)
        events = self._hocba_signature_events(classes_sudo, today)
        sync_events = self._hocba_sync_events(classes_sudo, today)
        tracked = self._hocba_tracked()
        principals, vice_principals = self._hocba_committee(year.company_id)
        infos = []
        for row, class_sudo in zip(rows, classes_sudo):
            figures = {key: row.get(key) or 0 for key in progress.FIGURES}
            figures["sheets_overdue"] = sum(overdue.get(class_sudo.id, {}).values())
            info = {
                "id": row["id"], "name": row["class_name"], "grade": row["grade"],
                "homeroom": class_sudo.homeroom_user_id, "review_state": row["review_state"],
                "figures": figures, "pct": progress.percentages(figures),
                "stage": progress.stage(figures),
                "synced": row["synced"] if tracked["synced"] else None,
                "reconciled": row["reconciled"] if tracked["reconciled"] else None,
                "overdue": overdue.get(class_sudo.id, {}),
            }
            info["forecasts"] = self._hocba_forecasts(
                year, today, figures, info["synced"], events.get(class_sudo.id, []),
                sync_events.get(class_sudo.id, []))
            info["misses"] = [kind for kind, f in info["forecasts"].items() if f and f.misses]
            info["late"] = bool(info["misses"] or figures["sheets_overdue"])
            info["waiting_for"] = self._hocba_waiting(
                class_sudo, info, entering.get(class_sudo.id, ()), vice_principals or principals
            ) if all_waiting or info["late"] else self.env["res.users"]
            infos.append(info)
        return self._hocba_summary(year, today, infos, events, sync_events, tracked)

    def _hocba_summary(self, year, today, infos, events, sync_events, tracked):
        totals = progress.total([info["figures"] for info in infos])
        grades = []
        for grade, figures, grade_infos in progress.by_grade(infos, lambda info: info["figures"]):
            grades.append({"grade": grade, "figures": figures, "pct": progress.percentages(figures),
                           "classes": grade_infos})
        school_synced = sum(i["synced"] or 0 for i in infos) if tracked["synced"] else None
        school_forecasts = self._hocba_forecasts(
            year, today, totals, school_synced, [e for ev in events.values() for e in ev],
            [e for ev in sync_events.values() for e in ev])
        deadlines = []
        for kind, date in (("signing", year.signing_deadline), ("sync", year.sync_deadline)):
            deadlines.append({
                "kind": kind, "date": date, "days_left": (date - today).days,
                "forecast": school_forecasts[kind],
                "classes_missing": len([i for i in infos if kind in i["misses"]]),
            })
        return {
            "year": year, "company": year.company_id, "today": today, "tracked": tracked,
            "totals": totals, "pct": progress.percentages(totals), "grades": grades,
            "classes": infos, "deadlines": deadlines,
            "late": [info for info in infos if info["late"]],
            "synced": school_synced,
            "reconciled": sum(i["reconciled"] or 0 for i in infos) if tracked["reconciled"] else None,
            "certificates": self._hocba_certificate_coverage(year.company_id),
        }

    @api.model
    def _hocba_forecasts(self, year, today, figures, synced, events, sync_events):
        """``{"signing": Forecast, "sync": Forecast or None}`` for the figures of a
        class (or a school).  Nothing can be synced before it is issued, so the
        sync forecast is never better than the signing pace measured against the
        sync deadline; its own pace joins in once the sync is tracked."""
        done, required = progress.signing_work(figures)
        signing = progress.forecast(events, required - done, today, year.signing_deadline)
        issued_by_sync = progress.forecast(events, required - done, today, year.sync_deadline)
        if synced is None:
            # the sync itself is not tracked: only say it when issuing alone misses it
            sync = issued_by_sync if issued_by_sync.misses else None
        else:
            own = progress.forecast(sync_events, figures["transcripts"] - synced, today,
                                    year.sync_deadline)
            sync = progress.chained(issued_by_sync, own)
        return {"signing": signing, "sync": sync}

    @api.model
    def _hocba_draft_sheets(self, year, classes_sudo, today):
        """``({class id: {user: overdue sheets}}, {class id: users of draft end-of-year sheets})``."""
        groups = self.env["hocba.entry.sheet"].sudo()._read_group(
            [("class_id", "in", classes_sudo.ids), ("state", "=", "draft")],
            ["class_id", "user_id", "period"], ["__count"])
        overdue, entering = {}, {}
        for school_class, user, period, count in groups:
            late = progress.late_at_data_entry(
                [(user or None, year._hocba_period_date(period), False, count)], today)
            per_class = overdue.setdefault(school_class.id, {})
            for person, number in late.items():
                per_class[person] = per_class.get(person, 0) + number
            if period == "end_year" and user:
                entering.setdefault(school_class.id, []).append(user)
        return overdue, entering

    @api.model
    def _hocba_signature_events(self, classes_sudo, today):
        """``{class id: [(day, signatures)]}`` over the pace window."""
        return self._hocba_daily_events(
            "hocba.signature", [("state", "=", "valid")], "signed_at", classes_sudo, today)

    @api.model
    def _hocba_sync_events(self, classes_sudo, today):
        source = self._hocba_sync_events_source()
        if not source:
            return {}
        model, domain, date_field = source
        return self._hocba_daily_events(model, domain, date_field, classes_sudo, today)

    @api.model
    def _hocba_daily_events(self, model, domain, date_field, classes_sudo, today):
        start = today - datetime.timedelta(days=progress.WINDOW_DAYS - 1)
        groups = self.env[model].sudo()._read_group(
            domain + [("class_id", "in", classes_sudo.ids),
                      (date_field, ">=", datetime.datetime.combine(start, datetime.time.min))],
            ["class_id", date_field + ":day"], ["__count"])
        events = {}
        for school_class, day, count in groups:
            day = day.date() if isinstance(day, datetime.datetime) else day
            events.setdefault(school_class.id, []).append((day, count))
        return events

    @api.model
    def _hocba_waiting(self, class_sudo, info, entering, approvers):
        class_stage = info["stage"]
        signers = self.env["res.users"]
        # no end-of-year sheet submitted, or all issued: nobody can sign yet / any more
        if info["figures"]["sheets_submitted"] and class_stage != progress.ISSUED:
            signers = class_sudo._hocba_waiting_for()
        reviewers = self.env["res.users"]
        if class_stage == progress.CHECKING:
            teachers = class_sudo.homeroom_employee_id | class_sudo.teaching_assignment_ids.employee_id
            reviewers = teachers.hocba_subject_group_ids.head_user_id
        people = progress.waiting_for(
            class_stage, preparers=class_sudo.homeroom_user_id, entering=entering,
            reviewers=reviewers, approvers=approvers, signers=signers)
        # the superuser belongs to every group: it is never who a class waits for
        return self.env["res.users"].browse([user.id for user in people]).filtered("active")
