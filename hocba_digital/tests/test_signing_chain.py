import base64
import datetime
import subprocess
import tempfile

from cryptography.hazmat.primitives import serialization

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .. import service_scope
from ..lib.documents import xml_profile
from ..lib.sandbox import pki_factory as pf
from ..lib.signing import pades, pades_verify, xades_verify
from ..lib.signing.keys import key_vault
from .crypto_tools import write_file, xmlsec1_verify
from .signing_common import PIN, SigningCase


@tagged("post_install", "-at_install")
class TestSigningChain(SigningCase):
    """The tier chain through the addon's own code path, with real keys."""

    def test_full_chain_issues_a_verified_version(self):
        version = self.sign_all()
        self.assertEqual(version.state, "issued")
        self.assertEqual(self.transcript_a.signing_state, "issued")
        xml, pdf = self.files(version)
        self.assertEqual(xml_profile.validate(xml), [])
        reports = xades_verify.verify(xml, self.roots())
        tiers = [r.tier for r in reports]
        subjects = self.transcript_a.subject_result_ids.subject_id
        self.assertEqual(tiers.count("subject_teacher"), len(subjects))
        self.assertEqual(tiers[-3:], ["homeroom_teacher", "principal", "seal"])
        self.assertTrue(all(r.ok for r in reports), [r.errors for r in reports if not r.ok])
        english = next(r for r in reports if r.wrapper_id == "sig-subject-NN1")
        self.assertEqual(english.signer_cn, "Lê Thị Hoa")
        self.assertEqual(english.covers, ["subject-NN1"])
        seal = reports[-1]
        self.assertEqual(set(seal.covers), {"data"} | {r.wrapper_id for r in reports[:-1]})
        # the PDF: three signatures, the last one locks, the XML travels inside
        report = pades_verify.verify(pdf, self.roots())
        self.assertTrue(report["verdict"], report)
        self.assertEqual([s["field"] for s in report["signatures"]], ["sig_homeroom", "sig_principal", "sig_seal"])
        embedded = pades.attachments(pdf)["hocba.xml"]
        self.assertEqual(xml_profile.parse(embedded)["pupil"]["full_name"], "Nguyễn Thị Mai Anh")
        self.assertEqual(version.xml_sha256, version._hocba_sha256(xml))
        self.assertIn("Nguyễn Thị Mai Anh", self._pdftotext(pdf))

    def _pdftotext(self, pdf):
        with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
            handle.write(pdf)
            handle.flush()
            return subprocess.run(["pdftotext", handle.name, "-"], capture_output=True, check=True).stdout.decode()

    def test_xmlsec1_verifies_every_core_signature(self):
        xml, _pdf = self.files(self.sign_all())
        ids = xades_verify.signature_ids(xml)
        with tempfile.TemporaryDirectory() as tmp:
            doc = write_file(tmp, "doc.xml", xml)
            root = write_file(tmp, "root.pem", self.pki.root_pem + self.pki.intermediate_pem)
            for signature_id in ids:
                returncode, out = xmlsec1_verify(
                    doc, signature_id, root, at=datetime.datetime.now(datetime.timezone.utc)
                )
                self.assertEqual(returncode, 0, (signature_id, out[-800:]))

    def test_a_later_tier_cannot_sign_first(self):
        result = self.sign(self.home)
        # the homeroom teacher signed their subjects; the record waits for English
        self.assertIn("NN1", " ".join(f["reason"] for f in result["failed"]))
        self.assertEqual(self.transcript_a.signing_state, "subjects")
        result = self.sign(self.principal)
        self.assertEqual(result["signed"], 0)
        self.assertEqual(self.sign(self.clerk, purpose="seal")["signed"], 0)
        self.sign(self.subj)
        self.assertEqual(self.sign(self.home)["signed"], 1)
        # homeroom signed but the class is not approved yet
        self.assertEqual(self.sign(self.principal)["signed"], 0)
        self.assertEqual(self.sign(self.clerk, purpose="seal")["signed"], 0)
        self.approve()
        self.assertEqual(self.sign(self.principal)["signed"], 1)
        self.assertEqual(self.sign(self.clerk, purpose="seal")["signed"], 1)

    def test_subject_sheet_must_be_submitted(self):
        self.sheet_english_a.sudo().state = "draft"
        result = self.sign(self.subj)
        self.assertEqual((result["signed"], result["remaining"]), (0, 1))
        self.assertIn("submit the end-of-year results", result["failed"][0]["reason"])

    def test_wrong_pin_signs_nothing(self):
        with self.assertRaises(UserError) as caught:
            self.sign(self.subj, pin="999999")
        self.assertIn("Wrong signing PIN", str(caught.exception))
        self.assertFalse(self.transcript_a.version_ids)

    def test_signed_subject_is_frozen_for_everyone(self):
        self.sign(self.subj)
        english = self.result_english_a
        for env_user in (self.subj, self.env.user):
            with self.assertRaises(UserError) as caught:
                english.with_user(env_user).sudo().comment = "Sửa sau khi ký"
            self.assertIn("is signed", str(caught.exception))
        # other subjects and the homeroom part are still open to their teacher
        self.sheet_home_a.sudo().state = "draft"
        self.traits_a.with_user(self.home).comment_yeu_nuoc = "Rất tốt"
        self.sheet_home_a.sudo().state = "submitted"
        self.sign(self.home)
        with self.assertRaises(UserError):
            self.transcript_a.sudo().homeroom_comment = "Đổi"

    def test_signatures_cannot_be_forged_or_edited(self):
        self.sign(self.subj)
        signature = self.transcript_a.signature_ids
        with self.assertRaises(UserError):
            signature.sudo().write({"signer_name": "Someone else"})
        with self.assertRaises(UserError):
            signature.sudo().unlink()
        with self.assertRaises(UserError):
            self.env["hocba.signature"].sudo().create(
                {
                    "version_id": signature.version_id.id,
                    "tier": "principal",
                    "wrapper_id": "sig-principal",
                    "signer_user_id": self.principal.id,
                    "signer_name": "x",
                    "certificate_id": self.certs["principal"].id,
                    "signed_at": "2036-05-01 00:00:00",
                    "content": "<x/>",
                }
            )
        with self.assertRaises(UserError):
            signature.version_id.sudo().write({"number": 7})

    @mute_logger("odoo.addons.hocba_digital.models.hocba_signing_service")
    def test_certificate_refusals(self):
        # another person's certificate is never used
        self.certs["subj"].sudo().user_id = self.home
        with self.assertRaises(UserError) as caught:
            self.sign(self.subj)
        self.assertIn("no signing certificate", str(caught.exception))
        self.certs["subj"].sudo().user_id = self.subj
        # a personal certificate does not sign as the school, nor a teacher as principal
        refusal = self.certs["subj"]._hocba_refusal(self.subj, "seal")
        self.assertIn("Only the school seal", refusal)
        self.assertIn("You do not sign as", self.certs["subj"]._hocba_refusal(self.subj, "principal"))
        self.assertIn("operated by", self.certs["seal"]._hocba_refusal(self.principal, "seal"))
        # expired
        past = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
        expired = self.pki.issue_signer(
            pf.Person("x", "Lê Thị Hoa", "CCCD:031190000001"),
            not_before=past,
            not_after=past + datetime.timedelta(days=30),
        )
        self.certs["subj"].sudo().active = False
        cert = self.make_certificate("x", self.subj, issued=expired)
        with self.assertRaises(UserError) as caught:
            self.sign(self.subj)
        self.assertIn("expired", str(caught.exception))
        # revoked
        cert.sudo().active = False
        self.certs["subj"].sudo().write({"active": True, "revoked": True})
        with self.assertRaises(UserError) as caught:
            self.sign(self.subj)
        self.assertIn("revoked", str(caught.exception))
        # no certificate at all
        self.certs["subj"].sudo().active = False
        with self.assertRaises(UserError) as caught:
            self.sign(self.subj)
        self.assertIn("no signing certificate", str(caught.exception))
        self.assertFalse(self.transcript_a.version_ids)

    def test_batch_keeps_what_was_signed_when_one_item_fails(self):
        self.sign(self.subj)
        # break one subject of the homeroom teacher on purpose: its sheet back to draft
        maths = self.transcript_a.subject_result_ids.filtered(
            lambda r: r.subject_id.code == "TOAN" and r.period == "end_year"
        )
        maths.sheet_id.sudo().state = "draft"
        result = self.sign(self.home)
        self.assertTrue(result["failed"])
        version = self.transcript_a.current_version_id
        signed = version.signature_ids.filtered(lambda s: s.tier == "subject_teacher").subject_id
        self.assertNotIn("TOAN", signed.mapped("code"))
        self.assertGreater(len(signed), 1)
        self.assertNotIn("homeroom_teacher", version.signature_ids.mapped("tier"))
        # resume: the sheet is submitted again, the next run signs only what is left
        maths.sheet_id.sudo().state = "submitted"
        before = len(version.signature_ids)
        result = self.sign(self.home)
        self.assertEqual(result["failed"], [])
        self.assertEqual(len(version.signature_ids), before + 2)  # Toán + homeroom

    def test_correction_makes_a_new_version_and_keeps_the_old(self):
        first = self.sign_all()
        xml_v1, pdf_v1 = self.files(first)
        with self.assertRaises(UserError):
            self.result_english_a.sudo().comment = "Sửa"
        with self.assertRaises(AccessError):
            self.transcript_a.with_user(self.subj).action_request_correction("Sai nhận xét")
        self.transcript_a.with_user(self.home).action_request_correction("Nhận xét môn Tiếng Anh bị nhầm.")
        self.assertEqual(self.transcript_a.correction_state, "requested")
        self.assertIn(self.principal, self.transcript_a.activity_ids.user_id)
        with self.assertRaises(AccessError):
            self.transcript_a.with_user(self.vice).action_open_correction()
        self.transcript_a.with_user(self.principal).action_open_correction()
        second = self.transcript_a.current_version_id
        self.assertEqual(second.number, 2)
        self.assertEqual(second.replaces_id, first)
        carried = second.signature_ids
        self.assertEqual(set(carried.mapped("tier")), {"subject_teacher"})
        # the English teacher corrects; only English loses its signature
        self.result_english_a.with_user(self.subj).comment = "Tiến bộ rõ rệt."
        invalid = second.signature_ids.filtered(lambda s: s.state == "invalidated")
        self.assertEqual(invalid.subject_id, self.subject_english)
        self.assertEqual(len(second._hocba_valid_signatures()), len(carried) - 1)
        # re-signed through the whole chain
        self.assertEqual(self.sign(self.subj)["signed"], 1)
        self.assertEqual(self.sign(self.home)["signed"], 1)  # only the homeroom tier
        self.assertEqual(self.sign(self.principal)["signed"], 1)
        self.assertEqual(self.sign(self.clerk, purpose="seal")["signed"], 1)
        self.assertEqual(second.state, "issued")
        self.assertEqual(first.state, "superseded")
        self.assertEqual(first.replaced_by_id, second)
        self.assertFalse(self.transcript_a.correction_state)
        # the old files did not change and still verify
        self.assertEqual(self.files(first), (xml_v1, pdf_v1))
        self.assertTrue(all(r.ok for r in xades_verify.verify(xml_v1, self.roots())))
        self.assertTrue(pades_verify.verify(pdf_v1, self.roots())["verdict"])
        xml_v2, _pdf = self.files(second)
        data = xml_profile.parse(xml_v2)
        self.assertEqual(data["header"]["replaces"], first.document_id)
        self.assertTrue(all(r.ok for r in xades_verify.verify(xml_v2, self.roots())))

    def test_tampering_breaks_exactly_the_covering_signatures(self):
        xml, pdf = self.files(self.sign_all())
        tampered = xml.replace("Tiến bộ tốt.".encode(), "Tiến bộ tốt!".encode(), 1)
        reports = {r.wrapper_id: r for r in xades_verify.verify(tampered, self.roots())}
        broken = {key for key, report in reports.items() if not report.intact}
        first_subject = xml_profile.parse(xml)["subjects"][0]["code"]
        self.assertEqual(broken, {"sig-subject-%s" % first_subject, "sig-homeroom", "sig-principal", "sig-seal"})
        # one byte of the PDF's signed range
        index = pdf.index(b"/Type /Page") + 2
        changed = pdf[:index] + bytes([pdf[index] ^ 1]) + pdf[index + 1 :]
        self.assertFalse(pades_verify.verify(changed, self.roots())["verdict"])

    def test_store_key_refuses_bad_input(self):
        cert = self.certs["subj"].with_user(self.users["it_officer"])
        with self.assertRaises(UserError) as caught:
            cert.hocba_store_pkcs12(base64.b64encode(b"not a p12"), "x", PIN)
        self.assertIn("cannot be opened", str(caught.exception))
        p12 = base64.b64encode(self.pki.to_pkcs12("subj", "pw"))
        with self.assertRaises(UserError) as caught:
            cert.hocba_store_pkcs12(p12, "pw", "111111")
        self.assertIn("PIN", str(caught.exception))
        with self.assertRaises(UserError) as caught:
            cert.hocba_store_pkcs12(base64.b64encode(self.pki.to_pkcs12("home", "pw")), "pw", PIN)
        self.assertIn("another certificate", str(caught.exception))
        with self.assertRaises(AccessError):
            self.certs["home"].with_user(self.subj).hocba_store_pkcs12(p12, "pw", PIN)
        # the old key still opens with the old PIN
        self.assertTrue(self.certs["subj"]._hocba_signer(PIN).certificate)

    def test_key_stored_before_its_certificate_opens(self):
        """Point 8a: a key sealed while the record had no PEM was bound to its id
        and unsealed with its fingerprint: 'wrong PIN' forever."""
        fresh = (
            self.env["hocba.certificate"]
            .with_user(self.users["it_officer"])
            .create({"purpose": "personal", "user_id": self.subj.id})
        )
        self.assertFalse(fresh.certificate_pem)
        renewed = self.pki.issue_signer(pf.Person("subj2", "Lê Thị Hoa", "CCCD:031190000001", "Giáo viên"))
        fresh.hocba_store_pkcs12(base64.b64encode(self.pki.to_pkcs12(renewed, "pw")), "pw", PIN)
        self.assertTrue(fresh.fingerprint)
        self.certs["subj"].sudo().active = False
        result = self.sign(self.subj)
        self.assertEqual(result["failed"], [])
        self.assertGreater(result["signed"], 0)
        self.assertEqual(self.transcript_a.version_ids.signature_ids.certificate_id, fresh)
        # a key sealed the former way (bound to the fingerprint, as the demo's were) still opens
        home = self.certs["home"].sudo()
        key_pem = self.pki._lookup("home").key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        home.sealed_key = base64.b64encode(
            key_vault.seal(key_pem, PIN, ("hocba-certificate:%s" % home.fingerprint).encode())
        )
        self.assertTrue(home._hocba_signer(PIN).certificate)
        with self.assertRaises(UserError):
            home._hocba_signer("999999")

    def test_seal_without_operator_is_applied_by_nobody(self):
        """Point 8b: anyone who knew the PIN of a seal with no operator could apply it."""
        self.sign(self.subj)
        self.sign(self.home)
        self.approve()
        self.sign(self.principal)
        self.certs["seal"].sudo().user_id = False
        for user in (self.subj, self.clerk):
            with self.assertRaises(UserError) as caught:
                self.sign(user, purpose="seal")
            self.assertIn("has no operator: the IT officer must name", str(caught.exception))
        signatures = self.transcript_a.version_ids.signature_ids
        self.assertNotIn("seal", signatures.mapped("tier"))
        # the operator must be the clerk or the principal
        self.certs["seal"].sudo().user_id = self.subj
        with self.assertRaises(UserError) as caught:
            self.sign(self.subj, purpose="seal")
        self.assertIn("Only the clerk or the principal", str(caught.exception))
        self.assertNotIn("seal", self.transcript_a.version_ids.signature_ids.mapped("tier"))
        # the clerk, named operator, applies it
        self.certs["seal"].sudo().user_id = self.clerk
        self.assertEqual(self.sign(self.clerk, purpose="seal")["signed"], 1)

    def test_two_people_signing_the_same_record(self):
        from ..models.hocba_signing_service import LOCK_SPACE

        with self.registry.cursor() as other:
            other.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_SPACE, self.transcript_a.id])
            result = self.sign(self.subj)
            other.rollback()
        self.assertEqual(result["signed"], 0)
        self.assertIn("being signed by someone else", result["failed"][0]["reason"])
        self.assertFalse(self.transcript_a.signature_ids)
        # once the other one is done, signing goes through
        self.assertEqual(self.sign(self.subj)["signed"], 1)
        # and the database refuses a second valid signature for the same place
        signature = self.transcript_a.signature_ids
        with (
            self.assertRaises(Exception),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
            service_scope.granted(service_scope.SIGNING),
        ):
            self.env["hocba.signature"].sudo().create(
                {
                    "version_id": signature.version_id.id,
                    "tier": signature.tier,
                    "subject_id": signature.subject_id.id,
                    "wrapper_id": signature.wrapper_id,
                    "signer_user_id": self.subj.id,
                    "signer_name": "x",
                    "certificate_id": signature.certificate_id.id,
                    "signed_at": signature.signed_at,
                    "content": signature.content,
                }
            )

    def test_verification_wizard(self):
        version = self.sign_all()
        wizard = self.env["hocba.verification.wizard"].with_user(self.clerk)
        for field in ("pdf_file", "xml_file"):
            form = wizard.create({"file": version[field], "filename": "x"})
            form.action_verify()
            self.assertEqual(form.verdict, "valid", form.report_html)
            self.assertIn("Nguyễn Thị Mai Anh", form.report_html)
            self.assertIn("Lê Thị Hoa", form.report_html)
        xml, _pdf = self.files(version)
        tampered = xml.replace(b"<Level>T</Level>", b"<Level>H</Level>", 1)
        form = wizard.create({"file": base64.b64encode(tampered), "filename": "x.xml"})
        form.action_verify()
        self.assertEqual(form.verdict, "invalid")
        form = wizard.create({"file": base64.b64encode(b"%PDF-1.7 broken"), "filename": "x.pdf"})
        form.action_verify()
        self.assertEqual(form.verdict, "invalid")
        self.assertIn("Problems found", form.report_html)

    def test_activities_follow_the_chain(self):
        activity_type = self.env.ref("hocba_digital.mail_activity_type_hocba_sign")

        def waiting():
            return self.class_a.activity_ids.filtered(lambda a: a.activity_type_id == activity_type).user_id

        # the sheets were submitted: both teachers of 3A are asked to sign
        self.assertEqual(waiting(), self.subj | self.home)
        self.sign(self.subj)
        self.assertEqual(waiting(), self.home)
        self.sign(self.home)
        self.assertFalse(waiting())  # the class is not approved yet
        self.approve()
        self.assertIn(self.principal, waiting())
        self.sign(self.principal)
        self.assertIn(self.clerk, waiting())  # the seal's operator (a demo database has two seals)
        self.assertFalse(waiting() & (self.subj | self.home | self.principal))
        self.sign(self.clerk, purpose="seal")
        self.assertFalse(waiting())

    def test_subject_teacher_signs_before_the_homeroom_part_is_done(self):
        self.sheet_home_a.sudo().state = "draft"
        self.traits_a.with_user(self.home).level_yeu_nuoc = False
        self.assertFalse(self.transcript_a.result)
        result = self.sign(self.subj)
        self.assertEqual((result["signed"], result["failed"]), (1, []))
        # the homeroom teacher's own subjects too, but not their homeroom signature
        result = self.sign(self.home)
        self.assertEqual(self.transcript_a.signing_state, "subjects")
        self.assertIn("qualities and competencies", result["failed"][-1]["reason"])

    def test_signing_settings_belong_to_the_it_officer(self):
        Settings = self.env["hocba.signing.settings"]
        form = Settings.with_user(self.users["it_officer"]).create({"tsa_url": "https://tsa.test/tsa"})
        self.assertEqual(form.trusted_roots_pem, self.pki.root_pem.decode())
        form.revocation_check = "soft"
        form.action_save()
        self.assertEqual(self.company.sudo().hocba_tsa_url, "https://tsa.test/tsa")
        self.assertEqual(self.company.sudo().hocba_revocation_check, "soft")
        with self.assertRaises(AccessError):
            Settings.with_user(self.principal).create({"tsa_url": "x"})
