import base64

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib.population import client as pc
from ..lib.population import reconcile as pr
from ..lib.workbooks.results import XLSX_MIMETYPE
from ..models.school_student import ENROLLED

ONLINE_TIMEOUT = 30.0


class HocbaReconciliationWizard(models.TransientModel):
    """Exports the school's pupil list for the population database, imports its
    answer file, or checks the pupils with the online service.

    An import or a check is all or nothing: a malformed file or a failed call
    changes nothing and says why (for a file: which row, which column).  For
    the clerk, the IT officer, the vice principal and the principal; the clerk
    does not see personal IDs on screen, but the list sent must carry them,
    so the pupils are read as superuser after that check.
    """

    _name = "hocba.reconciliation.wizard"
    _description = "Reconcile pupils with the population database"

    mode = fields.Selection(
        [
            ("export", "Export the pupil list"),
            ("import", "Import the answer file"),
            ("online", "Check with the online service"),
        ],
        string="What to do",
        required=True,
        default="export",
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, default=lambda self: self.env.company)
    year_id = fields.Many2one(
        "school.year",
        string="School year",
        default=lambda self: self._default_year(),
        domain="[('company_id', '=', company_id)]",
        help="Pupils of the classes of this year; empty: every pupil studying at the school.",
    )
    class_id = fields.Many2one("school.class", string="Only the class", domain="[('company_id', '=', company_id)]")
    only_unmatched = fields.Boolean(
        string="Only pupils not matched yet", help="Leave out the pupils already matched with the population database."
    )
    file = fields.Binary(
        string="Answer file", attachment=False, help="The population database's answer (.xlsx or .csv)."
    )
    filename = fields.Char()
    pupil_count = fields.Integer(compute="_compute_pupil_count", string="Pupils")

    @api.model
    def _default_year(self):
        return self.env["school.year"].search(
            [("company_id", "=", self.env.company.id), ("state", "=", "open")], order="date_start desc", limit=1
        )

    @api.depends("year_id", "class_id", "only_unmatched")
    def _compute_pupil_count(self):
        for wizard in self:
            wizard.pupil_count = len(wizard._hocba_pupils())

    # ---- Actions ----

    def action_export(self):
        self.ensure_one()
        self.env["hocba.reconciliation"]._hocba_check_reconciler()
        pupils = self._hocba_pupils()
        if not pupils:
            raise UserError(_("No pupil to export with these choices."))
        company = self.company_id.sudo()
        data = pr.write_request(
            [self._hocba_request_row(p) for p in pupils],
            company.name,
            company.hocba_school_code or "",
            fields.Date.context_today(self),
        )
        return self._hocba_download(
            "DoiSoat_%s_%s.xlsx"
            % (company.hocba_school_code or "truong", fields.Date.context_today(self).strftime("%Y%m%d")),
            data,
        )

    def action_import(self):
        self.ensure_one()
        Round = self.env["hocba.reconciliation"]
        Round._hocba_check_reconciler()
        if not self.file:
            raise UserError(_("Choose the answer file of the population database."))
        data = base64.b64decode(self.file)
        try:
            answers = pr.read_answer(data, self.filename)
            results = self._hocba_match(answers)
        except pr.AnswerFileError as error:
            raise UserError(self._hocba_file_error(error)) from None
        reconciliation = Round._hocba_record(
            results, "file", year=self.year_id, answer_file=self.file, filename=self.filename
        )
        return self._hocba_open(reconciliation)

    def action_check_online(self):
        self.ensure_one()
        Round = self.env["hocba.reconciliation"]
        Round._hocba_check_reconciler()
        pupils = self._hocba_pupils()
        if not pupils:
            raise UserError(_("No pupil to check with these choices."))
        company_sudo = self.company_id.sudo()  # the token is the IT officer's; used, never shown
        if not company_sudo.hocba_population_url:
            raise UserError(
                _(
                    "No online service is configured for %(school)s: the IT officer "
                    "sets it in Configuration, or reconcile with files.",
                    school=company_sudo.name,
                )
            )
        sent = {p._hocba_reconcile_ref(): (p, self._hocba_identity(p)) for p in pupils}
        if len(sent) != len(pupils):
            raise UserError(
                _(
                    "Two pupils have the same MOET or school pupil code: correct "
                    "them first, the answers are matched by that code."
                )
            )
        try:
            with pc.PopulationClient(
                company_sudo._hocba_reachable_url(company_sudo.hocba_population_url),
                company_sudo.hocba_population_token,
                school_code=company_sudo.hocba_school_code,
                timeout=ONLINE_TIMEOUT,
            ) as client:
                found = client.check([(ref, identity) for ref, (_p, identity) in sent.items()])
        except pc.PopulationError as error:
            raise UserError(
                _(
                    "The population database service did not give a usable answer; nothing was changed.\n%(error)s",
                    error=error,
                )
            ) from None
        results = [
            (pupil, identity, found[ref], pr.compare(identity, found[ref])) for ref, (pupil, identity) in sent.items()
        ]
        return self._hocba_open(Round._hocba_record(results, "online", year=self.year_id))

    # ---- Helpers ----

    def _hocba_pupils(self):
        """The pupils chosen, as superuser (callers checked the role)."""
        self.ensure_one()
        domain = [("company_id", "=", self.company_id.id), ("status", "in", ENROLLED)]
        if self.year_id:
            domain.append(("year_id", "=", self.year_id.id))
        if self.class_id:
            domain.append(("class_id", "=", self.class_id.id))
        if self.only_unmatched:
            domain.append(("reconcile_state", "!=", "matched"))
        return self.env["school.student"].sudo().search(domain)

    @api.model
    def _hocba_identity(self, pupil):
        pupil_sudo = pupil.sudo()
        return pr.Identity(
            pr.clean_name(pupil_sudo.name), pupil_sudo.birth_date, pupil_sudo.sex, pupil_sudo.personal_id or None
        )

    @api.model
    def _hocba_request_row(self, pupil):
        pupil_sudo = pupil.sudo()
        return {
            "ref": pupil_sudo._hocba_reconcile_ref(),
            "class_name": pupil_sudo.class_id.name,
            "name": pupil_sudo.name,
            "birth_date": pupil_sudo.birth_date,
            "sex": pupil_sudo.sex,
            "personal_id": pupil_sudo.personal_id,
            "birth_place": pupil_sudo.birth_place,
            "hometown": pupil_sudo.hometown,
            "ethnicity": pupil_sudo.ethnicity,
        }

    def _hocba_match(self, answers):
        """``(pupil, sent, found, outcome)`` per answer row; AnswerFileError for a
        row whose pupil code is not one of the school's."""
        pupils = (
            self.env["school.student"]
            .sudo()
            .with_context(active_test=False)
            .search([("company_id", "=", self.company_id.id)])
        )
        by_ref = {}
        for pupil in pupils:
            by_ref.setdefault(pupil._hocba_reconcile_ref(), pupil)
        results = []
        for answer in answers:
            pupil = by_ref.get(answer.ref)
            if pupil is None:
                raise pr.AnswerFileError(
                    "unknown_pupil", answer.row, answer.columns["ref"], pr.HEADER_TEXT["ref"], answer.ref
                )
            identity = self._hocba_identity(pupil)
            results.append((pupil, identity, answer.found, pr.compare(identity, answer.found)))
        return results

    def _hocba_file_error(self, error):
        where = []
        if error.row:
            where.append(_("row %(row)s", row=error.row))
        if error.column:
            where.append(
                _(
                    "column %(column)s",
                    column=" ".join(filter(None, [error.column, error.header and "(%s)" % error.header])),
                )
            )
        elif error.header:
            where.append(_("column “%(header)s”", header=error.header))
        reasons = {
            "too_large": _("The file is too large for an answer file (10 MB at most)."),
            "old_xls": _("This is an old Excel file (.xls): open it and save it as .xlsx."),
            "not_xlsx": _(
                "The file is not an Excel workbook (.xlsx): open it in a spreadsheet "
                "program and save it as .xlsx or .csv."
            ),
            "not_text": _("The file is neither an Excel workbook nor a CSV text file (UTF-8)."),
            "no_header": _(
                "No header row found: the first rows must name the columns, with at "
                "least “Mã học sinh” and “Kết quả đối soát”."
            ),
            "missing_column": _("This column is missing from the header."),
            "duplicate_column": _("This column appears twice in the header."),
            "no_rows": _("The file has no pupil."),
            "too_many_rows": _("The file has too many rows."),
            "missing_ref": _("The pupil code is empty."),
            "duplicate_row": _("This pupil already appears in row %(row)s.", row=error.other_row),
            "unknown_status": _("Unknown result: write “Tìm thấy” or “Không tìm thấy”."),
            "missing_value": _("The population database's value is missing for a pupil found."),
            "bad_birth_date": _("Not a date: write it as dd/mm/yyyy."),
            "bad_sex": _("Unknown sex: write “Nam” or “Nữ”."),
            "bad_personal_id": _("Not a personal ID: it must have 12 digits."),
            "unknown_pupil": _("No pupil of the school has this code."),
        }
        where = ", ".join(where) or _("file")
        where, reason = where[:1].upper() + where[1:], reasons.get(error.reason, error.reason)
        if error.value:
            return _(
                "Nothing was imported. %(where)s, value “%(value)s”: %(reason)s",
                where=where,
                value=error.value,
                reason=reason,
            )
        return _("Nothing was imported. %(where)s: %(reason)s", where=where, reason=reason)

    def _hocba_download(self, name, data):
        attachment = self.env["ir.attachment"].create(
            {"name": name, "raw": data, "mimetype": XLSX_MIMETYPE, "res_model": self._name, "res_id": self.id}
        )
        return {"type": "ir.actions.act_url", "target": "self", "url": "/web/content/%s?download=true" % attachment.id}

    def _hocba_open(self, reconciliation):
        return {
            "type": "ir.actions.act_window",
            "res_model": "hocba.reconciliation",
            "res_id": reconciliation.id,
            "view_mode": "form",
            "target": "current",
            "name": reconciliation.name,
        }
