from odoo import _, api, fields, models
from odoo.tools import format_date

from ..groups import VICE_PRINCIPAL
from ..lib.rules import progress

# ``hocba.progress``, continued: kept apart from ``hocba_progress.py`` only for
# size (together they would pass 500 lines).  There: the SQL view and the figures
# of a school year; here: the dashboard's RPC method and the words of the figures.


class HocbaProgress(models.Model):
    """The roll-out dashboard's one RPC method, and the words of its figures
    (shared with the monthly report, so both say the same in the reader's
    language)."""

    _inherit = "hocba.progress"

    @api.model
    def hocba_dashboard_data(self, year_id=False):
        """The dashboard of ``year_id`` (default: the current year of the
        user's school): figures, deadlines, late classes, as JSON values."""
        self._hocba_check_reader()
        years = self.env["school.year"].search([("company_id", "in", self.env.companies.ids)])
        year = years.filtered(lambda y: y.id == year_id) if year_id else self._hocba_default_year(years)
        result = {
            "years": [
                {"id": y.id, "name": "%s (%s)" % (y.name, y.company_id.name) if len(years.company_id) > 1 else y.name}
                for y in years
            ],
            "year_id": year.id or False,
            "can_send": self.env.user.has_group(VICE_PRINCIPAL),
        }
        if year:
            today = fields.Date.context_today(self)
            result.update(self._hocba_json(self._hocba_progress_data(year, today)))
        return result

    @api.model
    def _hocba_default_year(self, years):
        """The year of the user's school that is under way today, else the latest open one."""
        today = fields.Date.context_today(self)
        own = years.filtered(lambda y: y.company_id == self.env.company) or years
        current = own.filtered(lambda y: y.state != "closed" and y.date_start <= today <= y.sync_deadline)
        return (current or own.filtered(lambda y: y.state == "open") or own)[:1]

    # ---- words and JSON values ----

    @api.model
    def _hocba_json(self, data):
        year = data["year"]
        coverage = data["certificates"]
        return {
            "school": data["company"].name,
            "year_name": year.name,
            "today": self._hocba_date(data["today"]),
            "today_iso": fields.Date.to_string(data["today"]),
            "subtitle": _("School year %(year)s, as of %(date)s", year=year.name, date=self._hocba_date(data["today"])),
            "as_of": _("As of %(date)s", date=self._hocba_date(data["today"])),
            "report_intro": _(
                "School year %(year)s, for the steering committee of the digital "
                "transformation (principal, vice principals).",
                year=year.name,
            ),
            "certificates_text": self._hocba_certificates_text(coverage),
            "tracked": data["tracked"],
            "totals": self._hocba_figures_json(data["totals"], data["pct"]),
            "synced": data["synced"],
            "reconciled": data["reconciled"],
            "certificates": coverage
            and {
                "required": coverage.get("required"),
                "covered": coverage.get("covered"),
                "rate": coverage.get("rate"),
                "missing": self._hocba_names(coverage.get("missing")),
            },
            "deadlines": [
                {
                    "kind": d["kind"],
                    "label": self._hocba_deadline_label(d["kind"]),
                    "date": self._hocba_date(d["date"]),
                    "days_left": d["days_left"],
                    "days_left_text": self._hocba_days_left(d["days_left"]),
                    "forecast": self._hocba_forecast_json(d["forecast"]),
                    "classes_missing": d["classes_missing"],
                    "classes_missing_text": _("%(count)s classes projected to miss it", count=d["classes_missing"]),
                }
                for d in data["deadlines"]
            ],
            "grades": [
                {
                    "grade": g["grade"],
                    "label": self.env._("Grade %(grade)s", grade=g["grade"]),
                    **self._hocba_figures_json(g["figures"], g["pct"]),
                    "classes": [self._hocba_class_json(info) for info in g["classes"]],
                }
                for g in data["grades"]
            ],
            "late": [self._hocba_class_json(info) for info in data["late"]],
        }

    @api.model
    def _hocba_figures_json(self, figures, pct):
        return {"figures": figures, "pct": pct}

    @api.model
    def _hocba_class_json(self, info):
        return {
            "id": info["id"],
            "name": info["name"],
            "grade": info["grade"],
            "homeroom": info["homeroom"].name or "",
            "stage": info["stage"],
            "stage_label": self._hocba_stage_label(info["stage"]),
            "figures": info["figures"],
            "pct": info["pct"],
            "synced": info["synced"],
            "reconciled": info["reconciled"],
            "waiting_for": info["waiting_for"].mapped("name"),
            "late_people": self._hocba_late_people(info["overdue"]),
            "forecasts": {kind: self._hocba_forecast_json(forecast) for kind, forecast in info["forecasts"].items()},
            "misses": info["misses"],
            "reasons": self._hocba_reasons(info),
            "late": info["late"],
        }

    @api.model
    def _hocba_certificates_text(self, coverage):
        if not coverage:
            return _("Signing certificates of the staff: not tracked yet.")
        missing = self._hocba_names(coverage.get("missing"))
        if isinstance(missing, list):
            missing = ", ".join(missing)
        text = _(
            "Staff with a valid signing certificate: %(covered)s of %(required)s.",
            covered=coverage.get("covered"),
            required=coverage.get("required"),
        )
        return text + (" " + _("Missing: %(people)s", people=missing) if missing else "")

    @api.model
    def _hocba_late_people(self, overdue):
        """``["Name (overdue sheets)"]``, the sheets nobody is assigned to last."""
        people = sorted(overdue.items(), key=lambda item: (item[0] is None, -item[1]))
        nobody = _("no teacher assigned")
        return ["%s (%s)" % (person.name if person else nobody, count) for person, count in people]

    @api.model
    def _hocba_forecast_json(self, forecast):
        if not forecast:
            return {"status": "untracked", "text": _("Not tracked yet"), "misses": False, "finish": False}
        return {
            "status": forecast.status,
            "text": self._hocba_forecast_text(forecast),
            "misses": forecast.misses,
            "finish": self._hocba_date(forecast.finish) if forecast.finish else False,
        }

    @api.model
    def _hocba_reasons(self, info):
        """Why a class is late, one sentence each."""
        reasons = []
        for kind in info["misses"]:
            reasons.append(
                "%s: %s" % (self._hocba_deadline_label(kind), self._hocba_forecast_text(info["forecasts"][kind]))
            )
        if info["figures"]["sheets_overdue"]:
            reasons.append(_("%(count)s entry sheets past their due date", count=info["figures"]["sheets_overdue"]))
        return reasons

    @api.model
    def _hocba_forecast_text(self, forecast):
        date = self._hocba_date(forecast.finish) if forecast.finish else ""
        status = forecast.status
        if status == progress.DONE:
            return _("Done")
        if status == progress.ON_TRACK:
            return _("On track: done by %(date)s at the current pace", date=date)
        if status == progress.TOO_EARLY:
            return _("No progress yet, too early to tell")
        if status == progress.LATE:
            return _(
                "At the current pace, done on %(date)s: %(days)s days after the deadline",
                date=date,
                days=forecast.days_late,
            )
        if status == progress.STALLED:
            return _(
                "Nothing signed in the last %(days)s days, %(left)s days before the deadline",
                days=progress.WINDOW_DAYS,
                left=forecast.days_left,
            )
        return _("The deadline has passed and %(count)s signatures are still to make", count=forecast.remaining)

    @api.model
    def _hocba_stage_label(self, stage):
        return {
            progress.NOT_PREPARED: _("Not prepared"),
            progress.DATA_ENTRY: _("Entering data"),
            progress.CHECKING: _("Checking"),
            progress.APPROVAL: _("Waiting for approval"),
            progress.SIGNING: _("Signing"),
            progress.ISSUED: _("Issued"),
        }[stage]

    @api.model
    def _hocba_deadline_label(self, kind):
        return {"signing": _("Signed and issued"), "sync": _("Synced with the Ministry")}[kind]

    @api.model
    def _hocba_days_left(self, days):
        if days > 0:
            return _("%(days)s days left", days=days)
        if days == 0:
            return _("Today")
        return _("%(days)s days ago", days=-days)

    @api.model
    def _hocba_date(self, date):
        return format_date(self.env, date) if date else ""

    @api.model
    def _hocba_names(self, people):
        """Names of ``people``: a recordset, a list of names, or a count."""
        if people is None or isinstance(people, int):
            return people
        return [getattr(person, "display_name", person) for person in people]
