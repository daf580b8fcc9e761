"""The one way a signed file leaves the server over HTTP: read from the version,
written to the register of verifications and downloads, sent as an attachment."""

import base64

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request


def file_response(data, filename, kind):
    mimetype = "application/pdf" if kind == "pdf" else "application/xml"
    return request.make_response(
        data,
        headers=[
            ("Content-Type", mimetype),
            ("Content-Length", len(data)),
            ("Content-Disposition", http.content_disposition(filename)),
            ("X-Content-Type-Options", "nosniff"),
        ],
    )


def version_file(version, kind, note):
    """(bytes, response) of the version's signed PDF or XML, logged with ``note``;
    404 when the version has no such file."""
    version = version.with_prefetch()  # the files of this version only
    field, filename = ("pdf_file", version.pdf_filename) if kind == "pdf" else ("xml_file", version.xml_filename)
    data = base64.b64decode(version[field] or b"")
    if not data:
        raise NotFound()
    request.env["hocba.access.log"]._hocba_log(
        "download_%s" % kind,
        version=version,
        remote_addr=request.httprequest.remote_addr,
        file_sha256=version._hocba_sha256(data),
        note=note,
    )
    return data, file_response(data, filename, kind)
