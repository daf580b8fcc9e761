"""``hocba.certificate``, continued: whether the certificates cover the signing season.

Kept apart from ``hocba_certificate.py`` only for size: together the two
would pass 700 lines.  This file holds the watch over the certificates
(who must sign and holds a usable certificate; the expiry and signing
deadline warnings); ``hocba_certificate.py`` the certificate itself (its
key, signer, revocation, provider and costs).
"""

import logging

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ..groups import IT_OFFICER, PRINCIPAL, VICE_PRINCIPAL
from ..lib.rules import certificate_costs

_logger = logging.getLogger(__name__)

COVERAGE_READERS = (VICE_PRINCIPAL, IT_OFFICER)
EXPIRY_ACTIVITY = "hocba_digital.mail_activity_type_hocba_certificate_expiry"
DEADLINE_ACTIVITY = "hocba_digital.mail_activity_type_hocba_certificate_deadline"


class HocbaCertificate(models.Model):
    """Whether everyone who must sign this year holds a usable certificate."""

    _inherit = "hocba.certificate"

    @api.model
    def _hocba_certificate_coverage(self, company, year=None, at=None):
        """Who must sign in ``year`` (default: the current school year) and who
        holds a usable certificate for it at ``at`` (default: now).

        Must sign: the subject teachers with a teaching assignment and the
        homeroom teachers of the year's classes, the vice principals and the
        principal (staff of the school), and the operator of the school seal,
        who needs a usable seal certificate.  Returns a dict: ``year``,
        ``required`` / ``covered`` / ``missing`` (res.users), ``missing_names``
        (sorted; "School seal" when there is no seal certificate at all),
        ``seal_covered``, ``entries`` (one dict per user and need: ``user``,
        ``need`` "personal" or "seal", ``certificate``, ``covered``,
        ``problem``), ``required_count``, ``covered_count`` and ``rate``
        (percent).  For the vice principal, the principal and the IT officer.
        """
        user = self.env.user
        if not (self.env.su or any(user.has_group(g) for g in COVERAGE_READERS)):
            raise AccessError(_("Only the school management and the IT officer see who holds a signing certificate."))
        at = at or fields.Datetime.now()
        year = year or self._hocba_signing_year(company, at.date())
        signers = self.env["res.users"]
        if year:
            assignments_sudo = (
                self.env["school.teaching.assignment"]
                .sudo()
                .search([("year_id", "=", year.id), ("company_id", "=", company.id)])
            )
            classes_sudo = (
                self.env["school.class"].sudo().search([("year_id", "=", year.id), ("company_id", "=", company.id)])
            )
            signers |= assignments_sudo.user_id | classes_sudo.homeroom_user_id
        management = self._hocba_staff_in(VICE_PRINCIPAL, company)
        staff_sudo = (
            self.env["hr.employee"].sudo().search([("user_id", "in", management.ids), ("company_id", "=", company.id)])
        )
        signers |= staff_sudo.user_id
        certificates_sudo = self.sudo().search([("company_id", "=", company.id)])
        seals = certificates_sudo.filtered(lambda c: c.purpose == "seal")
        # the seal operator: the one of the usable seal, else of the newest
        operator = self._hocba_best_at(seals, at).user_id

        entries = []
        for signer in signers.sorted("name"):
            mine = certificates_sudo.filtered(lambda c, u=signer: c.purpose == "personal" and c.user_id == u)
            entries.append(self._hocba_coverage_entry(signer, "personal", mine, at))
        entries.append(self._hocba_coverage_entry(operator, "seal", seals, at))
        # one slot per person (whatever they need), and the seal when nobody operates it
        slots = {}
        for entry in entries:
            key = entry["user"].id or "seal"
            slots[key] = slots.get(key, True) and entry["covered"]
        required = self.env["res.users"].union(*(e["user"] for e in entries))
        missing = required.filtered(lambda u: not slots[u.id])
        missing_names = sorted(missing.mapped("name"))
        if slots.get("seal") is False:
            missing_names.append(_("School seal"))
        required_count, covered_count = len(slots), sum(slots.values())
        return {
            "year": year,
            "required": required,
            "covered": required - missing,
            "missing": missing,
            "missing_names": missing_names,
            "seal_covered": entries[-1]["covered"],
            "entries": entries,
            "required_count": required_count,
            "covered_count": covered_count,
            "rate": certificate_costs.coverage_rate(required_count, covered_count),
        }

    @api.model
    def _hocba_usable_at(self, certificates, at):
        return certificates.filtered(
            lambda c: (
                not c.revoked
                and c.certificate_pem
                and (not c.not_before or c.not_before <= at)
                and c.not_after
                and c.not_after >= at
                and c.has_key
            )
        )

    @api.model
    def _hocba_best_at(self, certificates, at):
        """The usable one valid longest, else the newest."""
        newest_first = certificates.sorted(
            lambda c: c.not_after or fields.Datetime.to_datetime("1970-01-01"), reverse=True
        )
        return (self._hocba_usable_at(newest_first, at) or newest_first)[:1]

    @api.model
    def _hocba_coverage_entry(self, user, need, certificates, at):
        best = self._hocba_best_at(certificates, at)
        covered = bool(self._hocba_usable_at(best, at))
        problem = False
        if not best:
            problem = _("No seal certificate registered") if need == "seal" else _("No certificate registered")
        elif not covered:
            problem = self._hocba_coverage_problem(best, at)
        return {"user": user, "need": need, "certificate": best.sudo(False), "covered": covered, "problem": problem}

    @api.model
    def _hocba_coverage_problem(self, certificate, at):
        if certificate.revoked:
            return _("Revoked")
        if not certificate.certificate_pem or not certificate.not_after:
            return _("The certificate itself is not registered yet")
        if certificate.not_after < at:
            return _("Expired on %(date)s", date=certificate.not_after.strftime("%d/%m/%Y"))
        if certificate.not_before and certificate.not_before > at:
            return _("Not valid before %(date)s", date=certificate.not_before.strftime("%d/%m/%Y"))
        return _("No signing key stored")

    # ----------------------------------------------------------------------
    # The daily expiry check: the IT officer and the holder are warned 60, 30 and 7 days
    # before a certificate expires (once per threshold), the IT officer and the
    # principal loudly when it expires before the signing deadline of the current school
    # year (once per year).
    # ----------------------------------------------------------------------

    @api.model
    def _hocba_signing_year(self, company, today=None):
        """The school year whose signing is under way or next: the last one
        started (until the next starts), else the first to come."""
        today = today or fields.Date.context_today(self)
        Year = self.env["school.year"].sudo()
        domain = [("company_id", "=", company.id)]
        return Year.search(domain + [("date_start", "<=", today)], order="date_start desc", limit=1) or Year.search(
            domain, order="date_start", limit=1
        )

    @api.model
    def _hocba_staff_in(self, group_xmlid, company):
        users = self.env.ref(group_xmlid).sudo().users
        return users.filtered(lambda u: not u.share and company in u.company_ids)

    def _hocba_plain(self):
        """These certificates for the pure layer; the seal is one holder per school."""
        return [
            certificate_costs.Certificate(
                cert.id,
                (cert.company_id.id, cert.purpose, cert.user_id.id if cert.purpose == "personal" else None),
                cert.provider or "other",
                cert.cert_type,
                cert.not_after.date(),
            )
            for cert in self
            if cert.not_after
        ]

    def _hocba_current_only(self):
        """Those of these certificates that a later one of the same holder does not replace."""
        current = certificate_costs.current_certificates(self._hocba_plain())
        return self.browse([cert.key for cert in current])

    @api.model
    def _cron_hocba_certificate_expiry(self, today=None):
        """Give today's expiry warnings; return how many were given."""
        today = today or fields.Date.context_today(self)
        certificates = self.search([("revoked", "=", False), ("not_after", "!=", False)])
        given = 0
        for company in certificates.company_id:
            it_officers = self._hocba_staff_in(IT_OFFICER, company)
            principals = self._hocba_staff_in(PRINCIPAL, company)
            year = self._hocba_signing_year(company, today)
            ours = certificates.filtered(lambda c: c.company_id == company)._hocba_current_only()
            for cert in ours:
                expiry = cert.not_after.date()
                threshold = certificate_costs.warning_due(expiry, today, cert.expiry_warned_days)
                if threshold:
                    cert._hocba_warn_expiry(threshold, expiry, it_officers | cert.user_id)
                    given += 1
                if (
                    year
                    and cert.deadline_warned_year_id != year
                    and certificate_costs.expires_before_deadline(expiry, year.signing_deadline, today)
                ):
                    cert._hocba_warn_deadline(year, expiry, it_officers | principals)
                    given += 1
        if given:
            _logger.info("Certificate expiry check: %d warnings given", given)
        return given

    def _hocba_warn_expiry(self, threshold, expiry, users):
        self.ensure_one()
        summary = _("Certificate expires in %(days)s days or less: renew it", days=threshold)
        note = _(
            "The certificate %(name)s expires on %(date)s. Ask the provider for the "
            "renewal in time: signing stops the day it expires.",
            name=self.name,
            date=expiry.strftime("%d/%m/%Y"),
        )
        # the earlier, looser warning is replaced by this one
        self.activity_unlink([EXPIRY_ACTIVITY])
        for user in users:
            self.activity_schedule(EXPIRY_ACTIVITY, date_deadline=expiry, summary=summary, note=note, user_id=user.id)
        self.message_post(body=note, subject=summary, subtype_xmlid="mail.mt_note")
        self.expiry_warned_days = threshold

    def _hocba_warn_deadline(self, year, expiry, users):
        self.ensure_one()
        summary = _("EXPIRES BEFORE THE SIGNING DEADLINE")
        note = _(
            "The certificate %(name)s expires on %(date)s, before the signing deadline "
            "of %(year)s (%(deadline)s): its holder cannot sign the transcripts unless "
            "it is renewed now.",
            name=self.name,
            date=expiry.strftime("%d/%m/%Y"),
            year=year.name,
            deadline=year.signing_deadline.strftime("%d/%m/%Y"),
        )
        for user in users:
            self.activity_schedule(
                DEADLINE_ACTIVITY,
                date_deadline=min(expiry, year.signing_deadline),
                summary=summary,
                note=note,
                user_id=user.id,
            )
        self.message_post(body=note, subject=summary, subtype_xmlid="mail.mt_note")
        self.deadline_warned_year_id = year
