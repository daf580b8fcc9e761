"""Identity reconciliation in Odoo: rounds from answer files and from the online
service, pupils' status and history, activities, figures, access and masking."""

import base64
import datetime
import io

import openpyxl

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..lib.population import reconcile as pr
from ..lib.rules import personal_id as pid
from ..lib.sandbox import population_sandbox as ps
from .common import HocbaCase

D = datetime.date
FIX = "hocba_digital.mail_activity_type_hocba_fix_identity"


@tagged("post_install", "-at_install")
class TestReconciliation(HocbaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Student = cls.env["school.student"]
        cls.student_a.moet_code = "3100000001"
        cls.student_b.moet_code = "3100000002"
        cls.student_c = Student.create(
            {
                "name": "Lê Thị Hòa",
                "sex": "female",
                "birth_date": D(2017, 1, 9),
                "personal_id": pid.make("031", "female", 2017, 777),
                "moet_code": "3100000003",
                "class_id": cls.class_a.id,
            }
        )
        cls.student_d = Student.create(
            {
                "name": "Phạm Gia Bảo",
                "sex": "male",
                "birth_date": D(2017, 5, 5),
                "school_code": "TD17004",
                "class_id": cls.class_a.id,
            }
        )
        cls.pupils = cls.student_a | cls.student_b | cls.student_c | cls.student_d
        cls.Wizard = cls.env["hocba.reconciliation.wizard"]

    # ---- helpers ----

    def citizen(self, pupil, **changes):
        pupil_sudo = pupil.sudo()
        values = {
            "name": pupil_sudo.name.upper(),
            "birth_date": pupil_sudo.birth_date,
            "sex": pupil_sudo.sex,
            "personal_id": pupil_sudo.personal_id,
        }
        values.update(changes)
        return pr.Identity(**values)

    def answer_file(self, found_by_pupil):
        return pr.write_answer(
            [
                ({"ref": pupil._hocba_reconcile_ref(), "name": pupil.name}, found)
                for pupil, found in found_by_pupil.items()
            ]
        )

    def import_file(self, data, user="it_officer", filename="ketqua.xlsx"):
        wizard = self.Wizard.with_user(self.users[user]).create(
            {"mode": "import", "year_id": self.year.id, "filename": filename, "file": base64.b64encode(data)}
        )
        action = wizard.action_import()
        return self.env["hocba.reconciliation"].browse(action["res_id"])

    def first_round(self):
        """a matched, b mismatched (birth date), c matched (other tone placement,
        capitals), d mismatched (no number at school); none unchecked in 3A."""
        return self.import_file(
            self.answer_file(
                {
                    self.student_a: self.citizen(self.student_a),
                    self.student_b: self.citizen(self.student_b, birth_date=D(2017, 8, 3)),
                    self.student_c: self.citizen(self.student_c, name="LÊ THỊ HOÀ"),
                    self.student_d: self.citizen(self.student_d, personal_id=pid.make("031", "male", 2017, 42)),
                }
            )
        )

    def fix_activities(self, pupils):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "school.student"),
                ("res_id", "in", pupils.ids),
                ("activity_type_id", "=", self.env.ref(FIX).id),
            ]
        )

    # ---- import ----

    def test_import_sets_states_history_and_activities(self):
        reconciliation = self.first_round()
        self.assertEqual(
            [
                self.student_a.reconcile_state,
                self.student_b.reconcile_state,
                self.student_c.reconcile_state,
                self.student_d.reconcile_state,
            ],
            ["matched", "mismatched", "matched", "mismatched"],
        )
        self.assertEqual(
            (
                reconciliation.count_total,
                reconciliation.count_matched,
                reconciliation.count_mismatched,
                reconciliation.count_not_found,
            ),
            (4, 2, 2, 0),
        )
        self.assertEqual((reconciliation.method, reconciliation.user_id), ("file", self.users["it_officer"]))
        self.assertEqual(reconciliation.answer_filename, "ketqua.xlsx")
        self.assertTrue(reconciliation.answer_file)
        self.assertEqual(reconciliation.school_rate, 50.0)
        self.assertFalse(reconciliation.meets_target)
        line_b = reconciliation.line_ids.filtered(lambda rec: rec.student_id == self.student_b)
        self.assertEqual(
            (line_b.outcome, line_b.differences, line_b.birth_date_differs, line_b.population_birth_date),
            ("mismatched", "Birth date", True, D(2017, 8, 3)),
        )
        self.assertIn("02/08/2017", self.student_b.reconcile_diff)
        self.assertIn("03/08/2017", self.student_b.reconcile_diff)
        self.assertIn("Personal ID", self.student_d.reconcile_diff)
        self.assertNotIn(line_b.sudo().population_personal_id, self.student_b.reconcile_diff)
        # one activity per pupil to fix, for each one's homeroom teacher
        activities = self.fix_activities(self.pupils)
        self.assertEqual(
            {(a.res_id, a.user_id) for a in activities},
            {(self.student_b.id, self.users["home_b"]), (self.student_d.id, self.users["homeroom_teacher"])},
        )
        self.assertEqual(activities.activity_type_id.name, "Fix the pupil record")
        self.assertIn("03/08/2017", str(activities.filtered(lambda a: a.res_id == self.student_b.id).note))

    def test_later_round_keeps_one_activity_and_closes_it_on_a_match(self):
        # what a commit after the set-up does: creation discards tracking until then
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.first_round()
        not_found = self.import_file(self.answer_file({self.student_b: None}))
        self.assertEqual(self.student_b.reconcile_state, "not_found")
        self.assertEqual(not_found.count_not_found, 1)
        activity = self.fix_activities(self.student_b)
        self.assertEqual(len(activity), 1)
        self.assertIn("Not found", str(activity.note))
        self.import_file(self.answer_file({self.student_b: self.citizen(self.student_b)}))
        self.assertEqual(self.student_b.reconcile_state, "matched")
        self.assertFalse(self.student_b.reconcile_diff)
        self.assertFalse(self.fix_activities(self.student_b))
        self.assertEqual(len(self.student_b.sudo().reconcile_line_ids), 3)
        self.env.flush_all()
        self.env.cr.precommit.run()
        messages = self.student_b.message_ids.filtered(lambda m: m.tracking_value_ids)
        self.assertTrue(messages, "the status changes are tracked on the pupil")

    def test_changing_identity_after_a_match_unproves_it(self):
        self.first_round()
        self.student_c.birth_place = "Hà Nội"  # not compared: still matched
        self.assertEqual(self.student_c.reconcile_state, "matched")
        self.student_c.name = " Lê  Thị Hòa "  # the same name
        self.assertEqual(self.student_c.reconcile_state, "matched")
        self.student_c.with_user(self.users["homeroom_teacher"]).birth_date = D(2017, 1, 10)
        self.assertEqual(self.student_c.reconcile_state, "unchecked")
        self.student_a.with_user(self.users["homeroom_teacher"]).personal_id_display = pid.make(
            "031", "female", 2017, 1234
        )
        self.assertEqual(self.student_a.reconcile_state, "unchecked")
        self.student_d.with_user(self.users["homeroom_teacher"]).sex = "female"
        self.assertEqual(self.student_d.reconcile_state, "unchecked")
        self.assertFalse(self.student_d.reconcile_diff)
        self.assertTrue(self.fix_activities(self.student_d), "open until a round matches it")

    def test_status_is_written_by_rounds_only(self):
        for user in ("homeroom_teacher", "vice_principal", "it_officer"):
            with self.subTest(user=user), self.assertRaises(AccessError):
                self.student_a.with_user(self.users[user]).write({"reconcile_state": "matched"})
        with self.assertRaises(AccessError):
            self.env["school.student"].with_user(self.users["vice_principal"]).create(
                {"name": "Vũ An", "sex": "male", "birth_date": D(2017, 2, 2), "reconcile_state": "matched"}
            )
        reconciliation = self.first_round()
        with self.assertRaises(AccessError):
            reconciliation.with_user(self.users["clerk"]).write({"count_matched": 4})
        reconciliation.with_user(self.users["clerk"]).note = "Received from the Department."
        for user in ("homeroom_teacher", "subject_teacher", "accountant"):
            with self.subTest(user=user), self.assertRaises(AccessError):
                self.Wizard.with_user(self.users[user]).create({"mode": "export"})
            with self.subTest(user=user), self.assertRaises(AccessError):
                self.env["hocba.reconciliation"].with_user(self.users[user])._hocba_record([], "file")

    # ---- malformed files ----

    def assertNothingImported(self, data, *fragments, filename="ketqua.xlsx"):
        rounds = self.env["hocba.reconciliation"].search_count([])
        states = self.pupils.mapped("reconcile_state")
        with self.assertRaises(UserError) as caught:
            self.import_file(data, filename=filename)
        message = str(caught.exception)
        self.assertTrue(message.startswith("Nothing was imported."), message)
        for fragment in fragments:
            self.assertIn(fragment, message)
        self.assertEqual(self.env["hocba.reconciliation"].search_count([]), rounds)
        self.env.invalidate_all()
        self.assertEqual(self.pupils.mapped("reconcile_state"), states)
        self.assertFalse(self.fix_activities(self.pupils - self.student_b - self.student_d))
        return message

    def test_malformed_files_change_nothing(self):
        self.first_round()
        good = self.citizen(self.student_a)
        data = self.answer_file({self.student_a: None, self.student_b: good})
        workbook = openpyxl.load_workbook(io.BytesIO(data))
        ws = workbook.active
        ws["I6"] = "31/02/2017"
        out = io.BytesIO()
        workbook.save(out)
        self.assertNothingImported(out.getvalue(), "Row 6, column I (Ngày sinh (CSDLQG))", "“31/02/2017”", "dd/mm/yyyy")
        ws["I6"] = "02/08/2017"
        ws["J4"] = "Cột khác"  # the sex column loses its header
        out = io.BytesIO()
        workbook.save(out)
        self.assertNothingImported(out.getvalue(), "Row 4, column “Giới tính (CSDLQG)”", "missing")
        duplicate = pr.write_answer(
            [({"ref": "3100000001"}, None), ({"ref": "3100000002"}, good), ({"ref": "3100000001"}, None)]
        )
        self.assertNothingImported(duplicate, "Row 7, column B (Mã học sinh)", "already appears in row 5")
        self.assertNothingImported(b"%PDF-1.4 not a workbook", "File", "not an Excel workbook")
        unknown = pr.write_answer([({"ref": "3100000001"}, None), ({"ref": "9999999999"}, None)])
        self.assertNothingImported(unknown, "Row 6, column B", "“9999999999”", "No pupil of the school has this code")
        self.assertNothingImported(
            "Mã học sinh;Kết quả đối soát\n3100000001;Không tìm thấy\n".encode(),
            "Row 1",
            "Họ và tên (CSDLQG)",
            filename="ketqua.csv",
        )

    # ---- export ----

    def test_export_carries_full_ids_for_the_clerk_who_sees_them_masked(self):
        wizard = self.Wizard.with_user(self.users["clerk"]).create(
            {"mode": "export", "year_id": self.year.id, "class_id": self.class_a.id}
        )
        self.assertEqual(wizard.pupil_count, 3)
        action = wizard.action_export()
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        ws = openpyxl.load_workbook(io.BytesIO(attachment.raw)).active
        rows = {row[1]: row for row in ws.iter_rows(min_row=5, values_only=True)}
        self.assertEqual(set(rows), {"3100000001", "3100000003", "TD17004"})
        self.assertEqual(rows["3100000001"][6], self.student_a.sudo().personal_id)
        self.assertFalse(rows["TD17004"][6])
        self.assertNotEqual(
            self.student_a.with_user(self.users["clerk"]).personal_id_display, self.student_a.sudo().personal_id
        )
        self.first_round()
        wizard.only_unmatched = True
        self.assertEqual(wizard.pupil_count, 1)  # student_d

    # ---- figures ----

    def test_stats_on_hand_counted_pupils(self):
        Student = self.env["school.student"]
        stats = Student._hocba_reconciliation_stats(self.company, self.year)
        self.assertEqual(
            stats,
            {"total": 4, "matched": 0, "mismatched": 0, "not_found": 0, "unchecked": 4, "rate": 0.0, "target": 0.98},
        )
        self.first_round()
        self.import_file(self.answer_file({self.student_b: None}))
        self.student_d.status = "left"  # no longer counted
        stats = Student.with_user(self.users["subject_teacher"])._hocba_reconciliation_stats(
            self.company.id, self.year.id
        )
        self.assertEqual(
            stats,
            {"total": 3, "matched": 2, "mismatched": 0, "not_found": 1, "unchecked": 0, "rate": 2 / 3, "target": 0.98},
        )
        other_year = self.env["school.year"].create(
            {"date_start": D(2039, 9, 5), "term1_end_date": D(2040, 1, 16), "date_end": D(2040, 5, 29)}
        )
        self.assertEqual(Student._hocba_reconciliation_stats(self.company, other_year)["total"], 0)
        other_school = self.env["res.company"].create({"name": "Trường Tiểu học Khác"})
        with self.assertRaises(AccessError):
            Student.with_user(self.users["subject_teacher"])._hocba_reconciliation_stats(other_school)
        with self.assertRaises(AccessError):
            Student.with_user(self.users["parent"])._hocba_reconciliation_stats(self.company)

    # ---- masking ----

    def test_population_personal_ids_are_masked_for_roles_that_do_not_need_them(self):
        reconciliation = self.first_round()
        line_d = reconciliation.line_ids.filtered(lambda rec: rec.student_id == self.student_d)
        number = pid.make("031", "male", 2017, 42)
        shown = {
            user: line_d.with_user(self.users[user]).population_personal_id_display
            for user in ("it_officer", "vice_principal", "homeroom_teacher", "clerk")
        }
        self.assertEqual(
            shown,
            {"it_officer": number, "vice_principal": number, "homeroom_teacher": number, "clerk": pid.mask(number)},
        )
        with self.assertRaises(AccessError):
            line_d.with_user(self.users["clerk"]).read(["population_personal_id"])
        with self.assertRaises(AccessError):
            line_d.with_user(self.users["home_b"]).read(["population_personal_id_display"])
        lines = self.env["hocba.reconciliation.line"].with_user(self.users["home_b"]).search([])
        self.assertEqual(lines.student_id, self.student_b)

    # ---- online service ----

    def test_online_check_against_the_sandbox(self):
        citizens = [
            self.citizen(self.student_a),
            self.citizen(self.student_c),
            self.citizen(self.student_b, name="TRẦN MINH KHOI"),
        ]
        registry = ps.PopulationRegistry(citizens, tokens={"tok-online"})
        with ps.PopulationSandbox(registry, timeout_delay=12) as sandbox:
            self.company.sudo().write(
                {"hocba_population_url": sandbox.base_url, "hocba_population_token": "tok-online"}
            )
            wizard = self.Wizard.with_user(self.users["vice_principal"]).create(
                {"mode": "online", "year_id": self.year.id}
            )
            rounds = self.env["hocba.reconciliation"].search_count([])
            sandbox.faults.add("error_503", times=5)
            with self.assertRaisesRegex(UserError, "nothing was changed(.|\n)*HTTP 503"):
                wizard.action_check_online()
            self.assertEqual(self.env["hocba.reconciliation"].search_count([]), rounds)
            self.assertEqual(set(self.pupils.mapped("reconcile_state")), {"unchecked"})
            sandbox.faults.clear()
            sandbox.faults.add("error_500")
            action = wizard.action_check_online()
        reconciliation = self.env["hocba.reconciliation"].browse(action["res_id"])
        self.assertEqual(
            (
                reconciliation.method,
                reconciliation.count_matched,
                reconciliation.count_mismatched,
                reconciliation.count_not_found,
            ),
            ("online", 2, 1, 1),
        )
        self.assertEqual(self.student_b.reconcile_state, "mismatched")
        self.assertEqual(self.student_d.reconcile_state, "not_found")
        self.assertEqual(registry.processed, 1)

    def test_online_settings_are_the_it_officers(self):
        Settings = self.env["hocba.reconciliation.settings"]
        for user in ("clerk", "vice_principal"):
            with self.subTest(user=user), self.assertRaises(AccessError):
                Settings.with_user(self.users[user]).create({"url": "http://x"})
        settings = Settings.with_user(self.users["it_officer"]).create(
            {"url": "https://population.example.vn/api/population/v1", "token": "s3cret"}
        )
        settings.action_save()
        settings = Settings.with_user(self.users["it_officer"]).create({"url": settings.url})
        self.assertTrue(settings.has_token)
        settings.action_save()  # an empty token keeps the saved one
        self.assertEqual(self.company.sudo().hocba_population_token, "s3cret")
        with self.assertRaises(AccessError):
            self.company.with_user(self.users["vice_principal"]).read(["hocba_population_token"])
        wizard = self.Wizard.with_user(self.users["clerk"]).create({"mode": "online"})
        self.company.sudo().hocba_population_url = False
        with self.assertRaisesRegex(UserError, "No online service"):
            wizard.action_check_online()
