"""Public verification of an issued transcript, without login.

``/hocba/verify``: upload a signed PDF or XML and read the verdict.
``/hocba/verify/<document_id>``: the link of the QR code printed on the PDF;
verifies the files the school stored for that version and says whether it is
the current one.

Only the pupil's name and the school year are shown, never the personal
identification number.  Every verification goes to the register
(``hocba.access.log``).  Hostile input gets a clear error page, never a 500.
The rate limit is a per-process sliding window keyed by the client address
(each worker counts on its own).
"""

import base64
import collections
import datetime
import hashlib
import logging
import re
import threading
import time

from odoo import _, http
from odoo.http import request
from odoo.tools import format_date, format_datetime

from ..lib.signing import chain as signing_chain
from ..lib.signing import verification

_logger = logging.getLogger(__name__)

PARAM_MAX_BYTES = "hocba_digital.verify_max_bytes"
PARAM_PER_MINUTE = "hocba_digital.verify_per_minute"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_PER_MINUTE = 20
# room for the multipart envelope and the csrf token around the file itself
MULTIPART_SLACK = 64 * 1024
DOCUMENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class SlidingWindow:
    """Requests per key over the last ``period`` seconds, in this process."""

    def __init__(self, period=60.0, max_keys=10000):
        self.period = period
        self.max_keys = max_keys
        self._hits = {}
        self._lock = threading.Lock()

    def allow(self, key, limit, now=None):
        """Count one request of ``key``; False when it is over ``limit``."""
        now = time.monotonic() if now is None else now
        horizon = now - self.period
        with self._lock:
            if len(self._hits) >= self.max_keys:
                self._purge(horizon)
            hits = self._hits.setdefault(key, collections.deque())
            while hits and hits[0] <= horizon:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            return True

    def _purge(self, horizon):
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= horizon]:
            del self._hits[key]
        if len(self._hits) >= self.max_keys:  # still full: forget the oldest half
            oldest = sorted(self._hits, key=lambda k: self._hits[k][-1])
            for key in oldest[: len(oldest) // 2]:
                del self._hits[key]

    def clear(self):
        with self._lock:
            self._hits.clear()


RATE_LIMIT = SlidingWindow()


def _int_param(name, default):
    value = request.env["ir.config_parameter"].sudo().get_param(name)
    try:
        value = int(value)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


class HocbaVerifyController(http.Controller):
    # ------------------------------------------------------------------
    # routes
    # ------------------------------------------------------------------
    @http.route("/hocba/verify", type="http", auth="public", methods=["GET", "POST"], website=True, sitemap=False)
    def hocba_verify(self, **post):
        if request.httprequest.method != "POST":
            return self._render({"mode": "form"})
        if not self._rate_ok():
            return self._too_many()
        limit = _int_param(PARAM_MAX_BYTES, DEFAULT_MAX_BYTES)
        length = request.httprequest.content_length
        if length is not None and length > limit + MULTIPART_SLACK:
            return self._refuse(self._too_large_text(limit), 413)
        upload = post.get("document")
        if not hasattr(upload, "read"):
            return self._refuse(_("Choose a transcript file (PDF or XML) to verify."), 400)
        try:
            data = upload.read(limit + 1)
        except Exception:  # a broken upload stream
            _logger.info("unreadable verification upload", exc_info=True)
            return self._refuse(_("The file could not be received. Please try again."), 400)
        if len(data) > limit:
            return self._refuse(self._too_large_text(limit), 413)
        if not data.strip():
            return self._refuse(_("The file is empty."), 400)
        if verification.sniff(data) is None:
            return self._refuse(
                _("This is neither a PDF nor an XML file. Only the transcript's signed PDF or XML can be verified."),
                400,
            )
        return self._verify_upload(data)

    @http.route(
        "/hocba/verify/<string:document_id>", type="http", auth="public", methods=["GET"], website=True, sitemap=False
    )
    def hocba_verify_document(self, document_id, **kwargs):
        if not self._rate_ok():
            return self._too_many()
        version = self._find_version(document_id)
        if not version:
            return self._render({"mode": "not_found"}, status=404)
        return self._verify_version(version)

    # ------------------------------------------------------------------
    # verification
    # ------------------------------------------------------------------
    def _verify_upload(self, data):
        companies = request.env["res.company"].sudo().search([])
        roots = "\n".join(c.hocba_trusted_roots_pem for c in companies if c.hocba_trusted_roots_pem)
        check = any((c.hocba_revocation_check or "require") != "off" for c in companies)
        report = self._verify(data, roots, check)
        version = self._find_version(report.get("document_id")) if report.get("kind") else None
        sha = hashlib.sha256(data).hexdigest()
        verdict = self._verdict(report)
        self._log(
            version,
            verdict,
            sha,
            note={"pdf": _("Uploaded PDF"), "xml": _("Uploaded XML")}.get(report.get("kind"), _("Uploaded file")),
        )
        company = version.company_id if version else request.env.company
        values = {
            "mode": "result",
            "verdict": verdict,
            "report": report,
            "checks": [self._check(report, report.get("kind"))],
            "signatures": self._rows(report, company, embedded=True),
            "pupil_name": report.get("pupil_name"),
            "school_year": report.get("school_year"),
            "version": version,
            "file_sha256": sha,
        }
        values.update(self._version_values(version))
        return self._render(values)

    def _verify_version(self, version):
        company = version.sudo().company_id
        roots = company.hocba_trusted_roots_pem or ""
        check = (company.hocba_revocation_check or "require") != "off"
        xml, pdf = self._files(version)
        reports = []
        if pdf:
            reports.append(("pdf", self._verify(pdf, roots, check)))
        if xml:
            reports.append(("xml", self._verify(xml, roots, check)))
        if not reports:
            verdict = "unreadable"
        elif all(r["verdict"] for _k, r in reports):
            verdict = "valid"
        elif all(r["kind"] is None for _k, r in reports):
            verdict = "unreadable"
        else:
            verdict = "invalid"
        # the XML carries every tier; the PDF its own three
        main = dict(reports).get("xml") or dict(reports).get("pdf") or {}
        self._log(version, verdict, version.pdf_sha256 or version.xml_sha256, note=_("QR link"))
        values = {
            "mode": "result",
            "verdict": verdict,
            "report": main,
            "qr": True,
            "checks": [self._check(r, kind) for kind, r in reports],
            "signatures": self._rows(main, company, embedded=not dict(reports).get("xml")),
            "pupil_name": main.get("pupil_name") or version.student_id.name,
            "school_year": main.get("school_year") or version.year_id.name,
            "version": version,
        }
        values.update(self._version_values(version))
        return self._render(values)

    @staticmethod
    def _files(version):
        version = version.sudo()
        return (base64.b64decode(version.xml_file or b""), base64.b64decode(version.pdf_file or b""))

    @staticmethod
    def _verify(data, roots, revocation_check):
        revocation = verification.ocsp_revocation(timeout=10) if revocation_check else None
        try:
            return verification.verify_document(data, (roots or "").encode(), revocation=revocation)
        except Exception as exc:  # verify_document never raises; belt and braces
            _logger.exception("public verification failed")
            report = verification._new_report(None)
            report["errors"].append("the document could not be verified: %s" % type(exc).__name__)
            return verification._conclude(report)

    @staticmethod
    def _verdict(report):
        if report.get("verdict"):
            return "valid"
        return "invalid" if report.get("kind") else "unreadable"

    def _log(self, version, verdict, sha, note=None):
        try:
            request.env["hocba.access.log"].sudo()._hocba_log(
                "verify",
                version=version or None,
                remote_addr=request.httprequest.remote_addr,
                verdict=verdict,
                file_sha256=sha or False,
                note=note,
            )
        except Exception:  # the register must not hide the answer
            _logger.exception("could not register a public verification")

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _find_version(self, document_id):
        if not document_id or not isinstance(document_id, str) or not DOCUMENT_ID.match(document_id):
            return request.env["hocba.version"]
        return (
            request.env["hocba.version"]
            .sudo()
            .search([("document_id", "=", document_id), ("state", "in", ("issued", "superseded"))], limit=1)
        )

    def _version_values(self, version):
        if not version:
            return {}
        version = version.sudo()
        values = {"current": version.state == "issued", "replaced_by": False, "replaced_on": False}
        newer = version.replaced_by_id
        # follow the chain of corrections to the version in force
        seen = set()
        while newer and newer.replaced_by_id and newer.id not in seen:
            seen.add(newer.id)
            newer = newer.replaced_by_id
        if version.state == "superseded" and version.replaced_by_id:
            values["replaced_by"] = newer if newer.state == "issued" else version.replaced_by_id
            when = version.replaced_by_id.issued_at or version.replaced_by_id.created
            values["replaced_on"] = format_date(request.env, when) if when else ""
        if values["current"]:
            values["state_text"] = _("This is the current version of the transcript.")
        elif values["replaced_on"]:
            values["state_text"] = _(
                "This version was superseded by a correction: replaced on %(date)s.", date=values["replaced_on"]
            )
        else:
            values["state_text"] = _("This version was superseded by a correction.")
        return values

    def _rate_ok(self):
        limit = _int_param(PARAM_PER_MINUTE, DEFAULT_PER_MINUTE)
        return RATE_LIMIT.allow(request.httprequest.remote_addr or "?", limit)

    def _too_many(self):
        response = self._render(
            {
                "mode": "error",
                "error": _("Too many verifications from your address. Please wait a minute and try again."),
            },
            status=429,
        )
        response.headers["Retry-After"] = "60"
        return response

    def _refuse(self, message, status):
        return self._render({"mode": "error", "error": message}, status=status)

    @staticmethod
    def _too_large_text(limit):
        return _("The file is too large: at most %(size)s MB can be verified.", size=round(limit / (1024 * 1024), 1))

    def _check(self, report, kind):
        verdict = self._verdict(report)
        errors = list(report.get("errors") or [])
        if verdict == "invalid":
            details = report.get("verdict_text") or ""
        else:
            details = "; ".join(errors[:5])
        missing = [self._role_label(t) for t in report.get("missing_tiers") or []]
        return {
            "kind": (kind or "").upper() or _("File"),
            "verdict": verdict,
            "details": details,
            "missing": _("Missing signatures: %(roles)s", roles=", ".join(missing)) if missing else "",
        }

    def _tier_labels(self):
        field = request.env["hocba.signature"]._fields["tier"]
        return dict(field._description_selection(request.env))

    def _role_label(self, tier):
        vietnamese = signing_chain.CLAIMED_ROLES.get(tier) or ""
        label = self._tier_labels().get(tier) or tier or ""
        if vietnamese and label and vietnamese != label:
            return "%s (%s)" % (vietnamese, label)
        return vietnamese or label or _("Unknown role")

    def _rows(self, report, company, embedded=True):
        sigs = list(report.get("signatures") or [])
        if embedded and report.get("embedded_xml"):
            tiers = {s.get("tier") for s in sigs}
            sigs += [s for s in report["embedded_xml"].get("signatures") or [] if s.get("tier") not in tiers]
        tz = company.sudo().partner_id.tz or request.env.user.sudo().tz or "UTC"
        rows = []
        for sig in sigs:
            rows.append(
                {
                    "signer": sig.get("signer") or _("Unknown signer"),
                    "role": self._role_label(sig.get("tier")),
                    "time": self._signed_on(sig, tz),
                    "ok": bool(sig.get("ok")),
                    "status": self._status(sig),
                    "timestamp": bool(sig.get("timestamp")),
                }
            )
        return rows

    def _signed_on(self, sig, tz):
        when = self._when(sig.get("time"), tz)
        if not when:
            return ""
        if sig.get("timestamp"):
            return _("Signed on %(when)s (time-stamped)", when=when)
        return _("Signed on %(when)s", when=when)

    @staticmethod
    def _when(iso, tz):
        if not iso:
            return ""
        try:
            when = datetime.datetime.fromisoformat(iso)
        except ValueError:
            return iso
        if when.tzinfo:
            when = when.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return "%s (%s)" % (format_datetime(request.env, when, tz=tz, dt_format="short"), tz)

    @staticmethod
    def _status(sig):
        if sig.get("ok"):
            return _("Valid")
        if not sig.get("intact"):
            return _("Broken: the signed content was changed")
        if sig.get("revocation") == "revoked":
            return _("Not valid: the certificate was revoked before signing")
        if not sig.get("chain_ok"):
            return _("Not valid: the certificate is not trusted")
        return _("Not valid")

    def _render(self, values, status=200):
        values.setdefault(
            "size_hint",
            _(
                "At most %(size)s MB. The file is checked and not kept.",
                size=round(_int_param(PARAM_MAX_BYTES, DEFAULT_MAX_BYTES) / (1024 * 1024), 1),
            ),
        )
        values.setdefault("max_mb", round(_int_param(PARAM_MAX_BYTES, DEFAULT_MAX_BYTES) / (1024 * 1024), 1))
        for key in (
            "qr",
            "version",
            "current",
            "replaced_by",
            "replaced_on",
            "pupil_name",
            "school_year",
            "error",
            "state_text",
        ):
            values.setdefault(key, False)
        values.setdefault("checks", [])
        values.setdefault("signatures", [])
        return request.render("hocba_digital.hocba_verify_page", values, status=status)
