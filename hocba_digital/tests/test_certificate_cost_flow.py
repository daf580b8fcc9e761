import base64
import datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError, ValidationError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged

from ..lib.rules import certificate_costs as cc
from ..lib.sandbox import pki_factory as pf
from .common import HocbaCase
from .lib_tools import read_sheet

UTC = datetime.timezone.utc
EXPIRY = "hocba_digital.mail_activity_type_hocba_certificate_expiry"
DEADLINE = "hocba_digital.mail_activity_type_hocba_certificate_deadline"


class CertificateCostCase(HocbaCase):
    """HocbaCase with a test PKI around 2036 (the test school year 2035-2036,
    signing deadline 15 June 2036) and a helper to register certificates."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pki = pf.build_pki([], prefix="TEST", key_type="ec", now=datetime.datetime(2035, 12, 1, tzinfo=UTC))
        cls.accountant = cls.users["accountant"]

    @classmethod
    def certificate(cls, user, not_after, purpose="personal", company=None, **vals):
        issued = cls.pki.issue_signer(
            pf.Person(
                "u%s" % (user.id if user else "seal"),
                user.name if user else "Seal",
                "CCCD:%012d" % (user.id if user else 0),
            ),
            not_before=datetime.datetime(2035, 6, 1, tzinfo=UTC),
            not_after=datetime.datetime.combine(not_after, datetime.time(12), tzinfo=UTC),
        )
        return cls.env["hocba.certificate"].create(
            dict(
                {
                    "purpose": purpose,
                    "user_id": user.id if user else False,
                    "certificate_pem": issued.cert_pem.decode(),
                    "backend": "pkcs11",
                    "pkcs11_module": "/usr/lib/softhsm/libsofthsm2.so",
                    "pkcs11_token_label": "token",
                    "company_id": (company or cls.company).id,
                },
                **vals,
            )
        )


@tagged("post_install", "-at_install")
class TestCertificateCostLines(CertificateCostCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cert_subj = cls.certificate(cls.users["subject_teacher"], datetime.date(2036, 9, 1), provider="vnpt")
        cls.line_2036 = cls.env["hocba.budget.line"].create(
            {"name": "Chữ ký số", "code": "CKS", "fiscal_year": 2036, "planned_amount": 5_000_000}
        )

    def _cost(self, **vals):
        return (
            self.env["hocba.certificate.cost"]
            .with_user(self.accountant)
            .create(
                dict(
                    {
                        "certificate_id": self.cert_subj.id,
                        "kind": "renewal",
                        "amount": 1_650_000,
                        "date": datetime.date(2036, 1, 10),
                    },
                    **vals,
                )
            )
        )

    def test_type_and_provider_follow_certificate(self):
        self.assertEqual(self.cert_subj.cert_type, "token")
        self.cert_subj.backend = "csc"
        self.assertEqual(self.cert_subj.cert_type, "remote")
        cost = self._cost()
        self.assertEqual(
            (cost.provider, cost.cert_type, cost.holder_id), ("vnpt", "remote", self.users["subject_teacher"])
        )
        self.assertEqual(cost.payer_id, self.company.partner_id)
        self.assertEqual(cost.currency_id, self.env.ref("base.VND"))

    def test_family_never_pays(self):
        Cost = self.env["hocba.certificate.cost"].with_user(self.accountant)
        count = Cost.search_count([])
        contact = self.env["res.partner"].create({"name": "Mai Anh's mother, office", "parent_id": self.guardian.id})
        father_b = self.env["res.partner"].create({"name": "Trần Văn Nam"})
        self.student_b.guardian_ids = [Command.link(father_b.id)]
        grandfather = self.env["res.partner"].create({"name": "Trần Văn Lộc", "hocba_guardian_relation": "guardian"})
        for payer in (self.guardian, contact, father_b, grandfather):
            with self.subTest(payer=payer.name), self.assertRaises(ValidationError) as refusal:
                self._cost(payer_id=payer.id)
            self.assertIn("never by a pupil or a family", str(refusal.exception))
        self.assertEqual(Cost.search_count([]), count, "nothing half written")
        cost = self._cost()
        for payer in (father_b, self.guardian):
            with self.subTest(write=payer.name), self.assertRaises(ValidationError):
                cost.write({"payer_id": payer.id})
                cost.flush_recordset()
        cost.invalidate_recordset()
        self.assertEqual(cost.payer_id, self.company.partner_id)
        supplier = self.env["res.partner"].create({"name": "VNPT Hải Phòng", "is_company": True})
        cost.write({"payer_id": supplier.id})  # another body may fund it
        self.assertEqual(cost.payer_id, supplier)

    def test_budget_comparison(self):
        self._cost(budget_line_id=self.line_2036.id)
        token = self._cost(kind="token", amount=550_000, budget_line_id=self.line_2036.id)
        self._cost(date=datetime.date(2035, 12, 1))
        self.assertEqual(
            (
                self.line_2036.actual_amount,
                self.line_2036.remaining_amount,
                self.line_2036.used_percent,
                self.line_2036.overspent,
            ),
            (2_200_000, 2_800_000, 44.0, False),
        )
        token.amount = 4_000_000
        self.assertEqual((self.line_2036.actual_amount, self.line_2036.overspent), (5_650_000, True))
        with self.assertRaises(ValidationError):
            self._cost(date=datetime.date(2035, 12, 31), budget_line_id=self.line_2036.id)
        with self.assertRaises(ValidationError):
            self._cost(amount=-1)
        self.assertEqual(self.cert_subj.with_user(self.accountant).cost_total, 7_300_000)

    def test_pivot_per_year_provider_type_holder(self):
        self._cost()
        self._cost(kind="token", amount=550_000)
        self._cost(kind="issuance", amount=1_500_000, date=datetime.date(2035, 1, 10))
        groups = (
            self.env["hocba.certificate.cost"]
            .with_user(self.accountant)
            ._read_group(
                [("certificate_id", "=", self.cert_subj.id)],
                ["date:year", "provider", "cert_type", "holder_id"],
                ["amount:sum"],
            )
        )
        self.assertEqual(
            [(year.year, provider, cert_type, holder, total) for year, provider, cert_type, holder, total in groups],
            [
                (2035, "vnpt", "token", self.users["subject_teacher"], 1_500_000),
                (2036, "vnpt", "token", self.users["subject_teacher"], 2_200_000),
            ],
        )

    def test_costs_hidden_from_teachers_credentials_from_accountant(self):
        self._cost()
        teacher = self.users["subject_teacher"]
        own = self.cert_subj.with_user(teacher)
        self.assertEqual(own.read(["provider"])[0]["provider"], "vnpt")
        with self.assertRaises(AccessError):
            own.read(["cost_total"])
        with self.assertRaises(AccessError):
            self.env["hocba.certificate.cost"].with_user(teacher).search([])
        as_accountant = self.cert_subj.with_user(self.accountant)
        self.assertTrue(as_accountant.read(["provider", "not_after", "cost_total"]))
        for secret in ("csc_username", "csc_password", "sealed_key"):
            with self.subTest(field=secret), self.assertRaises(AccessError):
                as_accountant.read([secret])

    def test_clerk_files_legal_documents(self):
        clerk = self.users["clerk"]
        document = (
            self.env["hocba.certificate.document"]
            .with_user(clerk)
            .create(
                {
                    "certificate_id": self.cert_subj.id,
                    "kind": "contract",
                    "name": "Hợp đồng",
                    "reference": "12/HĐ-VNPT",
                    "file": base64.b64encode(b"%PDF-1.1"),
                    "file_name": "hop-dong.pdf",
                }
            )
        )
        self.assertEqual(self.cert_subj.with_user(clerk).document_count, 1)
        self.assertEqual(base64.b64decode(document.with_user(self.accountant).file), b"%PDF-1.1")
        with self.assertRaises(AccessError):
            document.with_user(self.users["it_officer"]).write({"name": "x"})
        with self.assertRaises(AccessError):
            document.with_user(self.users["subject_teacher"]).read(["name"])


@tagged("post_install", "-at_install")
class TestCertificateForecast(CertificateCostCase):
    """Forecast and workbook of a school of their own, on known data."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.school = cls.env["res.company"].create({"name": "Trường Tiểu học Kiểm Thử"})
        for role in ("accountant", "it_officer", "principal", "subject_teacher", "home_b"):
            cls.users[role].company_ids = [Command.link(cls.school.id)]
        cls.a = cls.certificate(
            cls.users["subject_teacher"],
            datetime.date(2036, 3, 1),
            company=cls.school,
            provider="vnpt",
            cert_type="soft",
        )
        cls.b = cls.certificate(
            cls.users["home_b"], datetime.date(2036, 1, 10), company=cls.school, provider="vnpt", cert_type="soft"
        )
        cls.seal = cls.certificate(
            None, datetime.date(2037, 6, 1), purpose="seal", company=cls.school, provider="gcc", cert_type="token"
        )
        cls.c = cls.certificate(
            cls.users["principal"],
            datetime.date(2036, 6, 1),
            company=cls.school,
            provider="viettel",
            backend="csc",
            csc_credential="cred",
        )
        Cost = cls.env["hocba.certificate.cost"].with_company(cls.school)
        Cost.create(
            [
                {
                    "certificate_id": cls.a.id,
                    "kind": "issuance",
                    "amount": 1_500_000,
                    "date": datetime.date(2035, 3, 1),
                    "company_id": cls.school.id,
                },
                {
                    "certificate_id": cls.b.id,
                    "kind": "renewal",
                    "amount": 1_650_000,
                    "date": datetime.date(2035, 1, 10),
                    "company_id": cls.school.id,
                },
                {
                    "certificate_id": cls.b.id,
                    "kind": "token",
                    "amount": 550_000,
                    "date": datetime.date(2035, 2, 1),
                    "company_id": cls.school.id,
                },
                {
                    "certificate_id": cls.c.id,
                    "kind": "subscription",
                    "amount": 1_100_000,
                    "date": datetime.date(2035, 6, 1),
                    "company_id": cls.school.id,
                },
            ]
        )

    def test_forecast_rows(self):
        Forecast = self.env["hocba.certificate.forecast"].with_user(self.accountant).with_company(self.school)
        rows = Forecast._hocba_rows(self.school, today=datetime.date(2035, 11, 30))
        self.assertEqual(
            [(r["certificate_id"], r["due_date"], r["days_left"], r["expected_amount"], r["basis"]) for r in rows],
            # both VNPT soft certificates: the latest price paid for one (a, March 2035)
            [
                (self.b.id, datetime.date(2036, 1, 10), 41, 1_500_000, "last_cost"),
                (self.a.id, datetime.date(2036, 3, 1), 92, 1_500_000, "last_cost"),
                (self.c.id, datetime.date(2036, 6, 1), 184, 1_100_000, "last_cost"),
            ],
        )
        # a renewal registered: the old certificate is no longer due
        renewed = self.certificate(
            self.users["home_b"], datetime.date(2037, 1, 10), company=self.school, provider="vnpt", cert_type="soft"
        )
        rows = Forecast._hocba_rows(self.school, today=datetime.date(2035, 11, 30))
        self.assertNotIn(self.b.id, [r["certificate_id"] for r in rows])
        self.assertNotIn(renewed.id, [r["certificate_id"] for r in rows])

    def test_forecast_action_and_workbook(self):
        with freeze_time("2035-11-30 03:00:00"):
            Forecast = (
                self.env["hocba.certificate.forecast"]
                .with_user(self.accountant)
                .with_context(allowed_company_ids=[self.school.id])
            )
            action = Forecast.action_hocba_open_forecast()
            rows = Forecast.search(action["domain"])
            self.assertEqual(sum(rows.mapped("expected_amount")), 4_100_000)
            self.assertEqual(len(Forecast.action_hocba_open_forecast()["domain"][0][2]), 3)
            self.assertFalse(rows.exists(), "a user's earlier forecast is replaced")
            download = Forecast.action_hocba_export_xlsx()
        export = self.env["hocba.certificate.cost.export"].browse(int(download["url"].split("&id=")[1].split("&")[0]))
        data = base64.b64decode(export.file)
        costs = read_sheet(data, "Costs")
        self.assertEqual(costs[2][0], "Date")
        self.assertEqual(costs[-1][0], "Total")
        self.assertEqual(costs[-1][7], 4_800_000)
        self.assertEqual(len(costs), 3 + 4 + 1)
        due = read_sheet(data, "Renewals due")
        self.assertEqual(due[-1][6], 4_100_000)
        self.assertEqual([row[2] for row in due[1:-1]], [self.b.display_name, self.a.display_name, self.c.display_name])


@tagged("post_install", "-at_install")
class TestCertificateExpiryWarnings(CertificateCostCase):
    """The daily check at each threshold, with frozen time, never repeated."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.it_officer = cls.users["it_officer"]
        cls.holder = cls.users["subject_teacher"]

    def _activities(self, cert, xmlid):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "hocba.certificate"),
                ("res_id", "=", cert.id),
                ("activity_type_id", "=", self.env.ref(xmlid).id),
            ]
        )

    def _run(self, day):
        with freeze_time(day):
            self.env["hocba.certificate"]._cron_hocba_certificate_expiry()
        self.env.invalidate_all()

    def test_thresholds_once_each(self):
        cert = self.certificate(self.holder, datetime.date(2036, 9, 1))  # after the deadline
        notes = lambda: cert.message_ids.filtered(  # noqa: E731
            lambda m: "expires on 01/09/2036" in (m.body or "")
        )
        self._run("2036-07-02")
        self.assertFalse(self._activities(cert, EXPIRY))
        expected = [("2036-07-03", 60), ("2036-08-02", 30), ("2036-08-25", 7)]
        for index, (day, threshold) in enumerate(expected, start=1):
            with self.subTest(day=day):
                self._run(day)
                activities = self._activities(cert, EXPIRY)
                self.assertLessEqual(self.it_officer | self.holder, activities.user_id)
                self.assertEqual(
                    set(activities.mapped("summary")), {"Certificate expires in %s days or less: renew it" % threshold}
                )
                self.assertEqual(cert.expiry_warned_days, threshold)
                self.assertEqual(len(notes()), index)
                # the next day's check says nothing more
                next_day = (datetime.date.fromisoformat(day) + datetime.timedelta(days=1)).isoformat()
                self._run(next_day)
                self.assertEqual(self._activities(cert, EXPIRY), activities)
                self.assertEqual(len(notes()), index)
        self.assertFalse(self._activities(cert, DEADLINE), "the deadline was already past")
        # the renewal arrives: warnings start afresh for the new certificate
        issued = self.pki.issue_signer(
            pf.Person("renew", self.holder.name, "CCCD:1"),
            not_before=datetime.datetime(2036, 8, 20, tzinfo=UTC),
            not_after=datetime.datetime(2037, 8, 31, tzinfo=UTC),
        )
        cert.certificate_pem = issued.cert_pem.decode()
        self.assertEqual(cert.expiry_warned_days, 0)

    def test_expires_before_signing_deadline_warned_loudly_once(self):
        cert = self.certificate(self.users["homeroom_teacher"], datetime.date(2036, 5, 1))
        later = self.certificate(self.users["head_of_group"], datetime.date(2036, 12, 1))
        self._run("2036-01-10")
        loud = self._activities(cert, DEADLINE)
        self.assertLessEqual(self.it_officer | self.users["principal"], loud.user_id)
        self.assertNotIn(self.users["homeroom_teacher"], loud.user_id)
        self.assertEqual(set(loud.mapped("summary")), {"EXPIRES BEFORE THE SIGNING DEADLINE"})
        self.assertEqual(cert.deadline_warned_year_id, self.year)
        self.assertFalse(self._activities(cert, EXPIRY), "112 days left: no expiry warning yet")
        self.assertFalse(self._activities(later, DEADLINE))
        self._run("2036-01-11")
        self._run("2036-03-02")  # 60 days: the expiry warning, not the loud one again
        self.assertEqual(self._activities(cert, DEADLINE), loud)
        self.assertTrue(self._activities(cert, EXPIRY))


@tagged("post_install", "-at_install")
class TestCertificateCoverage(CertificateCostCase):
    """Who must sign in a school of their own, and who is missing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        school = cls.school = env["res.company"].create({"name": "Trường Tiểu học Phủ Sóng"})
        roles = {
            "principal": "principal",
            "vice": "vice_principal",
            "teacher": "subject_teacher",
            "homeroom": "homeroom_teacher",
            "idle": "subject_teacher",
            "clerk": "clerk",
        }
        cls.staff = {}
        for key, role in roles.items():
            user = new_test_user(
                env,
                login="cov_" + key,
                name="Cov " + key,
                lang="en_US",
                groups="base.group_user,hocba_digital.group_hocba_" + role,
                company_id=school.id,
                company_ids=[Command.set(school.ids)],
            )
            cls.staff[key] = user
        cls.it_officer = cls.users["it_officer"]
        cls.it_officer.company_ids = [Command.link(school.id)]
        employees = {
            key: env["hr.employee"].create({"name": user.name, "user_id": user.id, "company_id": school.id})
            for key, user in cls.staff.items()
        }
        cls.cov_year = env["school.year"].create(
            {
                "date_start": datetime.date(2035, 9, 5),
                "term1_end_date": datetime.date(2036, 1, 17),
                "date_end": datetime.date(2036, 5, 31),
                "company_id": school.id,
            }
        )
        school_class = env["school.class"].create(
            {
                "grade": "2",
                "section": "A",
                "year_id": cls.cov_year.id,
                "company_id": school.id,
                "homeroom_employee_id": employees["homeroom"].id,
            }
        )
        env["school.teaching.assignment"].create(
            {"employee_id": employees["teacher"].id, "class_id": school_class.id, "subject_id": cls.subject_english.id}
        )
        valid = datetime.date(2036, 12, 31)
        cls.certificate(cls.staff["principal"], valid, company=school)
        cls.certificate(cls.staff["teacher"], valid, company=school)
        cls.certificate(cls.staff["homeroom"], datetime.date(2035, 10, 1), company=school)
        cls.seal = cls.certificate(cls.staff["clerk"], valid, purpose="seal", company=school)
        cls.at = datetime.datetime(2035, 11, 30, 8, 0)

    def _coverage(self, user=None):
        Certificate = self.env["hocba.certificate"].with_user(user or self.it_officer)
        return Certificate._hocba_certificate_coverage(self.school, self.cov_year, self.at)

    def test_figures(self):
        coverage = self._coverage()
        staff = self.staff
        self.assertEqual(
            coverage["required"],
            staff["principal"] | staff["vice"] | staff["teacher"] | staff["homeroom"] | staff["clerk"],
        )
        self.assertNotIn(staff["idle"], coverage["required"], "no teaching assignment")
        self.assertEqual(coverage["missing"], staff["vice"] | staff["homeroom"])
        self.assertEqual(coverage["missing_names"], ["Cov homeroom", "Cov vice"])
        self.assertEqual((coverage["required_count"], coverage["covered_count"], coverage["rate"]), (5, 3, 60.0))
        self.assertTrue(coverage["seal_covered"])
        problems = {(e["user"], e["need"]): e["problem"] for e in coverage["entries"]}
        self.assertEqual(problems[(staff["homeroom"], "personal")], "Expired on 01/10/2035")
        self.assertEqual(problems[(staff["vice"], "personal")], "No certificate registered")
        self.assertFalse(problems[(staff["clerk"], "seal")])

    def test_no_seal_certificate(self):
        self.seal.active = False
        coverage = self._coverage()
        self.assertNotIn(self.staff["clerk"], coverage["required"])
        self.assertEqual(coverage["missing_names"], ["Cov homeroom", "Cov vice", "School seal"])
        self.assertEqual((coverage["required_count"], coverage["covered_count"]), (5, 2))
        # a seal operated by the principal: one more need, not one more signer
        self.certificate(self.staff["principal"], datetime.date(2036, 2, 1), purpose="seal", company=self.school)
        coverage = self._coverage()
        self.assertTrue(coverage["seal_covered"])
        self.assertEqual((coverage["required_count"], coverage["covered_count"]), (4, 2))

    def test_seal_revoked_and_management_view(self):
        self.seal.revoked = True
        coverage = self._coverage(self.staff["principal"])
        self.assertIn(self.staff["clerk"], coverage["missing"])
        self.assertFalse(coverage["seal_covered"])
        self.assertEqual(coverage["rate"], 40.0)
        with self.assertRaises(AccessError):
            self._coverage(self.staff["teacher"])
        with freeze_time("2035-11-30 08:00:00"):
            action = (
                self.env["hocba.certificate.coverage.line"]
                .with_user(self.it_officer)
                .with_context(
                    allowed_company_ids=[self.school.id],
                )
                .action_hocba_open_coverage()
            )
        lines = self.env["hocba.certificate.coverage.line"].search(action["domain"])
        self.assertEqual(
            lines.filtered(lambda line: not line.covered).user_id,
            self.staff["vice"] | self.staff["homeroom"] | self.staff["clerk"],
        )
        self.assertIn("2 of 5", action["display_name"])
        self.assertEqual(cc.coverage_rate(5, 2), 40.0)
