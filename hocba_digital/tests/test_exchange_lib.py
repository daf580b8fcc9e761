"""The exchange's pure layer against a real sandbox on 127.0.0.1: the package,
the client's reading of every answer, the receiver's idempotency, TLS."""

import io
import json
import tempfile
import zipfile

from odoo.tests import BaseCase, tagged
from odoo.tools import mute_logger

from ..lib.documents import xml_profile
from ..lib.exchange import client as ec
from ..lib.exchange import package as ep
from ..lib.sandbox.exchange_receiver import DirectoryStore, Receiver
from ..lib.sandbox.exchange_sandbox import ExchangeSandbox, make_tls_files
from ..lib.sandbox.faults import FaultPlan
from .test_xml_profile import grade4_transcript

TOKEN = "sandbox-token-1"


def package_data(document_id="3b1f8a52-7c1e-4d2a-9a57-0c6f1e2d4b11", **header):
    """Plain data of a package around an unsigned grade-4 transcript."""
    transcript = grade4_transcript()
    transcript["header"].update(document_id=document_id, **header)
    return {
        "xml": xml_profile.build(transcript),
        "pdf": b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n",
        "document_id": document_id,
        "version": transcript["header"]["version"],
        "replaces": {"document_id": transcript["header"]["replaces"], "version": 1},
        "issued_at": "2026-05-30T03:15:00+00:00",
    }


@tagged("post_install", "-at_install")
class TestExchangePackage(BaseCase):
    def test_same_version_same_bytes(self):
        data = package_data()
        package = ep.build(data)
        self.assertEqual(ep.build(package_data()).body, package.body)
        manifest, files = ep.read(package.body)
        self.assertEqual(manifest, package.manifest)
        self.assertEqual(files[ep.XML_NAME], data["xml"])
        self.assertEqual(manifest["pupil"], {"moet_code": "7900000112345", "school_code": "HS0042"})
        self.assertEqual(manifest["school"]["code"], "79000001")
        self.assertEqual(manifest["document"]["replaces"], {"id": "0d6c2f1e-1111-4c2a-8a57-0c6f1e2d4b99", "version": 1})
        self.assertNotIn("079316001234", json.dumps(manifest))  # no personal ID in the manifest
        names = [info.filename for info in zipfile.ZipFile(io.BytesIO(package.body)).infolist()]
        self.assertEqual(names, [ep.MANIFEST, ep.XML_NAME, ep.PDF_NAME])
        self.assertEqual(ep.idempotency_key("abc"), "hocba-abc")

    def test_validate_says_why(self):
        data = package_data()
        reasons = ep.validate(dict(data, xml_sha256="0" * 64), [])
        self.assertIn("transcript.xml is not the file that was issued", reasons[0])
        self.assertTrue(any("no trusted root" in r for r in reasons), reasons)
        # the record and the XML disagree on what the document is
        reasons = ep.validate(dict(data, version=3, replaces=None), [])
        self.assertTrue(any("not 3b1f8a52-7c1e-4d2a-9a57-0c6f1e2d4b11 version 3" in r for r in reasons), reasons)
        self.assertTrue(any("the XML replaces 0d6c2f1e" in r for r in reasons), reasons)
        transcript = grade4_transcript()
        transcript["pupil"]["moet_code"] = None
        reasons = ep.validate(dict(data, xml=xml_profile.build(transcript)), [])
        self.assertTrue(any("no MOET code" in r for r in reasons), reasons)
        bad = data["xml"].replace(b"<Level>T</Level>", b"<Level>Q</Level>", 1)
        self.assertIn("does not follow its schema", ep.validate(dict(data, xml=bad), [])[0])
        self.assertEqual(ep.validate(dict(data, xml=b""), []), ["the version has no signed XML"])
        with self.assertRaises(ep.PackageError):
            ep.build(dict(data, xml=b"<not-a-transcript/>"))

    def test_read_refuses_broken_packages(self):
        package = ep.build(package_data())
        with self.assertRaises(ep.PackageError) as caught:
            ep.read(b"PK not a zip")
        self.assertIn("not a ZIP", str(caught.exception))
        archive = zipfile.ZipFile(io.BytesIO(package.body))
        members = {name: archive.read(name) for name in archive.namelist()}
        members[ep.PDF_NAME] = b"%PDF-changed"
        members["extra.txt"] = b"x"
        with self.assertRaises(ep.PackageError) as caught:
            ep.read(ep._zip(members.items()))
        self.assertEqual(
            caught.exception.reasons,
            ["transcript.pdf does not match the SHA-256 of the manifest", "unexpected member(s): extra.txt"],
        )

    def test_backoff(self):
        delays = [ec.backoff_delay(n) for n in range(1, 9)]
        self.assertEqual(delays, [60, 120, 240, 480, 960, 1920, 3600, 3600])
        self.assertEqual(ec.backoff_delay(1, retry_after=600), 600)
        self.assertEqual(ec.backoff_delay(1, retry_after=10**6), ec.BACKOFF_CAP)
        spread = ec.backoff_delay(3, key="hocba-x")
        self.assertTrue(240 <= spread <= 264)
        self.assertEqual(spread, ec.backoff_delay(3, key="hocba-x"))


@tagged("post_install", "-at_install")
class TestExchangeClient(BaseCase):
    """Every answer of the contract, through a real HTTP server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # "timeout": no answer until the client gave up, however long that takes
        cls.sandbox = ExchangeSandbox(TOKEN, timeout_delay=None, slow_delay=0.1).start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.package = ep.build(package_data())
        cls.key = ep.idempotency_key(cls.package.document_id)

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        # a generous timeout: a loaded machine never turns an answer into a timeout
        self.client = ec.ExchangeClient(self.sandbox.url, TOKEN, read_timeout=30)
        self.addCleanup(self.client.close)

    def submit(self, package=None, key=None, client=None):
        package = package or self.package
        client = client or self.client
        return client.submit(package.body, package.sha256, key or self.key, school_code="79000001")

    def test_acknowledged_then_duplicate(self):
        first = self.submit()
        self.assertEqual((first.kind, first.http_status), (ec.ACKNOWLEDGED, 201))
        again = self.submit()
        self.assertEqual((again.kind, again.receiver_ref), (ec.DUPLICATE, first.receiver_ref))
        self.assertTrue(again.delivered)
        self.assertEqual(self.sandbox.receiver.receipts(), {self.key: 2})
        self.assertEqual(len(self.sandbox.receiver.records()), 1)
        self.assertEqual(self.client.status(self.key).receiver_ref, first.receiver_ref)
        self.assertEqual(self.client.status("hocba-nothing-here").http_status, 404)
        stored = self.sandbox.receiver.records()[0]
        self.assertEqual(stored["moet_code"], "7900000112345")
        self.assertEqual(self.sandbox.receiver.store.body(first.receiver_ref), self.package.body)

    def test_each_fault(self):
        expected = {  # fault: (outcome, maybe delivered, stored)
            "timeout": (ec.RETRY, True, True),
            "error_500": (ec.RETRY, False, False),
            "drop": (ec.RETRY, True, False),
            "lost_answer": (ec.RETRY, True, True),
            "duplicate_ack": (ec.ACKNOWLEDGED, False, True),
            "slow": (ec.ACKNOWLEDGED, False, True),
            "reject": (ec.REJECTED, False, False),
        }
        for fault, (kind, maybe, stored) in expected.items():
            with self.subTest(fault=fault), ec.ExchangeClient(self.sandbox.url, TOKEN, read_timeout=0.5) as hasty:
                self.sandbox.reset()
                self.sandbox.faults.add(fault)
                # only the timeout needs a client that gives up soon: the sandbox
                # holds the answer until it has
                outcome = self.submit(client=hasty if fault == "timeout" else None)
                self.assertEqual((outcome.kind, outcome.maybe_delivered), (kind, maybe), outcome)
                if fault == "timeout":  # the client's read timeout, not a closed connection
                    self.assertIn("no answer within 0.5 s", outcome.message)
                self.assertTrue(self.sandbox.wait_done(1))  # what the sandbox does after the client left
                self.assertEqual(len(self.sandbox.receiver.records()), int(stored))
                # the retry with the same key files it once
                retry = self.submit()
                self.assertTrue(retry.delivered, retry)
                self.assertEqual(retry.kind, ec.DUPLICATE if stored else ec.ACKNOWLEDGED)
                self.assertEqual(len(self.sandbox.receiver.records()), 1)
        # the connection kept after a doubled acknowledgement serves the next request
        self.sandbox.reset()
        self.sandbox.faults.add("duplicate_ack")
        other = ep.build(package_data("9e7c0a3b-1111-4c2a-8a57-0c6f1e2d4b00"))
        self.assertTrue(self.submit().delivered)
        outcome = self.submit(other, ep.idempotency_key(other.document_id))
        self.assertEqual(outcome.kind, ec.ACKNOWLEDGED)
        self.assertEqual(len(self.sandbox.receiver.records()), 2)

    def test_refusals(self):
        self.assertTrue(self.submit().delivered)
        other = ep.build(package_data("9e7c0a3b-1111-4c2a-8a57-0c6f1e2d4b00"))
        reused = self.submit(other, self.key)
        self.assertEqual((reused.kind, reused.http_status), (ec.REJECTED, 409))
        self.assertIn("idempotency_key_reused", reused.message)
        broken = self.client.submit(b"not a zip", ep.sha256(b"not a zip"), "hocba-broken-1")
        self.assertEqual((broken.kind, broken.http_status), (ec.REJECTED, 422))
        self.assertIn("not a ZIP", broken.message)
        with ec.ExchangeClient(self.sandbox.url, "wrong") as client:
            denied = client.submit(self.package.body, self.package.sha256, self.key)
        self.assertEqual((denied.kind, denied.http_status, denied.stop), (ec.RETRY, 401, True))
        with (
            ec.ExchangeClient("http://127.0.0.1:9/api", TOKEN, connect_timeout=0.5) as client,
            mute_logger("urllib3.connectionpool"),
        ):
            down = client.submit(self.package.body, self.package.sha256, self.key)
        self.assertEqual((down.kind, down.stop, down.maybe_delivered), (ec.RETRY, True, False))

    def test_acknowledgement_about_another_package_is_not_believed(self):
        class Answer:
            status_code = 201
            headers = {}

            @staticmethod
            def json():
                return {"receiver_ref": "SO-1", "idempotency_key": "hocba-other", "package_sha256": "x"}

        outcome = ec.ExchangeClient.outcome(Answer, self.key, self.package.sha256)
        self.assertEqual((outcome.kind, outcome.maybe_delivered), (ec.RETRY, True))

    def test_rate_of_faults_ends_in_exactly_once(self):
        # the retryable faults but "timeout" (test_each_fault): with the generous
        # read timeout, each would wait for it
        self.sandbox.faults = FaultPlan(0.5, kinds=("error_500", "drop", "lost_answer", "duplicate_ack"), seed=7)
        packages = [ep.build(package_data("9e7c0a3b-1111-4c2a-8a57-0c6f1e2d4b%02d" % i)) for i in range(8)]
        left = {ep.idempotency_key(p.document_id): p for p in packages}
        for _round in range(30):
            for key, package in list(left.items()):
                if self.client.submit(package.body, package.sha256, key).delivered:
                    del left[key]
            if not left:
                break
        self.assertFalse(left)
        self.assertGreater(sum(self.sandbox.faults.injected.values()), 3)
        self.assertEqual(len(self.sandbox.receiver.records()), 8)


@tagged("post_install", "-at_install")
class TestExchangeStores(BaseCase):
    def test_directory_store_is_shared(self):
        """Two receivers on one directory (two Odoo workers) file a key once."""
        with tempfile.TemporaryDirectory() as path:
            first, second = (Receiver(DirectoryStore(path), TOKEN) for _i in range(2))
            package = ep.build(package_data())
            headers = {
                "Authorization": "Bearer " + TOKEN,
                "Idempotency-Key": "hocba-dir-1",
                "Content-Type": ep.MEDIA_TYPE,
            }
            self.assertEqual(first.submit(headers, package.body)[0], 201)
            status, ack = second.submit(headers, package.body)
            self.assertEqual((status, ack["duplicate"]), (200, True))
            self.assertEqual(second.receipts(), {"hocba-dir-1": 2})
            self.assertEqual(DirectoryStore(path).body(ack["receiver_ref"]), package.body)
            self.assertEqual(first.submit(dict(headers, **{"Content-Type": "text/plain"}), package.body)[0], 415)
            self.assertEqual(first.submit(dict(headers, Authorization="Bearer x"), package.body)[0], 401)

    def test_tls_with_client_certificate(self):
        with tempfile.TemporaryDirectory() as path:
            tls = make_tls_files(path)
            sandbox = ExchangeSandbox(TOKEN, tls=(tls["server_cert"], tls["server_key"]), client_ca=tls["ca"])
            with sandbox:
                package = ep.build(package_data())
                ca = open(tls["ca"]).read()
                with ec.ExchangeClient(sandbox.url, TOKEN, ca_pem=ca) as client:
                    refused = client.submit(package.body, package.sha256, "hocba-tls-1")
                self.assertEqual((refused.kind, refused.stop), (ec.RETRY, True))
                self.assertFalse(sandbox.receiver.records())
                with ec.ExchangeClient(
                    sandbox.url,
                    TOKEN,
                    ca_pem=ca,
                    client_cert_pem=open(tls["client_cert"]).read(),
                    client_key_pem=open(tls["client_key"]).read(),
                ) as client:
                    self.assertEqual(client.submit(package.body, package.sha256, "hocba-tls-1").kind, ec.ACKNOWLEDGED)
                    self.assertTrue(client._tmp)
                    tmp = client._tmp
                self.assertFalse(client._tmp)  # the key file is gone with the session
                import os

                self.assertFalse(os.path.exists(tmp))
