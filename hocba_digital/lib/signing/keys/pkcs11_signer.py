"""PKCS#11 (USB token / HSM) back end for the ``xades.Signer`` interface.

No Odoo import here.

::

    signer = Pkcs11Signer("/usr/lib/softhsm/libsofthsm2.so", token_label="HOCBA",
                          key_label="homeroom", user_pin=pin, chain=[intermediate_cert])
    with signer:                      # one session (one login) for a whole batch
        for doc in documents:
            xades.sign_tier(doc, signer, ...)
            pades.sign(pdf, field, signer, ...)

* ``sign(data, "sha256")`` asks the token to hash and sign: CKM_SHA256_RSA_PKCS
  (PKCS#1 v1.5) for RSA keys, CKM_ECDSA_SHA256 for EC keys (falling back to
  CKM_ECDSA over a locally computed digest when the token lacks the combined
  mechanism); the raw ``r || s`` of ECDSA is returned DER-encoded, as the
  ``Signer`` interface requires.
* The certificate is given as an ``x509.Certificate`` or looked up on the
  token (CKO_CERTIFICATE with the key's label / id).
* Errors: ``TokenPinError`` (wrong PIN; ``TokenPinLockedError``,
  ``TokenPinExpiredError``), ``TokenNotFoundError``,
  ``TokenKeyNotFoundError``, all ``Pkcs11SignerError``.  The PIN is never
  logged, never put in an exception message and not shown by ``repr``.
* Outside a ``with`` block each ``sign`` opens and closes its own session
  (works, but logs in once per signature): wrap batches in ``with signer:``.

``load_into_softhsm`` puts a software key and its certificate on a fresh
SoftHSM2 token (tests and the demo).

python-pkcs11 loads each module once per process and SoftHSM2 reads
``SOFTHSM2_CONF`` (its token directory) only at C_Initialize:
``reload_module`` (called by ``load_into_softhsm``) re-initialises it so that
tokens created by ``softhsm2-util`` become visible; this invalidates every
open session on that module, so only do it in tests / demo set-up.
"""

import hashlib
import logging
import os
import shutil
import subprocess
import threading

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ...secret import Secret
from ..xades import Signer

_logger = logging.getLogger(__name__)

_LOCK = threading.RLock()


class Pkcs11SignerError(Exception):
    """Anything that stops a PKCS#11 signature."""


class TokenPinError(Pkcs11SignerError):
    """Wrong (or locked / expired) user PIN."""


class TokenPinLockedError(TokenPinError):
    """The user PIN is locked (too many wrong tries)."""


class TokenPinExpiredError(TokenPinError):
    """The user PIN has expired and must be changed first."""


class TokenNotFoundError(Pkcs11SignerError):
    """No token with the requested label (token unplugged, wrong label, wrong module)."""


class TokenKeyNotFoundError(Pkcs11SignerError):
    """No (or more than one) private key / certificate with the requested label or id."""


def _pkcs11():
    try:
        import pkcs11
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise Pkcs11SignerError("python-pkcs11 is not installed (see requirements.txt)") from exc
    return pkcs11


def _load_module(module):
    pkcs11 = _pkcs11()
    if not module or not os.path.exists(module):
        raise Pkcs11SignerError("PKCS#11 module %r not found" % (module,))
    with _LOCK:
        try:
            return pkcs11.lib(module)
        except pkcs11.PKCS11Error as exc:
            raise Pkcs11SignerError("cannot load PKCS#11 module %s: %s" % (module, type(exc).__name__)) from None


def reload_module(module):
    """C_Finalize + C_Initialize ``module`` (see the module docstring)."""
    lib = _load_module(module)
    with _LOCK:
        lib.reinitialize()
    return lib


def finalize_module(module):
    """C_Finalize ``module`` if it was loaded; the next use initialises it again."""
    pkcs11 = _pkcs11()
    with _LOCK:
        lib = pkcs11._loaded.get(module)
        if lib is not None and lib.initialized:
            lib.finalize()


class Pkcs11Signer(Signer):
    """A private key on a PKCS#11 token behind the ``xades.Signer`` interface.

    ``key_label`` and / or ``key_id`` (bytes, or a hex string) select the
    private key; ``certificate`` (an ``x509.Certificate``) defaults to the
    token's certificate object with the same label / id; ``chain`` are the
    issuing certificates (not the signer's own).
    """

    def __init__(self, module, token_label, key_label=None, user_pin=None, certificate=None, chain=(), key_id=None):
        if key_label is None and key_id is None:
            raise ValueError("give key_label or key_id")
        if isinstance(key_id, str):
            key_id = bytes.fromhex(key_id)
        self.module = module
        self.token_label = token_label
        self.key_label = key_label
        self.key_id = key_id
        self.__pin = Secret(user_pin)  # never logged or shown
        self.chain = [c for c in chain or ()]
        self._session = None
        self._key = None
        self._depth = 0
        self._session_lock = threading.RLock()
        if certificate is None:
            with self:
                certificate = self._certificate_from_token()
        self.certificate = certificate
        self.chain = [c for c in self.chain if c != certificate]

    def __repr__(self):
        return "<Pkcs11Signer token=%r key=%r>" % (self.token_label, self.key_label or self.key_id.hex())

    # -- selection ------------------------------------------------------------
    def _what(self):
        parts = []
        if self.key_label is not None:
            parts.append("label %r" % self.key_label)
        if self.key_id is not None:
            parts.append("id %s" % self.key_id.hex())
        return " and ".join(parts)

    def _attrs(self, object_class):
        pkcs11 = _pkcs11()
        attrs = {pkcs11.Attribute.CLASS: object_class}
        if self.key_label is not None:
            attrs[pkcs11.Attribute.LABEL] = self.key_label
        if self.key_id is not None:
            attrs[pkcs11.Attribute.ID] = self.key_id
        return attrs

    def _find_one(self, object_class, kind):
        objects = list(self._session.get_objects(self._attrs(object_class)))
        if not objects:
            raise TokenKeyNotFoundError("no %s with %s on token %r" % (kind, self._what(), self.token_label))
        if len(objects) > 1:
            raise TokenKeyNotFoundError(
                "%d %ss with %s on token %r" % (len(objects), kind, self._what(), self.token_label)
            )
        return objects[0]

    def _certificate_from_token(self):
        pkcs11 = _pkcs11()
        obj = self._find_one(pkcs11.ObjectClass.CERTIFICATE, "certificate")
        return x509.load_der_x509_certificate(obj[pkcs11.Attribute.VALUE])

    # -- sessions -------------------------------------------------------------
    def open(self):
        """Open a session, log in and find the key (nested calls are counted)."""
        pkcs11 = _pkcs11()
        with self._session_lock:
            if self._session is not None:
                self._depth += 1
                return self
            lib = _load_module(self.module)
            try:
                token = lib.get_token(token_label=self.token_label)
            except pkcs11.NoSuchToken:
                raise TokenNotFoundError(
                    "no PKCS#11 token labelled %r in %s" % (self.token_label, self.module)
                ) from None
            except pkcs11.MultipleTokensReturned:
                raise TokenNotFoundError("several PKCS#11 tokens labelled %r" % (self.token_label,)) from None
            _logger.debug("opening a PKCS#11 session on token %r", self.token_label)
            try:
                session = token.open(user_pin=self.__pin.reveal())
            except (pkcs11.PinIncorrect, pkcs11.PinInvalid, pkcs11.PinLenRange):
                raise TokenPinError("wrong PIN for PKCS#11 token %r" % (self.token_label,)) from None
            except pkcs11.PinLocked:
                raise TokenPinLockedError("the PIN of PKCS#11 token %r is locked" % (self.token_label,)) from None
            except pkcs11.PinExpired:
                raise TokenPinExpiredError("the PIN of PKCS#11 token %r has expired" % (self.token_label,)) from None
            except pkcs11.PKCS11Error as exc:
                raise Pkcs11SignerError(
                    "cannot open a session on token %r: %s" % (self.token_label, type(exc).__name__)
                ) from None
            self._session = session
            try:
                self._key = self._find_one(pkcs11.ObjectClass.PRIVATE_KEY, "private key")
            except BaseException:
                self._close_session()
                raise
            self._depth = 1
            return self

    def close(self):
        with self._session_lock:
            if self._session is None:
                return
            self._depth -= 1
            if self._depth <= 0:
                self._close_session()

    def _close_session(self):
        session, self._session, self._key, self._depth = self._session, None, None, 0
        if session is not None:
            try:
                session.close()
            except (_pkcs11().PKCS11Error, OSError) as exc:  # logged out already, token removed, ...
                _logger.debug("closing the PKCS#11 session on %r: %s", self.token_label, type(exc).__name__)

    session = open  # ``with signer.session():`` reads well too

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc_info):
        self.close()

    @property
    def is_open(self):
        return self._session is not None

    # -- signing --------------------------------------------------------------
    def sign(self, data, algorithm):
        with self._session_lock:
            self.open()
            try:
                return self._sign(data, algorithm)
            finally:
                self.close()

    def _sign(self, data, algorithm):
        pkcs11 = _pkcs11()
        from pkcs11.util.ec import encode_ecdsa_signature

        Mechanism = pkcs11.Mechanism
        key_type = self.key_type
        try:
            if key_type == "rsa":
                mechanism = {
                    "sha256": Mechanism.SHA256_RSA_PKCS,
                    "sha384": Mechanism.SHA384_RSA_PKCS,
                    "sha512": Mechanism.SHA512_RSA_PKCS,
                }[algorithm]
                return bytes(self._key.sign(data, mechanism=mechanism))
            mechanism = {
                "sha256": Mechanism.ECDSA_SHA256,
                "sha384": Mechanism.ECDSA_SHA384,
                "sha512": Mechanism.ECDSA_SHA512,
            }[algorithm]
            try:
                raw = self._key.sign(data, mechanism=mechanism)
            except pkcs11.MechanismInvalid:
                raw = self._key.sign(hashlib.new(algorithm, data).digest(), mechanism=Mechanism.ECDSA)
            return encode_ecdsa_signature(bytes(raw))
        except KeyError:
            raise Pkcs11SignerError("unsupported hash algorithm %r" % (algorithm,)) from None
        except pkcs11.PKCS11Error as exc:
            raise Pkcs11SignerError(
                "PKCS#11 signature on token %r failed: %s" % (self.token_label, type(exc).__name__)
            ) from None


# ---------------------------------------------------------------------------
# SoftHSM2 (tests and demo)
# ---------------------------------------------------------------------------
def write_softhsm_conf(directory):
    """Write ``directory/softhsm2.conf`` with its token dir ``directory/tokens``; return the conf path."""
    tokens = os.path.join(directory, "tokens")
    os.makedirs(tokens, exist_ok=True)
    conf = os.path.join(directory, "softhsm2.conf")
    with open(conf, "w") as f:
        f.write(
            "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n"
            "slots.removable = false\n" % tokens
        )
    return conf


def load_into_softhsm(
    module, token_label, so_pin, user_pin, key_label, private_key, certificate, key_id=None, conf=None
):
    """Initialise a SoftHSM2 token and import ``private_key`` and ``certificate`` into it.

    ``conf`` defaults to ``os.environ["SOFTHSM2_CONF"]`` (which must point to a
    softhsm2.conf, e.g. from ``write_softhsm_conf``, and is what this process's
    module reads).  The token is made with ``softhsm2-util --init-token --free``
    (its PINs are passed on that command line: tests / demo only).  The key
    (RSA components or EC value, sensitive, not extractable) and the
    certificate get ``key_label`` as CKA_LABEL and ``key_id`` (default: the
    SHA-1 of the public key, as most token tools do) as CKA_ID.  Returns the id.
    """
    pkcs11 = _pkcs11()
    from pkcs11.util.ec import decode_ec_private_key
    from pkcs11.util.rsa import decode_rsa_private_key
    from pkcs11.util.x509 import decode_x509_certificate

    conf = conf or os.environ.get("SOFTHSM2_CONF")
    if not conf or not os.path.exists(conf):
        raise Pkcs11SignerError("SOFTHSM2_CONF must point to a softhsm2.conf (see write_softhsm_conf)")
    tool = shutil.which("softhsm2-util")
    if not tool:
        raise Pkcs11SignerError("softhsm2-util is not installed (Debian package softhsm2)")
    env = dict(os.environ, SOFTHSM2_CONF=conf)
    proc = subprocess.run(
        [tool, "--init-token", "--free", "--label", token_label, "--so-pin", so_pin, "--pin", user_pin],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode != 0:
        # softhsm2-util does not echo the PINs; still, do not pass its output through blindly
        message = (proc.stderr or proc.stdout).replace(so_pin, "***").replace(user_pin, "***").strip()
        raise Pkcs11SignerError("softhsm2-util --init-token failed: %s" % message)

    if os.environ.get("SOFTHSM2_CONF") != conf:
        raise Pkcs11SignerError("this process's SOFTHSM2_CONF differs from %s" % conf)
    lib = reload_module(module)  # see the new token
    if key_id is None:
        public_der = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        key_id = hashlib.sha1(public_der).digest()
    key_der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    if isinstance(private_key, rsa.RSAPrivateKey):
        key_attrs = decode_rsa_private_key(key_der)
    elif isinstance(private_key, ec.EllipticCurvePrivateKey):
        key_attrs = decode_ec_private_key(key_der)
    else:
        raise Pkcs11SignerError("unsupported private key type %s" % type(private_key).__name__)
    A = pkcs11.Attribute
    key_attrs.update(
        {
            A.TOKEN: True,
            A.PRIVATE: True,
            A.SENSITIVE: True,
            A.EXTRACTABLE: False,
            A.SIGN: True,
            A.LABEL: key_label,
            A.ID: key_id,
        }
    )
    cert_attrs = decode_x509_certificate(certificate.public_bytes(serialization.Encoding.DER))
    cert_attrs.update({A.TOKEN: True, A.PRIVATE: False, A.LABEL: key_label, A.ID: key_id})
    token = lib.get_token(token_label=token_label)
    with token.open(rw=True, user_pin=user_pin) as session:
        session.create_object(key_attrs)
        session.create_object(cert_attrs)
    _logger.debug("imported key %r into SoftHSM2 token %r", key_label, token_label)
    return key_id
