"""Private keys at rest, sealed with a key derived from the owner's signing PIN.

The PIN is asked when the owner signs and is never stored: without it the
sealed blob is useless, to the database administrator too.  scrypt makes a
guessed PIN expensive to try; AES-GCM makes a wrong PIN (or a changed blob)
fail loudly instead of giving garbage.

Blob layout: ``b"HBKV1" | salt (16) | nonce (12) | AES-256-GCM(ciphertext+tag)``.
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"HBKV1"
MIN_PIN_LENGTH = 6
# 32 MiB and ~100-150 ms per try on a 2-vCPU server (bench/README.md): paid once
# per signing run, and what makes each guess of a 6-digit PIN costly offline.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1


class WrongPin(ValueError):
    """The PIN does not open this blob (or the blob was altered)."""


class WeakPin(ValueError):
    """The PIN is too short or too simple to protect a signing key."""


def check_pin(pin):
    """Raise :class:`WeakPin` for a PIN that protects nothing."""
    if not pin or len(pin) < MIN_PIN_LENGTH:
        raise WeakPin("too_short")
    if len(set(pin)) == 1 or pin in "0123456789012345678909876543210":
        raise WeakPin("too_simple")


def _derive(pin, salt):
    kdf = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return kdf.derive(pin.encode("utf-8"))


def seal(secret, pin, associated=b""):
    """Encrypt ``secret`` (bytes) under ``pin``; ``associated`` binds the blob to its owner."""
    check_pin(pin)
    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = AESGCM(_derive(pin, salt)).encrypt(nonce, secret, MAGIC + associated)
    return MAGIC + salt + nonce + sealed


def unseal(blob, pin, associated=b""):
    """The secret, or :class:`WrongPin`."""
    if not blob or not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 28 + 16:
        raise WrongPin("not_a_sealed_key")
    salt = blob[len(MAGIC) : len(MAGIC) + 16]
    nonce = blob[len(MAGIC) + 16 : len(MAGIC) + 28]
    try:
        return AESGCM(_derive(pin or "", salt)).decrypt(nonce, blob[len(MAGIC) + 28 :], MAGIC + associated)
    except InvalidTag as exc:
        raise WrongPin("wrong_pin") from exc
