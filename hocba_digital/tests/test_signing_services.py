import datetime
import tempfile

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..lib.signing import pades_verify, revocation_client, xades_t, xades_verify
from .crypto_tools import pdfsig, pki_sandbox
from .signing_common import SigningCase


@tagged("post_install", "-at_install")
class TestSigningWithServices(SigningCase):
    """The chain with a time-stamping authority and revocation services (a
    sandbox on 127.0.0.1 that speaks OCSP, RFC 3161 and serves CRLs)."""

    revocation_check = "require"

    @classmethod
    def build_pki(cls, people):
        cls.sandbox = pki_sandbox(cls, people)
        cls.env.company.sudo().hocba_tsa_url = "%s/tsa" % cls.sandbox.url
        return cls.sandbox.pki

    def setUp(self):
        super().setUp()
        self.sandbox.faults.clear()
        revocation_client.CRL_CACHE.clear()  # a test may publish another CRL at the same URL
        published = self.pki.crl_der
        self.addCleanup(setattr, self.pki, "crl_der", published)

    def test_pades_b_t_and_b_lt_with_the_seal(self):
        version = self.sign_all()
        _xml, pdf = self.files(version)
        report = pades_verify.verify(pdf, self.roots())
        self.assertTrue(report["verdict"], report)
        self.assertTrue(all(s["timestamp"] for s in report["signatures"]), report["signatures"])
        self.assertGreater(self.sandbox.counts["tsa"], 2)
        self.assertIn(b"/DSS", pdf)  # the seal embeds the revocation data (B-LT)
        # XAdES-T: every XML signature carries the TSA's token over its value
        xml = self.files(version)[0]
        stamps = xades_t.signature_timestamps(xml, self.roots())
        self.assertEqual(len(stamps), len(xades_verify.signature_ids(xml)))
        self.assertTrue(all(s["ok"] for s in stamps.values()), stamps)
        self.assertTrue(all(r.ok for r in xades_verify.verify(xml, self.roots())))

    def test_pdfsig_accepts_every_signature(self):
        _xml, pdf = self.files(self.sign_all())
        # the OCSP responder named in the certificates (the sandbox) answers pdfsig's online check
        with tempfile.TemporaryDirectory() as tmp:
            out = pdfsig(tmp, pdf, self.pki.root_pem)
        self.assertEqual(out.count("Signature Validation: Signature is Valid."), 3, out)
        self.assertEqual(out.count("Certificate Validation: Certificate is Trusted."), 3, out)

    @mute_logger(
        "odoo.addons.hocba_digital.models.hocba_signing_service", "odoo.addons.hocba_digital.models.hocba_certificate"
    )
    def test_revoked_certificate_is_refused(self):
        self.sandbox.revoke(self.pki.people["subj"])
        with self.assertRaises(UserError) as caught:
            self.sign(self.subj)
        self.assertIn("revoked", str(caught.exception))
        self.assertFalse(self.transcript_a.version_ids)

    @mute_logger(
        "odoo.addons.hocba_digital.models.hocba_signing_service", "odoo.addons.hocba_digital.models.hocba_certificate"
    )
    def test_unreachable_revocation_service(self):
        self.sandbox.faults.set("error_500", "crl")
        with self.assertRaises(UserError) as caught:
            self.sign(self.subj)
        self.assertIn("cannot be checked", str(caught.exception))
        self.company.sudo().hocba_revocation_check = "soft"
        self.assertEqual(self.sign(self.subj)["signed"], 1)

    @mute_logger("odoo.addons.hocba_digital.models.hocba_certificate")
    def test_certificate_revocation_check(self):
        certificate = self.certs["subj"]
        certificate._hocba_check_revocation()  # good: nothing said
        revocation_client.CRL_CACHE.clear()  # else the good CRL is kept a few minutes
        self.sandbox.faults.set("error_500", "crl")
        with self.assertRaises(UserError) as caught:
            certificate._hocba_check_revocation()
        self.assertEqual(
            str(caught.exception),
            (
                "The revocation status of %s cannot be checked: its certificate authority answered with "
                "an error. Try again later or ask the IT officer." % certificate.name
            ),
        )
        self.company.sudo().hocba_revocation_check = "soft"
        certificate._hocba_check_revocation()
        self.company.sudo().hocba_revocation_check = "off"
        asked = self.sandbox.counts["crl"]
        certificate._hocba_check_revocation()
        self.assertEqual(self.sandbox.counts["crl"], asked)  # "off" asks nobody

    @mute_logger("odoo.addons.hocba_digital.models.hocba_certificate")
    def test_certificate_revoked_or_stale_crl(self):
        certificate = self.certs["subj"]
        self.sandbox.revoke(self.pki.people["subj"])
        with self.assertRaises(UserError) as caught:
            certificate._hocba_check_revocation()
        self.assertIn("%s was revoked on" % certificate.name, str(caught.exception))
        revocation_client.CRL_CACHE.clear()
        past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
        self.pki.crl_der = self.pki.make_crl(this_update=past - datetime.timedelta(days=7), next_update=past)
        with self.assertRaises(UserError) as caught:
            self.certs["home"]._hocba_check_revocation()
        self.assertIn("the revocation list of its certificate authority is out of date", str(caught.exception))
