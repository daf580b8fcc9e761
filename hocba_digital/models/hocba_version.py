import base64
import hashlib
import logging
import uuid

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import service_scope

_logger = logging.getLogger(__name__)


class HocbaVersion(models.Model):
    """One version of a transcript: what is being signed, then what was issued.

    ``signing``: tiers are signing; ``issued``: every tier signed, the XML and
    PDF are final and never change; ``superseded``: a correction issued a newer
    version (this one still verifies, and says which replaced it).

    Only the signing service writes a version; nobody deletes an issued one.
    """

    _name = "hocba.version"
    _description = "Transcript version"
    _inherit = ["mail.thread", "portal.mixin", "hocba.code.written"]
    _order = "transcript_id, number desc"
    _check_company_auto = True
    _rec_name = "document_id"

    transcript_id = fields.Many2one("hocba.transcript", required=True, index=True, ondelete="restrict")
    student_id = fields.Many2one(related="transcript_id.student_id", store=True, index=True)
    class_id = fields.Many2one(related="transcript_id.class_id", store=True, index=True)
    year_id = fields.Many2one(related="transcript_id.year_id", store=True)
    company_id = fields.Many2one(related="transcript_id.company_id", store=True, index=True)
    number = fields.Integer(required=True, readonly=True)
    document_id = fields.Char(required=True, readonly=True, index=True, default=lambda self: str(uuid.uuid4()))
    created = fields.Datetime(string="Generated on", required=True, readonly=True, default=fields.Datetime.now)
    replaces_id = fields.Many2one("hocba.version", readonly=True, string="Replaces")
    replaced_by_id = fields.Many2one("hocba.version", readonly=True, string="Replaced by")
    correction_reason = fields.Text(readonly=True)
    state = fields.Selection(
        [("signing", "Being signed"), ("issued", "Issued"), ("superseded", "Superseded")],
        default="signing",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
    )
    signature_ids = fields.One2many("hocba.signature", "version_id", string="Signatures")
    exchange_ids = fields.One2many("hocba.exchange", "version_id", string="Packages sent")
    xml_file = fields.Binary(string="Signed XML", attachment=True, readonly=True, copy=False)
    xml_filename = fields.Char(string="XML file name", compute="_compute_filenames")
    pdf_file = fields.Binary(string="Signed PDF", attachment=True, readonly=True, copy=False)
    pdf_filename = fields.Char(string="PDF file name", compute="_compute_filenames")
    xml_sha256 = fields.Char(string="XML SHA-256", readonly=True, copy=False)
    pdf_sha256 = fields.Char(string="PDF SHA-256", readonly=True, copy=False)
    issued_at = fields.Datetime(string="Issued on", readonly=True, copy=False)
    signed_tiers = fields.Char(string="Signed by", compute="_compute_signed_tiers")

    _sql_constraints = [
        ("number_uniq", "unique(transcript_id, number)", "This version number already exists."),
        ("document_uniq", "unique(document_id)", "This document id already exists."),
    ]

    def _compute_access_url(self):
        result = super()._compute_access_url()
        for version in self:
            version.access_url = "/my/hocba/%s" % version.id
        return result

    def _portal_ensure_token(self):
        """An issued version never changes through ``write``: its portal token
        is set once, directly (it is not part of the signed content)."""
        self.ensure_one()
        if not self.sudo().access_token:
            self.env.cr.execute(
                "UPDATE hocba_version SET access_token = %s WHERE id = %s AND access_token IS NULL",
                [str(uuid.uuid4()), self.id],
            )
            self.invalidate_recordset(["access_token"])
        return self.sudo().access_token

    def _hocba_portal_notify_guardians(self):
        """Tell the pupil's guardians that a transcript was issued, with a link
        to it.  A guardian without an email address is left out (they still
        see it on the portal); a mail that cannot be sent never stops issuing."""
        self.ensure_one()
        guardians = self.sudo().student_id.guardian_ids.filtered(lambda p: p.email)
        if not guardians:
            return
        version = self.sudo()
        version._portal_ensure_token()
        template = self.env.ref("hocba_digital.mail_template_hocba_version_issued", raise_if_not_found=False)
        try:
            with self.env.cr.savepoint():
                if template:
                    version.message_post_with_source(
                        template,
                        subtype_xmlid="mail.mt_comment",
                        partner_ids=guardians.ids,
                        email_layout_xmlid="mail.mail_notification_light",
                    )
                else:
                    version.message_post(
                        body=_("The transcript of %(pupil)s was issued.", pupil=version.student_id.name),
                        subtype_xmlid="mail.mt_comment",
                        partner_ids=guardians.ids,
                    )
        except Exception:  # noqa: BLE001 - issuing must not fail on a notification
            _logger.exception("Could not notify the guardians of version %s", self.id)

    @api.depends("document_id", "number")
    def _compute_display_name(self):
        for version in self:
            version.display_name = _(
                "%(pupil)s - version %(n)s", pupil=version.transcript_id.display_name, n=version.number
            )

    @api.depends("number", "student_id", "year_id")
    def _compute_filenames(self):
        for version in self:
            base = "hocba-%s-%s-v%s" % (
                version.student_id.school_code or version.student_id.id,
                version.year_id.name or "",
                version.number,
            )
            version.xml_filename = base + ".xml"
            version.pdf_filename = base + ".pdf"

    @api.depends("signature_ids.state", "signature_ids.tier")
    def _compute_signed_tiers(self):
        tiers = dict(self.env["hocba.signature"]._fields["tier"]._description_selection(self.env))
        for version in self:
            valid = version.signature_ids.filtered(lambda s: s.state == "valid")
            names = []
            for tier in ("subject_teacher", "homeroom_teacher", "principal", "seal"):
                count = len(valid.filtered(lambda s, t=tier: s.tier == t))
                if count:
                    names.append("%s%s" % (tiers[tier], " ×%s" % count if count > 1 else ""))
            version.signed_tiers = ", ".join(names)

    def _hocba_edit_refusal(self, operation, vals=None):
        if operation == "unlink":
            if self.filtered(lambda v: v.state != "signing") or not service_scope.active(service_scope.VERSION_CLEANUP):
                return _("A transcript version cannot be deleted.")
        elif not service_scope.active(service_scope.SIGNING):
            return (
                _("Versions are made by signing, not created by hand.")
                if operation == "create"
                else _("A transcript version cannot be changed by hand.")
            )
        elif (
            operation == "write"
            and set(vals) - {"state", "replaced_by_id"}
            and self.filtered(lambda v: v.state != "signing")
        ):
            return _("An issued version never changes: request a correction to issue a new one.")
        return None

    @staticmethod
    def _hocba_sha256(data):
        return hashlib.sha256(data or b"").hexdigest()

    def _hocba_valid_signatures(self):
        return self.signature_ids.filtered(lambda s: s.state == "valid")

    def action_download_xml(self):
        return self._hocba_download("xml")

    def action_download_pdf(self):
        return self._hocba_download("pdf")

    def _hocba_download(self, kind):
        """Through the logging route: every file taken from the back office is
        in the register, as on the portal."""
        self.ensure_one()
        if not self.with_prefetch()["%s_file" % kind]:
            raise UserError(_("This version has no such file yet."))
        return {
            "type": "ir.actions.act_url",
            "url": "/hocba/version/%s/%s" % (self.id, kind),
            "target": "self",
        }

    def _hocba_issue(self):
        """Every tier signed: the files become final, the version it replaces is
        superseded (it keeps its files and still verifies)."""
        self.ensure_one()
        alone = self.with_prefetch()  # not the files of every version in the batch
        xml = base64.b64decode(alone.xml_file or b"")
        pdf = base64.b64decode(alone.pdf_file or b"")
        self.write(
            {
                "state": "issued",
                "issued_at": fields.Datetime.now(),
                "xml_sha256": self._hocba_sha256(xml),
                "pdf_sha256": self._hocba_sha256(pdf) if pdf else False,
            }
        )
        if self.replaces_id:
            self.replaces_id.write({"state": "superseded", "replaced_by_id": self.id})
        transcript = self.transcript_id.sudo()
        if transcript.correction_state:
            with service_scope.granted(service_scope.SIGNING):
                transcript.write({"correction_state": False, "correction_reason": False})
        transcript.message_post(
            body=_("Version %(n)s issued (XML SHA-256 %(sha)s).", n=self.number, sha=self.xml_sha256)
        )
        self._hocba_portal_notify_guardians()
        # an issued version goes to the transcript store as a package
        self.env["hocba.exchange"]._hocba_queue(self)
