"""PAdES signatures of the transcript PDF, with pyHanko.  No Odoo import here.

Flow (one revision per step, everything incremental after ``prepare``)::

    pdf = prepare(pdf, fields=[{"name": "sig_subject_TOAN"}, ..., {"name": "sig_seal"}],
                  attachments=[{"name": "hocba.xml", "data": xml, "description": "..."}])
    pdf = sign(pdf, "sig_subject_TOAN", signer, reason=..., location=...)
    ...
    pdf = sign(pdf, "sig_seal", seal_signer, reason=..., location=..., lock=True)
    report = verify(pdf, [root_pem])

* Keys go through our ``xades.Signer`` interface (``certificate``, ``chain``,
  ``sign(data, algorithm)``): ``HankoSigner`` is a pyHanko ``Signer`` whose
  ``async_sign_raw`` delegates to it, so PKCS#11 / CSC back ends only have to
  implement ``xades.Signer``.  Adapters are cached per ``xades.Signer`` object
  (keep the ``KeySigner`` around: its key is parsed once).
* B-B without ``timestamper_url``; B-T with it (``HTTPTimeStamper``); B-LT
  with ``embed_revocation=True`` and a ``validation_context`` (revocation
  data in the DSS).
* The FieldMDP lock (``/Lock``: all fields, ``/P 1`` = no changes) is made by
  ``prepare`` on the field declared with ``"lock": True`` (the last tier);
  pyHanko then adds the FieldMDP/DocMDP references when that field is signed.
  ``sign(..., lock=True)`` checks that the field carries that lock (adding
  ``/Lock`` in the signing revision itself breaks all earlier signatures: the
  difference analysis reports "Dict keys differ").  A locked field applies its
  lock whatever ``lock`` says.  DocMDP *certification* is only allowed on
  the first signature of a document, so it is not used here.
* ``verify`` decides on ``bottom_line`` (crypto + trust + modification policy
  + timestamp), not only on ``valid``, and flags content modified after the
  last signature (e.g. an overlay drawn in a later incremental update).
* Nothing legally relevant goes into ``/Info``: it is not covered by any
  signature in a meaningful way (an update that only rewrites ``/Info`` is
  not even flagged by the difference analysis).

Synchronous functions work when no event loop runs in the calling thread (the
Odoo case); inside a running loop they run the coroutine in a worker thread.
The ``async_*`` variants are the primary implementation.
"""

import contextlib
import logging
import os
import weakref
from io import BytesIO

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import embed
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields as hk_fields
from pyhanko.sign import signers as hk_signers
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .aio import run_sync

DEFAULT_MD = "sha256"
FREESANS = "/usr/share/fonts/truetype/freefont/FreeSans.ttf"

# default layout of pre-made fields on the last page (PDF points, A4 portrait)
_DEFAULT_W, _DEFAULT_H, _MARGIN, _GAP = 120, 60, 36, 12


class PadesError(Exception):
    """Signing refused (locked document, unknown or already signed field...)."""


def asn1_certificate(cert):
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


# ---------------------------------------------------------------------------
# the pyHanko signer adapter
# ---------------------------------------------------------------------------
class HankoSigner(hk_signers.Signer):
    """pyHanko signer that delegates the raw signature to a ``xades.Signer``."""

    def __init__(self, signer, embed_roots=False):
        cert = asn1_certificate(signer.certificate)
        chain = [asn1_certificate(c) for c in signer.chain or ()]
        super().__init__(
            signing_cert=cert,
            cert_registry=SimpleCertificateStore.from_certs(chain),
            embed_roots=embed_roots,
        )
        self.signer = signer
        # placeholder size for dry runs: RSA = modulus size, ECDSA DER <= 2*n+9
        size = signer.certificate.public_key().key_size
        self._placeholder = size // 8 if signer.key_type == "rsa" else 2 * ((size + 7) // 8) + 9

    async def async_sign_raw(self, data, digest_algorithm, dry_run=False):
        if dry_run:  # size estimate: never bother a token or a remote service
            return bytes(self._placeholder)
        return self.signer.sign(data, digest_algorithm)


_ADAPTERS = weakref.WeakKeyDictionary()
_TIMESTAMPERS = {}
_STAMP_STYLE = []


def hanko_signer(signer):
    """The cached ``HankoSigner`` for ``signer`` (or ``signer`` if it already is one)."""
    if isinstance(signer, hk_signers.Signer):
        return signer
    adapter = _ADAPTERS.get(signer)
    if adapter is None:
        adapter = _ADAPTERS[signer] = HankoSigner(signer)
    return adapter


def _timestamper(url):
    if url not in _TIMESTAMPERS:
        _TIMESTAMPERS[url] = HTTPTimeStamper(url)
    return _TIMESTAMPERS[url]


def stamp_style():
    """Visible stamp: signer CN + time.

    With FreeSans through pyHanko's OpenType support (uharfbuzz, pinned): it
    renders Vietnamese.  Without uharfbuzz, pyHanko's built-in Courier, where
    characters outside its simple encoding are dropped / replaced: the stamp is
    only a picture, the signer's identity is in the certificate.
    """
    # fontTools reports every table it cannot subset (FFTM): not a problem
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    if not _STAMP_STYLE:
        from pyhanko import stamp

        kwargs = {}
        with contextlib.suppress(ImportError):  # no uharfbuzz in this venv
            from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
            from pyhanko.pdf_utils.text import TextBoxStyle

            if os.path.exists(FREESANS):
                kwargs["text_box_style"] = TextBoxStyle(font=GlyphAccumulatorFactory(FREESANS), font_size=8)
        _STAMP_STYLE.append(stamp.TextStampStyle(stamp_text="%(signer)s\n%(ts)s", border_width=1, **kwargs))
    return _STAMP_STYLE[0]


# ---------------------------------------------------------------------------
# prepare: empty signature fields + embedded files
# ---------------------------------------------------------------------------
def _page_count(reader):
    return int(reader.root["/Pages"]["/Count"])


def default_layout(names, page_box=(0, 0, 595, 842)):
    """Boxes for ``names`` in a row (4 per row) at the bottom of a page."""
    x0, y0, x1, _y1 = page_box
    per_row = max(1, int((x1 - x0 - 2 * _MARGIN + _GAP) // (_DEFAULT_W + _GAP)))
    boxes = {}
    for index, name in enumerate(names):
        row, col = divmod(index, per_row)
        left = x0 + _MARGIN + col * (_DEFAULT_W + _GAP)
        bottom = y0 + _MARGIN + row * (_DEFAULT_H + _GAP)
        boxes[name] = (left, bottom, left + _DEFAULT_W, bottom + _DEFAULT_H)
    return boxes


def prepare(pdf_bytes, fields, attachments=()):
    """Add empty signature fields and embedded files in one incremental update.

    ``fields``: names, or dicts ``{"name", "page" (0-based, -1 = last;
    default last), "box" ((x1, y1, x2, y2); default: a row at the bottom),
    "lock" (FieldMDP lock "no changes" pre-set on the field)}``.
    ``attachments``: dicts ``{"name", "data", "mime_type" (default
    application/xml), "description"}``.
    """
    writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes), strict=False)
    specs = [{"name": f} if isinstance(f, str) else dict(f) for f in fields]
    pages = _page_count(writer.prev)
    last_page = writer.prev.find_page_for_modification(pages - 1)[0].get_object()
    media_box = [float(v) for v in last_page.get("/MediaBox", (0, 0, 595, 842))]
    layout = default_layout([s["name"] for s in specs if not s.get("box")], media_box)
    for spec in specs:
        page = spec.get("page", -1)
        lock = {}
        if spec.get("lock"):
            lock = {
                "field_mdp_spec": hk_fields.FieldMDPSpec(hk_fields.FieldMDPAction.ALL),
                "doc_mdp_update_value": hk_fields.MDPPerm.NO_CHANGES,
            }
        hk_fields.append_signature_field(
            writer,
            hk_fields.SigFieldSpec(
                sig_field_name=spec["name"],
                on_page=page if page >= 0 else pages + page,
                box=tuple(spec.get("box") or layout[spec["name"]]),
                **lock,
            ),
        )
    for att in attachments:
        data = att["data"]
        ef = embed.EmbeddedFileObject.from_file_data(
            writer,
            data=data,
            mime_type=att.get("mime_type", "application/xml"),
            params=embed.EmbeddedFileParams(embed_size=True, embed_checksum=True),
        )
        embed.embed_file(
            writer,
            embed.FileSpec(
                file_spec_string=att["name"],
                file_name=att["name"],
                embedded_data=ef,
                description=att.get("description"),
                af_relationship=pdf_name("/" + att.get("relationship", "Source")),
            ),
        )
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def attachments(pdf_bytes):
    """{file name: bytes} of the document's embedded files (/EmbeddedFiles name tree, flat)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(pdf_bytes), strict=False)
    result = {}
    try:
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    except KeyError:
        return result
    for index in range(0, len(names), 2):
        spec = names[index + 1]
        name = str(spec.get("/UF", spec.get("/F", names[index])))
        result[name] = spec["/EF"]["/F"].data
    return result


# ---------------------------------------------------------------------------
# sign
# ---------------------------------------------------------------------------
def _check_signable(writer, field_name):
    """Refuse to sign into a missing / filled field or a locked document."""
    found = False
    for name, value, ref in hk_fields.enumerate_sig_fields(writer.prev, filled_status=None):
        field = ref.get_object()
        if name == field_name:
            found = True
            if value is not None:
                raise PadesError("signature field %s is already signed" % name)
            continue
        if value is None:
            continue
        lock = field.get("/Lock")
        if lock is None:
            continue
        lock = lock.get_object()
        if int(lock.get("/P", 0)) == hk_fields.MDPPerm.NO_CHANGES.value:
            raise PadesError("the document is locked by signature field %s (no changes allowed)" % name)
        try:
            if hk_fields.FieldMDPSpec.from_pdf_object(lock).is_locked(field_name):
                raise PadesError("signature field %s is locked by %s" % (field_name, name))
        except (KeyError, ValueError):
            raise PadesError("unreadable /Lock in signature field %s" % name)
    if not found:
        raise PadesError("no signature field named %s" % field_name)


def _field_locked(writer, field_name):
    """True when the (empty) field carries a "no changes" FieldMDP lock."""
    for _name, _value, ref in hk_fields.enumerate_sig_fields(writer.prev, with_name=field_name):
        lock = ref.get_object().get("/Lock")
        return lock is not None and int(lock.get_object().get("/P", 0)) == hk_fields.MDPPerm.NO_CHANGES.value
    return False


async def async_sign(
    pdf_bytes,
    field_name,
    signer,
    *,
    reason,
    location,
    timestamper_url=None,
    lock=False,
    validation_context=None,
    embed_revocation=False,
    md_algorithm=DEFAULT_MD,
    visible_stamp=True,
):
    """One PAdES signature (incremental update) into the empty field ``field_name``."""
    if embed_revocation and validation_context is None:
        raise PadesError("embed_revocation needs a validation_context")
    writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes), strict=False)
    _check_signable(writer, field_name)
    if lock and not _field_locked(writer, field_name):
        # Writing /Lock in the signing revision is reported by pyHanko's diff
        # policy as a suspicious change ("Dict keys differ") and breaks every
        # earlier signature: the lock has to be pre-made by prepare().
        raise PadesError("field %s has no FieldMDP lock: prepare it with lock=True" % field_name)
    meta = hk_signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        md_algorithm=md_algorithm,
        subfilter=hk_fields.SigSeedSubFilter.PADES,
        embed_validation_info=bool(embed_revocation),
        validation_context=validation_context,
        # the pre-made lock says "no changes": ask for the same, not FILL_FORMS
        docmdp_permissions=hk_fields.MDPPerm.NO_CHANGES if lock else hk_fields.MDPPerm.FILL_FORMS,
    )
    pdf_signer = hk_signers.PdfSigner(
        meta,
        signer=hanko_signer(signer),
        timestamper=_timestamper(timestamper_url) if timestamper_url else None,
        stamp_style=stamp_style() if visible_stamp else None,
    )
    out = await pdf_signer.async_sign_pdf(writer, in_place=False)
    return out.getvalue()


def sign(pdf_bytes, field_name, signer, **kwargs):
    """Synchronous ``async_sign`` (see there)."""
    return run_sync(async_sign(pdf_bytes, field_name, signer, **kwargs))
