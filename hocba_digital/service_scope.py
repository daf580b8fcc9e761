"""What the addon's own services may do that a person may not, held out of reach
of any request.

A guard that lets a service through (the freeze of signed data, the class lock,
the records only code writes, the exchange states) asks ``active(SIGNING)``;
only code running inside ``with granted(SIGNING):`` gets True.  The grant lives
in a :class:`contextvars.ContextVar`, per thread and per task, set by the
service's own call and reset when it returns: never in the Odoo context, which
a client sends with every RPC (``/web/dataset/call_kw`` passes it on unchanged).
See docs/security.md.

Pure Python: no Odoo import.
"""

import contextlib
import contextvars

SIGNING = "signing"  # the signing and correction flow: versions, signatures, the freeze and the lock
EXCHANGE = "exchange"  # the exchange service: the protocol fields of hocba.exchange
ISSUE_REGISTER = "issue_register"  # hocba.issue.log entries, written when something is issued
TRANSFER_IMPORT = "transfer_import"  # hocba.transfer.document, made by a verified transfer package
VERSION_CLEANUP = "version_cleanup"  # deleting a version still being signed, and its signatures
SCOPES = frozenset({SIGNING, EXCHANGE, ISSUE_REGISTER, TRANSFER_IMPORT, VERSION_CLEANUP})

_granted = contextvars.ContextVar("hocba_service_scope", default=frozenset())


def _known(scopes):
    unknown = set(scopes) - SCOPES
    if unknown or not scopes:
        raise ValueError("unknown service scope(s): %r" % sorted(unknown))
    return frozenset(scopes)


@contextlib.contextmanager
def granted(*scopes):
    """``with granted(SIGNING): ...``: the guards of ``scopes`` let the code of
    the block through.  Nested grants add up; leaving the block restores what
    was granted before it, whatever happens inside."""
    token = _granted.set(_granted.get() | _known(scopes))
    try:
        yield
    finally:
        _granted.reset(token)


def active(scope):
    """True inside a ``granted(scope)`` block of the current thread or task."""
    _known([scope])
    return scope in _granted.get()
