import datetime
import tempfile

import requests

from odoo.tests import HttpCase, tagged

from odoo.addons.hocba_digital.lib.exchange import client as ec
from odoo.addons.hocba_digital.lib.exchange import package as ep
from odoo.addons.hocba_digital.lib.sandbox import faults
from odoo.addons.hocba_digital.lib.sandbox.faults import FAULT_HEADER
from odoo.addons.hocba_digital.tests.test_exchange_lib import package_data

from ..models.hocba_demo_exchange import DIR_PARAM, FAULT_RATE_PARAM, ROUTE, TOKEN_PARAM
from ..models.hocba_demo_pki import SIGNED_CLASS

TOKEN = "demo-store-token"


@tagged("post_install", "-at_install")
class TestDemoExchange(HttpCase):
    """The demo database's own transcript store, and the demo school's packages."""

    def setUp(self):
        super().setUp()
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.params = self.env["ir.config_parameter"].sudo()
        self.saved_token = self.params.get_param(TOKEN_PARAM)
        self.params.set_param(TOKEN_PARAM, TOKEN)
        self.params.set_param(DIR_PARAM, folder.name)
        self.params.set_param(FAULT_RATE_PARAM, "0")
        self.url = self.base_url() + ROUTE
        self.env.flush_all()  # the server's requests read the database, not this cache

    def test_demo_store_speaks_the_contract(self):
        package = ep.build(package_data())
        key = ep.idempotency_key(package.document_id)
        with ec.ExchangeClient(self.url, TOKEN) as client:
            first = client.submit(package.body, package.sha256, key)
            self.assertEqual((first.kind, first.http_status), (ec.ACKNOWLEDGED, 201), first.message)
            again = client.submit(package.body, package.sha256, key)
            self.assertEqual((again.kind, again.receiver_ref), (ec.DUPLICATE, first.receiver_ref))
            self.assertEqual(client.status(key).receiver_ref, first.receiver_ref)
        with ec.ExchangeClient(self.url, "wrong") as client:
            self.assertEqual(client.submit(package.body, package.sha256, key).http_status, 401)
        answer = requests.post(
            self.url + "/packages",
            data=package.body,
            timeout=10,
            headers={
                "Authorization": "Bearer " + TOKEN,
                "Idempotency-Key": key,
                "Content-Type": ep.MEDIA_TYPE,
                FAULT_HEADER: faults.ERROR_500,
            },
        )
        self.assertEqual(answer.status_code, 500)
        self.params.set_param(TOKEN_PARAM, False)
        self.assertEqual(self.url_open(ROUTE + "/packages/" + key).status_code, 404)

    def test_demo_school_is_delivered_exactly_once_with_faults(self):
        company = self.env.ref("base.main_company").sudo()
        demo_loaded = bool(self.env["ir.module.module"].search([("name", "=", "hocba_digital_demo")]).demo)
        if not demo_loaded:
            self.assertFalse(self.saved_token)
            self.assertFalse(company.hocba_exchange_url)
            return
        self.assertTrue(self.saved_token)
        self.assertTrue(company.hocba_exchange_url.endswith(ROUTE))
        exchanges = self.env["hocba.exchange"].search([("class_id.name", "=", SIGNED_CLASS)])
        transcripts = exchanges.class_id.transcript_ids
        self.assertEqual(len(exchanges), len(transcripts))
        self.assertGreater(len(exchanges), 25)
        # this test server is the demo store, though the database was installed under
        # another port (make run HTTP_PORT=...); a third of its answers fail
        company.write({"hocba_exchange_url": "http://localhost:1" + ROUTE, "hocba_exchange_token": TOKEN})
        self.assertEqual(company._hocba_reachable_url(company.hocba_exchange_url), self.url)
        self.assertEqual(
            company._hocba_reachable_url("http://localhost:1/api/hocba/v1"), "http://localhost:1/api/hocba/v1"
        )  # a real store: as it is
        self.params.set_param(FAULT_RATE_PARAM, "0.3")
        service = self.env["hocba.exchange.service"]
        now = datetime.datetime.now()
        for _round in range(15):
            service._hocba_send_due(50, now=now, auto_commit=False, ids=exchanges.ids)
            exchanges.invalidate_recordset()
            if set(exchanges.mapped("state")) == {"acknowledged"}:
                break
            now += datetime.timedelta(hours=2)
        self.assertEqual(set(exchanges.mapped("state")), {"acknowledged"})
        self.assertGreater(sum(exchanges.mapped("attempts")), len(exchanges))  # faults happened
        receiver = self.env["hocba.demo.exchange"]._hocba_receiver()
        self.assertEqual(sorted(receiver.receipts()), sorted(exchanges.mapped("idempotency_key")))
        figures = self.env["hocba.exchange"].hocba_sync_figures([exchanges.year_id.id])
        row = next(r for r in figures if r["class_name"] == SIGNED_CLASS)
        self.assertEqual((row["acknowledged"], row["not_acknowledged"]), (len(exchanges), 0))
