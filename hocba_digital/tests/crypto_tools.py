"""What the signing tests share: temporary files, xmlsec1, pdfsig with an NSS
database, a SoftHSM2 token directory, log capture, quiet loggers, a short HTTP
timeout, the PKI sandbox, and the small sample XML and PDF with their signers.

Not a test module (Odoo runs ``test_*`` modules only).  A missing tool fails
the test that needs it, with the package to install: tests are never skipped.
"""

import contextlib
import datetime
import io
import logging
import os
import shutil
import subprocess
import tempfile

import requests
from cryptography import x509

from ..lib.sandbox import pki_factory as pf
from ..lib.sandbox.pki_responders import PkiSandbox
from ..lib.signing import xades, xades_verify
from ..lib.signing.keys import pkcs11_signer as p11

DS = "http://www.w3.org/2000/09/xmldsig#"
SOFTHSM_MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
XADES = "http://uri.etsi.org/01903/v1.3.2#"
# Id attributes are not declared by a DTD: xmlsec1 is told which they are
XMLSEC1_IDS = ("Data", "Subject", "Signature", DS + ":Signature", DS + ":KeyInfo", XADES + ":SignedProperties")
P12_PASSPHRASE = "s3cret"
FREESANS = "/usr/share/fonts/truetype/freefont/FreeSans.ttf"
PUPIL = "Nguyễn Thị Mai Anh"

DOCUMENT = (
    '<HocBa xmlns:x="urn:example:unused" xml:lang="vi">'
    '<Data Id="data">'
    '<Subject Id="subject-TOAN" code="TOAN"><Name>Toán</Name><Score>9</Score></Subject>'
    '<Subject Id="subject-TV" code="TV"><Name>Tiếng Việt</Name><Score>8</Score></Subject>'
    "</Data>"
    "<Signatures/>"
    "</HocBa>"
).encode()

PEOPLE = [
    pf.Person("toan", "Nguyễn Văn Toán", "CCCD:001085000001", "subject_teacher"),
    pf.Person("homeroom", "Trần Thị Lan", "CCCD:001185000002", "homeroom_teacher"),
    pf.Person("principal", "Lê Văn Hiệu", "CCCD:001080000003", "principal"),
]


def make_pdf():
    """A one-page PDF in Vietnamese (FreeSans renders its diacritics) naming ``PUPIL``."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "FreeSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("FreeSans", FREESANS))
    buf = io.BytesIO()
    page = canvas.Canvas(buf)
    page.setFont("FreeSans", 14)
    page.drawString(72, 760, "HỌC BẠ SỐ - Trường Tiểu học Hòa Bình")
    page.drawString(72, 730, "Họ và tên học sinh: %s" % PUPIL)
    page.drawString(72, 700, "Toán: 9 - Tiếng Việt: 8")
    page.showPage()
    page.save()
    return buf.getvalue()


def pkcs12_signer(pki, key):
    """``key``'s signer through PKCS#12 with a passphrase, as a real deployment loads it."""
    return xades.KeySigner.from_pkcs12(pki.to_pkcs12(key, P12_PASSPHRASE), P12_PASSPHRASE)


def require_tool(name, package):
    path = shutil.which(name)
    if not path:
        raise AssertionError("%s is not installed (Debian package %s, see tools/apt-packages.txt)" % (name, package))
    return path


def write_file(directory, name, data):
    path = os.path.join(directory, name)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


class SigningTools:
    """Mixin of a test class: ``make_tmp`` gives it a directory removed after
    the class, ``_write`` puts a file there, ``write_pki`` the PEMs of a PKI
    (``root_pem`` / ``intermediate_pem`` paths) that ``xmlsec1`` checks against;
    the ``assert*`` check what a signer made, with our verifier and xmlsec1."""

    tmp = root_pem = intermediate_pem = pki = None

    @classmethod
    def make_tmp(cls, prefix):
        cls.tmp = tempfile.mkdtemp(prefix=prefix)
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        return cls.tmp

    @classmethod
    def _write(cls, name, data):
        return write_file(cls.tmp, name, data)

    @classmethod
    def write_pki(cls, pki):
        cls.root_pem = cls._write("root.pem", pki.root_pem)
        cls.intermediate_pem = cls._write("intermediate.pem", pki.intermediate_pem)

    def xmlsec1(self, doc, signature_id, root_pem=None, intermediate_pem=None):
        """xmlsec1 on the ds:Signature ``signature_id`` of ``doc``: (returncode, output)."""
        path = self._write("doc-%s.xml" % signature_id, doc)
        return xmlsec1_verify(path, signature_id, root_pem or self.root_pem, intermediate_pem or self.intermediate_pem)

    def assertOnlySignatureVerifies(self, doc, pki):
        """The one signature of ``doc`` (sig-1) chains to ``pki``'s root and is
        intact, for us and for xmlsec1."""
        report = xades_verify.verify(doc, [pki.root_pem])[0]
        self.assertTrue(report.ok, report.errors)
        returncode, out = self.xmlsec1(
            doc,
            "sig-1-ds",
            self._write("sig-1-root.pem", pki.root_pem),
            self._write("sig-1-intermediate.pem", pki.intermediate_pem),
        )
        self.assertEqual(returncode, 0, out)

    def assertOverSubjectSignature(self, doc, issued):
        """``doc``: ``subject_signed`` signed again over data and sig-1 as
        wrapper sig-2 by ``issued``'s key; both verify (ours and xmlsec1), and a
        change in the data breaks sig-2."""
        reports = {r.wrapper_id: r for r in xades_verify.verify(doc, [self.pki.root_pem])}
        for wrapper_id in ("sig-1", "sig-2"):
            self.assertTrue(reports[wrapper_id].ok, reports[wrapper_id].errors)
        self.assertEqual(reports["sig-2"].covers, ["data", "sig-1"])
        self.assertEqual(reports["sig-2"].signer_serial, issued.serial_number)
        returncode, out = self.xmlsec1(doc, "sig-2-ds")
        self.assertEqual(returncode, 0, out)
        self.assertIn("SignedInfo References (ok/all): 4/4", out)
        tampered = doc.replace(b"<Score>8</Score>", b"<Score>10</Score>")
        self.assertFalse(xades_verify.verify(tampered, [self.pki.root_pem])[1].intact)


def subject_signed(pki):
    """``DOCUMENT`` with the Maths teacher's subject signature (wrapper sig-1), in software."""
    software = xades.KeySigner(pki.person("toan").key, pki.person("toan").cert, [pki.intermediate.cert])
    return xades.sign_tier(
        DOCUMENT,
        software,
        ["subject-TOAN"],
        wrapper_id="sig-1",
        tier="subject_teacher",
        claimed_role="subject_teacher:TOAN",
    )


def revoke_an_hour_ago(sandbox, key):
    """Publish the certificate of ``key`` as revoked (key compromise) an hour ago: when."""
    when = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).replace(microsecond=0)
    sandbox.revoke((sandbox.pki.person(key), when, x509.ReasonFlags.key_compromise))
    return when


def xmlsec1_verify(path, signature_id, trusted_pem, untrusted_pem=None, at=None):
    """Verify one ds:Signature of the XML file ``path`` with the XML Security
    Library (an implementation independent of ours): (returncode, output)."""
    cmd = [require_tool("xmlsec1", "xmlsec1"), "--verify", "--trusted-pem", trusted_pem]
    if untrusted_pem:
        cmd += ["--untrusted-pem", untrusted_pem]
    for node in XMLSEC1_IDS:
        cmd += ["--id-attr:Id", node]
    if at is not None:
        cmd += ["--verification-time", at.strftime("%Y-%m-%d %H:%M:%S")]
    proc = subprocess.run(cmd + ["--node-id", signature_id, path], capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout + proc.stderr


def pdfsig(directory, pdf, root_pem, *options):
    """poppler's pdfsig on ``pdf`` (bytes), with an NSS database in ``directory``
    that trusts ``root_pem`` (bytes): its report."""
    certutil = require_tool("certutil", "libnss3-tools")
    nss = "sql:" + os.path.join(directory, "nss")
    os.makedirs(nss[4:], exist_ok=True)
    subprocess.run([certutil, "-N", "-d", nss, "--empty-password"], check=True)
    subprocess.run(
        [
            certutil,
            "-A",
            "-d",
            nss,
            "-n",
            "hocba-test-root",
            "-t",
            "C,C,C",
            "-a",
            "-i",
            write_file(directory, "pdfsig-root.pem", root_pem),
        ],
        check=True,
    )
    path = write_file(directory, "pdfsig.pdf", pdf)
    return subprocess.run(
        [require_tool("pdfsig", "poppler-utils"), "-nssdir", nss, *options, path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def find_softhsm_module():
    """The SoftHSM2 PKCS#11 module path on this machine, or None."""
    for path in SOFTHSM_MODULE_CANDIDATES:
        if os.path.exists(path):
            return path
    return None


def is_revoked(cert, crl, issuer_cert=None):
    """True when ``crl`` lists ``cert`` (Certificate or Issued); see
    ``pki_factory.revocation_entry`` (ValueError for a CRL of another issuer,
    or badly signed when ``issuer_cert`` is given)."""
    return pf.revocation_entry(cert, crl, issuer_cert) is not None


def use_softhsm(cls, directory):
    """Point this process's SoftHSM2 at a token directory under ``directory``
    for the test class; SOFTHSM2_CONF is restored and the module finalised
    after it, so the next user re-reads its configuration.  The module path."""
    module = find_softhsm_module()
    if not module or not shutil.which("softhsm2-util"):
        raise RuntimeError("softhsm2 is not installed (tools/apt-packages.txt)")
    old_conf = os.environ.get("SOFTHSM2_CONF")

    def restore():
        p11.finalize_module(module)
        if old_conf is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = old_conf

    cls.addClassCleanup(restore)
    os.environ["SOFTHSM2_CONF"] = p11.write_softhsm_conf(directory)
    return module


def pki_sandbox(cls, people, **build_kwargs):
    """A started PkiSandbox with a new "TEST" PKI, stopped after the test class."""
    sandbox = PkiSandbox.with_pki(people, prefix="TEST", **build_kwargs).start()
    cls.addClassCleanup(sandbox.stop)
    return sandbox


class LogCapture(logging.Handler):
    """Every record it is given, as text (message, arguments, traceback), to
    prove that no secret reaches a log."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def texts(self):
        out = []
        for record in self.records:
            try:
                out.append(record.getMessage())
            except Exception:
                out.append(str(record.msg))
            out.append(repr(record.args))
            if record.exc_info:
                out.append(logging.Formatter().formatException(record.exc_info))
        return out


@contextlib.contextmanager
def quiet(*names):
    """Expected failures: pyHanko (and others) log them at ERROR, which Odoo
    counts as test errors."""
    loggers = [logging.getLogger(name) for name in names or ("pyhanko",)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


class FixedTimeout(requests.adapters.HTTPAdapter):
    """Odoo's test runner raises every requests timeout below 10 s to 10 s (in
    ``Session.send``); mounted on a session, this adapter below it applies the
    short one a test needs."""

    def __init__(self, timeout):
        super().__init__()
        self.fixed_timeout = timeout

    def send(self, request, **kwargs):
        kwargs["timeout"] = self.fixed_timeout
        return super().send(request, **kwargs)


class SuccessiveTimeouts(FixedTimeout):
    """FixedTimeout with one timeout per request in turn, the last one for the
    rest: e.g. a short one for the request a sandbox holds until the client gives
    up, then a generous one for the retry that must get its answer."""

    def __init__(self, *timeouts):
        super().__init__(timeouts[-1])
        self.first = list(timeouts[:-1])
        self.last = timeouts[-1]

    def send(self, request, **kwargs):
        self.fixed_timeout = self.first.pop(0) if self.first else self.last
        return super().send(request, **kwargs)
