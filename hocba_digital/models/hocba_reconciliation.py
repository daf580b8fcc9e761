from collections import defaultdict

from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.fields import Command

from ..groups import CLERK, IT_OFFICER, VICE_PRINCIPAL
from ..lib.population import reconcile as pr
from ..lib.rules import personal_id as pid
from .school_student import TARGET_RATE

RECONCILER_GROUPS = (CLERK, IT_OFFICER, VICE_PRINCIPAL)
FIX_ACTIVITY = "hocba_digital.mail_activity_type_hocba_fix_identity"


class HocbaReconciliation(models.Model):
    """One round of identity reconciliation with the national population
    database: the answer (a file, or the online service's), who brought it in,
    when, the counts and one line per pupil checked.

    A round is written by the code only (``_hocba_record``), for the clerk, the
    IT officer, the vice principal and the principal, who read every round and
    may annotate it; only the principal deletes one (the pupils keep their
    status).  Homeroom teachers read the lines of their own pupils, not the
    rounds.
    """

    _name = "hocba.reconciliation"
    _description = "Identity reconciliation round"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, copy=False, default="/")
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now, index=True)
    user_id = fields.Many2one(
        "res.users", string="Done by", required=True, readonly=True, default=lambda self: self.env.user
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda self: self.env.company
    )
    year_id = fields.Many2one("school.year", string="School year", readonly=True, check_company=True)
    method = fields.Selection([("file", "Answer file"), ("online", "Online service")], required=True, readonly=True)
    answer_file = fields.Binary(string="Answer file", attachment=True, readonly=True)
    answer_filename = fields.Char(string="Answer file name", readonly=True)
    line_ids = fields.One2many("hocba.reconciliation.line", "reconciliation_id", string="Pupils checked", readonly=True)
    count_total = fields.Integer(string="Pupils", readonly=True)
    count_matched = fields.Integer(string="Matched", readonly=True)
    count_mismatched = fields.Integer(string="Mismatched", readonly=True)
    count_not_found = fields.Integer(string="Not found", readonly=True)
    round_rate = fields.Float(string="Matched in this round (%)", readonly=True, aggregator="avg", digits=(5, 1))
    school_rate = fields.Float(
        string="School's matched rate after the round (%)",
        readonly=True,
        aggregator="avg",
        digits=(5, 1),
        help="Pupils of the school matched with the population database, out of "
        "all pupils studying, right after this round.",
    )
    target_rate = fields.Float(string="Target (%)", compute="_compute_target", digits=(5, 1))
    meets_target = fields.Boolean(string="Meets the target", compute="_compute_target")
    note = fields.Text()

    @api.depends("school_rate")
    def _compute_target(self):
        for round_ in self:
            round_.target_rate = TARGET_RATE * 100
            round_.meets_target = round_.school_rate >= TARGET_RATE * 100

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].sudo().next_by_code("hocba.reconciliation") or "/"
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su and set(vals) - {"note"}:
            raise AccessError(_("A reconciliation round is a record of what happened: only its note can be changed."))
        return super().write(vals)

    # ---- Business methods ----

    @api.model
    def _hocba_check_reconciler(self):
        user = self.env.user
        if self.env.su or any(user.has_group(group) for group in RECONCILER_GROUPS):
            return
        raise AccessError(
            _(
                "Only the clerk, the IT officer, the vice principal or the principal "
                "reconcile the pupils' identities with the population database."
            )
        )

    @api.model
    def _hocba_record(self, results, method, year=None, answer_file=None, filename=None, user=None):
        """Record a round and set the pupils' status from it.

        ``results``: ``(pupil, sent Identity, found Identity or None, Outcome)``
        tuples, one per pupil.  A new mismatch (or not found) gives the pupil's
        homeroom teacher a "Fix the pupil record" activity; a match marks it done.
        Returns the round.
        """
        self._hocba_check_reconciler()
        now = fields.Datetime.now()
        counts = defaultdict(int)
        line_vals = []
        for pupil, sent, found, outcome in results:
            counts[outcome.state] += 1
            line_vals.append(self.env["hocba.reconciliation.line"]._hocba_line_vals(pupil, sent, found, outcome))
        total = len(results)
        company = results[0][0].company_id if results else self.env.company
        round_sudo = self.sudo().create(
            {
                "date": now,
                "user_id": (user or self.env.user).id,
                "company_id": company.id,
                "year_id": year.id if year else False,
                "method": method,
                "answer_file": answer_file,
                "answer_filename": filename,
                "count_total": total,
                "count_matched": counts[pr.MATCHED],
                "count_mismatched": counts[pr.MISMATCHED],
                "count_not_found": counts[pr.NOT_FOUND],
                "round_rate": 100.0 * counts[pr.MATCHED] / total if total else 0.0,
                "line_ids": [Command.create(vals) for vals in line_vals],
            }
        )
        self._hocba_set_pupils(results, now)
        stats = self.env["school.student"].sudo()._hocba_reconciliation_stats(company, year)
        round_sudo.school_rate = 100.0 * stats["rate"]
        return round_sudo.with_env(self.env)

    @api.model
    def _hocba_set_pupils(self, results, now):
        Student = self.env["school.student"].sudo()
        matched = Student.browse([p.id for p, _s, _f, o in results if o.state == pr.MATCHED])
        matched.write({"reconcile_state": "matched", "reconcile_date": now, "reconcile_diff": False})
        to_fix = {}
        for pupil, _sent, found, outcome in results:
            if outcome.state == pr.MATCHED:
                continue
            diff = self._hocba_describe(outcome, found)
            pupil.sudo().write({"reconcile_state": outcome.state, "reconcile_date": now, "reconcile_diff": diff})
            to_fix[pupil.sudo()] = diff
        if matched:
            matched.activity_feedback([FIX_ACTIVITY], feedback=_("The record now matches the population database."))
        self._hocba_schedule_fixes(to_fix)

    @api.model
    def _hocba_schedule_fixes(self, diff_by_pupil):
        """One open "Fix the pupil record" activity per pupil to fix, for the
        homeroom teacher (or, without one, whoever ran the round); an open one
        gets the latest differences."""
        if not diff_by_pupil:
            return
        activity_type = self.env.ref(FIX_ACTIVITY)
        pupils = self.env["school.student"].sudo().browse([p.id for p in diff_by_pupil])
        open_activities = (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "school.student"),
                    ("res_id", "in", pupils.ids),
                    ("activity_type_id", "=", activity_type.id),
                ]
            )
        )
        open_by_pupil = {a.res_id: a for a in open_activities}
        for pupil, diff in diff_by_pupil.items():
            note = Markup("<p>%s</p>") % escape(diff).replace("\n", Markup("<br/>"))
            if pupil.id in open_by_pupil:
                open_by_pupil[pupil.id].note = note
                continue
            pupil.activity_schedule(
                FIX_ACTIVITY, user_id=(pupil.class_id.homeroom_user_id or self.env.user).id, note=note
            )

    @api.model
    def _hocba_describe(self, outcome, found):
        """The differences in words, as shown on the pupil (personal IDs masked:
        the pupil's record is read by more people than may see them)."""
        if outcome.state == pr.NOT_FOUND:
            return _(
                "Not found in the population database: check the personal ID, the name "
                "and the birth date with the birth certificate."
            )
        labels = self.env["hocba.reconciliation.line"]._hocba_field_labels()
        sexes = dict(self.env["school.student"]._fields["sex"]._description_selection(self.env))
        lines = []
        for difference in outcome.differences:
            ours, theirs = difference.ours, difference.theirs
            if difference.field == "birth_date":
                ours, theirs = (d.strftime("%d/%m/%Y") if d else "" for d in (ours, theirs))
            elif difference.field == "sex":
                ours, theirs = sexes.get(ours, ours), sexes.get(theirs, theirs)
            elif difference.field == "personal_id":
                ours, theirs = pid.mask(ours) or _("none"), pid.mask(theirs)
            lines.append(
                _(
                    "%(field)s: the school has “%(ours)s”, the population database “%(theirs)s”.",
                    field=labels[difference.field],
                    ours=ours or _("nothing"),
                    theirs=theirs,
                )
            )
        return "\n".join(lines)
