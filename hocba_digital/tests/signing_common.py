import base64
import datetime
import logging

from cryptography.hazmat.primitives import serialization

from ..lib.rules import catalogue
from ..lib.sandbox import pki_factory as pf
from .common import HocbaCase

PIN = "468213"
P12_PASSWORD = "tệp-khoá"


PEOPLE = [
    pf.Person("subj", "Lê Thị Hoa", "CCCD:031190000001", "Giáo viên"),
    pf.Person("home", "Phạm Văn Nam", "CCCD:031185000002", "Giáo viên"),
    pf.Person("principal", "Đỗ Thị Hạnh", "CCCD:031175000003", "Hiệu trưởng"),
]


class SigningCase(HocbaCase):
    """HocbaCase with 3A filled and submitted, a test PKI, and a certificate
    with a stored key for the English teacher, the homeroom teacher of 3A (who
    teaches every other subject there), the principal and the seal (operated by
    the clerk)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.prepare_transcripts()
        env = cls.env
        cls.subj, cls.home = cls.users["subject_teacher"], cls.users["homeroom_teacher"]
        cls.head, cls.vice = cls.users["head_of_group"], cls.users["vice_principal"]
        cls.principal, cls.clerk = cls.users["principal"], cls.users["clerk"]
        for subject in cls.class_a.sheet_ids.subject_id - cls.subject_english:
            env["school.teaching.assignment"].create(
                {
                    "employee_id": cls.employees["homeroom_teacher"].id,
                    "subject_id": subject.id,
                    "class_id": cls.class_a.id,
                }
            )
        # a demo database has its own time-stamping service set: not this PKI's
        cls.company.sudo().hocba_tsa_url = False
        cls.pki = cls.build_pki(PEOPLE)
        cls.company.sudo().write(
            {
                "hocba_trusted_roots_pem": cls.pki.root_pem.decode(),
                "hocba_revocation_check": cls.revocation_check,
            }
        )
        cls.certs = {
            "subj": cls.make_certificate("subj", cls.subj),
            "home": cls.make_certificate("home", cls.home),
            "principal": cls.make_certificate("principal", cls.principal),
            "seal": cls.make_certificate("seal", cls.clerk, purpose="seal"),
        }
        cls.fill_and_submit(cls.class_a)
        logging.getLogger("pyhanko").setLevel(logging.ERROR)

    revocation_check = "off"

    @classmethod
    def build_pki(cls, people):
        """No revocation service here: see TestSigningWithServices for one."""
        return pf.build_pki(people, prefix="TEST", base_url="http://127.0.0.1:9")

    @classmethod
    def make_certificate(cls, key, user, purpose="personal", issued=None):
        issued = issued or cls.pki._lookup(key)
        certificate = (
            cls.env["hocba.certificate"]
            .with_user(cls.users["it_officer"])
            .create(
                {
                    "purpose": purpose,
                    "user_id": user.id,
                    "certificate_pem": issued.cert_pem.decode(),
                }
            )
        )
        p12 = serialization.pkcs12.serialize_key_and_certificates(
            b"k",
            issued.key,
            issued.cert,
            [cls.pki.intermediate.cert],
            serialization.BestAvailableEncryption(P12_PASSWORD.encode()),
        )
        certificate.with_user(cls.users["it_officer"]).hocba_store_pkcs12(base64.b64encode(p12), P12_PASSWORD, PIN)
        return certificate

    @classmethod
    def fill_and_submit(cls, school_class):
        for sheet in school_class.sheet_ids:
            user = sheet.user_id
            for result in sheet.subject_result_ids:
                result.with_user(user).write(
                    {"level": "T", "comment": "Tiến bộ tốt.", "score": "9" if result.score_required else False}
                )
            for row in sheet.trait_assessment_ids:
                codes = catalogue.traits_of_grade(row.grade)
                row.with_user(user).write(
                    {**{f"level_{c}": "T" for c in codes}, **{f"comment_{c}": "Tốt" for c in codes}}
                )
            sheet.with_user(user).action_submit()

    def sign(self, user, transcripts=None, purpose="personal", pin=PIN):
        transcripts = transcripts or self.transcript_a
        return self.env["hocba.signing.service"].with_user(user).hocba_sign(transcripts.ids, pin, purpose)

    def approve(self, school_class=None):
        school_class = school_class or self.class_a
        school_class.with_user(self.head).action_lock()
        school_class.with_user(self.vice).action_approve()

    def sign_all(self):
        for user, purpose in (
            (self.subj, "personal"),
            (self.home, "personal"),
            (None, None),
            (self.principal, "personal"),
            (self.clerk, "seal"),
        ):
            if user is None:
                self.approve()
                continue
            result = self.sign(user, purpose=purpose)
            self.assertEqual((result["failed"], result["remaining"]), ([], 0), user.name)
            self.assertGreater(result["signed"], 0, user.name)
        return self.transcript_a.current_version_id

    @staticmethod
    def files(version):
        return base64.b64decode(version.xml_file), base64.b64decode(version.pdf_file)

    def roots(self):
        return [self.pki.root_pem]


UTC = datetime.timezone.utc
