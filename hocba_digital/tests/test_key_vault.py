import datetime

from odoo.tests import BaseCase, tagged

from ..lib.sandbox import pki_factory as pf
from ..lib.signing import certificate_info
from ..lib.signing.keys import key_vault


@tagged("post_install", "-at_install")
class TestKeyVault(BaseCase):
    """Keys at rest are sealed with the owner's PIN; a wrong PIN or an altered blob fails."""

    def test_round_trip_and_wrong_pin(self):
        blob = key_vault.seal(b"-----BEGIN PRIVATE KEY-----\nabc", "482915", b"owner-7")
        self.assertNotIn(b"abc", blob)
        self.assertNotIn(b"482915", blob)
        self.assertEqual(key_vault.unseal(blob, "482915", b"owner-7"), b"-----BEGIN PRIVATE KEY-----\nabc")
        for pin, associated in (("482916", b"owner-7"), ("", b"owner-7"), ("482915", b"owner-8")):
            with self.subTest(pin=pin, associated=associated), self.assertRaises(key_vault.WrongPin):
                key_vault.unseal(blob, pin, associated)

    def test_altered_blob_is_refused(self):
        blob = bytearray(key_vault.seal(b"secret key", "482915"))
        blob[-1] ^= 1
        with self.assertRaises(key_vault.WrongPin):
            key_vault.unseal(bytes(blob), "482915")
        with self.assertRaises(key_vault.WrongPin):
            key_vault.unseal(b"not a blob", "482915")

    def test_same_secret_seals_differently(self):
        self.assertNotEqual(key_vault.seal(b"k", "482915"), key_vault.seal(b"k", "482915"))

    def test_weak_pins_are_refused(self):
        for pin in ("", "12345", "000000", "123456", "987654"):
            with self.subTest(pin=pin), self.assertRaises(key_vault.WeakPin):
                key_vault.seal(b"k", pin)


@tagged("post_install", "-at_install")
class TestCertificateInfo(BaseCase):
    """What the registry reads from a certificate, and when it refuses to sign."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pki = pf.build_pki(
            [pf.Person("gv", "Nguyễn Thị Thanh Hà", "CCCD:031185000123", "homeroom_teacher")],
            "http://127.0.0.1:9",
            prefix="TEST",
        )

    def test_describe_a_staff_certificate(self):
        p12 = self.pki.to_pkcs12("gv", "p12-pass")
        key_pem, cert_pem, chain = certificate_info.split_pkcs12(p12, "p12-pass")
        info = certificate_info.describe(certificate_info.load_certificate(cert_pem))
        self.assertIn("Nguyễn Thị Thanh Hà", info.subject_cn)
        self.assertTrue(info.can_sign)
        self.assertFalse(info.is_ca)
        self.assertTrue(key_pem.startswith(b"-----BEGIN PRIVATE KEY-----"))
        self.assertGreaterEqual(len(chain), 1)
        self.assertEqual(certificate_info.problems_for_signing(info), [])

    def test_refusals(self):
        p12 = self.pki.to_pkcs12("gv", "p12-pass")
        _key, cert_pem, chain = certificate_info.split_pkcs12(p12, "p12-pass")
        info = certificate_info.describe(certificate_info.load_certificate(cert_pem))
        later = info.not_after + datetime.timedelta(days=1)
        earlier = info.not_before - datetime.timedelta(days=1)
        self.assertEqual(certificate_info.problems_for_signing(info, at=later), ["expired"])
        self.assertEqual(certificate_info.problems_for_signing(info, at=earlier), ["not_yet_valid"])
        self.assertEqual(certificate_info.problems_for_signing(info, revoked=True), ["revoked"])
        ca_info = certificate_info.describe(certificate_info.load_certificate(chain[0]))
        self.assertIn("no_signing_usage", certificate_info.problems_for_signing(ca_info))

    def test_wrong_pkcs12_password(self):
        with self.assertRaises(ValueError):
            certificate_info.split_pkcs12(self.pki.to_pkcs12("gv", "p12-pass"), "nope")
