import logging

from odoo import _, api, fields, models

from ..lib.rules import certificate_costs

_logger = logging.getLogger(__name__)

EXPIRY_ACTIVITY = "hocba_digital.mail_activity_type_hocba_certificate_expiry"
DEADLINE_ACTIVITY = "hocba_digital.mail_activity_type_hocba_certificate_deadline"


class HocbaCertificateExpiry(models.Model):
    """The daily expiry check: the IT officer and the holder are warned 60, 30
    and 7 days before a certificate expires (once per threshold), the IT
    officer and the principal loudly when it expires before the signing
    deadline of the current school year (once per year)."""

    _inherit = "hocba.certificate"

    @api.model
    def _hocba_signing_year(self, company, today=None):
        """The school year whose signing is under way or next: the last one
        started (until the next starts), else the first to come."""
        today = today or fields.Date.context_today(self)
        Year = self.env["school.year"].sudo()
        domain = [("company_id", "=", company.id)]
        return (Year.search(domain + [("date_start", "<=", today)], order="date_start desc",
                            limit=1)
                or Year.search(domain, order="date_start", limit=1))

    @api.model
    def _hocba_staff_in(self, group_xmlid, company):
        users = self.env.ref(group_xmlid).sudo().users
        return users.filtered(lambda u: not u.share and company in u.company_ids)

    def _hocba_plain(self):
        """These certificates for the pure layer; the seal is one holder per school."""
        return [certificate_costs.Certificate(
            cert.id, (cert.company_id.id, cert.purpose,
                      cert.user_id.id if cert.purpose == "personal" else None),
            cert.provider or "other", cert.cert_type, cert.not_after.date())
            for cert in self if cert.not_after]

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
            it_officers = self._hocba_staff_in("hocba_digital.group_hocba_it_officer", company)
            principals = self._hocba_staff_in("hocba_digital.group_hocba_principal", company)
            year = self._hocba_signing_year(company, today)
            ours = certificates.filtered(lambda c: c.company_id == company)._hocba_current_only()
            for cert in ours:
                expiry = cert.not_after.date()
                threshold = certificate_costs.warning_due(expiry, today, cert.expiry_warned_days)
                if threshold:
                    cert._hocba_warn_expiry(threshold, expiry, it_officers | cert.user_id)
                    given += 1
                if (year and cert.deadline_warned_year_id != year
                        and certificate_costs.expires_before_deadline(
                            expiry, year.signing_deadline, today)):
                    cert._hocba_warn_deadline(year, expiry, it_officers | principals)
                    given += 1
        if given:
            _logger.info("Certificate expiry check: %d warnings given", given)
        return given

    def _hocba_warn_expiry(self, threshold, expiry, users):
        self.ensure_one()
        summary = _("Certificate expires in %(days)s days or less: renew it", days=threshold)
        note = _("The certificate %(name)s expires on %(date)s. Ask the provider for the "
                 "renewal in time: signing stops the day it expires.",
                 name=self.name, date=expiry.strftime("%d/%m/%Y"))
        # the earlier, looser warning is replaced by this one
        self.activity_unlink([EXPIRY_ACTIVITY])
        for user in users:
            self.activity_schedule(EXPIRY_ACTIVITY, date_deadline=expiry, summary=summary,
                                   note=note, user_id=user.id)
        self.message_post(body=note, subject=summary, subtype_xmlid="mail.mt_note")
        self.expiry_warned_days = threshold

    def _hocba_warn_deadline(self, year, expiry, users):
        self.ensure_one()
        summary = _("EXPIRES BEFORE THE SIGNING DEADLINE")
        note = _("The certificate %(name)s expires on %(date)s, before the signing deadline "
                 "of %(year)s (%(deadline)s): its holder cannot sign the transcripts unless "
                 "it is renewed now.", name=self.name, date=expiry.strftime("%d/%m/%Y"),
                 year=year.name, deadline=year.signing_deadline.strftime("%d/%m/%Y"))
        for user in users:
            self.activity_schedule(DEADLINE_ACTIVITY, date_deadline=min(
                expiry, year.signing_deadline), summary=summary, note=note, user_id=user.id)
        self.message_post(body=note, subject=summary, subtype_xmlid="mail.mt_note")
        self.deadline_warned_year_id = year
