"""HTML to PDF with wkhtmltopdf, fully offline.  No Odoo import here.

Odoo's report engine makes wkhtmltopdf fetch the report's CSS from the Odoo
server itself.  Inside a transaction that holds locks (a signing run, a test)
that fetch can wait for the very transaction that waits for the PDF, and
Debian's wkhtmltopdf (unpatched Qt) prints empty pages when a header or
footer is given.  The transcript is therefore rendered from one
self-contained HTML document (inline CSS, images as data: URIs), with network
and local file access off, so the PDF depends on nothing but its data.
"""

import os
import shutil
import subprocess
import tempfile


class HtmlPdfError(RuntimeError):
    """wkhtmltopdf is missing, failed or took too long."""


def find_wkhtmltopdf():
    return shutil.which("wkhtmltopdf")


def html_to_pdf(
    html, *, page_size="A4", margins_mm=(12, 12, 12, 12), dpi=96, timeout=120, binary=None, orientation="Portrait"
):
    """PDF bytes of ``html`` (str or UTF-8 bytes).  ``margins_mm``: top, right,
    bottom, left."""
    binary = binary or find_wkhtmltopdf()
    if not binary:
        raise HtmlPdfError("wkhtmltopdf is not installed")
    if isinstance(html, str):
        html = html.encode("utf-8")
    top, right, bottom, left = margins_mm
    with tempfile.TemporaryDirectory(prefix="hocba-pdf-") as tmp:
        source = os.path.join(tmp, "document.html")
        target = os.path.join(tmp, "document.pdf")
        with open(source, "wb") as handle:
            handle.write(html)
        command = [
            binary,
            "--quiet",
            "--encoding",
            "utf-8",
            "--page-size",
            page_size,
            "--orientation",
            orientation,
            "--margin-top",
            str(top),
            "--margin-right",
            str(right),
            "--margin-bottom",
            str(bottom),
            "--margin-left",
            str(left),
            "--dpi",
            str(dpi),
            "--disable-smart-shrinking",
            "--disable-javascript",
            "--disable-local-file-access",
            "--allow",
            tmp,
            "--load-error-handling",
            "ignore",
            "--load-media-error-handling",
            "ignore",
            source,
            target,
        ]
        try:
            run = subprocess.run(
                command,
                capture_output=True,
                timeout=timeout,
                check=False,
                env=dict(os.environ, http_proxy="http://0.0.0.0:9", https_proxy="http://0.0.0.0:9"),
            )
        except subprocess.TimeoutExpired as exc:
            raise HtmlPdfError("wkhtmltopdf took more than %s s" % timeout) from exc
        if not os.path.exists(target) or os.path.getsize(target) == 0:
            raise HtmlPdfError(
                "wkhtmltopdf failed (%s): %s" % (run.returncode, run.stderr.decode("utf-8", "replace")[-500:])
            )
        with open(target, "rb") as handle:
            return handle.read()
