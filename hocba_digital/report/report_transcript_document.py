import base64
import functools
import io
import subprocess

from odoo import _, api, models
from odoo.exceptions import UserError

from odoo.addons.base.models.ir_actions_report import _get_wkhtmltopdf_bin

from ..lib.documents import html_pdf, transcript_layout


def qr_code(text):
    """The ``qrcode.QRCode`` of ``text`` as printed (its matrix includes the border)."""
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=2)
    code.add_data(text)
    code.make(fit=True)
    return code


def qr_png(text):
    """PNG bytes of the QR code of ``text``.

    Pillow when it is there; otherwise qrcode's pure-Python writer (pypng is
    a dependency of qrcode itself), so the QR code never depends on Pillow.
    """
    from qrcode.compat.pil import Image

    if Image is not None:
        from qrcode.image.pil import PilImage as factory
    else:
        from qrcode.image.pure import PyPNGImage as factory
    buffer = io.BytesIO()
    qr_code(text).make_image(image_factory=factory).save(buffer)
    return buffer.getvalue()


@functools.cache
def _wkhtmltopdf_version():
    try:
        return subprocess.run(
            [_get_wkhtmltopdf_bin(), "--version"], capture_output=True, timeout=30, check=False
        ).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return ""


class ReportTranscriptDocument(models.AbstractModel):
    """The printed transcript, rendered from the data of its XML only.

    ``data["documents"]``: one dict per transcript, each the output of
    ``xml_profile.parse(xml)`` plus optional keys ``signature_blocks``
    (``{"homeroom_teacher" | "principal" | "seal": {"name", "time"}}``),
    ``subject_signers`` (``{subject code: name}``) and ``verify_url``.
    Nothing is read from the database, so the PDF shows exactly what the
    signed XML holds.
    """

    _name = "report.hocba_digital.report_transcript_document"
    _description = "Transcript document (học bạ số) report"

    @api.model
    def _get_report_values(self, docids, data=None):
        documents = (data or {}).get("documents")
        if not documents:
            raise UserError(
                _(
                    "The transcript document is printed from the transcript's data "
                    "(the content of its XML), and none was given."
                )
            )
        transcripts = []
        for doc in documents:
            view = transcript_layout.prepare(doc)
            view["qr"] = base64.b64encode(qr_png(view["verify_url"])).decode("ascii") if view["verify_url"] else ""
            transcripts.append(view)
        return {
            "doc_ids": docids,
            "doc_model": "hocba.transcript",
            "transcripts": transcripts,
            "css_zoom": transcript_layout.css_zoom(_wkhtmltopdf_version()),
        }

    @api.model
    def _hocba_pdf(self, documents, res_ids=None):
        """The PDF of ``documents``, rendered offline (see ``lib.html_pdf``): the
        report's own HTML, with its paper format, and no call back to the server."""
        report = self.env.ref("hocba_digital.action_report_transcript_document").sudo()
        html, _kind = report._render_qweb_html(report.report_name, res_ids or [], data={"documents": documents})
        paper = report.paperformat_id
        try:
            return html_pdf.html_to_pdf(
                html,
                page_size=paper.format or "A4",
                dpi=paper.dpi or 96,
                margins_mm=(paper.margin_top, paper.margin_right, paper.margin_bottom, paper.margin_left),
            )
        except html_pdf.HtmlPdfError as exc:
            raise UserError(_("The transcript PDF could not be made: %(why)s", why=exc))
