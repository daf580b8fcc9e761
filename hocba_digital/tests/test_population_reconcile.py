"""The reconciliation files and the comparison (lib/population_reconcile), no database."""

import datetime
import io
import unicodedata

import openpyxl

from odoo.tests import BaseCase, tagged

from ..lib.population import reconcile as pr
from ..lib.rules import personal_id as pid

D = datetime.date
MAI = pr.Identity("Nguyễn Thị Mai Anh", D(2017, 3, 14), pid.FEMALE, "031317004521")
HEADER = (
    "STT,Mã học sinh,Kết quả đối soát,Họ và tên (CSDLQG),Ngày sinh (CSDLQG),"
    "Giới tính (CSDLQG),Số định danh cá nhân (CSDLQG)"
)


def answer(*rows, header=HEADER, sep=","):
    return ("\n".join([header.replace(",", sep)] + [sep.join(r) for r in rows]) + "\n").encode()


@tagged("post_install", "-at_install")
class TestCompare(BaseCase):
    def test_names_compare_by_letters_and_tones_not_by_case_spacing_or_placement(self):
        same = ["NGUYỄN THỊ MAI ANH", "  Nguyễn   Thị Mai  Anh ", unicodedata.normalize("NFD", "Nguyễn Thị Mai Anh")]
        for name in same:
            with self.subTest(name=name):
                self.assertEqual(
                    pr.compare(MAI, pr.Identity(name, MAI.birth_date, MAI.sex, MAI.personal_id)).state, pr.MATCHED
                )
        self.assertEqual(pr.name_key("Lê Thị Hoà"), pr.name_key("LÊ THỊ HÒA"))
        self.assertEqual(pr.name_key("Trần Thuỷ"), pr.name_key("Trần Thủy"))
        for other in (
            "Nguyễn Thị Mai Ánh",
            "Nguyen Thi Mai Anh",
            "Nguyễn Thị Mại Anh",
            "Nguyễn Thị Anh",
            "Nguyễn Thị Mai Anh Thư",
        ):
            with self.subTest(other=other):
                outcome = pr.compare(MAI, pr.Identity(other, MAI.birth_date, MAI.sex, MAI.personal_id))
                self.assertEqual((outcome.state, outcome.fields), (pr.MISMATCHED, ("name",)))
        self.assertNotEqual(pr.name_key("Đinh Văn An"), pr.name_key("Dinh Văn An"))

    def test_each_differing_field_is_named_with_both_values(self):
        found = pr.Identity("Nguyễn Thị Mai Ánh", D(2017, 3, 15), pid.MALE, "031217004521")
        outcome = pr.compare(MAI, found)
        self.assertEqual(outcome.state, pr.MISMATCHED)
        self.assertEqual(outcome.fields, ("name", "birth_date", "sex", "personal_id"))
        self.assertEqual(outcome.differences[1], pr.Difference("birth_date", D(2017, 3, 14), D(2017, 3, 15)))
        self.assertEqual(outcome.differences[3].theirs, "031217004521")

    def test_missing_personal_id_at_school_differs_and_not_found_is_its_own_outcome(self):
        without = pr.Identity(MAI.name, MAI.birth_date, MAI.sex, None)
        self.assertEqual(pr.compare(without, MAI).fields, ("personal_id",))
        self.assertEqual(pr.compare(MAI, None), pr.Outcome(pr.NOT_FOUND))
        spaced = pr.Identity(MAI.name, MAI.birth_date, MAI.sex, "031 317 004 521")
        self.assertEqual(pr.compare(spaced, MAI).state, pr.MATCHED)

    def test_cell_values(self):
        for text in (
            "14/03/2017",
            "14-03-2017",
            "14.03.2017",
            "2017-03-14",
            " 14/03/2017 ",
            datetime.datetime(2017, 3, 14, 0, 0),
        ):
            self.assertEqual(pr.parse_date(text), D(2017, 3, 14))
        for bad in ("31/02/2017", "03/14/2017", "14/3", "", 42810):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                pr.parse_date(bad)
        self.assertEqual(
            [pr.parse_sex(v) for v in ("Nam", "NỮ", "nu", "Female", "M")],
            [pid.MALE, pid.FEMALE, pid.FEMALE, pid.FEMALE, pid.MALE],
        )
        with self.assertRaises(ValueError):
            pr.parse_sex("Khác")
        self.assertEqual(pr.parse_personal_id("031.317.004.521"), "031317004521")
        self.assertEqual(pr.parse_personal_id(31317004521), "031317004521")  # lost its zero
        for bad in ("31317004521", "03131700452X", "0313170045211", 1.5):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                pr.parse_personal_id(bad)


@tagged("post_install", "-at_install")
class TestAnswerFile(BaseCase):
    def workbook_answer(self, rows):
        return pr.write_answer(rows)

    def assertFileError(self, data, reason, row=None, column=None, filename=None):
        with self.assertRaises(pr.AnswerFileError) as caught:
            pr.read_answer(data, filename)
        error = caught.exception
        self.assertEqual(error.reason, reason, error)
        if row is not None:
            self.assertEqual(error.row, row)
        if column is not None:
            self.assertEqual(error.column, column)
        return error

    def test_xlsx_answer_round_trip(self):
        sent = {
            "ref": "3100000001",
            "name": MAI.name,
            "birth_date": MAI.birth_date,
            "sex": MAI.sex,
            "personal_id": MAI.personal_id,
        }
        found = pr.Identity("NGUYỄN THỊ MAI ANH", MAI.birth_date, MAI.sex, MAI.personal_id)
        data = pr.write_answer([(sent, found), (dict(sent, ref="3100000002"), None)])
        rows = pr.read_answer(data, "ketqua.xlsx")
        self.assertEqual([(r.ref, r.found) for r in rows], [("3100000001", found), ("3100000002", None)])
        self.assertEqual(rows[0].row, 5)  # title, subtitle, blank line, header
        self.assertEqual(rows[0].columns["pop_birth_date"], "I")

    def test_csv_answers_in_the_encodings_and_separators_spreadsheets_write(self):
        row = ("1", "3100000001", "Tìm thấy", "Nguyễn Thị Mai Anh", "14/03/2017", "Nữ", "031317004521")
        for sep in (",", ";", "\t"):
            data = answer(row, sep=sep)
            for encoded in (data, b"\xef\xbb\xbf" + data, data.decode().encode("utf-16")):
                with self.subTest(sep=sep, start=encoded[:3]):
                    [parsed] = pr.read_answer(encoded, "ketqua.csv")
                    self.assertEqual(parsed.found, MAI)

    def test_columns_found_by_header_in_any_order_extra_columns_ignored(self):
        header = (
            "Ghi chú,Số định danh cá nhân (CSDL dân cư),Giới tính (CSDLQG),"
            "NGÀY SINH (CSDLQG),Họ tên (CSDLQG),Kết quả,Lớp,Mã HS"
        )
        data = answer(
            ("", "031317004521", "Nữ", "2017-03-14", "Nguyễn Thị Mai Anh", "Đã xác thực", "3A", "3100000001"),
            ("", "", "", "", "", "Không tìm thấy", "3A", "3100000002"),
            ("", "", "", "", "", "", "", ""),
            header=header,
        )
        rows = pr.read_answer(data, "x.csv")
        self.assertEqual([(r.ref, r.found) for r in rows], [("3100000001", MAI), ("3100000002", None)])

    def test_malformed_files_say_which_row_and_column(self):
        ok = ("1", "3100000001", "Tìm thấy", "Nguyễn Thị Mai Anh", "14/03/2017", "Nữ", "031317004521")
        error = self.assertFileError(answer(ok[:4] + ("31/02/2017",) + ok[5:]), "bad_birth_date", row=2, column="E")
        self.assertEqual((error.header, error.value), ("Ngày sinh (CSDLQG)", "31/02/2017"))
        self.assertFileError(answer(ok[:5] + ("X",) + ok[6:]), "bad_sex", 2, "F")
        self.assertFileError(answer(ok[:6] + ("31317004521",)), "bad_personal_id", 2, "G")
        self.assertFileError(answer(ok[:3] + ("",) + ok[4:]), "missing_value", 2, "D")
        self.assertFileError(answer(ok[:2] + ("Có lẽ",) + ok[3:]), "unknown_status", 2, "C")
        self.assertFileError(answer(ok, ("2",) + ok[1:]), "duplicate_row", 3, "B")
        self.assertEqual(self.assertFileError(answer(ok, ok), "duplicate_row").other_row, 2)
        self.assertFileError(answer(("1", "") + ok[2:]), "missing_ref", 2, "B")
        missing = HEADER.replace(",Giới tính (CSDLQG)", "")
        error = self.assertFileError(answer(ok[:5] + ok[6:], header=missing), "missing_column", 1)
        self.assertEqual(error.header, "Giới tính (CSDLQG)")
        self.assertFileError(answer(ok + ("Nữ",), header=HEADER + ",Giới tính (CSDLQG)"), "duplicate_column", 1, "H")
        self.assertFileError(answer(header="Họ tên,Ngày sinh"), "no_header")
        self.assertFileError(answer(), "no_rows")

    def test_files_that_are_no_answer_at_all(self):
        self.assertFileError(b"PK\x03\x04 not really a zip", "not_xlsx", 0, filename="a.xlsx")
        self.assertFileError(b"%PDF-1.7 hello", "not_xlsx", filename="ketqua.xlsx")
        self.assertFileError(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "old_xls")
        self.assertFileError(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\xfa", "not_text", filename="ketqua.csv")
        workbook = openpyxl.Workbook()
        workbook.active.append(["Danh sách lớp 3A"])
        out = io.BytesIO()
        workbook.save(out)
        self.assertFileError(out.getvalue(), "no_header")

    def test_request_file_carries_the_identity_as_text(self):
        data = pr.write_request(
            [
                {
                    "ref": "3100000001",
                    "class_name": "3A",
                    "name": MAI.name,
                    "birth_date": MAI.birth_date,
                    "sex": MAI.sex,
                    "personal_id": MAI.personal_id,
                    "birth_place": "Hải Phòng",
                    "hometown": "Hải Phòng",
                    "ethnicity": "Kinh",
                }
            ],
            "Trường Tiểu học Trần Dương",
            "31012345",
            D(2026, 3, 2),
        )
        ws = openpyxl.load_workbook(io.BytesIO(data)).active
        self.assertIn("31012345", ws["A2"].value)
        self.assertEqual([c.value for c in ws[4]], [t for _k, t in pr.REQUEST_HEADERS])
        self.assertEqual(
            [c.value for c in ws[5]],
            [1, "3100000001", "3A", MAI.name, "14/03/2017", "Nữ", "031317004521", "Hải Phòng", "Hải Phòng", "Kinh"],
        )
