import datetime

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError

from ..groups import PRINCIPAL
from ..lib.rules import progress
from ..models.school_subject_grade import GRADE_SELECTION

# ============================================================================
# FIGURES OF THE OTHER ROLL-OUT BRANCHES: the one place to fill in after they
# are merged (sync records, pupil reconciliation, certificate coverage).
#
# While a value below is None, the view returns NULL for that figure and the
# dashboard, the monthly report and the deadline alerts say "not tracked yet";
# nothing else in the code needs to change when they are filled in.
#
# * SYNCED_SQL: per class (``c`` is the school_class row), how many of its
#   transcripts have their current version acknowledged by the Ministry, e.g.
#     "(SELECT count(DISTINCT e.version_id) FROM hocba_exchange e"
#     " JOIN hocba_version v ON v.id = e.version_id"
#     " WHERE e.class_id = c.id AND e.state = 'acknowledged' AND v.state = 'issued')"
# * RECONCILED_SQL: per class, how many of its pupils match the population
#   database, e.g.
#     "(SELECT count(*) FROM school_student s WHERE s.class_id = c.id AND s.active"
#     " AND s.reconcile_state = 'matched')"
# * SYNC_EVENTS: where the dated sync acknowledgements are, for the pace of the
#   sync deadline: (model, domain, date field), e.g.
#     ("hocba.exchange", [("state", "=", "acknowledged")], "write_date")
# * certificate_coverage(env, company): the certificate branch's
#   ``_hocba_certificate_coverage(company)`` -> {required, covered, missing, rate}, e.g.
#     return env["hocba.certificate"]._hocba_certificate_coverage(company)
# ============================================================================
SYNCED_SQL = (
    "(SELECT count(DISTINCT e.version_id) FROM hocba_exchange e"
    " JOIN hocba_version v ON v.id = e.version_id"
    " WHERE e.class_id = c.id AND e.state = 'acknowledged' AND v.state = 'issued')"
)
RECONCILED_SQL = (
    "(SELECT count(*) FROM school_student s WHERE s.class_id = c.id AND s.active AND s.reconcile_state = 'matched')"
)
SYNC_EVENTS = ("hocba.exchange", [("state", "=", "acknowledged")], "acknowledged_at")


def certificate_coverage(env, company):
    coverage = env["hocba.certificate"]._hocba_certificate_coverage(company)
    # counts and names: the dashboard's JSON and the report's sentence
    return {
        "required": coverage["required_count"],
        "covered": coverage["covered_count"],
        "missing": coverage["missing_names"],
        "rate": coverage["rate"],
    }


# ============================================================================
VIEW_FIELDS = [
    "class_id",
    "class_name",
    "grade",
    "homeroom_user_id",
    "review_state",
    *(key for key in progress.FIGURES if key != "sheets_overdue"),
    "synced",
    "reconciled",
]


class HocbaProgress(models.Model):
    """Roll-out progress of one class of one school year, for the steering
    committee: what is entered, checked, approved, signed per tier and issued.

    A read-only SQL view (one query, no per-record computation) over classes,
    pupils, entry sheets, transcripts, their current versions and signatures,
    for list, pivot and graph views grouped by school, grade and class.

    Access: the principal and the vice principal read every row of their
    school; the IT officer reads them; teachers, the clerk, the accountant and
    parents read none (teachers follow their own classes through their entry
    sheets and signing activities).  Nobody writes.
    """

    _name = "hocba.progress"
    _description = "Roll-out progress of a class"
    _auto = False
    _order = "year_id desc, grade, class_name"
    _rec_name = "class_id"

    class_id = fields.Many2one("school.class", string="Class", readonly=True)
    class_name = fields.Char(string="Class name", readonly=True)
    company_id = fields.Many2one("res.company", string="School", readonly=True)
    year_id = fields.Many2one("school.year", string="School year", readonly=True)
    grade = fields.Selection(GRADE_SELECTION, readonly=True)
    homeroom_user_id = fields.Many2one("res.users", string="Homeroom teacher", readonly=True)
    review_state = fields.Selection(
        [("open", "Being filled"), ("locked", "Locked for checking"), ("approved", "Approved for signing")],
        string="Review",
        readonly=True,
    )
    classes = fields.Integer(readonly=True)
    pupils = fields.Integer(readonly=True, help="Pupils of the class who are still at school.")
    transcripts = fields.Integer(readonly=True)
    sheets_total = fields.Integer(string="End-of-year sheets", readonly=True)
    sheets_submitted = fields.Integer(string="End-of-year sheets submitted", readonly=True)
    locked = fields.Integer(string="Checked and locked", readonly=True, help="1 when the class is locked or approved.")
    approved = fields.Integer(readonly=True, help="1 when the class is approved for signing.")
    subject_signatures = fields.Integer(string="Subject signatures", readonly=True)
    subject_signatures_required = fields.Integer(string="Subject signatures needed", readonly=True)
    signed_subject = fields.Integer(
        string="Signed by every subject teacher",
        readonly=True,
        help="Transcripts whose current version carries a valid signature for every subject.",
    )
    signed_homeroom = fields.Integer(string="Signed by the homeroom teacher", readonly=True)
    signed_principal = fields.Integer(string="Signed by the principal", readonly=True)
    signed_seal = fields.Integer(string="Sealed", readonly=True)
    issued = fields.Integer(readonly=True, help="Transcripts whose current version is issued.")
    synced = fields.Integer(readonly=True, help="Transcripts whose issued version the Ministry's store acknowledged.")
    reconciled = fields.Integer(
        string="Pupils reconciled", readonly=True, help="Pupils whose identity matches the population database."
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute("CREATE OR REPLACE VIEW %s AS (%s)" % (self._table, self._query()))

    @staticmethod
    def _query():
        # LATERAL subqueries: a filter on the class (year, company) reaches them,
        # so reading one school's year only counts that year's rows.
        return """
            SELECT c.id AS id, c.id AS class_id, c.name AS class_name, c.company_id,
                   c.year_id, c.grade, c.homeroom_user_id, c.review_state,
                   1 AS classes,
                   coalesce(p.pupils, 0) AS pupils,
                   coalesce(t.transcripts, 0) AS transcripts,
                   coalesce(sh.sheets_total, 0) AS sheets_total,
                   coalesce(sh.sheets_submitted, 0) AS sheets_submitted,
                   CASE WHEN c.review_state IN ('locked', 'approved') THEN 1 ELSE 0 END AS locked,
                   CASE WHEN c.review_state = 'approved' THEN 1 ELSE 0 END AS approved,
                   coalesce(t.subject_signatures, 0) AS subject_signatures,
                   coalesce(t.subject_signatures_required, 0) AS subject_signatures_required,
                   coalesce(t.signed_subject, 0) AS signed_subject,
                   coalesce(t.signed_homeroom, 0) AS signed_homeroom,
                   coalesce(t.signed_principal, 0) AS signed_principal,
                   coalesce(t.signed_seal, 0) AS signed_seal,
                   coalesce(t.issued, 0) AS issued,
                   %(synced)s::integer AS synced,
                   %(reconciled)s::integer AS reconciled
              FROM school_class c
              LEFT JOIN LATERAL (
                    SELECT count(*) AS pupils FROM school_student st
                     WHERE st.class_id = c.id AND st.active
                       AND st.status NOT IN ('transferred_out', 'left')
              ) p ON TRUE
              LEFT JOIN LATERAL (
                    SELECT count(*) AS sheets_total,
                           count(*) FILTER (WHERE es.state = 'submitted') AS sheets_submitted
                      FROM hocba_entry_sheet es
                     WHERE es.class_id = c.id AND es.period = 'end_year'
              ) sh ON TRUE
              LEFT JOIN LATERAL (
                    SELECT count(*) AS transcripts,
                           sum(sj.n)::integer AS subject_signatures_required,
                           sum(sg.subject_n)::integer AS subject_signatures,
                           count(*) FILTER (WHERE sj.n > 0 AND sg.subject_n >= sj.n) AS signed_subject,
                           count(*) FILTER (WHERE sg.homeroom) AS signed_homeroom,
                           count(*) FILTER (WHERE sg.principal) AS signed_principal,
                           count(*) FILTER (WHERE sg.seal) AS signed_seal,
                           count(*) FILTER (WHERE cv.state = 'issued') AS issued
                      FROM hocba_transcript tr
                      LEFT JOIN LATERAL (
                            SELECT v.id, v.state FROM hocba_version v
                             WHERE v.transcript_id = tr.id ORDER BY v.number DESC LIMIT 1
                      ) cv ON TRUE
                      LEFT JOIN LATERAL (
                            SELECT count(*) AS n FROM hocba_subject_result r
                             WHERE r.transcript_id = tr.id AND r.period = 'end_year'
                      ) sj ON TRUE
                      LEFT JOIN LATERAL (
                            SELECT count(*) FILTER (WHERE s.tier = 'subject_teacher') AS subject_n,
                                   bool_or(s.tier = 'homeroom_teacher') AS homeroom,
                                   bool_or(s.tier = 'principal') AS principal,
                                   bool_or(s.tier = 'seal') AS seal
                              FROM hocba_signature s
                             WHERE s.version_id = cv.id AND s.state = 'valid'
                      ) sg ON TRUE
                     WHERE tr.class_id = c.id
              ) t ON TRUE
             WHERE c.active
        """ % {"synced": SYNCED_SQL or "NULL", "reconciled": RECONCILED_SQL or "NULL"}

    @staticmethod
    def _hocba_tracked():
        """Which figures of the other roll-out branches are known (see the top of this file)."""
        return {"synced": bool(SYNCED_SQL), "reconciled": bool(RECONCILED_SQL), "sync_pace": bool(SYNC_EVENTS)}

    def _hocba_certificate_coverage(self, company):
        return certificate_coverage(self.env, company)

    @staticmethod
    def _hocba_sync_events_source():
        return SYNC_EVENTS

    # ----------------------------------------------------------------------
    # The figures of one school year, put together for the dashboard, the monthly report
    # and the deadline alerts: the view's rows, the pace of the signatures, the
    # forecasts against the year's deadlines and who each class waits for.  Everything
    # here is read for the steering committee: the user's right to read the progress is
    # checked first, then the details behind the figures (sheets, signatures, teachers)
    # are read as superuser.
    # ----------------------------------------------------------------------

    @api.model
    def _hocba_check_reader(self):
        if not self.has_access("read"):
            raise AccessError(
                _("Only the principal, the vice principal and the IT officer follow the progress of the roll-out.")
            )

    @api.model
    def _hocba_committee(self, company):
        """``(principals, vice principals)``: the users of the school's steering
        committee, from the staff of ``company`` and their tiers."""
        employees_sudo = (
            self.env["hr.employee"]
            .sudo()
            .search(
                [
                    ("company_id", "=", company.id),
                    ("user_id", "!=", False),
                    ("hocba_tier", "in", ["principal", "vice_principal"]),
                ]
            )
        )
        users = employees_sudo.user_id.filtered(lambda u: u.active and not u.share)
        principals = users.filtered(lambda u: u.has_group(PRINCIPAL))
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
                "id": row["id"],
                "name": row["class_name"],
                "grade": row["grade"],
                "homeroom": class_sudo.homeroom_user_id,
                "review_state": row["review_state"],
                "figures": figures,
                "pct": progress.percentages(figures),
                "stage": progress.stage(figures),
                "synced": row["synced"] if tracked["synced"] else None,
                "reconciled": row["reconciled"] if tracked["reconciled"] else None,
                "overdue": overdue.get(class_sudo.id, {}),
            }
            info["forecasts"] = self._hocba_forecasts(
                year, today, figures, info["synced"], events.get(class_sudo.id, []), sync_events.get(class_sudo.id, [])
            )
            info["misses"] = [kind for kind, f in info["forecasts"].items() if f and f.misses]
            info["late"] = bool(info["misses"] or figures["sheets_overdue"])
            info["waiting_for"] = (
                self._hocba_waiting(class_sudo, info, entering.get(class_sudo.id, ()), vice_principals or principals)
                if all_waiting or info["late"]
                else self.env["res.users"]
            )
            infos.append(info)
        return self._hocba_summary(year, today, infos, events, sync_events, tracked)

    def _hocba_summary(self, year, today, infos, events, sync_events, tracked):
        totals = progress.total([info["figures"] for info in infos])
        grades = []
        for grade, figures, grade_infos in progress.by_grade(infos, lambda info: info["figures"]):
            grades.append(
                {"grade": grade, "figures": figures, "pct": progress.percentages(figures), "classes": grade_infos}
            )
        school_synced = sum(i["synced"] or 0 for i in infos) if tracked["synced"] else None
        school_forecasts = self._hocba_forecasts(
            year,
            today,
            totals,
            school_synced,
            [e for ev in events.values() for e in ev],
            [e for ev in sync_events.values() for e in ev],
        )
        deadlines = []
        for kind, date in (("signing", year.signing_deadline), ("sync", year.sync_deadline)):
            deadlines.append(
                {
                    "kind": kind,
                    "date": date,
                    "days_left": (date - today).days,
                    "forecast": school_forecasts[kind],
                    "classes_missing": len([i for i in infos if kind in i["misses"]]),
                }
            )
        return {
            "year": year,
            "company": year.company_id,
            "today": today,
            "tracked": tracked,
            "totals": totals,
            "pct": progress.percentages(totals),
            "grades": grades,
            "classes": infos,
            "deadlines": deadlines,
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
            own = progress.forecast(sync_events, figures["transcripts"] - synced, today, year.sync_deadline)
            sync = progress.chained(issued_by_sync, own)
        return {"signing": signing, "sync": sync}

    @api.model
    def _hocba_draft_sheets(self, year, classes_sudo, today):
        """``({class id: {user: overdue sheets}}, {class id: users of draft end-of-year sheets})``."""
        groups = (
            self.env["hocba.entry.sheet"]
            .sudo()
            ._read_group(
                [("class_id", "in", classes_sudo.ids), ("state", "=", "draft")],
                ["class_id", "user_id", "period"],
                ["__count"],
            )
        )
        overdue, entering = {}, {}
        for school_class, user, period, count in groups:
            late = progress.late_at_data_entry([(user or None, year._hocba_period_date(period), False, count)], today)
            per_class = overdue.setdefault(school_class.id, {})
            for person, number in late.items():
                per_class[person] = per_class.get(person, 0) + number
            if period == "end_year" and user:
                entering.setdefault(school_class.id, []).append(user)
        return overdue, entering

    @api.model
    def _hocba_signature_events(self, classes_sudo, today):
        """``{class id: [(day, signatures)]}`` over the pace window."""
        return self._hocba_daily_events("hocba.signature", [("state", "=", "valid")], "signed_at", classes_sudo, today)

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
        groups = (
            self.env[model]
            .sudo()
            ._read_group(
                domain
                + [
                    ("class_id", "in", classes_sudo.ids),
                    (date_field, ">=", datetime.datetime.combine(start, datetime.time.min)),
                ],
                ["class_id", date_field + ":day"],
                ["__count"],
            )
        )
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
            class_stage,
            preparers=class_sudo.homeroom_user_id,
            entering=entering,
            reviewers=reviewers,
            approvers=approvers,
            signers=signers,
        )
        # the superuser belongs to every group: it is never who a class waits for
        return self.env["res.users"].browse([user.id for user in people]).filtered("active")
