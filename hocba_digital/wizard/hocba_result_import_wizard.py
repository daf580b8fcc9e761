import base64
import unicodedata

from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError

from ..lib.rules import catalogue
from ..lib.workbooks import results as result_workbook
from ..lib.workbooks import results_writer as result_workbook_writer
from ..lib.workbooks.results import CellError
from ..models.hocba_transcript_line import PERIOD_SELECTION


def _name_key(name):
    return " ".join(unicodedata.normalize("NFC", name or "").casefold().split())


class HocbaResultImportWizard(models.TransientModel):
    """Imports or exports the results of one class at one period in the sector
    database's Excel template ("Kết quả học tập").

    The import is all or nothing: every bad cell, unknown pupil and refusal of
    the ORM is listed, and if there is one, nothing is written.  Values are
    written as the current user, so a teacher only fills their own draft
    sheets.  Empty cells and values equal to the current ones are left alone.
    """

    _name = "hocba.result.import.wizard"
    _description = "Import or export results (Excel)"

    class_id = fields.Many2one("school.class", string="Class", required=True)
    period = fields.Selection(PERIOD_SELECTION, required=True, default="end_year")
    file = fields.Binary(string="Excel file", attachment=False)
    filename = fields.Char()
    state = fields.Selection(
        [("draft", "Draft"), ("error", "Errors"), ("done", "Imported")], default="draft", required=True
    )
    error_report = fields.Text(readonly=True)
    summary = fields.Text(readonly=True)

    # ---- Actions ----

    def action_import(self):
        self.ensure_one()
        if not self.file:
            raise UserError(_("Choose the Excel file to import."))
        problems, counts = self._hocba_import(base64.b64decode(self.file))
        if problems:
            self.write({"state": "error", "summary": False, "error_report": self._hocba_report(problems)})
        else:
            summary = self._hocba_summary(counts)
            self.write({"state": "done", "error_report": False, "summary": summary})
            if any(counts.values()):
                self.class_id.sudo().message_post(body=summary, author_id=self.env.user.partner_id.id)
        return self._hocba_reopen()

    def action_export(self):
        self.ensure_one()
        data = self._hocba_export()
        period = dict(PERIOD_SELECTION)[self.period].replace(" ", "_")
        attachment = self.env["ir.attachment"].create(
            {
                "name": "KQHT_%s_%s.xlsx" % (self.class_id.name, period),
                "raw": data,
                "mimetype": result_workbook.XLSX_MIMETYPE,
                "res_model": self._name,
                "res_id": self.id,
            }
        )
        return {"type": "ir.actions.act_url", "target": "self", "url": "/web/content/%s?download=true" % attachment.id}

    def action_back(self):
        self.ensure_one()
        self.write({"state": "draft", "error_report": False, "summary": False})
        return self._hocba_reopen()

    def _hocba_reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": _("Results (Excel)"),
        }

    # ---- Import ----

    def _hocba_import(self, file_bytes):
        """Import ``file_bytes``; returns ``(problems, counts)``.  When problems
        is not empty, nothing was written."""
        self.ensure_one()
        school_class = self.class_id
        school_class.check_access("read")
        rows, problems = result_workbook.read_ministry_results(
            file_bytes, result_workbook.SUBJECT_LABELS, result_workbook.TRAIT_LABELS
        )
        problems = list(problems)
        if school_class.review_state != "open":
            problems.append(CellError("", 0, "", "", "class_locked"))
            return problems, {}
        counts = {"results": 0, "traits": 0}
        with self.env.cr.savepoint() as savepoint:
            for changes in self._hocba_plan(rows, problems):
                for record, vals in self._hocba_try_row(changes, problems):
                    counts["results" if record._name == "hocba.subject.result" else "traits"] += len(vals)
            if problems:
                savepoint.close(rollback=True)
        problems.sort(key=lambda p: (p.sheet, p.row, len(p.column), p.column))
        return problems, counts

    def _hocba_plan(self, rows, problems):
        """For each row of the file, ``[(record as the current user, vals,
        {field: (row, key)})]``: the values that differ from the database.
        Adds to ``problems`` what cannot be matched."""
        school_class = self.class_id.sudo()
        transcripts = school_class.transcript_ids
        by_code, by_name = {}, {}
        for transcript in transcripts:
            pupil = transcript.student_id
            for code in (pupil.moet_code, pupil.school_code):
                if code and code.strip():
                    by_code.setdefault(code.strip(), transcript)
            by_name.setdefault((_name_key(pupil.name), pupil.birth_date), []).append(transcript)
        results = {
            (r.transcript_id, r.subject_id.code): r for r in transcripts.subject_result_ids if r.period == self.period
        }
        traits = {a.transcript_id: a for a in transcripts.trait_assessment_ids if a.period == self.period}
        readable = self._hocba_readable(list(results.values())) | self._hocba_readable(list(traits.values()))

        plan, seen = [], {}
        for row in rows:
            changes = []
            plan.append(changes)

            def cell_error(key, reason, value=None, detail=""):
                problems.append(
                    CellError(
                        row.sheet,
                        row.row,
                        row.columns.get(key, ""),
                        row.raw.get(key, "") if value is None else value,
                        reason,
                        detail,
                    )
                )

            if school_class.code and row.class_code and (row.class_code.strip() != school_class.code.strip()):
                cell_error("class_code", "wrong_class")
                continue
            transcript = next((by_code[c] for c in row.codes if c in by_code), None)
            if transcript is None and row.name and row.birth_date:
                found = by_name.get((_name_key(row.name), row.birth_date), [])
                if len(found) > 1:
                    cell_error("name", "ambiguous_pupil")
                    continue
                transcript = found[0] if found else None
            if transcript is None:
                if row.codes:
                    cell_error("code", "unknown_pupil")
                else:
                    cell_error("name", "unknown_pupil", value=row.name)
                continue
            if transcript in seen:
                cell_error("code" if row.codes else "name", "duplicate_pupil", detail=str(seen[transcript]))
                continue
            seen[transcript] = row.row

            for code, (level, score) in row.subjects.items():
                result = results.get((transcript, code))
                wanted = [
                    (fname, value, ("subject", code, fname))
                    for fname, value in (("level", level), ("score", score))
                    if value
                ]
                if not wanted:
                    continue
                if result is None:
                    for _fname, _value, key in wanted:
                        cell_error(key, "not_taken")
                    continue
                vals, cells = {}, {}
                for fname, value, key in wanted:
                    if result in readable and (result[fname] or None) == value:
                        continue
                    vals[fname], cells[fname] = value, (row, key)
                if vals:
                    changes.append((result.with_env(self.env), vals, cells))

            assessment = traits.get(transcript)
            grade_traits = set(catalogue.traits_of_grade(transcript.grade))
            vals, cells = {}, {}
            for code, level in row.traits.items():
                if not level:
                    continue
                key = ("trait", code)
                if code not in grade_traits or assessment is None:
                    cell_error(key, "not_in_grade")
                    continue
                fname = "level_" + code
                if assessment in readable and (assessment[fname] or None) == level:
                    continue
                vals[fname], cells[fname] = level, (row, key)
            if vals:
                changes.append((assessment.with_env(self.env), vals, cells))
        return plan

    def _hocba_readable(self, records):
        """The sudo records of ``records`` the current user can read."""
        if not records:
            return set()
        records = records[0].browse([r.id for r in records])
        mine = records.with_env(self.env)
        if not mine.browse().has_access("read"):
            return set()
        return set(mine._filtered_access("read").sudo())

    def _hocba_try_row(self, changes, problems):
        """Write the changes of one row of the file; returns the ``(record, vals)``
        written.  The row is tried at once, then record by record if refused."""
        try:
            with self.env.cr.savepoint():
                for record, vals, _cells in changes:
                    record.write(vals)
            return [(record, vals) for record, vals, _cells in changes]
        except UserError:
            return [
                (record, vals)
                for record, vals, cells in changes
                if self._hocba_try_write(record, vals, cells, problems)
            ]

    def _hocba_try_write(self, record, vals, cells, problems):
        """Write ``vals`` in a savepoint; on refusal find and report the cells refused."""
        try:
            with self.env.cr.savepoint():
                record.write(vals)
            return True
        except UserError as exc:
            if len(vals) == 1 or isinstance(exc, AccessError):
                # an access refusal concerns the whole record: every cell of it
                reason = self._hocba_refusal(record, exc)
                for fname in vals:
                    row, key = cells[fname]
                    problems.append(
                        CellError(row.sheet, row.row, row.columns.get(key, ""), row.raw.get(key, ""), "refused", reason)
                    )
                return False
            before = len(problems)
            for fname, value in vals.items():
                self._hocba_try_write(record, {fname: value}, cells, problems)
            if len(problems) == before:  # refused together, accepted one by one
                row, key = cells[next(iter(vals))]
                problems.append(CellError(row.sheet, row.row, "", "", "refused", self._hocba_refusal(record, exc)))
            return False

    def _hocba_refusal(self, record, exc):
        """Why the ORM refused a write, in words a teacher understands."""
        if isinstance(exc, AccessError):
            sheet = record.sudo().sheet_id
            if sheet.state == "submitted":
                return _(
                    "%(sheet)s is submitted: ask the head of the subject group to send it back first.", sheet=sheet.name
                )
            if sheet.user_id != self.env.user:
                return _(
                    "%(sheet)s is filled by %(teacher)s, not by you.",
                    sheet=sheet.name,
                    teacher=sheet.user_id.name or _("nobody yet"),
                )
        return str(exc.args[0] if exc.args else exc).strip()

    # ---- Report ----

    def _hocba_reason(self, problem):
        if problem.reason == "refused":
            return problem.detail
        if problem.reason in ("not_a_number", "not_whole", "below_one", "above_ten"):
            return self.env["hocba.subject.result"]._hocba_score_message(problem.reason, problem.value)
        texts = {
            "not_xlsx": _(
                "The file is not an Excel workbook (.xlsx): open it in a spreadsheet program and save it as .xlsx."
            ),
            "no_header": _(
                "No header row found: the first rows must name the columns, with at least “Mã học sinh” and “Họ tên”."
            ),
            "duplicate_column": _("This column appears twice in the header."),
            "unknown_level": _("Unknown level: use T, H or C for a subject, T, Đ or C for a quality or competency."),
            "unknown_result": _("Unknown year result: use HTXS, HTT, HT or CHT."),
            "bad_mark": _("Put “x” or leave the cell empty."),
            "bad_date": _("Not a date: write the birth date as dd/mm/yyyy."),
            "no_pupil": _("This row has results but neither a pupil code nor a name."),
            "class_locked": _(
                "Class %(name)s is locked for checking: nothing can be imported until it is unlocked.",
                name=self.class_id.name,
            ),
            "wrong_class": _("This pupil is in another class than %(name)s.", name=self.class_id.name),
            "unknown_pupil": _(
                "No pupil of %(name)s has this code, nor this name and birth date.", name=self.class_id.name
            ),
            "ambiguous_pupil": _(
                "Several pupils of %(name)s have this name and birth date: give the pupil code.",
                name=self.class_id.name,
            ),
            "duplicate_pupil": _("This pupil already appears in row %(row)s.", row=problem.detail),
            "not_taken": _(
                "The pupil has no result in this subject at this period (not "
                "taught in this grade, or an elective the pupil does not take)."
            ),
            "not_in_grade": _(
                "This quality or competency is not assessed in grade %(grade)s.", grade=self.class_id.grade
            ),
        }
        return texts.get(problem.reason, problem.detail or problem.reason)

    def _hocba_report(self, problems):
        lines = [
            _(
                "Nothing was imported: correct the %(count)s problems below and import the file again.",
                count=len(problems),
            )
        ]
        for problem in problems:
            where = []
            if problem.sheet:
                where.append(_("sheet %(sheet)s", sheet=problem.sheet))
            if problem.row:
                where.append(_("row %(row)s", row=problem.row))
            if problem.column:
                where.append(_("column %(column)s", column=problem.column))
            if problem.value not in (None, ""):
                where.append(_("value “%(value)s”", value=problem.value))
            lines.append("• %s: %s" % (", ".join(where) or _("file"), self._hocba_reason(problem)))
        return "\n".join(lines)

    def _hocba_summary(self, counts):
        period = dict(self._fields["period"]._description_selection(self.env))[self.period]
        if not any(counts.values()):
            return _(
                "%(file)s, %(period)s: nothing to change, the file matches the transcripts.",
                file=self.filename or _("Excel file"),
                period=period,
            )
        return _(
            "Results imported from %(file)s for %(period)s: %(results)s subject "
            "levels or scores and %(traits)s quality and competency levels changed.",
            file=self.filename or _("Excel file"),
            period=period,
            results=counts.get("results", 0),
            traits=counts.get("traits", 0),
        )

    # ---- Export ----

    def _hocba_export(self):
        """The class at the period in the template, with what the user can read."""
        self.ensure_one()
        school_class = self.class_id
        school_class.check_access("read")
        class_sudo = school_class.sudo()
        transcripts = class_sudo.transcript_ids.sorted(
            lambda t: (t.student_id.given_name or "", t.student_id.name or "", t.id)
        )
        results = transcripts.subject_result_ids.filtered(lambda r: r.period == self.period)
        traits = transcripts.trait_assessment_ids.filtered(lambda a: a.period == self.period)
        readable = self._hocba_readable(list(results)) | self._hocba_readable(list(traits))
        known = result_workbook.SUBJECT_LABELS
        tested = {
            line.subject_id
            for line in self.env["school.subject.grade"]
            .sudo()
            .search([("grade", "=", school_class.grade), (f"test_{self.period}", "=", True)])
        }
        subjects = results.subject_id.filtered(lambda s: s.code in known).sorted(lambda s: (s.sequence, s.id))
        columns = [(s.code, s in tested) for s in subjects]
        rows = []
        for transcript in transcripts:
            pupil = transcript.student_id
            marks = {
                r.subject_id.code: (r.level or None, r.score or None)
                for r in transcript.subject_result_ids
                if r in results and r in readable
            }
            assessment = traits.filtered(lambda a, t=transcript: a.transcript_id == t)[:1]
            levels = (
                {code: assessment["level_" + code] or None for code in catalogue.traits_of_grade(transcript.grade)}
                if assessment and assessment in readable
                else {}
            )
            end_year = self.period == "end_year"
            rows.append(
                {
                    "codes": tuple(c for c in (pupil.moet_code, pupil.school_code) if c),
                    "class_code": school_class.code or False,
                    "name": pupil.name,
                    "birth_date": pupil.birth_date,
                    "subjects": marks,
                    "traits": levels,
                    "completes": end_year and transcript.completes_grade,
                    "promoted": end_year and (transcript.completes_grade or transcript.promotion == "promote"),
                    "result": end_year and transcript.result or None,
                }
            )
        return result_workbook_writer.write_ministry_results(
            rows, columns, catalogue.traits_of_grade(school_class.grade)
        )
