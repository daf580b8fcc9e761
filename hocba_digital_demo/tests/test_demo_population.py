"""The demo population database: its service served by the addon, and the demo
school's reconciliation round trip (checked on a database with or without demo
data, never skipped)."""

import base64
import json

from odoo.tests import HttpCase, tagged

from odoo.addons.hocba_digital.lib.population import reconcile as pr
from odoo.addons.hocba_digital.lib.sandbox.population_sandbox import API
from odoo.addons.hocba_digital.tests.common import HocbaCase

from ..models.hocba_demo_population import PARAM, ROUTE

TOKEN = "DEMO-test-token"


@tagged("post_install", "-at_install")
class TestDemoPopulationService(HttpCase, HocbaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.student_a.moet_code = "3100000001"
        cls.student_b.moet_code = "3100000002"
        student_a_sudo = cls.student_a.sudo()
        cls.env["hocba.demo.population"]._hocba_store(
            [
                pr.Identity(
                    "NGUYỄN THỊ MAI ÁNH", student_a_sudo.birth_date, student_a_sudo.sex, student_a_sudo.personal_id
                )
            ],
            TOKEN,
        )

    def post(self, body, token=TOKEN, key="key-test-0001"):
        return self.url_open(
            ROUTE + API + "/reconciliations",
            data=json.dumps(body),
            headers={"Content-Type": "application/json", "Authorization": "Bearer " + token, "Idempotency-Key": key},
        )

    def test_the_service_speaks_the_contract(self):
        body = {
            "pupils": [
                {
                    "ref": "P1",
                    "full_name": "Nguyễn Thị Mai Anh",
                    "birth_date": "2017-03-14",
                    "sex": "female",
                    "personal_id": self.student_a.sudo().personal_id,
                }
            ]
        }
        response = self.post(body)
        self.assertEqual(response.status_code, 200, response.text)
        [result] = response.json()["results"]
        self.assertEqual((result["status"], result["citizen"]["full_name"]), ("found", "NGUYỄN THỊ MAI ÁNH"))
        self.assertEqual(self.post(body).headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(self.post(body, token="wrong").status_code, 401)
        self.assertEqual(self.post({"pupils": []}, key="key-test-0002").status_code, 400)
        self.env["ir.config_parameter"].sudo().set_param(PARAM, False)
        self.assertEqual(self.post(body).status_code, 404)

    def test_online_check_through_the_addons_own_demo_service(self):
        self.company.sudo().write(
            {"hocba_population_url": self.base_url() + ROUTE + API, "hocba_population_token": TOKEN}
        )
        wizard = (
            self.env["hocba.reconciliation.wizard"]
            .with_user(self.users["it_officer"])
            .create({"mode": "online", "year_id": self.year.id})
        )
        self.assertTrue(wizard.demo_available)
        reconciliation = self.env["hocba.reconciliation"].browse(wizard.action_check_online()["res_id"])
        self.assertEqual((reconciliation.count_mismatched, reconciliation.count_not_found), (1, 1))
        self.assertEqual(self.student_a.reconcile_state, "mismatched")
        self.assertIn("NGUYỄN THỊ MAI ÁNH", self.student_a.reconcile_diff)
        self.assertEqual(self.student_b.reconcile_state, "not_found")


@tagged("post_install", "-at_install")
class TestDemoReconciliation(HocbaCase):
    def test_demo_round_trip_matches_the_database_kind(self):
        demo_loaded = bool(self.env["ir.module.module"].search([("name", "=", "hocba_digital_demo")]).demo)
        company = self.env.ref("base.main_company")
        Student = self.env["school.student"]
        demo_students = Student.search([("company_id", "=", company.id), ("class_id.year_id", "!=", self.year.id)])
        wizard_model = self.env["hocba.reconciliation.wizard"]
        if not demo_loaded:
            self.assertFalse(self.env["hocba.reconciliation"].search([]))
            self.assertFalse(self.env["hocba.demo.population"]._hocba_registry())
            self.assertFalse(demo_students)
            return
        first = self.env["hocba.reconciliation"].search([])
        self.assertEqual(len(first), 1)
        self.assertEqual(first.user_id.login, "cntt")
        self.assertEqual(set(first.line_ids.class_id.mapped("name")), {"1A", "4A"})
        self.assertTrue(0 < first.count_mismatched + first.count_not_found <= 6)
        gvcn = self.env.ref("hocba_digital_demo.user_demo_gvcn")
        fixes = self.env["mail.activity"].search(
            [
                ("activity_type_id", "=", self.env.ref("hocba_digital.mail_activity_type_hocba_fix_identity").id),
                ("user_id", "=", gvcn.id),
            ]
        )
        self.assertTrue(fixes, "the demo homeroom teacher of 1A has pupils to fix")
        year = self.env.ref("hocba_digital_demo.demo_school_year_current")
        before = Student._hocba_reconciliation_stats(company, year)
        self.assertLess(before["rate"], 0.3)
        self.assertGreater(before["unchecked"], before["total"] / 2)
        self.assertTrue(company.sudo().hocba_population_url.endswith(ROUTE + API))
        # the clerk downloads the demo answer for everybody and imports it
        clerk = self.env.ref("hocba_digital_demo.user_demo_vanthu")
        wizard = wizard_model.with_user(clerk).with_context(lang="en_US").create({"mode": "import"})
        wizard.year_id = year
        attachment_id = int(wizard.action_download_demo_answer()["url"].split("/")[3].split("?")[0])
        data = self.env["ir.attachment"].browse(attachment_id).raw
        wizard.write({"file": base64.b64encode(data), "filename": "demo.xlsx"})
        wizard.action_import()
        after = Student._hocba_reconciliation_stats(company, year)
        self.assertGreater(after["rate"], 0.9)
        self.assertLess(after["rate"], 0.98, "a few pupils are left to fix towards the target")
        self.assertEqual(after["unchecked"], 0)
