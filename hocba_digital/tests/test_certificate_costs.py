import datetime

from odoo.tests import BaseCase, tagged

from ..lib.rules import certificate_costs as cc
from ..lib.workbooks import certificate_costs as workbook
from .lib_tools import read_sheet, totals_by

D = datetime.date


def cert(key, holder, provider, cert_type, not_after):
    return cc.Certificate(key, holder, provider, cert_type, not_after)


def cost(key, provider, cert_type, kind, amount, date):
    return cc.Cost(key, provider, cert_type, kind, amount, date)


@tagged("post_install", "-at_install")
class TestCertificateCostRules(BaseCase):
    """The pure layer: forecast, summaries, expiry thresholds, deadline rule."""

    def test_type_follows_backend(self):
        self.assertEqual(cc.type_for_backend("pkcs12"), "soft")
        self.assertEqual(cc.type_for_backend("pkcs11"), "token")
        self.assertEqual(cc.type_for_backend("csc"), "remote")

    def test_forecast_uses_last_price_of_same_provider_and_type(self):
        today = D(2026, 11, 30)
        certificates = [
            cert("a", "lan", "vnpt", "soft", D(2027, 3, 1)),
            cert("b", "hoa", "vnpt", "soft", D(2027, 1, 10)),
            cert("c", "minh", "viettel", "remote", D(2027, 6, 1)),
            cert("d", "seal", "gcc", "token", D(2028, 6, 1)),  # beyond 12 months
            cert("e", "tuan", "misa", "soft", D(2026, 11, 20)),  # overdue, no cost known
        ]
        costs = [
            cost("a", "vnpt", "soft", "issuance", 1_500_000, D(2025, 3, 1)),
            cost("b", "vnpt", "soft", "renewal", 1_650_000, D(2026, 1, 10)),
            cost("b", "vnpt", "soft", "token", 550_000, D(2026, 2, 1)),  # not a price
            cost("c", "viettel", "remote", "subscription", 1_100_000, D(2026, 6, 1)),
            cost("c", "viettel", "remote", "per_signature", 200_000, D(2026, 7, 1)),
        ]
        renewals = cc.forecast_renewals(certificates, costs, today)
        self.assertEqual(
            [(r.certificate_key, r.due, r.days_left, r.expected_cost, r.basis) for r in renewals],
            [
                ("e", D(2026, 11, 20), -10, cc.PRICE_TABLE[("misa", "soft")], "price_table"),
                ("b", D(2027, 1, 10), 41, 1_650_000, "last_cost"),
                ("a", D(2027, 3, 1), 91, 1_650_000, "last_cost"),
                ("c", D(2027, 6, 1), 183, 1_100_000, "last_cost"),
            ],
        )
        self.assertEqual(sum(r.expected_cost for r in renewals), 5_750_000)

    def test_forecast_skips_replaced_certificates_and_uses_price_table(self):
        today = D(2026, 11, 30)
        certificates = [
            cert("old", "lan", "fpt", "soft", D(2026, 12, 15)),
            cert("new", "lan", "fpt", "soft", D(2027, 12, 15)),
            cert("odd", "hoa", "other", "token", D(2027, 2, 1)),
        ]
        renewals = cc.forecast_renewals(certificates, [], today, price_table={("fpt", "soft"): 1_234_000})
        self.assertEqual([(r.certificate_key, r.expected_cost) for r in renewals], [("odd", cc.DEFAULT_PRICE)])
        self.assertEqual(
            [
                (r.certificate_key, r.expected_cost, r.basis)
                for r in cc.forecast_renewals(certificates, [], D(2027, 1, 1))
            ],
            [("odd", cc.DEFAULT_PRICE, "price_table"), ("new", cc.PRICE_TABLE[("fpt", "soft")], "price_table")],
        )
        self.assertEqual(cc.PRICE_TABLE[("gcc", "token")], 0)

    def test_summaries_and_budget(self):
        costs = [
            cost("a", "vnpt", "soft", "issuance", 1_500_000, D(2025, 3, 1)),
            cost("b", "vnpt", "soft", "renewal", 1_650_000, D(2026, 1, 10)),
            cost("c", "viettel", "remote", "subscription", 1_100_000, D(2026, 6, 1)),
        ]
        self.assertEqual(totals_by(costs, "year"), {(2025,): 1_500_000, (2026,): 2_750_000})
        self.assertEqual(
            totals_by(costs, "year", "provider"),
            {(2025, "vnpt"): 1_500_000, (2026, "vnpt"): 1_650_000, (2026, "viettel"): 1_100_000},
        )
        self.assertEqual(cc.budget_status(10_000_000, 2_500_000), (7_500_000, 25.0, False))
        self.assertEqual(cc.budget_status(1_000_000, 1_500_000), (-500_000, 150.0, True))
        self.assertEqual(cc.budget_status(0, 0), (0, 0.0, False))

    def test_expiry_thresholds(self):
        expiry = D(2027, 3, 1)
        days = lambda n: expiry - datetime.timedelta(days=n)  # noqa: E731
        self.assertIsNone(cc.expiry_threshold(expiry, days(61)))
        self.assertEqual(cc.expiry_threshold(expiry, days(60)), 60)
        self.assertEqual(cc.expiry_threshold(expiry, days(31)), 60)
        self.assertEqual(cc.expiry_threshold(expiry, days(30)), 30)
        self.assertEqual(cc.expiry_threshold(expiry, days(8)), 30)
        self.assertEqual(cc.expiry_threshold(expiry, days(7)), 7)
        self.assertEqual(cc.expiry_threshold(expiry, days(0)), 7)
        self.assertIsNone(cc.expiry_threshold(expiry, days(-1)))

    def test_each_threshold_warned_once(self):
        expiry = D(2027, 3, 1)
        warned, given = 0, []
        for offset in range(70, -3, -1):  # one check a day
            threshold = cc.warning_due(expiry, expiry - datetime.timedelta(days=offset), warned)
            if threshold:
                given.append((offset, threshold))
                warned = threshold
        self.assertEqual(given, [(60, 60), (30, 30), (7, 7)])
        # a check missed at 60 days: at 25 days only the 30-day warning is given
        self.assertEqual(cc.warning_due(expiry, expiry - datetime.timedelta(days=25), 0), 30)

    def test_expires_before_signing_deadline(self):
        deadline = D(2027, 6, 15)
        self.assertTrue(cc.expires_before_deadline(D(2027, 6, 14), deadline, D(2026, 11, 30)))
        self.assertFalse(cc.expires_before_deadline(D(2027, 6, 15), deadline, D(2026, 11, 30)))
        self.assertFalse(cc.expires_before_deadline(D(2027, 12, 1), deadline, D(2026, 11, 30)))
        # once the deadline is past the rule no longer applies
        self.assertFalse(cc.expires_before_deadline(D(2027, 6, 14), deadline, D(2027, 6, 16)))
        self.assertTrue(cc.expires_before_deadline(D(2026, 11, 1), deadline, D(2026, 11, 30)))
        self.assertFalse(cc.expires_before_deadline(D(2026, 11, 1), None, D(2026, 11, 30)))

    def test_coverage_rate(self):
        self.assertEqual(cc.coverage_rate(0, 0), 100.0)
        self.assertEqual(cc.coverage_rate(8, 6), 75.0)
        self.assertEqual(cc.coverage_rate(3, 1), 33.3)

    def test_workbook(self):
        columns = [("date", "Date", "date"), ("name", "Name", "text"), ("amount", "Amount", "money")]
        rows = [
            {"date": D(2026, 1, 2), "name": "Renewal", "amount": 1_650_000},
            {"date": D(2026, 3, 4), "name": "Token", "amount": 550_000},
        ]
        data = workbook.write_cost_workbook(
            [workbook.Sheet("Costs", columns, rows, "amount", "Total"), workbook.Sheet("Due", columns, [], "amount")],
            title="Certificates",
        )
        sheet = read_sheet(data, "Costs")
        self.assertEqual(sheet[0][0], "Certificates")
        self.assertEqual(sheet[2], ["Date", "Name", "Amount"])
        self.assertEqual(sheet[3][1:], ["Renewal", 1_650_000])
        self.assertEqual(sheet[5], ["Total", None, 2_200_000])
        self.assertEqual(read_sheet(data, "Due")[0], ["Date", "Name", "Amount"])
