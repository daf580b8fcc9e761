import base64
import datetime
import io
import json
import zipfile

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged

from ..lib.documents import transfer_package
from ..lib.rules import personal_id as pid
from ..lib.sandbox import pki_factory as pf
from .signing_common import PIN, SigningCase


def unzip(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@tagged("post_install", "-at_install")
class TestIssueAndTransfer(HttpCase, SigningCase):
    """The clerk issues copies, extracts and transfer packages of a pupil's
    signed transcripts, each registered; another school (a second company of
    the same database, which trusts the sender's root) imports the package:
    every file verifies and is attached read-only, or nothing is imported."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        # version 1 issued, then corrected: version 2 issued, version 1 superseded
        cls._sign_chain(approve=True)
        cls.first = cls.transcript_a.current_version_id
        cls.transcript_a.with_user(cls.home).action_request_correction("Nhận xét bị nhầm.")
        cls.transcript_a.with_user(cls.principal).action_open_correction()
        cls.result_english_a.with_user(cls.subj).comment = "Tiến bộ rõ rệt."
        cls._sign_chain(until_seal=True)
        cls.second = cls.transcript_a.current_version_id
        # the XML as it was before the seal signed: a tier is missing
        cls.unsealed_xml = base64.b64decode(cls.second.xml_file)
        cls._sign_chain(only_seal=True)
        assert (cls.first.state, cls.second.state) == ("superseded", "issued")

        cls.mother = env["res.partner"].create({"name": "Trần Thị Lan"})
        cls.other_pki = pf.build_pki([], prefix="OTHER", base_url="http://127.0.0.1:9")
        # the receiving school trusts its own CA and the sender's
        cls.school_b = env["res.company"].create({"name": "Trường Tiểu học Bình Minh", "hocba_school_code": "B-01"})
        cls.school_b.sudo().write(
            {
                "hocba_trusted_roots_pem": (cls.other_pki.root_pem + cls.pki.root_pem).decode(),
                "hocba_revocation_check": "off",
            }
        )
        in_b = {"company_id": cls.school_b.id, "company_ids": [(6, 0, cls.school_b.ids)], "lang": "en_US"}
        cls.clerk_b = new_test_user(
            env, login="t_clerk_b", name="Clerk B", groups=("base.group_user,hocba_digital.group_hocba_clerk"), **in_b
        )
        cls.home_b = new_test_user(
            env,
            login="t_home_b_school",
            name="Homeroom B",
            groups=("base.group_user,hocba_digital.group_hocba_homeroom_teacher"),
            **in_b,
        )
        cls.teacher_b = new_test_user(
            env,
            login="t_teacher_b",
            name="Teacher B",
            groups=("base.group_user,hocba_digital.group_hocba_homeroom_teacher"),
            **in_b,
        )
        env_b = env(context=dict(env.context, allowed_company_ids=cls.school_b.ids))
        year_b = env_b["school.year"].create(
            {
                "date_start": datetime.date(2036, 9, 5),
                "term1_end_date": datetime.date(2037, 1, 16),
                "date_end": datetime.date(2037, 5, 29),
                "company_id": cls.school_b.id,
            }
        )
        employee = env_b["hr.employee"].create(
            {"name": "Homeroom B", "user_id": cls.home_b.id, "company_id": cls.school_b.id}
        )
        class_b = env_b["school.class"].create(
            {
                "grade": "4",
                "section": "A",
                "year_id": year_b.id,
                "company_id": cls.school_b.id,
                "homeroom_employee_id": employee.id,
            }
        )
        # the same child, enrolled at school B (its personal ID is still held by
        # the record at school A: the number is unique in the database)
        cls.pupil_b = env_b["school.student"].create(
            {
                "name": cls.student_a.name,
                "sex": "female",
                "birth_date": cls.student_a.birth_date,
                "class_id": class_b.id,
                "company_id": cls.school_b.id,
                "status": "transferred_in",
            }
        )
        cls.parent_b = new_test_user(env, login="t_parent_b", name="Parent B", groups="base.group_portal", **in_b)
        cls.pupil_b.guardian_ids = [(4, cls.parent_b.partner_id.id)]

    @classmethod
    def _sign_chain(cls, approve=False, until_seal=False, only_seal=False):
        steps = [(cls.subj, "personal"), (cls.home, "personal"), (cls.principal, "personal"), (cls.clerk, "seal")]
        steps = steps[-1:] if only_seal else steps[:-1] if until_seal else steps
        Service = cls.env["hocba.signing.service"]
        for user, purpose in steps:
            if approve and user == cls.principal:
                cls.class_a.with_user(cls.head).action_lock()
                cls.class_a.with_user(cls.vice).action_approve()
            result = Service.with_user(user).hocba_sign(cls.transcript_a.ids, PIN, purpose)
            assert not result["failed"] and result["signed"], (user.name, result)

    # ---- helpers ----

    def issue(self, kind, user=None, **values):
        if "requester_partner_id" not in values:
            values.setdefault("requester_name", "Trần Thị Lan")
        values.setdefault("reason", "Hồ sơ xin học bổng")
        wizard = self.env["hocba.issue.wizard"].with_user(user or self.clerk).create(dict(values, kind=kind))
        wizard.action_issue()
        return wizard, base64.b64decode(wizard.result_file)

    def transfer_out(self):
        wizard, data = self.issue(
            "transfer_out",
            student_id=self.student_a.id,
            requester_name="Trường Bình Minh",
            requester_relation="other_school",
            reason="Chuyển trường",
        )
        return wizard.log_id, data

    def import_package(self, data, pupil=None, user=None, company=None):
        wizard = (
            self.env["hocba.transfer.import.wizard"]
            .with_user(user or self.clerk_b)
            .with_company(company or self.school_b)
            .create(
                {"file": base64.b64encode(data), "filename": "package.zip", "student_id": (pupil or self.pupil_b).id}
            )
        )
        wizard.action_check()
        if wizard.state == "ready":
            wizard.action_import()
        return wizard

    def counts(self):
        return (
            self.env["hocba.transfer.document"].sudo().search_count([]),
            self.env["hocba.issue.log"].sudo().search_count([("kind", "=", "transfer_in")]),
        )

    # ---- copies and extracts ----

    def test_copy_is_the_signed_pdf_unchanged_and_registered(self):
        wizard, data = self.issue(
            "copy", version_id=self.second.id, requester_partner_id=self.mother.id, requester_relation="parent"
        )
        self.assertEqual(data, base64.b64decode(self.second.pdf_file))
        log = wizard.log_id
        self.assertEqual(
            (log.kind, log.channel, log.student_id, log.version_ids),
            ("copy", "back_office", self.student_a, self.second),
        )
        self.assertEqual(
            (log.requester_name, log.requester_relation, log.issued_by_id), ("Trần Thị Lan", "parent", self.clerk)
        )
        self.assertEqual(log.file_sha256, self.second.pdf_sha256)
        self.assertEqual(log.reason, "Hồ sơ xin học bổng")
        self.assertTrue(log.name)
        # the register is read, never changed, even by the administrator
        self.assertEqual(log.with_user(self.vice).read(["name"])[0]["name"], log.name)
        with self.assertRaises(UserError):
            log.sudo().write({"requester_name": "Người khác"})
        with self.assertRaises(UserError):
            log.sudo().unlink()
        # a second copy takes the next number
        second_log = self.issue("copy", version_id=self.first.id)[0].log_id
        self.assertNotEqual(second_log.name, log.name)
        self.assertEqual(second_log.note, "Superseded version")

    def test_extract_has_cover_sheet_and_signed_files(self):
        wizard, data = self.issue("extract", version_id=self.second.id, requester_relation="authority")
        files = unzip(data)
        xml, pdf = self.files(self.second)
        self.assertEqual(files[self.second.xml_filename], xml)
        self.assertEqual(files[self.second.pdf_filename], pdf)
        self.assertTrue(files["0-cover-sheet.pdf"].startswith(b"%PDF-"))
        log = wizard.log_id
        self.assertEqual((log.kind, log.version_ids, log.document_count), ("extract", self.second, 3))
        self.assertEqual(log.file_sha256, transfer_package.sha256(data))

    def test_only_the_clerk_issues(self):
        for user in (self.principal, self.home, self.users["it_officer"]):
            with self.subTest(user=user.name), self.assertRaises(AccessError):
                self.issue("copy", user=user, version_id=self.second.id)
        with self.assertRaises(AccessError):
            self.import_package(b"PK", user=self.home_b)

    def test_stored_file_that_changed_is_not_handed_out(self):
        pdf = bytearray(base64.b64decode(self.second.pdf_file))
        pdf[len(pdf) // 2] ^= 0x01
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [("res_model", "=", "hocba.version"), ("res_id", "=", self.second.id), ("res_field", "=", "pdf_file")]
            )
        )
        attachment.write({"datas": base64.b64encode(bytes(pdf))})
        self.second.invalidate_recordset(["pdf_file"])
        before = self.env["hocba.issue.log"].sudo().search_count([])
        with self.assertRaisesRegex(UserError, "does not match the SHA-256"):
            self.issue("copy", version_id=self.second.id)
        self.assertEqual(self.env["hocba.issue.log"].sudo().search_count([]), before)

    # ---- transfer out and in ----

    def test_transfer_round_trip(self):
        log, data = self.transfer_out()
        self.assertEqual(
            (log.kind, log.student_id, log.version_ids, log.issued_by_id),
            ("transfer_out", self.student_a, self.first | self.second, self.clerk),
        )
        self.assertEqual(log.file_sha256, transfer_package.sha256(data))
        self.assertEqual(log.document_count, 4)
        files = unzip(data)
        manifest = json.loads(files["manifest.json"])
        self.assertEqual(manifest["pupil"]["full_name"], self.student_a.name)
        self.assertNotIn("personal_id", manifest["pupil"])
        self.assertNotIn(self.student_a.sudo().personal_id, files["manifest.json"].decode())
        by_version = {(e["version"], e["kind"]): e for e in manifest["documents"]}
        self.assertEqual(by_version[(1, "pdf")]["state"], "superseded")
        self.assertEqual(by_version[(2, "xml")]["state"], "issued")
        for (number, kind), entry in by_version.items():
            version = self.first if number == 1 else self.second
            original = self.files(version)[0 if kind == "xml" else 1]
            self.assertEqual(files[entry["path"]], original, entry["path"])
            self.assertEqual(entry["sha256"], transfer_package.sha256(original))

        wizard = self.import_package(data)
        self.assertEqual(wizard.state, "done", wizard.summary)
        documents = self.env["hocba.transfer.document"].search([("student_id", "=", self.pupil_b.id)])
        self.assertEqual(len(documents), 4)
        self.assertTrue(all(documents.mapped("verified")))
        self.assertEqual(set(documents.mapped("company_id")), {self.school_b})
        superseded = documents.filtered(lambda d: d.state == "superseded")
        self.assertEqual(set(superseded.mapped("document_id")), {self.first.document_id})
        pdf = documents.filtered(lambda d: d.kind == "pdf" and d.version == 2)
        self.assertEqual(base64.b64decode(pdf.file), self.files(self.second)[1])
        self.assertEqual((pdf.school_name, pdf.school_year, pdf.class_name), (self.company.name, self.year.name, "3A"))
        self.assertIn("Đỗ Thị Hạnh", pdf.report_html)  # the principal's signature
        received = wizard.log_id
        self.assertEqual(
            (
                received.kind,
                received.company_id,
                received.student_id,
                received.file_sha256,
                received.transfer_document_ids,
            ),
            ("transfer_in", self.school_b, self.pupil_b, log.file_sha256, documents),
        )
        self.assertIn(self.company.name, received.other_school)
        # read-only for everybody
        for target, error in ((documents[0].with_user(self.clerk_b), AccessError), (documents[0].sudo(), UserError)):
            with self.assertRaises(error):
                target.write({"school_year": "2000-2001"})
            with self.assertRaises(error):
                target.unlink()
        # who sees them: the pupil's homeroom teacher, not another teacher, not school A
        Document = self.env["hocba.transfer.document"]
        self.assertEqual(Document.with_user(self.home_b).search([]), documents)
        self.assertFalse(Document.with_user(self.teacher_b).search([]))
        self.assertFalse(Document.with_user(self.clerk).search([]))
        # the pupil's guardians find the current ones on the portal
        self.authenticate("t_parent_b", "t_parent_b")
        listing = self.url_open("/my/hocba").text
        self.assertIn(self.company.name, listing)
        self.assertIn("/my/hocba/received/%s" % pdf.id, listing)
        response = self.url_open("/my/hocba/received/%s" % pdf.id)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, self.files(self.second)[1])
        taken = (
            self.env["hocba.issue.log"]
            .sudo()
            .search([("channel", "=", "portal"), ("student_id", "=", self.pupil_b.id)])
        )
        self.assertEqual(
            (taken.kind, taken.requester_partner_id, taken.file_sha256), ("copy", self.parent_b.partner_id, pdf.sha256)
        )
        old = superseded.filtered(lambda d: d.kind == "pdf")
        self.assertEqual(self.url_open("/my/hocba/received/%s" % old.id).status_code, 404)
        self.authenticate("t_parent", "t_parent")  # another family
        self.assertEqual(self.url_open("/my/hocba/received/%s" % pdf.id).status_code, 404)
        self.assertFalse(Document.with_user(self.users["parent"]).search([]))
        # the same package twice is refused
        again = self.import_package(data)
        self.assertEqual(again.state, "refused")
        self.assertIn("imported for", again.report_html)
        # and the new school can pass them on
        moving_on = (
            self.env["hocba.issue.wizard"]
            .with_user(self.clerk_b)
            .with_company(self.school_b)
            .create(
                {
                    "kind": "transfer_out",
                    "student_id": self.pupil_b.id,
                    "requester_name": "Trường C",
                    "reason": "Chuyển trường",
                }
            )
        )
        moving_on.action_issue()
        manifest = json.loads(unzip(base64.b64decode(moving_on.result_file))["manifest.json"])
        self.assertEqual(len(manifest["documents"]), 4)
        self.assertEqual({d["school"]["name"] for d in manifest["documents"]}, {self.company.name})

    def assertRefused(self, data, expected, pupil=None, company=None):
        before = self.counts()
        wizard = self.import_package(data, pupil=pupil, company=company)
        self.assertEqual(wizard.state, "refused", wizard.summary)
        self.assertIn("Nothing was imported", wizard.summary)
        self.assertIn(expected, wizard.report_html)
        wizard.action_import()  # a refused package cannot be forced in
        self.assertEqual(wizard.state, "refused")
        self.assertEqual(self.counts(), before)
        return wizard

    def test_tampered_packages_are_refused_whole(self):
        _log, data = self.transfer_out()
        files = unzip(data)
        manifest = json.loads(files["manifest.json"])
        pdf_entry = next(e for e in manifest["documents"] if e["kind"] == "pdf" and e["version"] == 2)

        def tampered_pdf(update_manifest):
            changed = dict(files)
            pdf = bytearray(changed[pdf_entry["path"]])
            pdf[len(pdf) // 3] ^= 0x20
            changed[pdf_entry["path"]] = bytes(pdf)
            if update_manifest:
                copy = json.loads(files["manifest.json"])
                for entry in copy["documents"]:
                    if entry["path"] == pdf_entry["path"]:
                        entry["sha256"] = transfer_package.sha256(bytes(pdf))
                changed["manifest.json"] = json.dumps(copy).encode()
            return rezip(changed)

        with self.subTest("one byte of a PDF changed"):
            self.assertRefused(tampered_pdf(False), "does not match the manifest")
        with self.subTest("one byte of a PDF changed, manifest hash made to match"):
            self.assertRefused(tampered_pdf(True), "do not verify")
        with self.subTest("a manifest hash changed"):
            copy = json.loads(files["manifest.json"])
            copy["documents"][0]["sha256"] = "0" * 64
            self.assertRefused(
                rezip(dict(files, **{"manifest.json": json.dumps(copy).encode()})), "does not match the manifest"
            )
        with self.subTest("a file removed"):
            self.assertRefused(
                rezip({k: v for k, v in files.items() if k != pdf_entry["path"]}), "missing from the package"
            )
        with self.subTest("a file added"):
            self.assertRefused(rezip(dict(files, **{"documents/x/evil.pdf": b"%PDF-1.4"})), "not in the manifest")
        with self.subTest("a superseded version hidden as the current one"):
            copy = json.loads(files["manifest.json"])
            for entry in copy["documents"]:
                if entry["version"] == 1:
                    entry["state"] = "issued"
            self.assertRefused(
                rezip(dict(files, **{"manifest.json": json.dumps(copy).encode()})),
                "a newer document in the package replaces it",
            )
        with self.subTest("not a package"):
            self.assertRefused(b"%PDF-1.4 not a zip", "not a ZIP file")

    def test_untrusted_root_is_refused(self):
        _log, data = self.transfer_out()
        self.school_b.sudo().hocba_trusted_roots_pem = self.other_pki.root_pem.decode()
        wizard = self.assertRefused(data, "do not verify")
        self.assertIn("not trusted", wizard.report_html)

    def test_missing_tier_is_refused(self):
        common = {
            "document_id": self.second.document_id,
            "version": 2,
            "state": "issued",
            "school_year": self.year.name,
            "class_name": "3A",
            "grade": 3,
        }
        data, _manifest = transfer_package.build(
            {"name": self.company.name},
            {"full_name": self.student_a.name},
            [dict(common, kind="xml", data=self.unsealed_xml)],
        )
        wizard = self.assertRefused(data, "do not verify")
        self.assertIn("missing tier", wizard.report_html)

    def test_package_of_another_pupil_is_refused(self):
        _log, data = self.transfer_out()
        other = (
            self.env["school.student"]
            .with_company(self.school_b)
            .create(
                {
                    "name": "Phạm Gia Bảo",
                    "sex": "male",
                    "birth_date": datetime.date(2017, 5, 5),
                    "company_id": self.school_b.id,
                }
            )
        )
        self.assertRefused(data, "not Phạm Gia Bảo", pupil=other)
        other.sudo().write(
            {
                "name": self.student_a.name,
                "sex": "female",
                "birth_date": self.student_a.birth_date,
                "personal_id": pid.make("031", "female", 2017, 1234),
            }
        )
        wizard = self.assertRefused(data, "another personal ID", pupil=other)
        self.assertNotIn(other.sudo().personal_id, wizard.report_html)
