"""Back-office downloads of a version's signed files, each one logged in the
register of verifications and downloads (the portal logs its own)."""

from werkzeug.exceptions import Forbidden, NotFound

from odoo import _, http
from odoo.exceptions import AccessError
from odoo.http import request

from .signed_files import version_file


class HocbaVersionDownload(http.Controller):
    @http.route(["/hocba/version/<int:version_id>/<any(pdf,xml):kind>"], type="http", auth="user")
    def hocba_version_download(self, version_id, kind, **kw):
        version = request.env["hocba.version"].browse(version_id).exists()
        if not version:
            raise NotFound()
        try:
            version.check_access("read")
        except AccessError as exc:
            raise Forbidden() from exc
        return version_file(version, kind, _("Back office"))[1]
