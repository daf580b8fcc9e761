from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import service_scope
from ..groups import IT_OFFICER
from ..lib.exchange import package as exchange_package

STATES = [
    ("pending", "Pending"),
    ("sent", "Sent, no acknowledgement"),
    ("acknowledged", "Acknowledged"),
    ("rejected", "Rejected"),
    ("failed", "Failed, will retry"),
]
# states the sending cron picks up (when next_attempt_at has come)
DUE_STATES = ("pending", "sent", "failed")
# written by the exchange service only
PROTOCOL_FIELDS = {
    "version_id",
    "state",
    "attempts",
    "last_error",
    "receiver_ref",
    "idempotency_key",
    "sent_at",
    "acknowledged_at",
    "replaces_exchange_id",
    "package_sha256",
    "duplicate_count",
}


class HocbaExchange(models.Model):
    """One package sent to the Department / Ministry transcript store: one per
    issued version, created when the version is issued (``hocba.version``).

    ``pending``: not handed over yet; ``sent``: handed over, no acknowledgement
    (the answer was lost or is awaited: it is sent again, with the same
    idempotency key, once ``next_attempt_at`` comes); ``acknowledged``: the store
    filed it (``receiver_ref``); ``rejected``: refused for its content, by the
    store or before leaving, not sent again until the IT officer retries it;
    ``failed``: the store answered with an error, retried with backoff.

    The service ``hocba.exchange.service`` sends them; see docs/exchange.md.
    """

    _name = "hocba.exchange"
    _description = "Transcript package sent to the transcript store"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True
    _rec_name = "idempotency_key"

    version_id = fields.Many2one(
        "hocba.version", string="Version", required=True, readonly=True, index=True, ondelete="restrict"
    )
    transcript_id = fields.Many2one(related="version_id.transcript_id", store=True, index=True)
    student_id = fields.Many2one(related="version_id.student_id", store=True, index=True)
    class_id = fields.Many2one(related="version_id.class_id", store=True, index=True)
    year_id = fields.Many2one(related="version_id.year_id", store=True, index=True)
    company_id = fields.Many2one(related="version_id.company_id", store=True, index=True)
    version_number = fields.Integer(related="version_id.number", string="Version number")
    document_id = fields.Char(related="version_id.document_id")
    sync_deadline = fields.Date(related="year_id.sync_deadline")
    state = fields.Selection(STATES, default="pending", required=True, readonly=True, index=True, tracking=True)
    attempts = fields.Integer(default=0, readonly=True, help="How many times it was handed to the store.")
    last_error = fields.Text(readonly=True)
    receiver_ref = fields.Char(string="Receiver's reference", readonly=True, index=True, copy=False)
    idempotency_key = fields.Char(
        required=True,
        readonly=True,
        copy=False,
        help="Every attempt sends the package under this key, so the store files it once.",
    )
    next_attempt_at = fields.Datetime(
        string="Next attempt", index=True, help="When the package is sent (again) at the earliest."
    )
    sent_at = fields.Datetime(string="Last sent", readonly=True)
    acknowledged_at = fields.Datetime(readonly=True)
    replaces_exchange_id = fields.Many2one(
        "hocba.exchange", string="Replaces", readonly=True, index=True, ondelete="restrict"
    )
    package_sha256 = fields.Char(
        string="Package SHA-256",
        readonly=True,
        copy=False,
        help="The package checked and sent; checked again only if it changes.",
    )
    duplicate_count = fields.Integer(
        string="Repeated acknowledgements",
        default=0,
        readonly=True,
        help="Times the store said it already had this package.",
    )

    _sql_constraints = [
        ("version_uniq", "unique(version_id)", "This version already has a package."),
        ("key_uniq", "unique(idempotency_key)", "This idempotency key is already used."),
    ]

    @api.depends("student_id", "version_number")
    def _compute_display_name(self):
        for exchange in self:
            exchange.display_name = _(
                "%(pupil)s - version %(n)s", pupil=exchange.student_id.name or "?", n=exchange.version_number
            )

    # ---- guards ----

    @api.model_create_multi
    def create(self, vals_list):
        self.check_access("create")
        if not service_scope.active(service_scope.EXCHANGE):
            versions = self.env["hocba.version"].browse([vals.get("version_id") for vals in vals_list]).exists()
            if len(versions) != len(vals_list) or versions.filtered(lambda v: v.state == "signing"):
                raise UserError(
                    _("Only an issued version is sent to the transcript store; its package is made when it is issued.")
                )
            return self.browse(self._hocba_queue(versions).ids)
        return super().create(vals_list)

    def write(self, vals):
        self.check_access("write")
        if PROTOCOL_FIELDS & set(vals) and not service_scope.active(service_scope.EXCHANGE):
            raise UserError(
                _(
                    "The state of a package follows the transcript store's answers; "
                    "use Retry to send a rejected package again."
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_handed_over(self):
        held = self.filtered(lambda e: e.state in ("acknowledged", "sent"))
        if held:
            raise UserError(
                _("%(name)s was handed to the transcript store: its record is kept.", name=held[0].display_name)
            )

    # ---- making packages ----

    @api.model
    def _hocba_queue(self, versions):
        """The packages of ``versions`` (issued or superseded), made if missing;
        a corrected version's package replaces the one of the version it
        corrects."""
        versions = versions.sudo().filtered(lambda v: v.state != "signing")
        exchange_sudo = self.sudo().with_context(
            tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True
        )
        existing = exchange_sudo.search([("version_id", "in", versions.ids)])
        missing = versions - existing.version_id
        # the replaced versions first, so that their packages exist to point to
        for version in missing.sorted("number"):
            replaced = version.replaces_id
            if replaced and not replaced.exchange_ids:
                exchange_sudo._hocba_queue(replaced)
            with service_scope.granted(service_scope.EXCHANGE):
                existing |= exchange_sudo.create(
                    {
                        "version_id": version.id,
                        "idempotency_key": exchange_package.idempotency_key(version.document_id),
                        "replaces_exchange_id": replaced.exchange_ids[:1].id,
                    }
                )
        return existing

    @api.model
    def _hocba_queue_missing(self, limit=500):
        """Packages for issued versions that have none (issued before this
        module was installed, or while it failed): a bounded catch-up."""
        self.env.cr.execute(
            """
            SELECT v.id FROM hocba_version v
              LEFT JOIN hocba_exchange e ON e.version_id = v.id
             WHERE v.state IN ('issued', 'superseded') AND e.id IS NULL
             ORDER BY v.id LIMIT %s""",
            [limit],
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        if ids:
            self._hocba_queue(self.env["hocba.version"].browse(ids))
        return len(ids)

    # ---- actions ----

    def _hocba_check_it_officer(self):
        if not self.env.user.has_group(IT_OFFICER):
            raise AccessError(_("Only the IT officer manages the exchange with the transcript store."))

    def action_retry(self):
        """Send rejected (or failing) packages again, once what was wrong is fixed:
        the package is checked again before it leaves."""
        self._hocba_check_it_officer()
        self.check_access("write")
        retried = self.filtered(lambda e: e.state in ("rejected", "failed"))
        if not retried:
            raise UserError(_("Only a rejected or failing package can be retried."))
        for exchange in retried:
            exchange.message_post(
                body=_(
                    "Retry asked by %(user)s after: %(error)s",
                    user=self.env.user.name,
                    error=exchange.last_error or "-",
                )
            )
        with service_scope.granted(service_scope.EXCHANGE):
            retried.write(
                {
                    "state": "pending",
                    "next_attempt_at": fields.Datetime.now(),
                    "last_error": False,
                    "package_sha256": False,
                }
            )
        self.env["hocba.exchange.service"]._hocba_trigger()
        return True

    def action_send_now(self):
        """Ask the sending job to run now (it sends in the background, in bounded
        batches, each package committed on its own)."""
        self._hocba_check_it_officer()
        # a "sent" package is in someone's hands until its lease ends: left alone
        due = self.filtered(lambda e: e.state in ("pending", "failed"))
        if due:
            due.check_access("write")
            due.write({"next_attempt_at": fields.Datetime.now()})
        self.env["hocba.exchange.service"]._hocba_trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "sticky": False,
                "message": _("The packages are being sent; refresh in a moment."),
            },
        }

    def action_open_version(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "hocba.version",
            "res_id": self.version_id.id,
            "view_mode": "form",
        }

    # ---- figures for the dashboard ----

    @api.model
    def hocba_sync_figures(self, year_ids=None):
        """Per class of ``year_ids`` (default: the open years, else every year
        with packages): ``[{class_id, class_name, year_id, year_name,
        sync_deadline, days_left, transcripts, packages, pending, sent,
        acknowledged, rejected, failed, not_acknowledged}]``, as the current
        user may see them (record rules apply)."""
        self.check_access("read")
        if year_ids is None:
            year_ids = self.env["school.year"].search([("state", "=", "open")]).ids or [
                year.id for (year,) in self._read_group([], ["year_id"])
            ]
        counts = self._read_group([("year_id", "in", year_ids)], ["class_id", "state"], ["__count"])
        transcripts = dict(
            self.env["hocba.transcript"]._read_group([("year_id", "in", year_ids)], ["class_id"], ["__count"])
        )
        classes = self.env["school.class"].search([("year_id", "in", year_ids)])
        today = fields.Date.context_today(self)
        rows = {}
        for school_class in classes.sorted(lambda c: (c.year_id.date_start, c.name or "")):
            deadline = school_class.year_id.sync_deadline
            rows[school_class] = dict(
                {state: 0 for state, _label in STATES},
                class_id=school_class.id,
                class_name=school_class.name,
                year_id=school_class.year_id.id,
                year_name=school_class.year_id.name,
                sync_deadline=deadline,
                days_left=(deadline - today).days if deadline else None,
                transcripts=transcripts.get(school_class, 0),
                packages=0,
                not_acknowledged=0,
            )
        for school_class, state, count in counts:
            row = rows.get(school_class)
            if row is None:
                continue
            row[state] += count
            row["packages"] += count
            if state != "acknowledged":
                row["not_acknowledged"] += count
        return list(rows.values())
