from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ..lib.rules import certificate_costs

COVERAGE_READERS = ("hocba_digital.group_hocba_vice_principal",
                    "hocba_digital.group_hocba_it_officer")


class HocbaCertificateCoverage(models.Model):
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
            raise AccessError(_("Only the school management and the IT officer see who "
                                "holds a signing certificate."))
        at = at or fields.Datetime.now()
        year = year or self._hocba_signing_year(company, at.date())
        signers = self.env["res.users"]
        if year:
            assignments_sudo = self.env["school.teaching.assignment"].sudo().search(
                [("year_id", "=", year.id), ("company_id", "=", company.id)])
            classes_sudo = self.env["school.class"].sudo().search(
                [("year_id", "=", year.id), ("company_id", "=", company.id)])
            signers |= assignments_sudo.user_id | classes_sudo.homeroom_user_id
        management = self._hocba_staff_in("hocba_digital.group_hocba_vice_principal", company)
        staff_sudo = self.env["hr.employee"].sudo().search(
            [("user_id", "in", management.ids), ("company_id", "=", company.id)])
        signers |= staff_sudo.user_id
        certificates_sudo = self.sudo().search([("company_id", "=", company.id)])
        seals = certificates_sudo.filtered(lambda c: c.purpose == "seal")
        # the seal operator: the one of the usable seal, else of the newest
        operator = self._hocba_best_at(seals, at).user_id

        entries = []
        for signer in signers.sorted("name"):
            mine = certificates_sudo.filtered(
                lambda c, u=signer: c.purpose == "personal" and c.user_id == u)
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
            "year": year, "required": required, "covered": required - missing,
            "missing": missing, "missing_names": missing_names,
            "seal_covered": entries[-1]["covered"], "entries": entries,
            "required_count": required_count, "covered_count": covered_count,
            "rate": certificate_costs.coverage_rate(required_count, covered_count),
        }

    @api.model
    def _hocba_usable_at(self, certificates, at):
        return certificates.filtered(lambda c: not c.revoked and c.certificate_pem and (
            not c.not_before or c.not_before <= at) and c.not_after and c.not_after >= at
            and c.has_key)

    @api.model
    def _hocba_best_at(self, certificates, at):
        """The usable one valid longest, else the newest."""
        newest_first = certificates.sorted(
            lambda c: c.not_after or fields.Datetime.to_datetime("1970-01-01"), reverse=True)
        return (self._hocba_usable_at(newest_first, at) or newest_first)[:1]

    @api.model
    def _hocba_coverage_entry(self, user, need, certificates, at):
        best = self._hocba_best_at(certificates, at)
        covered = bool(self._hocba_usable_at(best, at))
        problem = False
        if not best:
            problem = (_("No seal certificate registered") if need == "seal"
                       else _("No certificate registered"))
        elif not covered:
            problem = self._hocba_coverage_problem(best, at)
        return {"user": user, "need": need, "certificate": best.sudo(False),
                "covered": covered, "problem": problem}

    @api.model
    def _hocba_coverage_problem(self, certificate, at):
        if certificate.revoked:
            return _("Revoked")
        if not certificate.certificate_pem or not certificate.not_after:
            return _("The certificate itself is not registered yet")
        if certificate.not_after < at:
            return _("Expired on %(date)s", date=certificate.not_after.strftime("%d/%m/%Y"))
        if certificate.not_before and certificate.not_before > at:
            return _("Not valid before %(date)s",
                     date=certificate.not_before.strftime("%d/%m/%Y"))
        return _("No signing key stored")
