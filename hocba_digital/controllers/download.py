"""Back-office downloads of a version's signed files, each one logged in the
register of verifications and downloads (the portal logs its own)."""
import base64

from werkzeug.exceptions import Forbidden, NotFound

from odoo import _, http
from odoo.exceptions import AccessError
from odoo.http import request

from .portal import HocbaParentPortal


class HocbaVersionDownload(http.Controller):

    @http.route(["/hocba/version/<int:version_id>/<any(pdf,xml):kind>"], type="http",
                auth="user")
    def hocba_version_download(self, version_id, kind, **kw):
        version = request.env["hocba.version"].browse(version_id).exists()
        if not version:
            raise NotFound()
        try:
            version.check_access("read")
        except AccessError as exc:
            raise Forbidden() from exc
        version = version.with_prefetch()
        field, filename = ("pdf_file", version.pdf_filename) if kind == "pdf" else \
            ("xml_file", version.xml_filename)
        data = base64.b64decode(version[field] or b"")
        if not data:
            raise NotFound()
        request.env["hocba.access.log"]._hocba_log(
            "download_%s" % kind, version=version, remote_addr=request.httprequest.remote_addr,
            file_sha256=version._hocba_sha256(data), note=_("Back office"))
        return HocbaParentPortal._hocba_file_response(data, filename, kind)
