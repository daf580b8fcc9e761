import base64
import datetime

from lxml import html as lxml_html

from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .signing_common import SigningCase

D = datetime.date
BEFORE_ANY_DUE_DATE = D(2035, 10, 1)  # the test year starts on 5 September 2035
TEN_DAYS_BEFORE_SIGNING = D(2036, 6, 5)  # signing deadline: 15 June 2036
# 3A and 3B of the test school: one pupil each, grade 3: 11 subjects (the
# elective ethnic language has no taker) and the homeroom sheet = 12
# end-of-year sheets; 11 subject signatures and 3 later ones per transcript.
EMPTY_CLASS = dict(
    classes=1,
    pupils=1,
    transcripts=1,
    sheets_total=12,
    sheets_submitted=0,
    sheets_overdue=0,
    locked=0,
    approved=0,
    subject_signatures=0,
    subject_signatures_required=11,
    signed_subject=0,
    signed_homeroom=0,
    signed_principal=0,
    signed_seal=0,
    issued=0,
)
SUBMITTED = dict(EMPTY_CLASS, sheets_submitted=12)


@tagged("post_install", "-at_install")
class TestProgress(SigningCase):
    """The dashboard, the report and the alerts against hand-counted classes:
    3A (every sheet submitted, signed through the chain) and 3B (nothing)."""

    def data(self, today=BEFORE_ANY_DUE_DATE, user=None):
        Progress = self.env["hocba.progress"].with_user(user or self.principal)
        return Progress._hocba_json(Progress._hocba_progress_data(self.year, today))

    @staticmethod
    def row(data, name):
        return next(c for g in data["grades"] for c in g["classes"] if c["name"] == name)

    def assertClass(self, data, name, stage, **figures):
        row = self.row(data, name)
        self.assertEqual((row["stage"], row["figures"]), (stage, figures), name)
        return row

    def set_signed_at(self, when, signatures=None):
        """Date the signatures of 3A (all, or ``signatures``) as made on ``when``."""
        signatures = signatures or self.transcript_a.signature_ids
        self.env.cr.execute(
            "UPDATE hocba_signature SET signed_at = %s WHERE id IN %s",
            [datetime.datetime.combine(when, datetime.time(9)), tuple(signatures.ids)],
        )
        self.env.invalidate_all()

    def test_figures_at_each_step_of_the_chain(self):
        data = self.data()
        row = self.assertClass(data, "3A", "checking", **SUBMITTED)
        self.assertEqual(row["waiting_for"][0], self.head.name)  # to lock it
        self.assertEqual(set(row["waiting_for"]), {self.head.name, self.subj.name, self.home.name})
        row_b = self.assertClass(data, "3B", "data_entry", **EMPTY_CLASS)
        self.assertEqual(row_b["waiting_for"], [self.users["home_b"].name])
        self.assertFalse(row["late"] or row_b["late"])

        self.sign(self.subj)
        self.assertClass(self.data(), "3A", "checking", **dict(SUBMITTED, subject_signatures=1))
        self.sign(self.home)
        signed_by_teachers = dict(SUBMITTED, subject_signatures=11, signed_subject=1, signed_homeroom=1)
        row = self.assertClass(self.data(), "3A", "checking", **signed_by_teachers)
        self.assertEqual(row["waiting_for"], [self.head.name])
        self.approve()
        approved = dict(signed_by_teachers, locked=1, approved=1)
        self.assertClass(self.data(), "3A", "signing", **approved)
        # in the principal group without a certificate (an administrator): not waited for
        no_certificate = new_test_user(
            self.env,
            login="t_principal_no_cert",
            name="Principal without certificate",
            groups="base.group_user,hocba_digital.group_hocba_principal",
            lang="en_US",
        )
        row = self.row(self.data(), "3A")
        self.assertIn(self.principal.name, row["waiting_for"])
        self.assertNotIn(no_certificate.name, row["waiting_for"])
        self.sign(self.principal)
        row = self.assertClass(self.data(), "3A", "signing", **dict(approved, signed_principal=1))
        self.assertIn(self.clerk.name, row["waiting_for"])  # who operates the seal
        self.assertNotIn(self.principal.name, row["waiting_for"])
        self.sign(self.clerk, purpose="seal")
        data = self.data()
        row = self.assertClass(data, "3A", "issued", **dict(approved, signed_principal=1, signed_seal=1, issued=1))
        self.assertEqual((row["waiting_for"], row["pct"]["issued"]), ([], 100))
        self.assertEqual(row["forecasts"]["signing"]["status"], "done")

        grade = data["grades"][0]
        self.assertEqual((grade["grade"], [c["name"] for c in grade["classes"]]), ("3", ["3A", "3B"]))
        totals = data["totals"]
        self.assertEqual(
            totals["figures"],
            dict(
                classes=2,
                pupils=2,
                transcripts=2,
                sheets_total=24,
                sheets_submitted=12,
                sheets_overdue=0,
                locked=1,
                approved=1,
                subject_signatures=11,
                subject_signatures_required=22,
                signed_subject=1,
                signed_homeroom=1,
                signed_principal=1,
                signed_seal=1,
                issued=1,
            ),
        )
        self.assertEqual(
            totals["pct"],
            dict(
                entered=50,
                locked=50,
                approved=50,
                issued=50,
                signed_subject=50,
                signed_homeroom=50,
                signed_principal=50,
                signed_seal=50,
            ),
        )
        # the view itself, grouped as the pivot groups it
        groups = (
            self.env["hocba.progress"]
            .with_user(self.vice)
            .read_group([("year_id", "=", self.year.id)], ["issued:sum", "transcripts:sum"], ["grade"])
        )
        self.assertEqual([(g["grade"], g["issued"], g["transcripts"]) for g in groups], [("3", 1, 2)])
        self.assertEqual(data["synced"], 0)  # issued, its package not acknowledged yet
        self.assertEqual(data["reconciled"], 0)  # no round has run in the test school
        coverage = data["certificates"]
        expected = self.env["hocba.certificate"]._hocba_certificate_coverage(self.company)
        self.assertEqual(
            coverage,
            {
                "required": expected["required_count"],
                "covered": expected["covered_count"],
                "missing": expected["missing_names"],
                "rate": expected["rate"],
            },
        )

    def test_late_classes_and_who_is_late(self):
        self.sign(self.subj)
        self.sign(self.home)
        data = self.data(TEN_DAYS_BEFORE_SIGNING)
        row_a, row_b = self.row(data, "3A"), self.row(data, "3B")
        # 3A: nothing signed in the last 14 days, 10 days before the deadline
        self.assertEqual((row_a["misses"], row_a["forecasts"]["signing"]["status"]), (["signing"], "stalled"))
        self.assertEqual(row_a["waiting_for"], [self.head.name])
        # 3B: every sheet of the four periods is overdue; nobody teaches 10 of its subjects
        self.assertEqual(row_b["figures"]["sheets_overdue"], 48)
        self.assertEqual(row_b["late_people"], ["%s (8)" % self.users["home_b"].name, "no teacher assigned (40)"])
        self.assertEqual([c["name"] for c in data["late"]], ["3A", "3B"])
        signing, sync = data["deadlines"]
        self.assertEqual((signing["days_left"], signing["classes_missing"]), (10, 2))
        # nothing acknowledged in the last 14 days, but 76 days before 20 August that says
        # nothing yet
        self.assertEqual((sync["days_left"], sync["forecast"]["status"]), (76, "too_early"))

    def test_monthly_report_renders_the_figures(self):
        self.sign(self.subj)
        self.sign(self.home)
        report = self.env.ref("hocba_digital.action_report_hocba_progress")
        html, _kind = report.with_user(self.vice)._render_qweb_html(
            report.report_name, self.year.ids, data={"today": "2036-06-05"}
        )
        page = lxml_html.fromstring(html)

        def cells(xpath):
            return [" ".join(td.text_content().split()) for td in page.xpath(xpath)]

        self.assertEqual(
            cells("//table[contains(@class, 'o_hocba_report_figures')]//tr[@data-class='3A']/td")[1:],
            [
                "Checking",
                "1",
                "1",
                "12/12 (100%)",
                "0",
                "0/1",
                "0/1",
                "1 (100%)",
                "1 (100%)",
                "0 (0%)",
                "0 (0%)",
                "0 (0%)",
                "0",
                "0",
            ],
        )
        self.assertEqual(
            cells("//table[contains(@class, 'o_hocba_report_figures')]//tr[@data-class='3B']/td")[1:6],
            ["Entering data", "1", "1", "0/12 (0%)", "48"],
        )
        self.assertEqual(cells("//tr[contains(@class, 'hp-total')]/td")[4:6], ["12/24 (50%)", "48"])
        deadlines = cells("//table[contains(@class, 'o_hocba_report_deadlines')]//tbody/tr/td")
        self.assertEqual(deadlines[1:3] + deadlines[4:5], ["06/15/2036", "10 days left", "2"])
        late = cells("//table[contains(@class, 'o_hocba_report_late')]//tr[@data-class='3B']/td")
        self.assertEqual(
            late[2:], [self.users["home_b"].name, "%s (8), no teacher assigned (40)" % self.users["home_b"].name]
        )
        self.assertIn(
            "Nothing signed in the last 14 days",
            cells("//table[contains(@class, 'o_hocba_report_late')]//tr[@data-class='3A']/td")[1],
        )

    def test_cron_mails_each_school_its_report(self):
        other = self.env["res.company"].create({"name": "Trường Tiểu học Khác"})
        principal_b = new_test_user(
            self.env,
            login="t_principal_b",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
            name="Principal B",
            groups="base.group_user,hocba_digital.group_hocba_principal",
        )
        self.env["hr.employee"].create({"name": "Principal B", "user_id": principal_b.id, "company_id": other.id})
        year_b = self.env["school.year"].create(
            {
                "date_start": D(2035, 9, 5),
                "term1_end_date": D(2036, 1, 17),
                "date_end": D(2036, 5, 31),
                "state": "open",
                "company_id": other.id,
            }
        )
        self.env["school.class"].create({"grade": "1", "section": "A", "year_id": year_b.id, "company_id": other.id})
        self.env["school.year"]._cron_hocba_progress_report()

        message = self.year.message_ids.filtered("attachment_ids")
        self.assertEqual(len(message), 1)
        self.assertTrue(base64.b64decode(message.attachment_ids.datas).startswith(b"%PDF"))
        recipients = message.notification_ids.res_partner_id
        self.assertEqual(recipients, message.partner_ids)
        self.assertLessEqual((self.principal | self.vice).partner_id, recipients)
        for role in (
            "subject_teacher",
            "homeroom_teacher",
            "head_of_group",
            "it_officer",
            "clerk",
            "accountant",
            "parent",
        ):
            self.assertNotIn(self.users[role].partner_id, recipients, role)
        self.assertNotIn(principal_b.partner_id, recipients)
        message_b = year_b.message_ids.filtered("attachment_ids")
        self.assertEqual(message_b.partner_ids, principal_b.partner_id)
        mails = self.env["mail.mail"].search([("mail_message_id", "=", message.id)])
        self.assertTrue(mails.recipient_ids <= recipients)

    def test_deadline_alerts_once_per_class_until_the_projection_changes(self):
        self.sign(self.subj)
        self.sign(self.home)
        Activity = self.env["mail.activity"]
        alert = self.env.ref("hocba_digital.mail_activity_type_hocba_deadline")

        def open_alerts(school_class):
            return Activity.search(
                [
                    ("res_model", "=", "school.class"),
                    ("res_id", "=", school_class.id),
                    ("activity_type_id", "=", alert.id),
                    ("user_id", "=", self.principal.id),
                ]
            )

        # 12 signatures on 20 May: nothing in the window of 5 June, the deadline 10 days away
        self.set_signed_at(D(2036, 5, 20))
        self.year._hocba_check_progress_alerts(TEN_DAYS_BEFORE_SIGNING)
        stalled_a, stalled_b = open_alerts(self.class_a), open_alerts(self.class_b)
        self.assertEqual((len(stalled_a), len(stalled_b)), (1, 1))
        self.assertIn("Nothing signed in the last 14 days", stalled_a.note)
        self.assertIn(self.head.name, stalled_a.note)  # who 3A waits for
        self.assertIn("3A may miss the deadline: Signed and issued", stalled_a.summary)
        self.assertNotIn(self.users["vice_principal"], Activity.search([("activity_type_id", "=", alert.id)]).user_id)
        # the next day, the same projection: nothing new
        self.assertFalse(self.year._hocba_check_progress_alerts(D(2036, 6, 6)))
        # one signature on 4 June: 1 a fortnight, 2 left: done on 3 July, late
        self.set_signed_at(D(2036, 6, 4), self.transcript_a.signature_ids[:1])
        self.year._hocba_check_progress_alerts(TEN_DAYS_BEFORE_SIGNING)
        late_a = open_alerts(self.class_a)
        self.assertEqual(len(late_a), 1)
        self.assertNotEqual(late_a, stalled_a)
        self.assertIn("07/03/2036", late_a.note)
        self.assertEqual(open_alerts(self.class_b), stalled_b)
        # all 12 on 4 June: 6 a week, 2 left: on track, the alert is closed
        self.set_signed_at(D(2036, 6, 4))
        self.year._hocba_check_progress_alerts(TEN_DAYS_BEFORE_SIGNING)
        self.assertFalse(open_alerts(self.class_a))
        self.assertTrue(any("Back on track." in body for body in self.class_a.message_ids.mapped("body")))
        # the deadline passes: both overdue, a new alert each
        self.year._hocba_check_progress_alerts(D(2036, 6, 16))
        self.assertIn("The deadline has passed", open_alerts(self.class_a).note)
        self.assertNotEqual(open_alerts(self.class_b), stalled_b)
        self.assertEqual(len(open_alerts(self.class_b)), 1)

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.models")
    def test_access(self):
        for role in ("subject_teacher", "homeroom_teacher", "head_of_group", "clerk", "accountant"):
            with self.subTest(role=role), self.assertRaises(AccessError):
                self.env["hocba.progress"].with_user(self.users[role]).hocba_dashboard_data(self.year.id)
        it = self.users["it_officer"]
        data = self.env["hocba.progress"].with_user(it).hocba_dashboard_data(self.year.id)
        self.assertEqual((data["year_id"], data["can_send"]), (self.year.id, False))
        self.assertEqual(
            self.year.with_user(it).action_hocba_print_progress()["report_name"], "hocba_digital.report_progress"
        )
        with self.assertRaises(AccessError):
            self.year.with_user(it).action_hocba_send_progress()
        self.assertFalse(self.year.message_ids.filtered("attachment_ids"))
        self.year.with_user(self.vice).action_hocba_send_progress()
        self.assertEqual(len(self.year.message_ids.filtered("attachment_ids")), 1)
        # another school's classes are not in the figures
        other = self.env["res.company"].create({"name": "Trường Tiểu học Khác"})
        self.vice.company_ids = [(4, other.id)]
        other_year = self.env["school.year"].create(
            {
                "date_start": D(2035, 9, 5),
                "term1_end_date": D(2036, 1, 17),
                "date_end": D(2036, 5, 31),
                "company_id": other.id,
            }
        )
        self.env["school.class"].create(
            {"grade": "2", "section": "A", "year_id": other_year.id, "company_id": other.id}
        )
        rows = (
            self.env["hocba.progress"]
            .with_user(self.vice)
            .with_context(allowed_company_ids=[self.company.id])
            .search([])
        )
        self.assertNotIn(other, rows.company_id)
        self.assertIn(self.class_a, rows.class_id)
