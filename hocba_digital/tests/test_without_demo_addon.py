"""hocba_digital alone exposes no fake service: the demo school, its PKI,
population database and transcript store are hocba_digital_demo's.  Run on
both kinds of test database: what hocba_digital itself declares is checked
everywhere, and where hocba_digital_demo is not installed the routes and
models are checked to be absent altogether (hocba_digital_demo's own tests
check that it brings them back)."""

from odoo import http
from odoo.modules import neutralize
from odoo.tests import HttpCase, tagged

DEMO_PREFIX = "/hocba/demo-"
DEMO_ADDON = "hocba_digital_demo"


@tagged("post_install", "-at_install")
class TestWithoutDemoAddon(HttpCase):
    def demo_addon_installed(self):
        return bool(self.env["ir.module.module"].search_count([("name", "=", DEMO_ADDON), ("state", "=", "installed")]))

    def test_no_demo_model_of_its_own(self):
        own = [
            name
            for name in self.env.registry
            if name.startswith("hocba.demo.")
            and any(getattr(cls, "_module", None) == "hocba_digital" for cls in type(self.env[name]).__mro__)
        ]
        self.assertEqual(own, [])
        declared = self.env["ir.model"].search([("model", "=like", "hocba.demo.%")])
        self.assertFalse(declared.filtered(lambda m: "hocba_digital" in (m.modules or "").split(", ")).mapped("model"))
        if not self.demo_addon_installed():
            self.assertFalse([name for name in self.env.registry if name.startswith("hocba.demo.")])
            self.assertFalse(declared.mapped("model"))
        # the wizard offers no demo answer file by itself
        wizard = self.env["hocba.reconciliation.wizard"]
        self.assertEqual("demo_available" in wizard._fields, self.demo_addon_installed())

    def test_no_demo_route_of_its_own(self):
        modules = (
            self.env["ir.module.module"]
            .search([("state", "=", "installed"), ("name", "!=", DEMO_ADDON)])
            .mapped("name")
        )
        self.assertIn("hocba_digital", modules)
        urls = [url for url, _endpoint in http._generate_routing_rules(modules, nodb_only=False)]
        self.assertTrue(any(url.startswith("/hocba/") for url in urls))
        self.assertEqual([url for url in urls if url.startswith(DEMO_PREFIX)], [])

    def test_wizard_view_offers_no_demo_answer_of_its_own(self):
        arch = self.env["hocba.reconciliation.wizard"].get_view(
            self.env.ref("hocba_digital.hocba_reconciliation_wizard_view_form").id
        )["arch"]
        self.assertIn('name="action_import"', arch)
        self.assertEqual("action_download_demo_answer" in arch, self.demo_addon_installed())
        base = self.env.ref("hocba_digital.hocba_reconciliation_wizard_view_form").arch_db
        self.assertNotIn("demo", base.lower())

    def test_services_are_reached_where_they_are(self):
        company = self.env.company
        store = "http://localhost:1/api/hocba/v1"
        self.assertEqual(company._hocba_reachable_url(store), store)
        self.assertFalse(company._hocba_reachable_url(False))
        demo_store = "http://localhost:1/hocba/demo-exchange/v1"
        if not self.demo_addon_installed():  # nothing is served here: as it is
            self.assertEqual(company._hocba_reachable_url(demo_store), demo_store)

    def test_neutralize_knows_no_demo_key(self):
        queries = list(neutralize.get_neutralization_queries(["hocba_digital"]))
        self.assertTrue(queries)
        self.assertFalse([query for query in queries if "demo" in query.lower()])

    def test_demo_routes_answer_404_without_the_demo_addon(self):
        if self.demo_addon_installed():
            return  # hocba_digital_demo's tests call them
        for method, path in (
            ("GET", "/hocba/demo-pki/crl/root.crl"),
            ("GET", "/hocba/demo-pki/certs/root.cer"),
            ("POST", "/hocba/demo-pki/ocsp"),
            ("GET", "/hocba/demo-exchange/v1/packages/key"),
            ("POST", "/hocba/demo-population/api/population/v1/reconciliations"),
        ):
            with self.subTest(path=path):
                response = self.url_open(path, data=b"" if method == "POST" else None)
                self.assertEqual(response.status_code, 404)
