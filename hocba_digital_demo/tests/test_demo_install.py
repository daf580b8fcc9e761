"""What hocba_digital_demo adds to hocba_digital: the demo school, and the
models and routes of its fake services."""

import datetime

from odoo import http
from odoo.modules import neutralize
from odoo.tests import BaseCase, TransactionCase, tagged

from odoo.addons.hocba_digital.lib.population import reconcile as pr
from odoo.addons.hocba_digital.lib.rules import personal_id as pid
from odoo.addons.hocba_digital.tests.test_translation import untranslated

from ..lib import population_demo
from ..models.hocba_demo_exchange import TOKEN_PARAM

D = datetime.date
DEMO_MODELS = (
    "hocba.demo.loader",
    "hocba.demo.pki",
    "hocba.demo.certificate.cost",
    "hocba.demo.population",
    "hocba.demo.exchange",
)


@tagged("post_install", "-at_install")
class TestDemoInstall(TransactionCase):
    def test_demo_school_matches_the_database_kind(self):
        demo_loaded = bool(self.env["ir.module.module"].search([("name", "=", "hocba_digital_demo")]).demo)
        students = self.env["school.student"].search_count([])
        users = self.env["res.users"].search_count(
            [
                (
                    "login",
                    "in",
                    ("hieutruong", "phohieutruong", "totruong", "gvcn", "gvbm", "cntt", "vanthu", "ketoan", "phuhuynh"),
                )
            ]
        )
        if demo_loaded:
            self.assertGreaterEqual(students, 300)
            self.assertEqual(users, 9)
            classes = self.env["school.class"].search([])
            self.assertTrue(all(30 <= c.student_count <= 35 for c in classes))
            self.assertEqual(set(classes.mapped("grade")), {"1", "2", "3", "4", "5"})
            self.assertEqual(self.env.ref("hocba_digital_demo.user_demo_gvcn").login, "gvcn")
        else:
            self.assertEqual(students, 0)
            self.assertEqual(users, 0)

    def test_the_demo_addon_brings_its_models_and_routes(self):
        for name in DEMO_MODELS:
            with self.subTest(model=name):
                self.assertIn(name, self.env.registry)
                declared = self.env["ir.model"].search([("model", "=", name)])
                self.assertEqual(declared.modules, "hocba_digital_demo")
        self.assertIn("demo_available", self.env["hocba.reconciliation.wizard"]._fields)
        modules = self.env["ir.module.module"].search([("state", "=", "installed")]).mapped("name")
        urls = [url for url, _endpoint in http._generate_routing_rules(modules, nodb_only=False)]
        for prefix in ("/hocba/demo-pki/", "/hocba/demo-population/", "/hocba/demo-exchange/"):
            with self.subTest(prefix=prefix):
                self.assertTrue(any(url.startswith(prefix) for url in urls))

    def test_every_string_is_translated(self):
        """Demo users work in Vietnamese: the demo addon's own terms too."""
        sources, missing = untranslated(self.env.cr, "hocba_digital_demo")
        self.assertTrue(sources)
        self.assertFalse(missing, "Not translated into Vietnamese:\n%s" % "\n".join(missing))

    def test_neutralize_drops_the_demo_store_token(self):
        self.env["ir.config_parameter"].sudo().set_param(TOKEN_PARAM, "demo-token")
        self.env.flush_all()
        for query in neutralize.get_neutralization_queries(["hocba_digital_demo"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.assertFalse(self.env["ir.config_parameter"].sudo().get_param(TOKEN_PARAM))


@tagged("post_install", "-at_install")
class TestPopulationDemo(BaseCase):
    """The citizens of the demo population database (lib/population_demo), no database."""

    def test_demo_population_differs_in_a_few_known_ways(self):
        pupils = [
            {
                "ref": "R%d" % i,
                "class_name": "1A" if i < 10 else "2A",
                "name": "Lê Thị Hòa %d" % i if i % 2 else "Lê Văn Nam",
                "birth_date": D(2018, 1, 1) + datetime.timedelta(i),
                "sex": pid.MALE,
                "personal_id": None if i == 3 else pid.make("031", pid.MALE, 2018, i),
                "birth_place": "Hải Phòng",
            }
            for i in range(40)
        ]
        citizens = population_demo.citizens_for(pupils, first_class="1A")
        self.assertEqual(len(citizens), 40 - population_demo.NOT_FOUND)
        by_name = {(pr.name_key(c.name), c.birth_date): c for c in citizens}
        outcomes = [
            pr.compare(
                pr.Identity(p["name"], p["birth_date"], p["sex"], p["personal_id"]),
                by_name.get((pr.name_key(p["name"]), p["birth_date"])),
            )
            for p in pupils
        ]
        self.assertTrue(any(c.name.startswith("LÊ THỊ HOÀ") for c in citizens))
        self.assertEqual(outcomes[3].fields, ("personal_id",))
        self.assertEqual(population_demo.other_tone("Anh"), "Ánh")
        self.assertEqual(population_demo.other_tone("Hưng"), "Hứng")
        self.assertEqual(population_demo.other_tone("Hòa"), "Hoa")
