"""Parent portal: a guardian reads and downloads the issued transcripts of
their own children (/my/hocba).  A link sent by mail carries the version's
access token, so it opens without signing in; nothing else does."""

import base64
import logging

from werkzeug.exceptions import Forbidden, NotFound

from odoo import _, http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request
from odoo.tools import format_date

from odoo.addons.portal.controllers.portal import CustomerPortal

from ..lib.documents import transcript_layout, xml_profile
from .signed_files import file_response, version_file

_logger = logging.getLogger(__name__)

PORTAL_STATES = ("issued", "superseded")


class HocbaParentPortal(CustomerPortal):
    # ---- helpers ---------------------------------------------------------

    @staticmethod
    def _hocba_my_domain():
        partner = request.env.user.partner_id
        return [("student_id.guardian_ids", "in", partner.ids), ("state", "=", "issued")]

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "hocba_version_count" in counters:
            Version = request.env["hocba.version"]
            values["hocba_version_count"] = (
                Version.search_count(self._hocba_my_domain()) if Version.has_access("read") else 0
            )
        return values

    def _hocba_version_check_access(self, version_id, access_token=None):
        """The version, sudoed, if the visitor may see it: a guardian of the
        pupil (record rules) or the bearer of its access token; only issued or
        superseded versions exist here."""
        try:
            version_sudo = self._document_check_access("hocba.version", version_id, access_token)
        except MissingError as exc:
            raise NotFound() from exc
        except AccessError as exc:
            raise Forbidden() from exc
        if version_sudo.state not in PORTAL_STATES:
            raise NotFound()
        return version_sudo

    @staticmethod
    def _hocba_current(version_sudo):
        current = version_sudo
        seen = set()
        while current.replaced_by_id and current.id not in seen:
            seen.add(current.id)
            current = current.replaced_by_id
        return current if current.state == "issued" else version_sudo.browse()

    @staticmethod
    def _hocba_doc(version_sudo):
        """The plain data of the signed XML, laid out as printed (or None)."""
        xml = base64.b64decode(version_sudo.xml_file or b"")
        if not xml:
            return None
        try:
            return transcript_layout.prepare(xml_profile.parse(xml))
        except Exception:  # noqa: BLE001 - an unreadable file is shown as such
            _logger.warning("Unreadable XML of transcript version %s", version_sudo.id, exc_info=True)
            return None

    @staticmethod
    def _hocba_verdict(version_sudo):
        xml = base64.b64decode(version_sudo.xml_file or b"")
        service = request.env["hocba.verification.service"].sudo().with_company(version_sudo.company_id)
        try:
            report = service.verify(xml)
            return {"ok": bool(report["verdict"]), "text": service.summary(report)}
        except Exception:  # noqa: BLE001 - the page still shows the transcript
            _logger.warning("Verification of transcript version %s failed", version_sudo.id, exc_info=True)
            return {"ok": False, "text": _("The signatures could not be checked right now.")}

    @staticmethod
    def _hocba_levels():
        env = request.env
        subject = dict(env["hocba.subject.result"]._fields["level"]._description_selection(env))
        trait_field = next(
            (
                f
                for name, f in env["hocba.trait.assessment"]._fields.items()
                if name.startswith("level_") and f.type == "selection"
            ),
            None,
        )
        trait = dict(trait_field._description_selection(env)) if trait_field else {}
        return subject, trait

    @staticmethod
    def _hocba_texts(version_sudo):
        """Whole sentences for the page (one term each for the translators)."""
        return {
            "where": _(
                "School year %(year)s · Class %(klass)s",
                year=version_sudo.year_id.name or "",
                klass=version_sudo.class_id.name or "",
            ),
            "number": _("version %(n)s", n=version_sudo.number),
            "issued": _("Issued on %(date)s", date=format_date(request.env, version_sudo.issued_at)),
        }

    # ---- routes ----------------------------------------------------------

    @http.route(["/my/hocba"], type="http", auth="user", website=True)
    def portal_my_hocba(self, **kw):
        Version = request.env["hocba.version"]
        versions = (
            Version.search(self._hocba_my_domain(), order="issued_at desc, id desc")
            if Version.has_access("read")
            else Version
        )
        rows = []
        for version in versions.sudo():
            doc = self._hocba_doc(version) or {}
            rows.append(
                {"version": version, "result": doc.get("result_text") or "", "texts": self._hocba_texts(version)}
            )
        values = self._prepare_portal_layout_values()
        values.update(
            {"page_name": "hocba", "rows": rows, "default_url": "/my/hocba", "received": self._hocba_received()}
        )
        return request.render("hocba_digital.portal_my_hocba", values)

    @http.route(["/my/hocba/<int:version_id>"], type="http", auth="public", website=True)
    def portal_hocba_page(self, version_id, access_token=None, **kw):
        if request.env.user._is_public() and not access_token:
            return request.redirect("/web/login?redirect=/my/hocba/%s" % version_id)
        version_sudo = self._hocba_version_check_access(version_id, access_token)
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "hocba_version",
                "version": version_sudo,
                "access_token": access_token,
                "texts": self._hocba_texts(version_sudo),
            }
        )
        if version_sudo.state == "superseded":
            current = self._hocba_current(version_sudo)
            current_url = False
            if current:
                current_url = current.get_portal_url() if access_token else current.access_url
            values.update(
                {
                    "current": current,
                    "current_url": current_url,
                    "replaced_text": _(
                        "This transcript (version %(n)s) was replaced on %(date)s by a corrected version.",
                        n=version_sudo.number,
                        date=format_date(request.env, current.issued_at) if current else "-",
                    ),
                }
            )
            return request.render("hocba_digital.portal_hocba_superseded", values)
        subject_levels, trait_levels = self._hocba_levels()
        tiers = dict(request.env["hocba.signature"]._fields["tier"]._description_selection(request.env))
        values.update(
            {
                "doc": self._hocba_doc(version_sudo),
                "verdict": self._hocba_verdict(version_sudo),
                "signatures": version_sudo._hocba_valid_signatures(),
                "tiers": tiers,
                "subject_levels": subject_levels,
                "trait_levels": trait_levels,
                "token_query": "?access_token=%s" % access_token if access_token else "",
            }
        )
        values = self._get_page_view_values(version_sudo, access_token, values, "my_hocba_history", False, **kw)
        return request.render("hocba_digital.portal_hocba_page", values)

    @http.route(["/my/hocba/<int:version_id>/<any(pdf,xml):kind>"], type="http", auth="public", website=True)
    def portal_hocba_download(self, version_id, kind, access_token=None, **kw):
        if request.env.user._is_public() and not access_token:
            return request.redirect("/web/login?redirect=/my/hocba/%s" % version_id)
        version_sudo = self._hocba_version_check_access(version_id, access_token)
        if version_sudo.state != "issued":
            raise NotFound()
        data, response = version_file(
            version_sudo, kind, _("Parent portal") if not access_token else _("Parent portal (link by mail)")
        )
        # a signed file taken on the portal is a copy issued: the clerk's register
        request.env["hocba.issue.log"]._hocba_register_portal_copy(version_sudo, kind, data, by_link=bool(access_token))
        return response

    # ---- transcripts received from earlier schools -------------------------

    @staticmethod
    def _hocba_received():
        """The current documents the children brought from earlier schools
        (record rules: a guardian's own children only)."""
        Received = request.env["hocba.transfer.document"]
        if not Received.has_access("read"):
            return Received
        partner = request.env.user.partner_id
        return Received.search([("student_id.guardian_ids", "in", partner.ids), ("state", "=", "issued")])

    @http.route(["/my/hocba/received/<int:document_id>"], type="http", auth="user", website=True)
    def portal_hocba_received_download(self, document_id, **kw):
        document = self._hocba_received().filtered(lambda d: d.id == document_id)
        if not document:
            raise NotFound()
        # a guardian of the pupil, checked by the search above
        document_sudo = document.sudo()
        data = base64.b64decode(document_sudo.file or b"")
        request.env["hocba.issue.log"]._hocba_register(
            "copy",
            document_sudo.student_id,
            None,
            data,
            channel="portal",
            issued_by_id=False,
            requester_partner_id=request.env.user.partner_id.id,
            requester_relation="parent",
            file_name=document_sudo.filename,
            document_count=1,
            note=_("Parent portal: transcript from %(school)s", school=document_sudo.school_name),
        )
        return file_response(data, document_sudo.filename, document_sudo.kind)
