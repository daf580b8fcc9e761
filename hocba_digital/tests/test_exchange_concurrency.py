"""Two sending runs at once, and a run killed mid-batch, on packages committed
to the database (other transactions must see them), removed afterwards.

The packages here were checked on an earlier attempt (``package_sha256`` set,
as after a first try that got no answer), so their XML need not be signed:
checking is covered by test_exchange_sync."""

import base64
import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import config

from .. import service_scope
from ..lib.documents import xml_profile
from ..lib.exchange import package as ep
from ..lib.sandbox import pki_factory as pf
from ..lib.sandbox.exchange_sandbox import ExchangeSandbox
from ..lib.sandbox.faults import FaultPlan
from .test_xml_profile import grade4_transcript

TOKEN = "concurrency-token"
PACKAGES = 12
COMPANY_FIELDS = ("hocba_exchange_url", "hocba_exchange_token", "hocba_trusted_roots_pem")
SEND_SCRIPT = textwrap.dedent("""
    import json, sys
    import odoo
    from odoo.tools import config
    args = json.loads(sys.argv[1])
    config.parse_config(args["argv"])
    odoo.modules.module.initialize_sys_path()
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry
    with Registry(args["db"]).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["hocba.exchange.service"]._hocba_send_due(50, ids=args["ids"])
""")


# Two sync runs meet only through committed rows: the fixture is committed in its
# own cursors and removed by a class cleanup.
@tagged("post_install", "-at_install")
class TestExchangeConcurrency(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = ExchangeSandbox(TOKEN, timeout_delay=60).start()
        cls.addClassCleanup(cls.sandbox.stop)
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company").sudo()
            cls.saved = {field: company[field] for field in COMPANY_FIELDS}
            cls.addClassCleanup(cls._remove_fixture)
            company.write(
                {
                    "hocba_exchange_url": cls.sandbox.url,
                    "hocba_exchange_token": TOKEN,
                    "hocba_trusted_roots_pem": company.hocba_trusted_roots_pem
                    or pf.build_pki([], prefix="TEST").root_pem.decode(),
                }
            )
            cls._make_fixture(env, company)
            cr.commit()  # pylint: disable=invalid-commit

    @classmethod
    def _make_fixture(cls, env, company):
        year = env["school.year"].create(
            {
                "date_start": datetime.date(2041, 9, 5),
                "term1_end_date": datetime.date(2042, 1, 16),
                "date_end": datetime.date(2042, 5, 30),
                "company_id": company.id,
            }
        )
        school_class = env["school.class"].create({"grade": "4", "section": "Q", "year_id": year.id})
        students = env["school.student"].create(
            [
                {
                    "name": "Học sinh %02d" % i,
                    "sex": "female",
                    "birth_date": datetime.date(2032, 1, i + 1),
                    "moet_code": "41%08d" % i,
                    "class_id": school_class.id,
                }
                for i in range(PACKAGES)
            ]
        )
        transcripts = env["hocba.transcript"].create(
            [{"student_id": s.id, "year_id": year.id, "class_id": school_class.id} for s in students]
        )
        versions = env["hocba.version"]
        for transcript in transcripts:
            version = transcript._hocba_new_version()
            data = grade4_transcript()
            data["header"].update(document_id=version.document_id, version=1, replaces=None)
            data["pupil"]["moet_code"] = transcript.student_id.moet_code
            with service_scope.granted(service_scope.SIGNING):
                version.write(
                    {
                        "xml_file": base64.b64encode(xml_profile.build(data)),
                        "pdf_file": base64.b64encode(b"%PDF-1.7\n%%EOF\n"),
                    }
                )
                version._hocba_issue()
            versions |= version
        exchanges = versions.exchange_ids
        service = env["hocba.exchange.service"]
        data = service._hocba_package_data(exchanges)
        with service_scope.granted(service_scope.EXCHANGE):
            for exchange in exchanges:  # checked on an earlier attempt
                exchange.package_sha256 = ep.build(data[exchange.id]).sha256
        cls.ids = {
            "year": year.id,
            "class": school_class.id,
            "students": students.ids,
            "transcripts": transcripts.ids,
            "versions": versions.ids,
            "exchanges": sorted(exchanges.ids),
        }
        cls.keys = dict(zip(exchanges.ids, exchanges.mapped("idempotency_key")))

    @classmethod
    def _remove_fixture(cls):
        ids = getattr(cls, "ids", None)
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env.ref("base.main_company").sudo().write(cls.saved)
            if ids:
                for model, key in (
                    ("hocba.exchange", "exchanges"),
                    ("hocba.version", "versions"),
                    ("hocba.transcript", "transcripts"),
                    ("school.student", "students"),
                    ("school.class", "class"),
                    ("school.year", "year"),
                ):
                    record_ids = ids[key] if isinstance(ids[key], list) else [ids[key]]
                    for table, column in (
                        ("mail_message", "model"),
                        ("mail_followers", "res_model"),
                        ("mail_activity", "res_model"),
                    ):
                        cr.execute(
                            "DELETE FROM %s WHERE %s = %%s AND res_id = ANY(%%s)" % (table, column), [model, record_ids]
                        )
                    if model == "hocba.version":
                        cr.execute(
                            "DELETE FROM ir_attachment WHERE res_model = %s AND res_id = ANY(%s)", [model, record_ids]
                        )
                    cr.execute("DELETE FROM %s WHERE id = ANY(%%s)" % env[model]._table, [record_ids])
            cr.commit()  # pylint: disable=invalid-commit

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        with self.registry.cursor() as cr:  # every test starts from pending packages
            cr.execute(
                """UPDATE hocba_exchange SET state = 'pending', attempts = 0,
                          receiver_ref = NULL, next_attempt_at = NULL, acknowledged_at = NULL,
                          duplicate_count = 0 WHERE id = ANY(%s)""",
                [self.ids["exchanges"]],
            )
            cr.commit()  # pylint: disable=invalid-commit

    def read_states(self):
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT id, state, attempts, next_attempt_at FROM hocba_exchange WHERE id = ANY(%s) ORDER BY id",
                [self.ids["exchanges"]],
            )
            return cr.fetchall()

    def run_service(self, now=None, barrier=None, results=None):
        try:
            with self.registry.cursor() as cr:
                # the test runner holds Registry's lock, which an Environment made in
                # another thread would wait for: hand the cursor its transaction
                cr.transaction = api.Transaction(self.registry)
                env = api.Environment(cr, SUPERUSER_ID, {})
                if barrier:
                    barrier.wait(60)
                result = env["hocba.exchange.service"]._hocba_send_due(50, now=now, ids=self.ids["exchanges"])
        except Exception as exc:  # a thread's failure must reach the test
            result = exc
        if results is not None:
            results.append(result)
        return result

    def test_two_runs_at_once_send_each_package_once(self):
        self.sandbox.faults = FaultPlan(1.0, kinds=("slow",))
        self.sandbox.slow_delay = 0.05
        barrier, results = threading.Barrier(2), []
        threads = [
            threading.Thread(target=self.run_service, kwargs={"barrier": barrier, "results": results})
            for _i in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        self.assertEqual(len(results), 2)
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        handled = [r["handled"] for r in results]
        self.assertEqual(sum(handled), PACKAGES)
        self.assertTrue(all(handled), "both runs took packages: %s" % handled)
        self.assertEqual(sum(r["skipped"] for r in results), PACKAGES)  # the other's, left alone
        self.assertEqual({state for _id, state, _a, _n in self.read_states()}, {"acknowledged"})
        self.assertEqual(self.sandbox.receiver.receipts(), {key: 1 for key in self.keys.values()})  # never sent twice
        self.assertEqual(self.sandbox.requests, PACKAGES)

    def test_killed_mid_batch_then_resumed(self):
        # the third package is stored, then the run is killed waiting for the answer
        self.sandbox.faults.add("timeout", after=2)
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
            script.write(SEND_SCRIPT)
        self.addCleanup(os.unlink, script.name)
        argv = ["--addons-path=%s" % config["addons_path"], "--data-dir=%s" % config["data_dir"]]
        argv += [
            "--%s=%s" % (key, config[key])
            for key in ("db_host", "db_port", "db_user", "db_password")
            if config.get(key)
        ]
        log = tempfile.TemporaryFile()
        self.addCleanup(log.close)
        process = subprocess.Popen(
            [
                sys.executable,
                script.name,
                json.dumps({"argv": argv, "db": self.env.cr.dbname, "ids": self.ids["exchanges"]}),
            ],
            env=dict(os.environ, TZ="UTC"),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        deadline = time.monotonic() + 180
        while len(self.sandbox.receiver.records()) < 3 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if process.poll() is not None:
            log.seek(0)
            self.fail("the sending run ended by itself: %s" % log.read().decode()[-2000:])
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        rows = self.read_states()
        self.assertEqual(
            [state for _id, state, _a, _n in rows], ["acknowledged"] * 2 + ["sent"] + ["pending"] * (PACKAGES - 3)
        )
        lease_end = rows[2][3]
        self.assertEqual(rows[2][2], 1)
        # another run before the lease ends leaves the package handed over alone...
        early = self.run_service(now=lease_end - datetime.timedelta(seconds=5))
        self.assertEqual(early["handled"], PACKAGES - 3)
        self.assertEqual(self.read_states()[2][1], "sent")
        # ...and after it, sends it again under the same key: the store files it once
        self.run_service(now=lease_end + datetime.timedelta(seconds=1))
        rows = self.read_states()
        self.assertEqual({state for _id, state, _a, _n in rows}, {"acknowledged"})
        receipts = self.sandbox.receiver.receipts()
        self.assertEqual(len(receipts), PACKAGES)
        third = self.keys[self.ids["exchanges"][2]]
        self.assertEqual(receipts.pop(third), 2)
        self.assertEqual(set(receipts.values()), {1})
