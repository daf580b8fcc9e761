from odoo import api, fields, models

DOCUMENT_KIND_SELECTION = [
    ("request", "Request for issuance"),
    ("contract", "Service contract"),
    ("decision", "Decision or official letter"),
    ("handover", "Handover record (token, credentials)"),
    ("invoice", "Invoice"),
    ("other", "Other"),
]


class HocbaCertificateDocument(models.Model):
    """A legal document of a certificate's issuance (request, contract, decision,
    handover record, invoice), kept by the clerk.

    Access: the clerk files, corrects and removes documents; the IT officer,
    the accountant and the principal read them.
    """

    _name = "hocba.certificate.document"
    _description = "Certificate document"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    certificate_id = fields.Many2one(
        "hocba.certificate",
        string="Certificate",
        required=True,
        index=True,
        ondelete="restrict",
        check_company=True,
        tracking=True,
    )
    holder_id = fields.Many2one(related="certificate_id.user_id", string="Holder")
    kind = fields.Selection(DOCUMENT_KIND_SELECTION, required=True, default="decision", tracking=True)
    reference = fields.Char(string="Number", help="Number and sign of the document, e.g. 125/QĐ-BCY.", tracking=True)
    date = fields.Date(required=True, default=fields.Date.context_today, tracking=True)
    file = fields.Binary(attachment=True, required=True, copy=False)
    file_name = fields.Char()
    note = fields.Text()
    company_id = fields.Many2one(related="certificate_id.company_id", store=True, index=True)

    @api.depends("name", "reference")
    def _compute_display_name(self):
        for document in self:
            document.display_name = (
                "%s - %s" % (document.reference, document.name) if document.reference else document.name
            )
