"""Excel import and export of results in the sector database's template.

The files are built here with openpyxl, cell by cell, the way the sector
database lays them out (three header rows, merged subject headers), not with
the module's own writer, so the reader is checked against the template.
"""

import base64
import datetime
import io

import openpyxl
from openpyxl.utils import get_column_letter

from odoo.tests import BaseCase, tagged
from odoo.tools import mute_logger

from ..lib.rules import catalogue
from ..lib.workbooks import results as result_workbook
from .common import HocbaCase

GRADE3_SUBJECTS = [  # (code, header, has a test at the end of the year)
    ("TV", "Tiếng Việt", True),
    ("TOAN", "Toán", True),
    ("NN1", "Ngoại ngữ", True),
    ("TIN", "TH-CN (Tin học)", True),
    ("CNGHE", "TH-CN (Công nghệ)", True),
    ("DD", "Đạo đức", False),
    ("TNXH", "Tự nhiên và Xã hội", False),
    ("GDTC", "Giáo dục thể chất", False),
    ("AN", "Âm nhạc", False),
    ("MT", "Mĩ thuật", False),
    ("HDTN", "Hoạt động trải nghiệm", False),
]
TRAIT_HEADERS = {code: labels[0] for code, labels in result_workbook.TRAIT_LABELS.items()}
IDENTITY = [("stt", "STT"), ("class", "Mã lớp"), ("code", "Mã học sinh"), ("name", "Họ tên"), ("birth", "Ngày sinh")]
YEAR_END = [("completes", "Hoàn thành chương trình lớp học"), ("promoted", "Lên lớp"), ("result", "Xếp loại")]


def template_blocks(subjects=None, identity=None):
    """The column blocks of the grade 3 template, in the template's order."""
    subjects = GRADE3_SUBJECTS if subjects is None else subjects
    identity = IDENTITY if identity is None else identity
    blocks = [("id", key, text) for key, text in identity]
    blocks += [("subject", code, text, tested) for code, text, tested in subjects]
    blocks += [
        ("competency", code, TRAIT_HEADERS[code], "Năng lực chung" if kind == "general" else "Năng lực đặc thù")
        for code, kind, *_rest in catalogue.TRAITS
        if kind != "quality"
    ]
    blocks += [("quality", code, TRAIT_HEADERS[code]) for code, kind, *_rest in catalogue.TRAITS if kind == "quality"]
    blocks += [("id", key, text) for key, text in YEAR_END]
    return blocks


def build_xlsx(blocks, rows, sheet="KQHT", title=None):
    """An xlsx laid out as the template, and {value key: column letter}.

    ``rows``: dicts keyed by ``"code"``, ``"name"``... , ``(subject code,
    "level"|"score")`` or ``("trait", code)``.  With ``title``, a title row
    comes above the three header rows.
    """
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = sheet
    top = 1
    if title:
        ws.cell(1, 1, title)
        top = 2
    h1, h2, h3 = top, top + 1, top + 2
    positions, col = {}, 1
    for block in blocks:
        kind = block[0]
        if kind == "id":
            ws.cell(h1, col, block[2])
            ws.merge_cells(start_row=h1, start_column=col, end_row=h3, end_column=col)
            positions[block[1]] = col
            col += 1
        elif kind == "subject":
            _kind, code, text, tested = block
            width = 2 if tested else 1
            ws.cell(h1, col, "Môn học và hoạt động giáo dục")
            ws.cell(h2, col, text)
            if tested:
                ws.merge_cells(start_row=h1, start_column=col, end_row=h1, end_column=col + 1)
                ws.merge_cells(start_row=h2, start_column=col, end_row=h2, end_column=col + 1)
                ws.cell(h3, col + 1, "Điểm KTĐK")
                positions[(code, "score")] = col + 1
            ws.cell(h3, col, "Mức đạt được")
            positions[(code, "level")] = col
            col += width
        elif kind == "competency":
            _kind, code, text, group = block
            ws.cell(h1, col, "Năng lực cốt lõi")
            ws.cell(h2, col, group)
            ws.cell(h3, col, text)
            positions[("trait", code)] = col
            col += 1
        elif kind == "quality":
            _kind, code, text = block
            ws.cell(h1, col, "Phẩm chất chủ yếu")
            ws.cell(h2, col, text)
            ws.merge_cells(start_row=h2, start_column=col, end_row=h3, end_column=col)
            positions[("trait", code)] = col
            col += 1
    for number, values in enumerate(rows):
        for key, value in values.items():
            ws.cell(h3 + 1 + number, positions[key], value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), {key: get_column_letter(c) for key, c in positions.items()}


@tagged("post_install", "-at_install")
class TestResultWorkbook(BaseCase):
    """The reader alone, on plain bytes."""

    def test_header_spellings(self):
        key = result_workbook.header_key
        self.assertEqual(key("TH - CN (Tin học)"), key("th-cn (TIN HOC)"))
        self.assertEqual(key("Mỹ thuật"), key(" Mĩ   thuật "))
        self.assertEqual(key("Lịch sử và Địa lý"), key("Lịch sử và Địa lí"))
        self.assertEqual(key("Mã định danh Bộ GD&ĐT"), "ma dinh danh bo gd va dt")

    def test_same_label_for_a_subject_and_a_competency(self):
        subjects = [
            ("KH", "Khoa học", True),
            ("LSDL", "Lịch sử và Địa lý", True),
            ("XX", "Tiếng Hoa", False),
        ]  # a subject this module does not know
        row = {
            "code": "01",
            "name": "An",
            ("KH", "level"): "T",
            ("KH", "score"): 8,
            ("LSDL", "level"): "H",
            ("LSDL", "score"): "7",
            ("XX", "level"): "T",
            ("trait", "khoa_hoc"): "Đ",
            ("trait", "tin_hoc"): "d",
            ("trait", "tham_mi"): "c",
        }
        data, cols = build_xlsx(template_blocks(subjects), [row])
        rows, errors = result_workbook.read_ministry_results(data)
        self.assertEqual(errors, [])
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0].subjects, {"KH": ("T", "8"), "LSDL": ("H", "7")})
        self.assertEqual(
            {k: v for k, v in rows[0].traits.items() if v}, {"khoa_hoc": "Đ", "tin_hoc": "Đ", "tham_mi": "C"}
        )
        self.assertEqual(rows[0].columns[("trait", "khoa_hoc")], cols[("trait", "khoa_hoc")])
        self.assertEqual(rows[0].columns[("subject", "KH", "score")], cols[("KH", "score")])


@tagged("post_install", "-at_install")
class TestResultImport(HocbaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.student_a.moet_code = "0312000001"
        cls.student_c = env["school.student"].create(
            {
                "name": "Phạm Gia Bảo",
                "sex": "male",
                "birth_date": datetime.date(2017, 5, 9),
                "class_id": cls.class_a.id,
                "moet_code": "0312000003",
                "school_code": "HS003",
            }
        )
        # no code at all: found by full name and birth date
        cls.student_d = env["school.student"].create(
            {
                "name": "Lê Thu Hà",
                "sex": "female",
                "birth_date": datetime.date(2017, 11, 23),
                "class_id": cls.class_a.id,
            }
        )
        # The homeroom teacher of 3A teaches every subject there but English.
        env["school.teaching.assignment"].create(
            [
                {
                    "employee_id": cls.employees["homeroom_teacher"].id,
                    "subject_id": env.ref("hocba_digital.school_subject_" + code.lower()).id,
                    "class_id": cls.class_a.id,
                }
                for code, _text, _tested in GRADE3_SUBJECTS
                if code != "NN1"
            ]
        )
        cls.prepare_transcripts()
        cls.home = cls.users["homeroom_teacher"]
        cls.subj = cls.users["subject_teacher"]
        cls.transcript_c = cls.student_c.transcript_ids
        cls.transcript_d = cls.student_d.transcript_ids

    # ---- helpers ----

    def result(self, transcript, code, period="end_year"):
        return transcript.subject_result_ids.filtered(lambda r: r.subject_id.code == code and r.period == period)

    def traits(self, transcript, period="end_year"):
        return transcript.trait_assessment_ids.filtered(lambda a: a.period == period)

    def snapshot(self):
        """Every level, score and trait level of class 3A."""
        self.env.invalidate_all()
        transcripts = self.class_a.transcript_ids
        results = {r.id: (r.level, r.score, r.comment) for r in transcripts.subject_result_ids}
        traits = {a.id: tuple(a["level_" + c] for c, *_r in catalogue.TRAITS) for a in transcripts.trait_assessment_ids}
        return results, traits

    def wizard(self, user, data, period="end_year", school_class=None):
        return (
            self.env["hocba.result.import.wizard"]
            .with_user(user)
            .create(
                {
                    "class_id": (school_class or self.class_a).id,
                    "period": period,
                    "file": base64.b64encode(data),
                    "filename": "kqht.xlsx",
                }
            )
        )

    def good_rows(self):
        """Class 3A at the end of the year, the homeroom teacher's part filled."""
        all_t = {("trait", code): "T" for code in TRAIT_HEADERS}
        return [
            {
                "stt": 1,
                "class": "",
                "code": "0312000001",
                "name": "Nguyễn Thị Mai Anh",
                "birth": "14/03/2017",
                ("TV", "level"): "T",
                ("TV", "score"): 9,
                ("TOAN", "level"): "H",
                ("TOAN", "score"): 7,
                ("TIN", "level"): "T",
                ("TIN", "score"): 10,
                ("CNGHE", "level"): "T",
                ("CNGHE", "score"): "8",
                ("DD", "level"): "T",
                ("TNXH", "level"): "h",
                ("GDTC", "level"): "T",
                ("AN", "level"): "T",
                ("MT", "level"): "C",
                ("HDTN", "level"): "T",
                **all_t,
                ("trait", "cham_chi"): "Đ",
                ("trait", "the_chat"): "C",
            },
            {
                "stt": 2,
                "code": "HS003",
                "name": "Phạm Gia Bảo",
                "birth": "09/05/2017",
                ("TV", "level"): "H",
                ("TV", "score"): 6.0,
                ("TOAN", "level"): "T",
                ("TOAN", "score"): 10,
                **all_t,
            },
            {
                "stt": 3,
                "code": "",
                "name": "Lê  Thu Hà",
                "birth": datetime.datetime(2017, 11, 23),
                ("TV", "level"): "C",
                ("TV", "score"): 4,
                **all_t,
                ("trait", "yeu_nuoc"): "Đ",
            },
        ]

    def assert_good_rows_imported(self):
        ta, tc, td = self.transcript_a, self.transcript_c, self.transcript_d
        self.assertEqual((self.result(ta, "TV").level, self.result(ta, "TV").score), ("T", "9"))
        self.assertEqual((self.result(ta, "TOAN").level, self.result(ta, "TOAN").score), ("H", "7"))
        self.assertEqual(self.result(ta, "TIN").score, "10")
        self.assertEqual(self.result(ta, "CNGHE").score, "8")
        self.assertEqual(self.result(ta, "TNXH").level, "H")
        self.assertEqual(self.result(ta, "MT").level, "C")
        self.assertEqual((self.result(tc, "TV").level, self.result(tc, "TV").score), ("H", "6"))
        self.assertEqual(self.result(tc, "TOAN").score, "10")
        self.assertEqual((self.result(td, "TV").level, self.result(td, "TV").score), ("C", "4"))
        self.assertFalse(self.result(td, "TOAN").level)
        self.assertEqual(self.traits(ta).level_cham_chi, "Đ")
        self.assertEqual(self.traits(ta).level_the_chat, "C")
        self.assertEqual(self.traits(ta).level_tin_hoc, "T")
        self.assertEqual(self.traits(td).level_yeu_nuoc, "Đ")
        self.assertEqual(self.traits(tc).level_giao_tiep, "T")
        # nothing at the other periods
        self.assertFalse(self.result(ta, "TV", "end_term1").level)
        self.assertFalse(self.traits(ta, "end_term1").level_yeu_nuoc)

    # ---- (a) a good file ----

    def test_good_file_imports_levels_and_scores(self):
        data, _cols = build_xlsx(template_blocks(), self.good_rows(), title="KẾT QUẢ HỌC TẬP CUỐI NĂM - LỚP 3A")
        wizard = self.wizard(self.home, data)
        wizard.action_import()
        self.assertEqual(wizard.state, "done", wizard.error_report)
        self.assert_good_rows_imported()
        # the English results are the subject teacher's: untouched
        self.assertFalse(self.result(self.transcript_a, "NN1").level)
        self.assertIn("Results imported from kqht.xlsx", wizard.summary)
        posted = self.class_a.message_ids.filtered(lambda m: "Results imported from kqht.xlsx" in (m.body or ""))
        self.assertEqual(len(posted), 1)
        self.assertEqual(posted.author_id, self.home.partner_id)
        # importing the same file again changes nothing
        again = self.wizard(self.home, data)
        again.action_import()
        self.assertEqual(again.state, "done", again.error_report)
        self.assertIn("nothing to change", again.summary)

    # ---- (b) columns matched by their header, in any order ----

    def test_columns_in_another_order_and_unknown_column(self):
        blocks = template_blocks(
            identity=[
                ("name", "  họ và TÊN "),
                ("birth", "Ngày sinh"),
                ("stt", "STT"),
                ("code", "Mã định danh Bộ GD&ĐT"),
                ("class", "Mã lớp"),
            ]
        )
        blocks.append(("id", "note", "Ghi chú (không có trong mẫu)"))
        blocks.reverse()  # everything backwards, the identity columns last
        rows = self.good_rows()
        for row in rows:
            row["note"] = "bất kỳ"
        rows[1]["code"] = "0312000003"  # the MOET code this time, not the school code
        data, cols = build_xlsx(blocks, rows)
        self.assertEqual(cols["note"], "A")
        wizard = self.wizard(self.home, data)
        wizard.action_import()
        self.assertEqual(wizard.state, "done", wizard.error_report)
        self.assert_good_rows_imported()

    # ---- (c) several errors: nothing is written, every cell is reported ----

    def test_errors_import_nothing_and_are_all_listed(self):
        subjects = [
            (code, text, tested or code == "DD")  # a score column under Đạo đức
            for code, text, tested in GRADE3_SUBJECTS
        ]
        rows = self.good_rows()
        rows[0].update({("TV", "score"): 0, ("TOAN", "score"): 7.5, ("DD", "level"): "X", ("DD", "score"): 8})
        rows.insert(
            1, {"stt": 2, "code": "0399999999", "name": "Không Có Ai", "birth": "01/01/2017", ("TV", "level"): "T"}
        )
        data, cols = build_xlsx(template_blocks(subjects), rows, sheet="Lop 3A", title="KẾT QUẢ HỌC TẬP")
        before = self.snapshot()
        wizard = self.wizard(self.home, data)
        problems, _counts = wizard._hocba_import(data)
        self.assertEqual(self.snapshot(), before)

        found = sorted((p.sheet, p.row, p.column, str(p.value), p.reason) for p in problems)
        expected = sorted(
            [
                ("Lop 3A", 5, cols[("TV", "score")], "0", "below_one"),
                ("Lop 3A", 5, cols[("TOAN", "score")], "7.5", "not_whole"),
                ("Lop 3A", 5, cols[("DD", "level")], "X", "unknown_level"),
                ("Lop 3A", 5, cols[("DD", "score")], "8", "refused"),
                ("Lop 3A", 6, cols["code"], "0399999999", "unknown_pupil"),
            ]
        )
        self.assertEqual(found, expected)

        wizard.action_import()
        self.assertEqual(wizard.state, "error")
        self.assertEqual(self.snapshot(), before)
        report = wizard.error_report
        self.assertIn("Nothing was imported", report)
        for sheet, row, column, value, reason in [
            ("Lop 3A", 5, cols[("TV", "score")], "0", "the lowest score is 1"),
            ("Lop 3A", 5, cols[("TOAN", "score")], "7.5", "no decimals"),
            ("Lop 3A", 5, cols[("DD", "level")], "X", "Unknown level"),
            ("Lop 3A", 5, cols[("DD", "score")], "8", "has no periodic test"),
            ("Lop 3A", 6, cols["code"], "0399999999", "No pupil of 3A has this code"),
        ]:
            line = next(
                (
                    line
                    for line in report.splitlines()
                    if f"sheet {sheet}, row {row}, column {column}, value “{value}”" in line
                ),
                None,
            )
            self.assertTrue(line, f"row {row} column {column} missing from:\n{report}")
            self.assertIn(reason, line)
        self.assertEqual(len(report.splitlines()), 1 + len(expected))
        self.assertFalse(self.class_a.message_ids.filtered(lambda m: "Results imported" in (m.body or "")))

    def test_locked_class_and_submitted_sheet_are_refused(self):
        data, cols = build_xlsx(template_blocks(), self.good_rows())
        before = self.snapshot()
        self.sheet_home_a.sudo().write({"state": "submitted"})
        problems, _counts = self.wizard(self.home, data)._hocba_import(data)
        self.assertEqual(self.snapshot(), before)
        refused = [p for p in problems if p.reason == "refused"]
        self.assertTrue(refused)
        self.assertEqual({p.column for p in problems}, {cols[("trait", code)] for code in TRAIT_HEADERS})
        self.assertIn("is submitted", refused[0].detail)

        self.class_a.sudo().write({"review_state": "locked"})
        wizard = self.wizard(self.home, data)
        wizard.action_import()
        self.assertEqual(wizard.state, "error")
        self.assertIn("locked", wizard.error_report)
        self.assertEqual(self.snapshot(), before)

    def test_bad_file(self):
        wizard = self.wizard(self.home, b"STT;Ho ten\n1;An\n")
        wizard.action_import()
        self.assertEqual(wizard.state, "error")
        self.assertIn("not an Excel workbook", wizard.error_report)
        data, _cols = build_xlsx([("id", "name", "Tên")], [{"name": "An"}])
        wizard = self.wizard(self.home, data)
        wizard.action_import()
        self.assertIn("No header row found", wizard.error_report)

    # ---- (d) a subject teacher stays in their own sheets ----

    def test_subject_teacher_cannot_touch_another_subject(self):
        blocks = template_blocks(subjects=[s for s in GRADE3_SUBJECTS if s[0] in ("NN1", "TV")])
        rows = [
            {
                "code": "0312000001",
                "name": "Nguyễn Thị Mai Anh",
                ("NN1", "level"): "T",
                ("NN1", "score"): 9,
                ("TV", "level"): "T",
            },
            {"code": "0312000003", "name": "Phạm Gia Bảo", ("NN1", "level"): "H", ("NN1", "score"): 6},
        ]
        data, cols = build_xlsx(blocks, rows)
        before = self.snapshot()
        wizard = self.wizard(self.subj, data)
        problems, _counts = wizard._hocba_import(data)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual([(p.row, p.column, p.reason) for p in problems], [(4, cols[("TV", "level")], "refused")])
        self.assertIn("not by you", problems[0].detail)
        wizard.action_import()
        self.assertEqual(wizard.state, "error")
        self.assertIn("column %s" % cols[("TV", "level")], wizard.error_report)
        self.assertFalse(self.result(self.transcript_a, "NN1").level)

        # without the Vietnamese column the same teacher imports their own subject
        del rows[0][("TV", "level")]
        data, cols = build_xlsx(blocks, rows)
        wizard = self.wizard(self.subj, data)
        wizard.action_import()
        self.assertEqual(wizard.state, "done", wizard.error_report)
        self.assertEqual(
            (self.result(self.transcript_a, "NN1").level, self.result(self.transcript_a, "NN1").score), ("T", "9")
        )
        self.assertEqual(self.result(self.transcript_c, "NN1").level, "H")
        self.assertFalse(self.result(self.transcript_a, "TV").level)

    # ---- (e) export, then import again ----

    def test_export_import_round_trip(self):
        data, _cols = build_xlsx(template_blocks(), self.good_rows())
        self.wizard(self.home, data).action_import()
        self.result(self.transcript_a, "NN1").with_user(self.subj).write({"level": "T", "score": "8"})
        before = self.snapshot()

        wizard = self.wizard(self.home, b"")
        action = wizard.action_export()
        self.assertEqual(action["type"], "ir.actions.act_url")
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        self.assertEqual(attachment.res_model, "hocba.result.import.wizard")
        exported = attachment.raw
        rows, errors = result_workbook.read_ministry_results(exported)
        self.assertFalse(errors)
        by_name = {row.name: row for row in rows}
        self.assertEqual(set(by_name), {"Nguyễn Thị Mai Anh", "Phạm Gia Bảo", "Lê Thu Hà"})
        anh = by_name["Nguyễn Thị Mai Anh"]
        self.assertEqual(anh.codes, ("0312000001",))
        self.assertEqual(anh.birth_date, datetime.date(2017, 3, 14))
        self.assertEqual(anh.subjects["TV"], ("T", "9"))
        self.assertEqual(anh.subjects["NN1"], ("T", "8"))
        self.assertEqual(anh.subjects["DD"], ("T", None))
        self.assertEqual(anh.traits["cham_chi"], "Đ")
        self.assertEqual((anh.columns[("subject", "TV", "level")], anh.columns[("subject", "TV", "score")]), ("F", "G"))

        # the same file imported as it is: nothing to change, even the English column
        # the homeroom teacher may not write
        again = self.wizard(self.home, exported)
        again.action_import()
        self.assertEqual(again.state, "done", again.error_report)
        self.assertIn("nothing to change", again.summary)

        # the homeroom teacher's values erased, then restored from the file
        mine = self.class_a.transcript_ids.subject_result_ids.filtered(lambda r: r.sheet_id.user_id == self.home)
        mine.sudo().write({"level": False, "score": False})
        self.class_a.transcript_ids.trait_assessment_ids.sudo().write(
            {"level_" + code: False for code in TRAIT_HEADERS}
        )
        restore = self.wizard(self.home, exported)
        restore.action_import()
        self.assertEqual(restore.state, "done", restore.error_report)
        self.assertEqual(self.snapshot(), before)

    def test_subject_teacher_exports_what_they_can_read(self):
        self.result(self.transcript_a, "TV").sudo().write({"level": "T", "score": "9"})
        self.result(self.transcript_a, "NN1").with_user(self.subj).write({"level": "H"})
        action = self.wizard(self.subj, b"").action_export()
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        rows, errors = result_workbook.read_ministry_results(attachment.raw)
        self.assertFalse(errors)
        anh = next(row for row in rows if row.name == "Nguyễn Thị Mai Anh")
        self.assertEqual(anh.subjects["NN1"], ("H", None))
        self.assertEqual(anh.subjects["TV"], (None, None))  # not theirs to read
        self.assertFalse(any(anh.traits.values()))

    # ---- (f) the standard export/import of the grid ----

    def test_standard_grid_export_and_load(self):
        # exporting needs "Access to export feature" (base.group_allow_export); made
        # explicit so the test does not depend on how the school groups imply it
        self.subj.groups_id = [(4, self.env.ref("base.group_allow_export").id)]
        Result = self.env["hocba.subject.result"].with_user(self.subj)
        grid = Result.search([("sheet_id", "=", self.sheet_english_a.id)])
        self.assertEqual(len(grid), 3)
        fields_ = ["id", "level", "score", "comment"]
        exported = grid.export_data(fields_)["datas"]
        self.assertEqual(len(exported), 3)
        ids = [line[0] for line in exported]

        data = [[xid, "T", "9", "Rất tốt"] for xid in ids]
        result = Result.load(fields_, data)
        self.assertFalse([m for m in result["messages"] if m["type"] == "error"], result["messages"])
        grid.invalidate_recordset()
        self.assertEqual(set(grid.mapped("score")), {"9"})
        self.assertEqual(set(grid.mapped("level")), {"T"})

        # one bad score: messages, and nothing of the file is written
        data = [[ids[0], "H", "6", ""], [ids[1], "H", "7,5", ""], [ids[2], "C", "3", ""]]
        with mute_logger("odoo.sql_db", "odoo.models"):
            result = Result.load(fields_, data)
        errors = [m for m in result["messages"] if m["type"] == "error"]
        self.assertTrue(errors)
        self.assertFalse(result["ids"])
        self.assertIn("not a whole number", errors[0]["message"])
        grid.invalidate_recordset()
        self.assertEqual(set(grid.mapped("score")), {"9"})
        self.assertEqual(set(grid.mapped("level")), {"T"})

        # and the subject teacher cannot load into another teacher's grid
        other = self.result(self.transcript_a, "TV")
        xid = other.export_data(["id"])["datas"][0][0]
        with mute_logger("odoo.sql_db", "odoo.models"):
            result = Result.load(fields_, [[xid, "T", "9", ""]])
        self.assertTrue([m for m in result["messages"] if m["type"] == "error"])
        other.invalidate_recordset()
        self.assertFalse(other.level)
