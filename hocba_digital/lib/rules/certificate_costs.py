"""What signing certificates cost and when they must be renewed (no Odoo here).

Providers, kinds of certificate and kinds of cost are codes; their labels are
the ORM layer's.  Dates are ``datetime.date``; amounts are whole VND.
"""

import dataclasses
import datetime

PROVIDERS = ("vnpt", "viettel", "fpt", "bkav", "misa", "gcc", "other")
CERT_TYPES = ("soft", "token", "remote")
# the kind of key tells the usual kind of certificate
TYPE_FOR_BACKEND = {"pkcs12": "soft", "pkcs11": "token", "csc": "remote"}
COST_KINDS = ("issuance", "renewal", "token", "subscription", "per_signature")
# costs that buy a period of validity (for remote signing, the subscription):
# the best guess of the next renewal's price
PRICE_KINDS = ("issuance", "renewal", "subscription")

# Indicative yearly price of a renewal (VND, VAT included), used only until the
# school has paid one for that provider and kind: the forecast then follows what
# the school really pays.  The Government Cipher Committee's official-duty
# certificates for public bodies are state-funded: nothing for the school.
PRICE_TABLE = {
    ("vnpt", "soft"): 1_650_000,
    ("vnpt", "token"): 1_826_000,
    ("vnpt", "remote"): 1_200_000,
    ("viettel", "soft"): 1_500_000,
    ("viettel", "token"): 1_716_000,
    ("viettel", "remote"): 1_100_000,
    ("fpt", "soft"): 1_400_000,
    ("fpt", "token"): 1_690_000,
    ("fpt", "remote"): 990_000,
    ("bkav", "soft"): 1_450_000,
    ("bkav", "token"): 1_760_000,
    ("bkav", "remote"): 1_050_000,
    ("misa", "soft"): 1_350_000,
    ("misa", "token"): 1_650_000,
    ("misa", "remote"): 950_000,
    ("gcc", "soft"): 0,
    ("gcc", "token"): 0,
    ("gcc", "remote"): 0,
}
DEFAULT_PRICE = 1_500_000  # a provider or kind the table does not know

WARNING_THRESHOLDS = (60, 30, 7)  # days before expiry, from the first warning to the last
FORECAST_DAYS = 365


@dataclasses.dataclass(frozen=True)
class Certificate:
    key: object  # the caller's id
    holder_key: object  # certificates with the same holder_key replace one another
    provider: str
    cert_type: str
    not_after: datetime.date


@dataclasses.dataclass(frozen=True)
class Cost:
    certificate_key: object
    provider: str
    cert_type: str
    kind: str
    amount: int
    date: datetime.date


@dataclasses.dataclass(frozen=True)
class Renewal:
    certificate_key: object
    due: datetime.date
    days_left: int
    expected_cost: int
    basis: str  # "last_cost" or "price_table"


def type_for_backend(backend):
    return TYPE_FOR_BACKEND.get(backend, "soft")


def current_certificates(certificates):
    """The certificates not yet replaced: per holder, the one valid longest."""
    latest = {}
    for cert in certificates:
        kept = latest.get(cert.holder_key)
        if kept is None or cert.not_after > kept.not_after:
            latest[cert.holder_key] = cert
    return [cert for cert in certificates if latest[cert.holder_key] is cert]


def last_prices(costs):
    """{(provider, type): amount of the latest issuance, renewal or subscription paid}."""
    prices = {}
    latest = {}
    for cost in costs:
        if cost.kind not in PRICE_KINDS:
            continue
        group = (cost.provider, cost.cert_type)
        if group not in latest or cost.date >= latest[group]:
            latest[group] = cost.date
            prices[group] = cost.amount
    return prices


def expected_cost(provider, cert_type, prices, price_table=None):
    """(amount, basis) of the next renewal of a ``provider`` / ``cert_type`` certificate."""
    group = (provider, cert_type)
    if group in prices:
        return prices[group], "last_cost"
    table = PRICE_TABLE if price_table is None else price_table
    return table.get(group, DEFAULT_PRICE), "price_table"


def forecast_renewals(certificates, costs, today, horizon_days=FORECAST_DAYS, price_table=None):
    """The renewals due within ``horizon_days`` of ``today`` (overdue ones
    included), soonest first, each with its expected cost.  A certificate that
    a later one of the same holder replaces is not due."""
    limit = today + datetime.timedelta(days=horizon_days)
    prices = last_prices(costs)
    renewals = []
    for cert in current_certificates(certificates):
        if cert.not_after > limit:
            continue
        amount, basis = expected_cost(cert.provider, cert.cert_type, prices, price_table)
        renewals.append(Renewal(cert.key, cert.not_after, (cert.not_after - today).days, amount, basis))
    return sorted(renewals, key=lambda renewal: (renewal.due, str(renewal.certificate_key)))


def budget_status(planned, actual):
    """(remaining, used percent, overspent) of a budget line."""
    remaining = planned - actual
    used = round(100.0 * actual / planned, 1) if planned else (100.0 if actual else 0.0)
    return remaining, used, actual > planned


def expiry_threshold(not_after, today):
    """The tightest warning threshold (60, 30 or 7 days) reached on ``today``,
    or None when expiry is further away or already past."""
    days_left = (not_after - today).days
    if days_left < 0:
        return None
    reached = [days for days in WARNING_THRESHOLDS if days_left <= days]
    return min(reached) if reached else None


def warning_due(not_after, today, last_warned=None):
    """The threshold to warn about today, or None: each threshold is warned
    once, and a threshold skipped (no check that day) is not warned late when a
    tighter one is reached."""
    threshold = expiry_threshold(not_after, today)
    if threshold is None or (last_warned and last_warned <= threshold):
        return None
    return threshold


def expires_before_deadline(not_after, deadline, today):
    """True when the certificate will not last until the year's signing
    deadline, while that deadline is still ahead (or today)."""
    return bool(deadline) and today <= deadline and not_after < deadline


def coverage_rate(required_count, covered_count):
    """Percent of the signers who hold a usable certificate (100 when none must sign)."""
    if not required_count:
        return 100.0
    return round(100.0 * covered_count / required_count, 1)
