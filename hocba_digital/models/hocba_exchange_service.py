import base64
import datetime
import logging

import psycopg2.errors

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import html2plaintext, mute_logger

from .. import service_scope
from ..groups import IT_OFFICER
from ..lib.exchange import client as exchange_client
from ..lib.exchange import package as exchange_package
from .hocba_exchange import DUE_STATES

_logger = logging.getLogger(__name__)

BATCH = 50
ALERT_ATTEMPTS = 5
DEADLINE_WARNING_DAYS = 14
LEASE_MARGIN = 60  # seconds a handed-over package stays someone's beyond its timeouts
CRON = "hocba_digital.ir_cron_hocba_exchange_send"
ACTIVITY_FAILING = "hocba_digital.mail_activity_type_hocba_sync_failing"
ACTIVITY_DEADLINE = "hocba_digital.mail_activity_type_hocba_sync_deadline"
# due: its time has come, and the package it replaces is settled (the store
# never sees a correction before the version it corrects)
DUE_SQL = """
    e.state IN %(states)s
    AND (e.next_attempt_at IS NULL OR e.next_attempt_at <= %(now)s)
    AND NOT EXISTS (SELECT 1 FROM hocba_exchange r WHERE r.id = e.replaces_exchange_id
                    AND r.state NOT IN ('acknowledged', 'rejected'))
    AND e.company_id IN (SELECT id FROM res_company WHERE COALESCE(hocba_exchange_url, '') != ''
                         AND COALESCE(hocba_trusted_roots_pem, '') != '')
    AND (%(ids)s IS NULL OR e.id = ANY(%(ids)s))
"""


class HocbaExchangeService(models.AbstractModel):
    """Sends the packages of issued versions to the transcript store.

    The cron calls :meth:`_cron_hocba_send`: a bounded batch per run, and the
    cron runs again at once while due packages are left.  Each package is
    claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` (two runs at once never
    take the same one), checked, marked ``sent`` with a lease and committed
    *before* the request leaves, then its answer is recorded and committed.  A
    run killed in between leaves it ``sent``: once the lease ends it is sent
    again under the same idempotency key and the store answers with the
    acknowledgement it already gave.  Nothing is marked acknowledged without
    the store's acknowledgement.
    """

    _name = "hocba.exchange.service"
    _description = "Transcript exchange service"

    # ---- the cron ----

    @api.model
    def _cron_hocba_send(self):
        self.env["hocba.exchange"]._hocba_queue_missing()
        self._hocba_commit(True)
        result = self._hocba_send_due(BATCH)
        remaining = 0 if result["stopped"] or not result["handled"] else self._hocba_due_count()
        self.env["ir.cron"]._notify_progress(done=result["handled"], remaining=remaining)
        if not remaining:
            self._hocba_trigger_at_next_attempt()
        self._hocba_plan_activities()
        return result

    @api.model
    def _hocba_trigger_at_next_attempt(self):
        """A package waiting for its backoff (60 s after a first failure) is sent
        when the backoff ends, not at the cron's next tick (10 minutes)."""
        cron_sudo = self.env.ref(CRON, raise_if_not_found=False)
        if not cron_sudo:
            return None
        self.env.cr.execute(
            "SELECT min(next_attempt_at) FROM hocba_exchange WHERE state IN %s AND next_attempt_at > %s",
            [DUE_STATES, fields.Datetime.now()],
        )
        at = self.env.cr.fetchone()[0]
        if at and at < cron_sudo.sudo().nextcall:
            cron_sudo.sudo()._trigger(at)
            return at
        return None

    @api.model
    def _hocba_trigger(self):
        """Run the sending job soon (called after an explicit IT officer check)."""
        cron_sudo = self.env.ref(CRON, raise_if_not_found=False)
        if cron_sudo:
            cron_sudo.sudo()._trigger()

    @api.model
    def _hocba_commit(self, auto_commit):
        """Flush (the next steps read the rows in SQL); commit when the run owns
        its transaction (the cron), not inside a caller's (tests)."""
        self.env.flush_all()
        if auto_commit:
            # the package must be on record as sent before the request leaves,
            # so that a crash after it is never taken for a package never sent
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _hocba_due_count(self, now=None, ids=None):
        self.env.flush_all()
        self.env.cr.execute("SELECT count(*) FROM hocba_exchange e WHERE " + DUE_SQL, self._hocba_due_params(now, ids))
        return self.env.cr.fetchone()[0]

    @api.model
    def _hocba_due_params(self, now, ids):
        return {
            "states": DUE_STATES,
            "now": now or fields.Datetime.now(),
            "ids": list(ids) if ids is not None else None,
        }

    # ---- one run ----

    @api.model
    def _hocba_send_due(self, limit=BATCH, now=None, auto_commit=True, ids=None):
        """Send up to ``limit`` due packages (of ``ids`` if given); ``now`` fixes
        the clock (tests).  Returns the counts of outcomes, ``handled`` and
        ``stopped`` (the store could not be used: the rest waits)."""
        if not (self.env.su or self.env.user.has_group(IT_OFFICER)):
            raise AccessError(_("Only the IT officer sends packages to the transcript store."))
        if ids is not None and not ids:
            ids = [0]
        clock = (lambda: now) if now else fields.Datetime.now
        result = {
            "handled": 0,
            "stopped": False,
            "skipped": 0,
            "refused": 0,
            **{
                kind: 0
                for kind in (
                    exchange_client.ACKNOWLEDGED,
                    exchange_client.DUPLICATE,
                    exchange_client.REJECTED,
                    exchange_client.RETRY,
                )
            },
        }
        self.env.flush_all()
        params = self._hocba_due_params(clock(), ids)
        self.env.cr.execute(
            "SELECT e.id FROM hocba_exchange e WHERE "
            + DUE_SQL
            + """
            ORDER BY e.next_attempt_at NULLS FIRST, e.id LIMIT %(limit)s""",
            dict(params, limit=limit),
        )
        exchange_sudo = self.env["hocba.exchange"].sudo().with_context(tracking_disable=True)
        exchanges = exchange_sudo.browse([row[0] for row in self.env.cr.fetchall()])
        if not exchanges:
            return result
        data = self._hocba_package_data(exchanges)
        clients, stopped = {}, set()
        # the service writes the protocol fields nobody else may: see service_scope
        try:
            with service_scope.granted(service_scope.EXCHANGE):
                for exchange in exchanges:
                    if exchange.company_id in stopped:
                        continue
                    kind, outcome = self._hocba_send_one(exchange, data[exchange.id], clients, clock, auto_commit, ids)
                    result[kind] += 1
                    if kind != "skipped":
                        result["handled"] += 1
                    if outcome is not None and outcome.stop:
                        stopped.add(exchange.company_id)
                        result["stopped"] = True
        finally:
            for client in clients.values():
                client.close()
        return result

    @api.model
    def _hocba_package_data(self, exchanges):
        """{exchange id: the plain data of ``lib.exchange_package``}, read in one go."""
        versions = exchanges.version_id.with_context(bin_size=False)
        versions.mapped("xml_file")  # one attachment search per field for the batch
        versions.mapped("pdf_file")
        data = {}
        for exchange in exchanges:
            version = exchange.version_id.with_context(bin_size=False)
            replaced = version.replaces_id
            data[exchange.id] = {
                "xml": base64.b64decode(version.xml_file or b""),
                "pdf": base64.b64decode(version.pdf_file or b""),
                "document_id": version.document_id,
                "version": version.number,
                "replaces": {"document_id": replaced.document_id, "version": replaced.number} if replaced else None,
                "issued_at": version.issued_at and version.issued_at.replace(tzinfo=datetime.timezone.utc).isoformat(),
                "xml_sha256": version.xml_sha256 or None,
                "pdf_sha256": version.pdf_sha256 or None,
            }
        return data

    def _hocba_claim(self, exchange, now, ids):
        """The package's attempts so far, with its row locked, if it is still due
        and nobody else holds it; else None."""
        try:
            # Odoo's transactions are REPEATABLE READ: a row another run updated and
            # committed since this transaction's snapshot cannot be locked, and
            # PostgreSQL says so with a serialization failure: that run has it
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "SELECT COALESCE(e.attempts, 0) FROM hocba_exchange e "
                    "WHERE e.id = %(id)s AND " + DUE_SQL + " FOR UPDATE OF e SKIP LOCKED",
                    dict(self._hocba_due_params(now, ids), id=exchange.id),
                )
                row = self.env.cr.fetchone()
        except psycopg2.errors.SerializationFailure:
            row = None
        exchange.invalidate_recordset()
        return row[0] if row else None

    def _hocba_send_one(self, exchange, data, clients, clock, auto_commit, ids):
        attempts = self._hocba_claim(exchange, clock(), ids)
        if attempts is None:
            return "skipped", None
        company_sudo = exchange.company_id.sudo()
        package, reasons = self._hocba_prepare(exchange, data, company_sudo)
        if reasons:
            self._hocba_refuse(exchange, reasons)
            self._hocba_commit(auto_commit)
            return "refused", None
        client = clients.get(company_sudo)
        if client is None:
            client = clients[company_sudo] = self._hocba_client(company_sudo)
        attempt, sent_at = attempts + 1, clock()
        exchange.write(
            {
                "state": "sent",
                "attempts": attempt,
                "sent_at": sent_at,
                "next_attempt_at": sent_at + datetime.timedelta(seconds=sum(client.timeout) + LEASE_MARGIN),
                "package_sha256": package.sha256,
            }
        )
        # committed before the request leaves: from here the package is "sent"
        self._hocba_commit(auto_commit)
        outcome = client.submit(
            package.body, package.sha256, exchange.idempotency_key, school_code=package.manifest["school"]["code"]
        )
        self._hocba_record(exchange, attempt, outcome, clock())
        self._hocba_commit(auto_commit)
        return outcome.kind, outcome

    def _hocba_prepare(self, exchange, data, company_sudo):
        """The package and why it must not leave (``[]``: it may).  A package
        already checked and sent is not checked again while its bytes are the
        same."""
        try:
            package = exchange_package.build(data)
        except exchange_package.PackageError as exc:
            return None, exc.reasons
        if package.sha256 == exchange.package_sha256:
            return package, []
        return package, exchange_package.validate(data, company_sudo.hocba_trusted_roots_pem)

    @api.model
    def _hocba_client(self, company_sudo):
        params = self.env["ir.config_parameter"].sudo()
        return exchange_client.ExchangeClient(
            company_sudo._hocba_reachable_url(company_sudo.hocba_exchange_url),
            company_sudo.hocba_exchange_token,
            client_cert_pem=company_sudo.hocba_exchange_client_cert_pem or None,
            client_key_pem=company_sudo.hocba_exchange_client_key_pem or None,
            ca_pem=company_sudo.hocba_exchange_ca_pem or None,
            connect_timeout=float(
                params.get_param("hocba_digital.exchange_connect_timeout") or exchange_client.CONNECT_TIMEOUT
            ),
            read_timeout=float(params.get_param("hocba_digital.exchange_read_timeout") or exchange_client.READ_TIMEOUT),
        )

    def _hocba_refuse(self, exchange, reasons):
        text = _(
            "Not sent: the package failed its checks before leaving:\n%(reasons)s",
            reasons="\n".join("- %s" % r for r in reasons),
        )
        exchange.write({"state": "rejected", "last_error": text, "next_attempt_at": False, "package_sha256": False})
        exchange.message_post(body=text)

    def _hocba_record(self, exchange, attempt, outcome, now):
        """Write the store's answer, unless the package changed hands meanwhile
        (its lease ended and another run sent it again: that run records)."""
        self.env.cr.execute(
            "SELECT COALESCE(attempts, 0), state FROM hocba_exchange WHERE id = %s FOR UPDATE", [exchange.id]
        )
        if self.env.cr.fetchone() != (attempt, "sent"):
            _logger.info(
                "Package %s changed hands while it was sent; not recording %s", exchange.idempotency_key, outcome.kind
            )
            return
        exchange.invalidate_recordset()
        if outcome.delivered:
            vals = {
                "state": "acknowledged",
                "receiver_ref": outcome.receiver_ref,
                "acknowledged_at": now,
                "last_error": False,
                "next_attempt_at": False,
            }
            if outcome.kind == exchange_client.DUPLICATE:
                vals["duplicate_count"] = exchange.duplicate_count + 1
            exchange.write(vals)
            return
        if outcome.kind == exchange_client.REJECTED:
            exchange.write({"state": "rejected", "last_error": outcome.message, "next_attempt_at": False})
            exchange.message_post(body=_("Rejected by the transcript store: %(why)s", why=outcome.message))
            return
        delay = exchange_client.backoff_delay(attempt, retry_after=outcome.retry_after, key=exchange.idempotency_key)
        exchange.write(
            {
                "state": "sent" if outcome.maybe_delivered else "failed",
                "last_error": outcome.message,
                "next_attempt_at": now + datetime.timedelta(seconds=delay),
            }
        )
        if attempt == ALERT_ATTEMPTS:
            exchange.message_post(
                body=_("Still not acknowledged after %(n)s attempts: %(why)s", n=attempt, why=outcome.message)
            )

    # ---- activities to the IT officer ----

    @api.model
    def _hocba_plan_activities(self, today=None):
        """One activity per school year and IT officer when packages keep failing
        or were rejected, and one when the sync deadline is within
        ``DEADLINE_WARNING_DAYS`` with packages not acknowledged; done by
        themselves once nothing is left."""
        today = today or fields.Date.context_today(self)
        exchange_sudo = self.env["hocba.exchange"].sudo()
        left = dict(exchange_sudo._read_group([("state", "!=", "acknowledged")], ["year_id"], ["__count"]))
        trouble = dict(
            exchange_sudo._read_group(
                [
                    "|",
                    ("state", "=", "rejected"),
                    "&",
                    ("state", "in", ("sent", "failed")),
                    ("attempts", ">=", ALERT_ATTEMPTS),
                ],
                ["year_id"],
                ["__count"],
            )
        )
        xmlids = {"failing": ACTIVITY_FAILING, "deadline": ACTIVITY_DEADLINE}
        types = {kind: self.env.ref(xmlid, raise_if_not_found=False) for kind, xmlid in xmlids.items()}
        if not all(types.values()):
            return
        open_activities = (
            self.env["mail.activity"]
            .sudo()
            .search([("res_model", "=", "school.year"), ("activity_type_id", "in", [t.id for t in types.values()])])
        )
        mine_of = {}
        for activity in open_activities:
            key = (activity.res_id, activity.activity_type_id)
            mine_of[key] = mine_of.get(key, activity.browse()) | activity
        years = self.env["school.year"].sudo().browse({y.id for y in left} | set(open_activities.mapped("res_id")))
        it_users = self.env.ref(IT_OFFICER).users.filtered(lambda u: not u.share)
        for year in years.exists():
            days = (year.sync_deadline - today).days if year.sync_deadline else None
            notes = {
                "failing": trouble.get(year)
                and _(
                    "%(n)s package(s) of %(year)s were rejected or keep failing: see Exchange > "
                    "Packages, fix what they say and retry them.",
                    n=trouble[year],
                    year=year.name,
                ),
                "deadline": left.get(year)
                and days is not None
                and days <= DEADLINE_WARNING_DAYS
                and _(
                    "The sync deadline of %(year)s is %(date)s (%(days)s day(s)): %(n)s "
                    "package(s) are not acknowledged yet.",
                    year=year.name,
                    date=year.sync_deadline,
                    days=days,
                    n=left[year],
                ),
            }
            users = it_users.filtered(lambda u, c=year.company_id: c in u.company_ids)
            for kind, note in notes.items():
                mine = mine_of.get((year.id, types[kind]), open_activities.browse())
                if not note:
                    mine.action_feedback(feedback=_("Nothing left to do."))
                    continue
                mine.filtered(lambda a, n=note: html2plaintext(a.note or "") != n).write({"note": note})
                for user in users - mine.user_id:
                    year.activity_schedule(xmlids[kind], user_id=user.id, note=note, date_deadline=today)
