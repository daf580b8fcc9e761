"""Sync of issued versions through the real cron code path, against a real
sandbox on 127.0.0.1 (lib/exchange_sandbox.py): faults, backoff, exactly once,
local refusal, corrections, activities, access, neutralisation."""

import datetime
import json

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import AccessError, UserError
from odoo.modules import neutralize
from odoo.tests import tagged
from odoo.tools import mute_logger

from .. import service_scope
from ..lib.exchange import client as ec
from ..lib.exchange import package as ep
from ..lib.rules import personal_id as pid
from ..lib.sandbox import pki_factory as pf
from ..lib.sandbox.exchange_sandbox import ExchangeSandbox
from ..lib.sandbox.faults import FaultPlan
from ..models.hocba_exchange_service import ALERT_ATTEMPTS
from .signing_common import PIN, SigningCase

TOKEN = "school-token-31000001"
T0 = datetime.datetime(2036, 6, 20, 8, 0, 0)
LATER = datetime.timedelta(hours=2)  # beyond any backoff of the first attempts
GENEROUS = 30  # seconds: no answer of the local sandbox takes that long


@tagged("post_install", "-at_install")
class TestExchangeSync(SigningCase):
    @classmethod
    def prepare_transcripts(cls):
        cls.student_a.moet_code = "3100000001"
        cls.more_students = cls.env["school.student"].create(
            [
                {
                    "name": name,
                    "sex": sex,
                    "birth_date": datetime.date(2027, 2, day),
                    "personal_id": pid.make("031", sex, 2027, 7000 + day),
                    "moet_code": "31000000%02d" % day,
                    "class_id": cls.class_a.id,
                }
                for name, sex, day in (("Lê Minh Quân", "male", 2), ("Phạm Thu Hà", "female", 3))
            ]
        )
        return super().prepare_transcripts()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.transcripts = cls.class_a.transcript_ids
        cls.issue(cls.transcripts)
        cls.versions = cls.transcripts.current_version_id
        cls.exchanges = cls.versions.exchange_ids
        # "timeout": no answer until the client gave up, however long that takes
        cls.sandbox = ExchangeSandbox(TOKEN, timeout_delay=None).start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.company.sudo().write({"hocba_exchange_url": cls.sandbox.url, "hocba_exchange_token": TOKEN})
        cls.set_read_timeout(GENEROUS)

    @classmethod
    def set_read_timeout(cls, seconds):
        """The client's read timeout of the next runs: generous, so that a loaded
        machine never turns an answer into a timeout; short only where a test
        wants the client to give up (the sandbox then holds the answer until it has)."""
        cls.env["ir.config_parameter"].sudo().set_param("hocba_digital.exchange_read_timeout", str(seconds))

    @classmethod
    def issue(cls, transcripts):
        """Every tier signs ``transcripts`` (the class is approved in between)."""
        service = cls.env["hocba.signing.service"]
        for user, purpose in (
            (cls.subj, "personal"),
            (cls.home, "personal"),
            (None, None),
            (cls.principal, "personal"),
            (cls.clerk, "seal"),
        ):
            if user is None:
                if cls.class_a.review_state != "approved":
                    cls.class_a.with_user(cls.head).action_lock()
                    cls.class_a.with_user(cls.vice).action_approve()
                continue
            result = service.with_user(user).hocba_sign(transcripts.ids, PIN, purpose)
            assert not result["failed"], result["failed"]

    def setUp(self):
        super().setUp()
        self.sandbox.reset()

    def send(self, now=T0, exchanges=None, **kw):
        return self.env["hocba.exchange.service"]._hocba_send_due(
            50, now=now, auto_commit=False, ids=(exchanges or self.exchanges).ids, **kw
        )

    def check_once(self):
        """What a first run does before sending: each package checked (the real
        check) and its SHA-256 kept, so the runs of a test only send."""
        service = self.env["hocba.exchange.service"]
        data = service._hocba_package_data(self.exchanges)
        for exchange in self.exchanges:
            package, reasons = service._hocba_prepare(exchange, data[exchange.id], self.company.sudo())
            self.assertFalse(reasons)
            with service_scope.granted(service_scope.EXCHANGE):
                exchange.package_sha256 = package.sha256

    def states(self, exchanges=None):
        exchanges = exchanges or self.exchanges
        exchanges.invalidate_recordset()
        return set(exchanges.mapped("state"))

    def stored(self):
        return {r["idempotency_key"]: r for r in self.sandbox.receiver.records()}

    # ------------------------------------------------------------------

    def test_issue_makes_one_package_per_version(self):
        self.assertEqual(len(self.exchanges), 3)
        for exchange in self.exchanges:
            version = exchange.version_id
            self.assertEqual(exchange.idempotency_key, "hocba-%s" % version.document_id)
            self.assertEqual((exchange.state, exchange.attempts), ("pending", 0))
            self.assertEqual(
                (exchange.class_id, exchange.year_id, exchange.company_id), (self.class_a, self.year, self.company)
            )
            self.assertEqual(exchange.student_id, version.student_id)
            self.assertEqual(exchange.sync_deadline, self.year.sync_deadline)
        # made once, whatever calls it again
        self.assertEqual(self.env["hocba.exchange"]._hocba_queue(self.versions), self.exchanges)
        self.assertEqual(self.env["hocba.exchange"]._hocba_queue_missing(), 0)

    def test_each_package_is_delivered_once(self):
        result = self.send()
        self.assertEqual((result[ec.ACKNOWLEDGED], result["handled"]), (3, 3))
        self.assertEqual(self.states(), {"acknowledged"})
        stored = self.stored()
        self.assertEqual(set(stored), set(self.exchanges.mapped("idempotency_key")))
        self.assertEqual(set(self.sandbox.receiver.receipts().values()), {1})
        for exchange in self.exchanges:
            record = stored[exchange.idempotency_key]
            self.assertEqual(exchange.receiver_ref, record["receiver_ref"])
            self.assertEqual(exchange.acknowledged_at, T0)
            self.assertEqual(record["moet_code"], exchange.student_id.moet_code)
            self.assertEqual(exchange.package_sha256, record["package_sha256"])
            manifest, files = ep.read(self.sandbox.receiver.store.body(record["receiver_ref"]))
            self.assertEqual(files[ep.XML_NAME], self.files(exchange.version_id)[0])
            self.assertNotIn(exchange.student_id.personal_id, json.dumps(manifest))
        # nothing is sent again
        requests = self.sandbox.requests
        self.assertEqual(self.send(T0 + LATER)["handled"], 0)
        self.assertEqual(self.sandbox.requests, requests)

    def test_each_fault_then_recovery(self):
        expected = {  # fault: state after it, whether the store has the packages
            "timeout": ("sent", True),
            "lost_answer": ("sent", True),
            "drop": ("sent", False),
            "error_500": ("failed", False),
            "reject": ("rejected", False),
            "duplicate_ack": ("acknowledged", True),
            "slow": ("acknowledged", True),
        }
        keys = set(self.exchanges.mapped("idempotency_key"))
        self.check_once()
        for fault, (state, stored) in expected.items():
            savepoint = self.env.cr.savepoint()
            try:
                with self.subTest(fault=fault):
                    self.sandbox.reset()
                    self.sandbox.faults.add(fault, times=3)
                    if fault == "timeout":  # all three held until the client gives up
                        self.set_read_timeout(0.5)
                    with mute_logger("odoo.addons.hocba_digital.models.hocba_exchange_service"):
                        self.send()
                    self.set_read_timeout(GENEROUS)
                    self.assertTrue(self.sandbox.wait_done(3))  # what the sandbox does after the client left
                    self.assertEqual(self.states(), {state})
                    self.assertEqual(set(self.stored()), keys if stored else set())
                    self.assertEqual(set(self.exchanges.mapped("attempts")), {1})
                    for exchange in self.exchanges.filtered(lambda e: e.state in ("sent", "failed")):
                        self.assertTrue(exchange.last_error)
                        wait = ec.backoff_delay(1, key=exchange.idempotency_key)
                        self.assertAlmostEqual((exchange.next_attempt_at - T0).total_seconds(), wait, delta=1)
                    # backoff respected: nothing leaves before its time
                    requests = self.sandbox.requests
                    self.assertEqual(self.send(T0 + datetime.timedelta(seconds=30))["handled"], 0)
                    self.assertEqual(self.sandbox.requests, requests)
                    # after recovery: each acknowledged, each filed exactly once
                    self.send(T0 + LATER)
                    if fault == "reject":  # not retried until someone says so
                        self.assertEqual(self.states(), {"rejected"})
                        self.assertEqual(self.sandbox.requests, requests)
                        with self.assertRaises(AccessError):
                            self.exchanges.with_user(self.vice).action_retry()
                        self.exchanges.with_user(self.users["it_officer"]).action_retry()
                        self.send(T0 + LATER)
                    self.assertEqual(self.states(), {"acknowledged"})
                    self.assertEqual(set(self.stored()), keys)
                    receipts = 2 if fault in ("timeout", "lost_answer") else 1
                    self.assertEqual(set(self.sandbox.receiver.receipts().values()), {receipts})
                    self.assertEqual(set(self.exchanges.mapped("duplicate_count")), {receipts - 1})
            finally:
                savepoint.close(rollback=True)
                self.env.invalidate_all()

    def test_a_rate_of_faults_ends_in_exactly_once(self):
        # the retryable faults but "timeout" (test_each_fault_then_recovery): with
        # the generous read timeout, each would wait for it
        self.sandbox.faults = FaultPlan(0.4, kinds=("error_500", "drop", "lost_answer", "duplicate_ack"), seed=11)
        self.sandbox.faults.add("lost_answer")  # at least one
        self.check_once()
        now = T0
        with mute_logger("odoo.addons.hocba_digital.models.hocba_exchange_service"):
            for _round in range(20):
                self.send(now)
                if self.states() == {"acknowledged"}:
                    break
                now += LATER
        self.assertEqual(self.states(), {"acknowledged"})
        self.assertGreater(sum(self.sandbox.faults.injected.values()), 0)
        self.assertEqual(len(self.sandbox.receiver.records()), 3)
        self.assertEqual(set(self.stored()), set(self.exchanges.mapped("idempotency_key")))

    def test_refused_credentials_stop_the_batch(self):
        self.company.sudo().hocba_exchange_token = "expired"
        result = self.send()
        self.assertTrue(result["stopped"])
        self.assertEqual(result["handled"], 1)
        first = self.exchanges.sorted("id")[0]
        self.assertEqual(first.state, "failed")
        self.assertIn("refused our credentials", first.last_error)
        self.assertEqual(set((self.exchanges - first).mapped("state")), {"pending"})
        self.assertEqual(set((self.exchanges - first).mapped("attempts")), {0})

    def test_invalid_package_is_refused_before_leaving(self):
        other = pf.build_pki([], prefix="OTHER", base_url="http://127.0.0.1:9")
        self.company.sudo().hocba_trusted_roots_pem = other.root_pem.decode()
        result = self.send()
        self.assertEqual(result["refused"], 3)
        self.assertEqual(self.sandbox.requests, 0)
        self.assertEqual(self.states(), {"rejected"})
        exchange = self.exchanges[0]
        self.assertIn("failed its checks before leaving", exchange.last_error)
        self.assertIn("not trusted", exchange.last_error)
        self.assertEqual(exchange.attempts, 0)
        self.assertIn("not trusted", exchange.message_ids[0].body)
        # fixed (the right root again) and retried by the IT officer
        self.company.sudo().hocba_trusted_roots_pem = self.pki.root_pem.decode()
        self.exchanges.with_user(self.users["it_officer"]).action_retry()
        self.assertEqual(self.send()[ec.ACKNOWLEDGED], 3)

    def test_correction_is_sent_as_a_replacement(self):
        transcript = self.transcript_a
        first = transcript.current_version_id
        transcript.with_user(self.home).action_request_correction("Nhận xét môn Tiếng Anh bị nhầm.")
        transcript.with_user(self.principal).action_open_correction()
        self.result_english_a.with_user(self.subj).comment = "Tiến bộ rõ rệt."
        self.issue(transcript)
        second = transcript.current_version_id
        self.assertEqual((second.number, first.state), (2, "superseded"))
        old, new = first.exchange_ids, second.exchange_ids
        self.assertEqual(new.replaces_exchange_id, old)
        # the store never gets the correction before the version it corrects
        self.send(exchanges=old | new)
        self.assertEqual((old.state, new.state), ("acknowledged", "pending"))
        self.send(exchanges=old | new)
        self.assertEqual(new.state, "acknowledged")
        record = self.stored()[new.idempotency_key]
        self.assertEqual((record["replaces"], record["version"]), (first.document_id, 2))
        manifest, _files = ep.read(self.sandbox.receiver.store.body(new.receiver_ref))
        self.assertEqual(manifest["document"]["replaces"], {"id": first.document_id, "version": 1})

    def test_repeated_failures_and_the_deadline_reach_the_it_officer(self):
        it_officer = self.users["it_officer"]
        self.check_once()
        now = T0
        with mute_logger("odoo.addons.hocba_digital.models.hocba_exchange_service"):
            for _attempt in range(ALERT_ATTEMPTS):
                self.sandbox.faults.add("error_500", times=3)
                self.send(now)
                now += LATER
        self.assertEqual(set(self.exchanges.mapped("attempts")), {ALERT_ATTEMPTS})
        self.assertIn("after 5 attempts", self.exchanges[0].message_ids[0].body)
        Service = self.env["hocba.exchange.service"]
        near = self.year.sync_deadline - datetime.timedelta(days=3)
        Service._hocba_plan_activities(today=near)
        activities = self.year.activity_ids.filtered(lambda a: a.user_id == it_officer)
        self.assertEqual(
            set(activities.activity_type_id.mapped("name")), {"Packages need attention", "Sync deadline near"}
        )
        self.assertIn("3 package(s)", activities[0].note)
        Service._hocba_plan_activities(today=near)  # no second one
        self.assertEqual(len(self.year.activity_ids.filtered(lambda a: a.user_id == it_officer)), 2)
        self.send(now)
        self.assertEqual(self.states(), {"acknowledged"})
        Service._hocba_plan_activities(today=near)
        self.assertFalse(self.year.activity_ids.filtered(lambda a: a.user_id == it_officer))

    def test_the_cron_job_sends_through_its_own_transactions(self):
        # only this test's packages are due (a demo database has its own)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE hocba_exchange SET next_attempt_at = %s WHERE id != ALL(%s)",
            [fields.Datetime.now() + datetime.timedelta(days=1), self.exchanges.ids],
        )
        self.registry.enter_test_mode(self.cr)
        self.addCleanup(self.registry.leave_test_mode)
        with self.registry.cursor() as cr:
            result = api.Environment(cr, SUPERUSER_ID, {})["hocba.exchange.service"]._cron_hocba_send()
        self.assertEqual(result[ec.ACKNOWLEDGED], 3)
        self.assertEqual(self.states(), {"acknowledged"})
        self.assertEqual(len(self.sandbox.receiver.records()), 3)

    def test_a_failed_package_is_retried_when_its_backoff_ends(self):
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE hocba_exchange SET next_attempt_at = %s WHERE id != ALL(%s)",
            [fields.Datetime.now() + datetime.timedelta(days=1), self.exchanges.ids],
        )
        self.sandbox.faults.add("error_500")
        self.registry.enter_test_mode(self.cr)
        self.addCleanup(self.registry.leave_test_mode)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cron = env.ref("hocba_digital.ir_cron_hocba_exchange_send")
            cron.nextcall = fields.Datetime.now() + datetime.timedelta(minutes=10)  # its tick
            env["hocba.exchange.service"]._cron_hocba_send()
            failed = env["hocba.exchange"].browse(self.exchanges.ids).filtered(lambda e: e.state == "failed")
            self.assertEqual(len(failed), 1)
            cr.execute("SELECT call_at FROM ir_cron_trigger WHERE cron_id = %s", [cron.id])
            self.assertIn(failed.next_attempt_at, [row[0] for row in cr.fetchall()])

    def test_access_and_guards(self):
        vice, it_officer = self.vice, self.users["it_officer"]
        exchange = self.exchanges[0]
        self.assertEqual(exchange.with_user(vice).state, "pending")
        with self.assertRaises(AccessError):
            exchange.with_user(vice).write({"next_attempt_at": T0})
        with self.assertRaises(AccessError):
            exchange.with_user(self.home).read(["state"])
        exchange.with_user(it_officer).write({"next_attempt_at": T0})
        with self.assertRaises(UserError):
            exchange.with_user(it_officer).write({"state": "acknowledged"})
        with self.assertRaises(UserError):
            exchange.with_user(it_officer).action_retry()  # nothing to retry
        self.send()
        with self.assertRaises(UserError):
            exchange.with_user(it_officer).unlink()
        figures = self.env["hocba.exchange"].with_user(vice).hocba_sync_figures([self.year.id])
        row = next(r for r in figures if r["class_id"] == self.class_a.id)
        self.assertEqual(
            (row["transcripts"], row["packages"], row["acknowledged"], row["not_acknowledged"]), (3, 3, 3, 0)
        )
        self.assertEqual(row["sync_deadline"], self.year.sync_deadline)
        self.assertEqual(self.year.with_user(vice).exchange_open_count, 0)
        with self.assertRaises(AccessError):
            self.env["hocba.exchange.service"].with_user(vice)._hocba_send_due(ids=exchange.ids)

    def test_settings_wizard(self):
        it_officer = self.users["it_officer"]
        Settings = self.env["hocba.exchange.settings"].with_user(it_officer)
        wizard = Settings.create({})
        self.assertEqual((wizard.url, wizard.token), (self.sandbox.url, TOKEN))
        self.assertEqual(wizard.action_test()["params"]["type"], "success")
        wizard.token = "wrong"
        answer = wizard.action_test()["params"]
        self.assertEqual(answer["type"], "danger")
        self.assertIn("credentials", answer["message"])
        wizard.client_cert_pem = "-----BEGIN CERTIFICATE-----"
        with self.assertRaises(UserError):
            wizard.action_save()
        wizard.write({"client_cert_pem": False, "url": "https://store.example.vn/api/hocba/v1"})
        wizard.action_save()
        self.assertEqual(self.company.sudo().hocba_exchange_url, "https://store.example.vn/api/hocba/v1")
        with self.assertRaises(AccessError):
            self.env["hocba.exchange.settings"].with_user(self.vice).create({})
        # the credentials are the IT officer's only
        self.assertNotIn("hocba_exchange_token", self.company.with_user(self.vice).fields_get())
        self.assertIn("hocba_exchange_token", self.company.with_user(it_officer).fields_get())

    def test_neutralize_blanks_credentials_and_stops_the_job(self):
        self.company.sudo().write(
            {
                "hocba_population_url": "https://dancu.example.vn/api",
                "hocba_population_token": "secret",
                "hocba_tsa_url": "https://tsa.example.vn/tsr",
            }
        )
        remote = self.certs["principal"].sudo()
        remote.write(
            {
                "csc_url": "https://ky-so.example.vn/csc/v1",
                "csc_credential": "cred-42",
                "csc_username": "hieutruong",
                "csc_password": "mat-khau",
            }
        )
        self.env.flush_all()
        for query in neutralize.get_neutralization_queries(["hocba_digital"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        company = self.company.sudo()
        self.assertFalse(
            company.hocba_exchange_url
            or company.hocba_exchange_token
            or company.hocba_exchange_client_cert_pem
            or company.hocba_exchange_client_key_pem
        )
        self.assertFalse(company.hocba_population_url or company.hocba_population_token)
        # nor time-stamp or sign remotely in the school's name
        self.assertFalse(company.hocba_tsa_url)
        self.assertFalse(remote.csc_url or remote.csc_credential or remote.csc_username or remote.csc_password)
        self.assertFalse(self.env.ref("hocba_digital.ir_cron_hocba_exchange_send").active)
        self.assertEqual(self.send()["handled"], 0)
