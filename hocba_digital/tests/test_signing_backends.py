from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..lib.sandbox.csc_sandbox import CscSandbox
from ..lib.signing import xades_verify
from ..lib.signing.keys import pkcs11_signer as p11
from .crypto_tools import SigningTools, use_softhsm
from .signing_common import PIN, SigningCase

TOKEN_PIN = "852963"


@tagged("post_install", "-at_install")
class TestSigningBackends(SigningTools, SigningCase):
    """The same signing run with the English teacher's key on a PKCS#11 token
    (SoftHSM2) and on a CSC remote-signing service (a sandbox on 127.0.0.1)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        issued = cls.pki.people["subj"]
        # token
        cls.module = use_softhsm(cls, cls.make_tmp("hocba-backends-"))
        p11.load_into_softhsm(cls.module, "GV-TOKEN", "11223344", TOKEN_PIN, "gv-key", issued.key, issued.cert)
        # remote signing
        cls.csc = CscSandbox()
        cls.csc.add_user("gv.hoa", "mat-khau-dich-vu")
        cls.csc.add_issued("cred-hoa", issued, [cls.pki.intermediate.cert], owner="gv.hoa", pin=TOKEN_PIN)
        cls.csc.start()
        cls.addClassCleanup(cls.csc.stop)

    def use(self, backend):
        values = {"backend": backend}
        if backend == "pkcs11":
            values.update(pkcs11_module=self.module, pkcs11_token_label="GV-TOKEN", pkcs11_key_label="gv-key")
        else:
            values.update(
                csc_url=self.csc.service_url,
                csc_credential="cred-hoa",
                csc_username="gv.hoa",
                csc_password="mat-khau-dich-vu",
            )
        self.certs["subj"].with_user(self.users["it_officer"]).write(values)

    def assert_signed_by_the_teacher(self):
        version = self.transcript_a.current_version_id
        signature = version.signature_ids
        self.assertEqual(signature.signer_name, "Lê Thị Hoa")
        # the lone subject signature verifies inside the document it was made in
        xml = self.env["hocba.signing.service"]._hocba_document(self.transcript_a, version)
        report = next(r for r in xades_verify.verify(xml, self.roots()) if r.wrapper_id == "sig-subject-NN1")
        self.assertTrue(report.ok, report.errors)

    def test_token(self):
        self.use("pkcs11")
        self.assertEqual(self.sign(self.subj, pin=TOKEN_PIN)["signed"], 1)
        self.assert_signed_by_the_teacher()

    @mute_logger("odoo.addons.hocba_digital.lib.pkcs11_signer")
    def test_token_wrong_pin(self):
        self.use("pkcs11")
        with self.assertRaises(UserError) as caught:
            self.sign(self.subj, pin="000111")
        self.assertIn("Wrong PIN", str(caught.exception))
        self.assertNotIn("000111", str(caught.exception))
        self.assertFalse(self.transcript_a.version_ids)

    def test_remote_signing(self):
        self.use("csc")
        self.csc.reset_counters()
        self.assertEqual(self.sign(self.subj, pin=TOKEN_PIN)["signed"], 1)
        self.assertEqual(self.csc.count("credentials/authorize"), 1)
        self.assert_signed_by_the_teacher()

    @mute_logger("odoo.addons.hocba_digital.lib.csc_signer")
    def test_remote_signing_refusals(self):
        self.use("csc")
        with self.assertRaises(UserError) as caught:
            self.sign(self.subj, pin=PIN)
        self.assertIn("Wrong PIN", str(caught.exception))
        self.assertNotIn(PIN, str(caught.exception))
        self.csc.faults.add("error_500", times=10)
        with self.assertRaises(UserError) as caught:
            self.sign(self.subj, pin=TOKEN_PIN)
        self.assertIn("cannot be reached", str(caught.exception))
        self.csc.faults.clear()
        self.assertFalse(self.transcript_a.version_ids)

    @mute_logger("odoo.addons.hocba_digital.lib.pkcs11_signer")
    def test_token_refusals_say_what_is_wrong(self):
        self.use("pkcs11")
        certificate = self.certs["subj"].sudo()
        certificate.pkcs11_token_label = "NO-SUCH-TOKEN"
        with self.assertRaises(UserError) as caught:
            self.sign(self.subj, pin=TOKEN_PIN)
        self.assertEqual(
            str(caught.exception), "The token NO-SUCH-TOKEN of %s is not found: is it plugged in?" % certificate.name
        )
        certificate.write({"pkcs11_token_label": "GV-TOKEN", "pkcs11_key_label": "nobody"})
        with self.assertRaises(UserError) as caught:
            self.sign(self.subj, pin=TOKEN_PIN)
        self.assertEqual(
            str(caught.exception), "The token of %s does not hold exactly one key labelled nobody." % certificate.name
        )
        self.assertFalse(self.transcript_a.version_ids)

    @mute_logger("odoo.addons.hocba_digital.lib.csc_signer")
    def test_remote_signing_failure_names_the_certificate(self):
        self.use("csc")
        self.csc.faults.add("bad_signature", endpoint="signatures/signHash")
        with self.assertRaises(UserError) as caught:
            self.sign(self.subj, pin=TOKEN_PIN)
        self.assertIn("Remote signing for %s failed:" % self.certs["subj"].name, str(caught.exception))
        self.assertIn("does not match the certificate", str(caught.exception))
        self.csc.faults.clear()
        self.assertFalse(self.transcript_a.version_ids)
