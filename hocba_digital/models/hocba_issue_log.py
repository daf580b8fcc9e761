from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from .. import service_scope
from ..groups import CLERK

REQUESTER_RELATIONS = [
    ("parent", "Parent or guardian"),
    ("pupil", "The pupil"),
    ("other_school", "Another school"),
    ("authority", "Education authority"),
    ("other", "Other"),
]


class HocbaIssueLog(models.Model):
    """The clerk's register of copies, extracts and transfer packages (sổ cấp
    bản sao, trích lục, hồ sơ chuyển trường): one entry per thing handed out
    or received, with who asked, who issued it, when, which versions and the
    SHA-256 of the file handed out.

    It is a model of its own, not more kinds of ``hocba.access.log``: one
    entry can cover many versions (a transfer package), a received package
    covers none of ours, and each entry has a requester, a reason and a
    register number, none of which a verification or a download has.
    Downloads by parents on the portal are copies too: they are registered
    here (channel "portal") besides the access log.

    Written by the code only (``_hocba_register``), never changed or deleted.
    The clerk, the vice principal, the principal and the IT officer read it.
    """

    _name = "hocba.issue.log"
    _inherit = ["hocba.code.written"]
    _description = "Register of copies and transfers"
    _order = "issued_at desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Register number", readonly=True, index=True)
    kind = fields.Selection(
        [
            ("copy", "Copy"),
            ("extract", "Extract"),
            ("transfer_out", "Transfer package sent"),
            ("transfer_in", "Transfer package received"),
        ],
        required=True,
        readonly=True,
        index=True,
    )
    channel = fields.Selection(
        [("back_office", "School office"), ("portal", "Parent portal")],
        required=True,
        readonly=True,
        default="back_office",
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda self: self.env.company
    )
    student_id = fields.Many2one("school.student", string="Pupil", readonly=True, index=True, ondelete="restrict")
    version_ids = fields.Many2many("hocba.version", string="Versions", readonly=True)
    transfer_document_ids = fields.One2many(
        "hocba.transfer.document", "import_log_id", string="Documents received", readonly=True
    )
    document_count = fields.Integer(string="Files", readonly=True)
    requester_partner_id = fields.Many2one("res.partner", string="Requester (contact)", readonly=True)
    requester_name = fields.Char(string="Requested by", readonly=True)
    requester_relation = fields.Selection(REQUESTER_RELATIONS, string="Relation to the pupil", readonly=True)
    reason = fields.Text(readonly=True)
    issued_by_id = fields.Many2one(
        "res.users", string="Issued by", readonly=True, help="Empty for a copy the parents took on the portal."
    )
    issued_at = fields.Datetime(string="Date", required=True, readonly=True, default=fields.Datetime.now)
    other_school = fields.Char(
        string="Sending school", readonly=True, help="For a package received: the school that sent it."
    )
    file_name = fields.Char(readonly=True)
    file_sha256 = fields.Char(string="File SHA-256", readonly=True, index=True)
    file_size = fields.Integer(string="File size (bytes)", readonly=True)
    note = fields.Char(readonly=True)

    @api.depends("name", "kind")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for entry in self:
            entry.display_name = "%s %s" % (kinds.get(entry.kind, ""), entry.name or "")

    # ---- CRUD ----

    def _hocba_edit_refusal(self, operation, vals=None):
        if operation != "create":
            return _("The register cannot be changed.")
        if not service_scope.active(service_scope.ISSUE_REGISTER):
            return _("The register is written when something is issued, not by hand.")
        return None

    # ---- Business methods ----

    @api.model
    def _hocba_check_clerk(self):
        if not self.env.user.has_group(CLERK):
            raise AccessError(_("Only the clerk issues copies, extracts and transfer packages."))

    @api.model
    def _hocba_register(self, kind, student, versions=None, data=None, **values):
        """One register entry, numbered in the school's own sequence (or
        ``name``, a number drawn before, e.g. to print it on a cover sheet);
        ``data``: the bytes handed out (hashed).  Callers check who may issue
        first."""
        company = (student.company_id if student else None) or self.env.company
        if data is not None:
            values.update(file_sha256=self.env["hocba.version"]._hocba_sha256(data), file_size=len(data))
        values.update(
            {
                "kind": kind,
                "student_id": student.id if student else False,
                "company_id": company.id,
                "version_ids": [(6, 0, versions.ids if versions else [])],
            }
        )
        if not values.get("name"):
            values["name"] = self._hocba_next_number(company)
        values.setdefault("issued_by_id", self.env.user.id)
        values.setdefault("document_count", len(versions) if versions else 0)
        if values.get("requester_partner_id") and not values.get("requester_name"):
            # the name is copied into the register, whoever may read the contact
            partner_sudo = self.env["res.partner"].sudo().browse(values["requester_partner_id"])
            values["requester_name"] = partner_sudo.name
        with service_scope.granted(service_scope.ISSUE_REGISTER):
            return self.sudo().create(values)

    @api.model
    def _hocba_next_number(self, company):
        """The next number of the school's register (one sequence per school,
        made from the shared template the first time)."""
        # numbering only: whoever registers was checked by the caller
        sequences_sudo = self.env["ir.sequence"].sudo()
        code = "hocba.issue.log"
        if not sequences_sudo.search_count([("code", "=", code), ("company_id", "=", company.id)]):
            template_sudo = sequences_sudo.env.ref("hocba_digital.seq_hocba_issue_log")
            template_sudo.copy({"company_id": company.id, "code": code, "number_next": 1})
        return sequences_sudo.with_company(company).next_by_code(code)

    @api.model
    def _hocba_register_portal_copy(self, version_sudo, kind, data, by_link):
        """A parent took a signed file on the portal: a copy, self-service.
        ``version_sudo`` was checked by the portal (guardian or token)."""
        user = self.env.user
        partner = user.partner_id if not user._is_public() else self.env["res.partner"]
        guardian = partner and partner in version_sudo.student_id.guardian_ids
        files = {"pdf": version_sudo.pdf_filename, "xml": version_sudo.xml_filename}
        return self._hocba_register(
            "copy",
            version_sudo.student_id,
            version_sudo,
            data,
            channel="portal",
            issued_by_id=False,
            requester_partner_id=partner.id if partner else False,
            requester_name=False if partner else _("Holder of the link sent to the guardians"),
            requester_relation="parent" if guardian else "other",
            file_name=files[kind],
            document_count=1,
            note=_("Parent portal (link by mail)") if by_link else _("Parent portal"),
        )
