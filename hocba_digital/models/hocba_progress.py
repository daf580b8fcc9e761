from odoo import fields, models, tools

from .school_subject_grade import GRADE_SELECTION

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
SYNCED_SQL = ("(SELECT count(DISTINCT e.version_id) FROM hocba_exchange e"
              " JOIN hocba_version v ON v.id = e.version_id"
              " WHERE e.class_id = c.id AND e.state = 'acknowledged' AND v.state = 'issued')")
RECONCILED_SQL = ("(SELECT count(*) FROM school_student s WHERE s.class_id = c.id AND s.active"
                  " AND s.reconcile_state = 'matched')")
SYNC_EVENTS = ("hocba.exchange", [("state", "=", "acknowledged")], "acknowledged_at")


def certificate_coverage(env, company):
    coverage = env["hocba.certificate"]._hocba_certificate_coverage(company)
    # counts and names: the dashboard's JSON and the report's sentence
    return {"required": coverage["required_count"], "covered": coverage["covered_count"],
            "missing": coverage["missing_names"], "rate": coverage["rate"]}
# ============================================================================


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
    grade = fields.Selection(GRADE_SELECTION, string="Grade", readonly=True)
    homeroom_user_id = fields.Many2one("res.users", string="Homeroom teacher", readonly=True)
    review_state = fields.Selection(
        [("open", "Being filled"), ("locked", "Locked for checking"),
         ("approved", "Approved for signing")], string="Review", readonly=True)
    classes = fields.Integer(string="Classes", readonly=True)
    pupils = fields.Integer(string="Pupils", readonly=True,
                            help="Pupils of the class who are still at school.")
    transcripts = fields.Integer(string="Transcripts", readonly=True)
    sheets_total = fields.Integer(string="End-of-year sheets", readonly=True)
    sheets_submitted = fields.Integer(string="End-of-year sheets submitted", readonly=True)
    locked = fields.Integer(string="Checked and locked", readonly=True,
                            help="1 when the class is locked or approved.")
    approved = fields.Integer(string="Approved", readonly=True,
                              help="1 when the class is approved for signing.")
    subject_signatures = fields.Integer(string="Subject signatures", readonly=True)
    subject_signatures_required = fields.Integer(string="Subject signatures needed", readonly=True)
    signed_subject = fields.Integer(
        string="Signed by every subject teacher", readonly=True,
        help="Transcripts whose current version carries a valid signature for every subject.")
    signed_homeroom = fields.Integer(string="Signed by the homeroom teacher", readonly=True)
    signed_principal = fields.Integer(string="Signed by the principal", readonly=True)
    signed_seal = fields.Integer(string="Sealed", readonly=True)
    issued = fields.Integer(string="Issued", readonly=True,
                            help="Transcripts whose current version is issued.")
    synced = fields.Integer(string="Synced", readonly=True,
                            help="Transcripts whose issued version the Ministry's store acknowledged.")
    reconciled = fields.Integer(
        string="Pupils reconciled", readonly=True,
        help="Pupils whose identity matches the population database.")

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
        return {"synced": bool(SYNCED_SQL), "reconciled": bool(RECONCILED_SQL),
                "sync_pace": bool(SYNC_EVENTS)}

    def _hocba_certificate_coverage(self, company):
        return certificate_coverage(self.env, company)

    @staticmethod
    def _hocba_sync_events_source():
        return SYNC_EVENTS
