"""The online reconciliation client (lib/population_client) against the local
sandbox (lib/population_sandbox) with each fault on; no database."""

import datetime

import requests

from odoo.tests import BaseCase, tagged

from ..lib.population import client as pc
from ..lib.population import reconcile as pr
from ..lib.rules import personal_id as pid
from ..lib.sandbox import population_sandbox as ps
from .crypto_tools import SuccessiveTimeouts

D = datetime.date
TOKEN = "tok-3f9!population"
CITIZENS = [
    pr.Identity("NGUYỄN THỊ MAI ANH", D(2017, 3, 14), pid.FEMALE, "031317004521"),
    pr.Identity("TRẦN MINH KHÔI", D(2017, 8, 2), pid.MALE, "031217009876"),
    pr.Identity("LÊ THỊ HOÀ", D(2017, 1, 9), pid.FEMALE, "031317000777"),
]
PUPILS = [
    ("P1", pr.Identity("Nguyễn Thị Mai Anh", D(2017, 3, 14), pid.FEMALE, "031317004521")),
    ("P2", pr.Identity("Trần Minh Khôi", D(2017, 8, 3), pid.MALE, "031217009876")),
    ("P3", pr.Identity("Lê Thị Hòa", D(2017, 1, 9), pid.FEMALE, None)),  # found by name
    ("P4", pr.Identity("Phạm Gia Bảo", D(2017, 5, 5), pid.MALE, "031217000001")),
]


@tagged("post_install", "-at_install")
class TestPopulationClient(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = ps.PopulationSandbox(ps.PopulationRegistry(CITIZENS, tokens={TOKEN}), timeout_delay=None)
        cls.sandbox.start()
        cls.addClassCleanup(cls.sandbox.stop)

    def setUp(self):
        super().setUp()
        self.sandbox.registry = ps.PopulationRegistry(CITIZENS, tokens={TOKEN})
        self.sandbox.calls.clear()
        self.sandbox.idempotency_keys.clear()
        self.addCleanup(self.sandbox.faults.clear)
        self.waits = []

    def client(self, token=TOKEN, timeouts=(30,), **kw):
        """``timeouts``: the read timeout of each request in turn (the last for the
        rest): generous, so that a loaded machine never turns an answer into a
        timeout; short only for a request the sandbox holds until the client
        gives up.  Odoo's test runner raises short timeouts to 10 s: the adapter
        keeps ours."""
        session = requests.Session()
        session.mount("http://", SuccessiveTimeouts(*timeouts))
        self.addCleanup(session.close)
        kw.setdefault("sleep", self.waits.append)
        return pc.PopulationClient(
            self.sandbox.base_url, token, school_code="31012345", timeout=10, session=session, **kw
        )

    def test_answers_follow_the_contract(self):
        found = self.client().check(PUPILS)
        self.assertEqual(found["P1"], CITIZENS[0])
        self.assertEqual(found["P2"], CITIZENS[1])
        self.assertEqual(found["P3"], CITIZENS[2])  # no number at school: found by name and date
        self.assertIsNone(found["P4"])
        outcomes = {ref: pr.compare(identity, found[ref]) for ref, identity in PUPILS}
        self.assertEqual(
            {ref: (o.state, o.fields) for ref, o in outcomes.items()},
            {
                "P1": (pr.MATCHED, ()),
                "P2": (pr.MISMATCHED, ("birth_date",)),
                "P3": (pr.MISMATCHED, ("personal_id",)),
                "P4": (pr.NOT_FOUND, ()),
            },
        )
        self.assertEqual(self.client().status()["status"], "ok")

    def test_batches_each_with_its_own_idempotency_key(self):
        client = self.client(batch_size=3)
        self.assertEqual(len(client.check(PUPILS)), 4)
        self.assertEqual(self.sandbox.calls["reconciliations"], 2)
        self.assertEqual(len(set(self.sandbox.idempotency_keys)), 2)
        self.assertEqual(self.sandbox.registry.pupils_checked, 4)

    def test_timeout_is_retried_with_the_same_key_and_processed_once(self):
        self.sandbox.faults.add("timeout")
        client = self.client(timeouts=(0.5, 30))
        found = client.check(PUPILS)
        self.assertEqual(found["P1"], CITIZENS[0])
        keys = self.sandbox.idempotency_keys
        self.assertEqual((len(keys), len(set(keys))), (2, 1))
        self.assertEqual(self.sandbox.registry.processed, 1)  # the retry was a replay
        self.assertEqual(self.sandbox.registry.pupils_checked, 4)
        self.assertEqual(self.waits, [1.0])

    def test_server_errors_and_dropped_connections_are_retried_with_backoff(self):
        for fault in ("error_500", "error_503", "drop"):
            self.sandbox.faults.add(fault)
        client = self.client(max_attempts=4, backoff=0.5)
        self.assertEqual(len(client.check(PUPILS)), 4)
        self.assertEqual(client.requests_sent, 4)
        self.assertEqual(self.waits, [0.5, 1.0, 2.0])
        self.assertEqual(len(set(self.sandbox.idempotency_keys)), 1)
        self.assertEqual(self.sandbox.registry.processed, 1)

    def test_rate_limit_waits_as_told_within_the_cap(self):
        self.sandbox.faults.add("rate_limit")
        self.client(backoff=0.1).check(PUPILS)
        self.assertEqual(self.waits, [1.0])  # Retry-After: 1 beats the 0.1 s backoff
        self.sandbox.faults.add("rate_limit")
        self.waits.clear()
        self.client(backoff=0.1, max_backoff=0.5).check(PUPILS)
        self.assertEqual(self.waits, [0.5])

    def test_attempts_are_bounded(self):
        self.sandbox.faults.add("error_500", times=5)
        client = self.client(max_attempts=3, backoff=2, max_backoff=3)
        with self.assertRaisesRegex(pc.PopulationUnavailable, "HTTP 500.*after 3 attempts"):
            client.check(PUPILS)
        self.assertEqual(self.sandbox.calls["reconciliations"], 3)
        self.assertEqual(self.waits, [2, 3])
        self.assertEqual(self.sandbox.registry.processed, 0)

    def test_malformed_answers_are_refused_not_retried(self):
        for fault, message in (("bad_body", "not a JSON object"), ("wrong_results", "no result for 1 pupils")):
            with self.subTest(fault=fault):
                self.sandbox.faults.add(fault)
                self.sandbox.calls.clear()
                with self.assertRaisesRegex(pc.PopulationBadAnswer, message):
                    self.client().check(PUPILS)
                self.assertEqual(self.sandbox.calls["reconciliations"], 1)

    def test_refusals(self):
        with self.assertRaises(pc.PopulationAuthError) as caught:
            self.client(token="wrong-token").check(PUPILS)
        self.assertNotIn("wrong-token", str(caught.exception))
        self.assertNotIn(TOKEN, repr(self.client()))
        with self.assertRaisesRegex(pc.PopulationError, "same code"):
            self.client().check(PUPILS + PUPILS[:1])
        with self.assertRaisesRegex(pc.PopulationUnavailable, "cannot reach"):
            pc.PopulationClient(
                "http://127.0.0.1:9/api", TOKEN, timeout=10, max_attempts=2, sleep=self.waits.append
            ).check(PUPILS)

    def test_registry_keeps_its_word_on_idempotency_keys(self):
        registry = ps.PopulationRegistry(CITIZENS, tokens={TOKEN})
        body = {"pupils": [pc.identity_to_json(ref, identity) for ref, identity in PUPILS]}
        first = registry.reconcile(body, "key-0001-abcd")
        self.assertEqual(registry.reconcile(body, "key-0001-abcd"), dict(first, replayed=True))
        with self.assertRaises(ps.Refusal) as caught:
            registry.reconcile({"pupils": body["pupils"][:1]}, "key-0001-abcd")
        self.assertEqual(caught.exception.status, 409)
        for bad in ({"pupils": []}, {"pupils": [{"ref": "x"}]}, {"pupils": body["pupils"] * 2}):
            with self.subTest(bad=bad), self.assertRaises(ps.Refusal):
                registry.reconcile(bad, "key-0002-abcd")
        self.assertEqual(registry.processed, 1)
