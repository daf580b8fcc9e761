import base64
import contextlib
import datetime
import logging

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import format_date

from ..groups import ACCOUNTANT, CLERK, HOMEROOM_TEACHER, IT_OFFICER, PRINCIPAL, SUBJECT_TEACHER, any_of
from ..lib.rules import certificate_costs
from ..lib.signing import certificate_info, revocation_client
from ..lib.signing import chain as signing_chain
from ..lib.signing.keys import csc_signer, key_vault, pkcs11_signer
from ..lib.signing.xades import KeySigner

_logger = logging.getLogger(__name__)

TIER_SELECTION = [
    (signing_chain.SUBJECT, "Subject teacher"),
    (signing_chain.HOMEROOM, "Homeroom teacher"),
    (signing_chain.PRINCIPAL, "Principal"),
    (signing_chain.SEAL, "School seal"),
]
# the group a user must hold to sign in a tier with a personal certificate
TIER_GROUPS = {
    signing_chain.SUBJECT: SUBJECT_TEACHER,
    signing_chain.HOMEROOM: HOMEROOM_TEACHER,
    signing_chain.PRINCIPAL: PRINCIPAL,
}
# the codes and their order are the rules' (lib), the words the model's (translated)
PROVIDER_LABELS = {
    "vnpt": "VNPT-CA",
    "viettel": "Viettel-CA",
    "fpt": "FPT-CA",
    "bkav": "BKAV-CA",
    "misa": "MISA-CA",
    "gcc": "Government Cipher Committee CA (Ban Cơ yếu Chính phủ)",
    "other": "Other",
}
PROVIDER_SELECTION = [(code, PROVIDER_LABELS[code]) for code in certificate_costs.PROVIDERS]

CERT_TYPE_LABELS = {
    "soft": "Soft certificate (file)",
    "token": "USB token",
    "remote": "Remote signing",
}
CERT_TYPE_SELECTION = [(code, CERT_TYPE_LABELS[code]) for code in certificate_costs.CERT_TYPES]

COST_READERS = any_of(ACCOUNTANT, IT_OFFICER, PRINCIPAL)

DOCUMENT_READERS = any_of(COST_READERS, CLERK)


class HocbaCertificate(models.Model):
    """A signing certificate (chứng thư số): a staff member's, or the school seal's.

    Access: the IT officer creates, edits and archives every certificate; each
    user reads their own; the principal reads all.  The sealed private key is
    readable by no one through the ORM (signing reads it as superuser, and it
    is useless without the holder's PIN, which is never stored).
    """

    _name = "hocba.certificate"
    _description = "Signing certificate"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "purpose desc, user_id, not_after desc"
    _check_company_auto = True
    # the watch over the certificates (coverage, expiry warnings) is in
    # hocba_certificate_coverage.py, apart only for size

    name = fields.Char(compute="_compute_name", store=True)
    purpose = fields.Selection(
        [("personal", "Staff member"), ("seal", "School seal")], required=True, default="personal", tracking=True
    )
    user_id = fields.Many2one(
        "res.users",
        string="Holder",
        index=True,
        tracking=True,
        help="The staff member the certificate was issued to; for the seal, the person who "
        "operates it (often the clerk or the principal).",
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda s: s.env.company)
    backend = fields.Selection(
        [
            ("pkcs12", "Key file (PKCS#12), sealed with the signing PIN"),
            ("pkcs11", "USB token or HSM (PKCS#11)"),
            ("csc", "Remote signing (CSC)"),
        ],
        string="Kind of key",
        required=True,
        default="pkcs12",
        tracking=True,
    )
    certificate_pem = fields.Text(string="Certificate (PEM)", copy=False)
    chain_pem = fields.Text(string="Issuer chain (PEM)", copy=False)
    subject = fields.Char(readonly=True, copy=False)
    issuer = fields.Char(readonly=True, copy=False)
    serial = fields.Char(string="Serial number", readonly=True, copy=False, index=True)
    fingerprint = fields.Char(string="SHA-256 fingerprint", readonly=True, copy=False)
    not_before = fields.Datetime(string="Valid from", readonly=True, copy=False)
    not_after = fields.Datetime(string="Valid until", readonly=True, copy=False, tracking=True)
    can_sign = fields.Boolean(string="Key usage allows signing", readonly=True, copy=False)
    revoked = fields.Boolean(readonly=True, copy=False, tracking=True)
    revoked_at = fields.Datetime(string="Revoked on", readonly=True, copy=False)
    sealed_key = fields.Binary(string="Sealed key", attachment=False, copy=False, groups="base.group_no_one")
    has_key = fields.Boolean(compute="_compute_has_key", string="Key stored")
    pkcs11_module = fields.Char(string="PKCS#11 library")
    pkcs11_token_label = fields.Char(string="Token label")
    pkcs11_key_label = fields.Char(string="Key label")
    csc_url = fields.Char(string="Remote signing service URL")
    csc_credential = fields.Char(string="Credential ID")
    csc_username = fields.Char(string="Remote signing account", groups=IT_OFFICER)
    csc_password = fields.Char(string="Remote signing account password", copy=False, groups=IT_OFFICER)
    state = fields.Selection(
        [
            ("usable", "Usable"),
            ("not_yet", "Not yet valid"),
            ("expired", "Expired"),
            ("revoked", "Revoked"),
            ("no_key", "No key"),
        ],
        compute="_compute_state",
        search="_search_state",
    )
    active = fields.Boolean(default=True, tracking=True)

    _sql_constraints = [
        ("fingerprint_uniq", "unique(company_id, fingerprint)", "This certificate is already registered."),
    ]

    @api.depends("subject", "purpose", "user_id")
    def _compute_name(self):
        for cert in self:
            holder = cert.user_id.name if cert.purpose == "personal" else _("School seal")
            cert.name = "%s - %s" % (holder or "?", cert.subject or _("no certificate yet"))

    def _compute_has_key(self):
        for cert in self:
            if cert.backend == "pkcs12":
                cert.has_key = bool(cert.sudo().sealed_key)
            else:
                cert.has_key = bool(cert.pkcs11_token_label if cert.backend == "pkcs11" else cert.csc_credential)

    @api.depends("not_before", "not_after", "revoked")
    def _compute_state(self):
        now = fields.Datetime.now()
        for cert in self:
            if cert.revoked:
                cert.state = "revoked"
            elif cert.not_after and cert.not_after < now:
                cert.state = "expired"
            elif cert.not_before and cert.not_before > now:
                cert.state = "not_yet"
            elif not cert.has_key:
                cert.state = "no_key"
            else:
                cert.state = "usable"

    def _search_state(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, str):
            raise UserError(_("Search on the certificate state with = or != only."))
        now = fields.Datetime.now()
        domains = {
            "revoked": [("revoked", "=", True)],
            "expired": [("revoked", "=", False), ("not_after", "<", now)],
            "not_yet": [("revoked", "=", False), ("not_before", ">", now)],
            "usable": [("revoked", "=", False), ("not_after", ">=", now), ("not_before", "<=", now)],
            "no_key": [("id", "=", 0)],
        }
        domain = domains.get(value, [("id", "=", 0)])
        if operator == "!=":
            return ["!"] + domain if len(domain) == 1 else ["!", "&"] + domain
        return domain

    @api.constrains("purpose", "user_id")
    def _check_holder(self):
        for cert in self:
            if cert.purpose == "personal" and not cert.user_id:
                raise ValidationError(_("A staff member's certificate needs its holder."))

    @api.constrains("certificate_pem")
    def _check_certificate(self):
        for cert in self.filtered("certificate_pem"):
            try:
                certificate_info.load_certificate(cert.certificate_pem.encode())
            except ValueError:
                raise ValidationError(_("The certificate is not a readable X.509 certificate."))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            vals.update(self._hocba_describe_vals(vals.get("certificate_pem")))
        return super().create(vals_list)

    def write(self, vals):
        if "certificate_pem" in vals:
            if any((cert.certificate_pem or "").strip() != (vals["certificate_pem"] or "").strip() for cert in self):
                # another certificate (a renewal) is warned about afresh
                vals = dict(vals, expiry_warned_days=0, deadline_warned_year_id=False)
            vals.update(self._hocba_describe_vals(vals["certificate_pem"]))
        return super().write(vals)

    @api.model
    def _hocba_describe_vals(self, pem):
        if not pem:
            return {}
        try:
            info = certificate_info.describe(certificate_info.load_certificate(pem.encode()))
        except ValueError:
            raise ValidationError(_("The certificate is not a readable X.509 certificate."))
        naive = lambda moment: moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)  # noqa: E731
        return {
            "subject": info.subject,
            "issuer": info.issuer,
            "serial": info.serial,
            "fingerprint": info.fingerprint_sha256,
            "not_before": naive(info.not_before),
            "not_after": naive(info.not_after),
            "can_sign": info.can_sign,
        }

    # ---- Keys ----

    def hocba_store_pkcs12(self, pkcs12_b64, password, pin):
        """Take a PKCS#12 file (base64), keep its certificate and chain, and seal
        its key under ``pin``.  Called from the key dialog; nothing of the file,
        its password or the PIN is stored or logged."""
        self.ensure_one()
        self._hocba_check_key_holder()
        try:
            key_pem, cert_pem, chain = certificate_info.split_pkcs12(base64.b64decode(pkcs12_b64 or ""), password or "")
        except ValueError:
            raise UserError(_("The key file cannot be opened: check its password."))
        try:
            key_vault.check_pin(pin)
        except key_vault.WeakPin:
            raise UserError(
                _(
                    "Choose a signing PIN of at least %(n)s characters that is not "
                    "a run of the same or consecutive digits.",
                    n=key_vault.MIN_PIN_LENGTH,
                )
            )
        if self.certificate_pem and self.certificate_pem.strip() != cert_pem.decode().strip():
            raise UserError(_("The key file holds another certificate than %(name)s.", name=self.name))
        sealed = key_vault.seal(key_pem, pin, self._hocba_key_binding())
        self.sudo().write(
            {
                "certificate_pem": cert_pem.decode(),
                "chain_pem": "".join(c.decode() for c in chain),
                "backend": "pkcs12",
                "sealed_key": base64.b64encode(sealed),
            }
        )
        self.message_post(body=_("Signing key stored, sealed with the holder's PIN."))
        return True

    def action_store_key(self):
        """The key dialog: the file's password and the new PIN are typed there and
        sent only with the call to ``hocba_store_pkcs12``."""
        self.ensure_one()
        self._hocba_check_key_holder()
        return {
            "type": "ir.actions.client",
            "tag": "hocba_digital.key_dialog",
            "target": "new",
            "name": _("Store the signing key"),
            "params": {"certificate_id": self.id},
        }

    def _hocba_check_key_holder(self):
        user = self.env.user
        if self.env.su or user.has_group(IT_OFFICER):
            return
        if self.user_id != user:
            raise AccessError(_("Only the holder or the IT officer can store the key of %(name)s.", name=self.name))

    def _hocba_key_binding(self):
        # binds the sealed blob to this certificate record: a blob copied onto
        # another record does not open.  The id alone: it exists when the key is
        # sealed and never changes (the fingerprint is only known once the PEM is
        # set, so a key stored before it never opened again)
        return ("hocba-certificate:%s" % self.id).encode()

    def _hocba_key_bindings(self):
        # keys sealed before the binding was the id alone were bound to the
        # fingerprint (the demo's, and any key stored after its PEM): they still open
        bindings = [self._hocba_key_binding()]
        if self.fingerprint:
            bindings.append(("hocba-certificate:%s" % self.fingerprint).encode())
        return bindings

    def _hocba_x509(self):
        self.ensure_one()
        return certificate_info.load_certificate(self.certificate_pem.encode())

    def _hocba_chain(self):
        self.ensure_one()
        if not self.chain_pem:
            return []
        return x509.load_pem_x509_certificates(self.chain_pem.encode())

    def _hocba_signer(self, pin):
        """The pure-layer ``Signer`` for this certificate, opened with ``pin``."""
        self.ensure_one()
        if self.backend == "pkcs12":
            blob = base64.b64decode(self.sudo().sealed_key or b"")
            key_pem = None
            for binding in self._hocba_key_bindings():
                with contextlib.suppress(key_vault.WrongPin):
                    key_pem = key_vault.unseal(blob, pin, binding)
                    break
            if key_pem is None:
                raise UserError(_("Wrong signing PIN for %(name)s.", name=self.name))
            key = serialization.load_pem_private_key(key_pem, None)
            return KeySigner(key, self._hocba_x509(), self._hocba_chain())
        if self.backend == "pkcs11":
            with self._hocba_backend_errors():
                return pkcs11_signer.Pkcs11Signer(
                    self.pkcs11_module,
                    self.pkcs11_token_label,
                    key_label=self.pkcs11_key_label,
                    user_pin=pin,
                    certificate=self._hocba_x509(),
                    chain=self._hocba_chain(),
                )
        if self.backend == "csc":
            account_sudo = self.sudo()  # the account's password is the IT officer's field
            if not (account_sudo.csc_url and account_sudo.csc_credential):
                raise UserError(_("Remote signing is not configured for %(name)s.", name=self.name))
            refused = _("The remote signing service refused the account of %(name)s.", name=self.name)
            with self._hocba_backend_errors(refused):
                return csc_signer.CscSigner(
                    account_sudo.csc_url,
                    account_sudo.csc_credential,
                    username=account_sudo.csc_username or None,
                    password=account_sudo.csc_password or None,
                    timeout=30,
                )
        raise UserError(_("No kind of key is configured for %(name)s.", name=self.name))

    @contextlib.contextmanager
    def _hocba_session(self, pin, count):
        """The signer, kept open for one batch of ``count`` signatures: one token
        session, or one remote authorisation, with the PIN given here only."""
        signer = self._hocba_signer(pin)
        if self.backend == "pkcs12":
            yield signer
            return
        batch = signer.batch(count, pin=pin) if self.backend == "csc" else signer
        refused = _("Wrong PIN for the remote signing key of %(name)s.", name=self.name)
        with self._hocba_backend_errors(refused), batch:
            yield signer

    @contextlib.contextmanager
    def _hocba_backend_errors(self, csc_refused=None):
        """A token's or a remote signing service's error as a refusal that says
        what to do; ``csc_refused``: the text when the service refuses who we are."""
        name = self.name
        try:
            yield
        except pkcs11_signer.TokenPinLockedError:
            raise UserError(
                _(
                    "The PIN of the token of %(name)s is locked after too many wrong "
                    "tries: have it unlocked by the token's administrator.",
                    name=name,
                )
            )
        except pkcs11_signer.TokenPinExpiredError:
            raise UserError(
                _("The PIN of the token of %(name)s has expired: change it with the token's own tool first.", name=name)
            )
        except pkcs11_signer.TokenPinError:
            raise UserError(_("Wrong PIN for the token of %(name)s.", name=name))
        except pkcs11_signer.TokenNotFoundError:
            raise UserError(
                _(
                    "The token %(token)s of %(name)s is not found: is it plugged in?",
                    token=self.pkcs11_token_label,
                    name=name,
                )
            )
        except pkcs11_signer.TokenKeyNotFoundError:
            raise UserError(
                _(
                    "The token of %(name)s does not hold exactly one key labelled %(key)s.",
                    name=name,
                    key=self.pkcs11_key_label,
                )
            )
        except pkcs11_signer.Pkcs11SignerError as exc:
            raise UserError(_("The token of %(name)s cannot be used: %(why)s", name=name, why=exc))
        except csc_signer.CscAuthError:
            raise UserError(csc_refused or _("The remote signing service refused the account of %(name)s.", name=name))
        except csc_signer.CscUnavailable:
            raise UserError(_("The remote signing service of %(name)s cannot be reached: try again later.", name=name))
        except csc_signer.CscError as exc:
            raise UserError(_("Remote signing for %(name)s failed: %(why)s", name=name, why=exc))

    # ---- Checks before a signature ----

    def _hocba_refusal(self, user, tier, at=None):
        """Why this certificate may not sign now for ``user`` in ``tier`` (a
        translated sentence), or False."""
        self.ensure_one()
        if not self.certificate_pem:
            return _("%(name)s holds no certificate yet.", name=self.name)
        info = certificate_info.describe(self._hocba_x509())
        problems = certificate_info.problems_for_signing(info, at=at, revoked=self.revoked)
        messages = {
            "not_yet_valid": _("The certificate %(name)s is not valid before %(date)s."),
            "expired": _("The certificate %(name)s expired on %(date)s."),
            "revoked": _("The certificate %(name)s has been revoked."),
            "no_signing_usage": _("The certificate %(name)s does not allow signing (key usage)."),
        }
        for problem in problems:
            date = info.not_before if problem == "not_yet_valid" else info.not_after
            return messages[problem] % {"name": self.name, "date": format_date(self.env, date)}
        if tier == signing_chain.SEAL:
            if self.purpose != "seal":
                return _("Only the school seal certificate can sign as the school.")
            if not self.user_id:
                return _(
                    "The seal certificate %(name)s has no operator: the IT officer must name the person "
                    "who operates it.",
                    name=self.name,
                )
            if self.user_id != user:
                return _("The seal certificate is operated by %(holder)s, not by you.", holder=self.user_id.name)
            if not (user.has_group(CLERK) or user.has_group(PRINCIPAL)):
                return _("Only the clerk or the principal may apply the school seal.")
            return False
        if self.purpose != "personal" or self.user_id != user:
            return _("The certificate %(name)s does not belong to you.", name=self.name)
        if not user.has_group(TIER_GROUPS[tier]):
            tiers = dict(self.env["hocba.signature"]._fields["tier"]._description_selection(self.env))
            return _("You do not sign as %(tier)s.", tier=tiers[tier])
        if not self.has_key:
            return _("No signing key is stored for %(name)s.", name=self.name)
        return False

    def _hocba_check_revocation(self):
        """Ask the certificate authority (CRL of the distribution point) whether
        this certificate is revoked; refuse (UserError) when it is, or when the
        company's ``hocba_revocation_check`` is "require" and no answer can be had."""
        self.ensure_one()
        company_sudo = self.company_id.sudo()  # the setting is readable by the IT officer only
        mode = company_sudo.hocba_revocation_check or "require"
        if mode == "off":
            return
        cert = self._hocba_x509()
        issuer = next((c for c in self._hocba_chain() if c.subject == cert.issuer), None)
        with revocation_client.RevocationClient(timeout=10) as client:
            outcome = client.check(cert, issuer)
        if outcome.status == revocation_client.REVOKED:
            revoked_at = outcome.revoked_at.replace(tzinfo=None)
            # the signer cannot edit certificates; their CA has just said it is revoked
            certificate_sudo = self.sudo()
            certificate_sudo.write({"revoked": True, "revoked_at": revoked_at})
            raise UserError(
                _(
                    "The certificate %(name)s was revoked on %(date)s: it cannot sign.",
                    name=self.name,
                    date=format_date(self.env, revoked_at),
                )
            )
        if outcome.status == revocation_client.UNKNOWN:
            _logger.warning(
                "Revocation status of certificate %s unknown (%s): %s %s",
                self.serial,
                mode,
                outcome.reason,
                outcome.detail or outcome.url,
            )
            if mode == "require":
                raise UserError(
                    _(
                        "The revocation status of %(name)s cannot be checked: %(why)s. "
                        "Try again later or ask the IT officer.",
                        name=self.name,
                        why=self._hocba_revocation_reason(outcome.reason),
                    )
                )

    @api.model
    def _hocba_revocation_reason(self, reason):
        texts = {
            "no_issuer": _("the certificate of its issuer is not registered with it"),
            "no_source": _("it names no revocation list reachable over the web"),
            "unreachable": _("its certificate authority did not answer"),
            "http_error": _("its certificate authority answered with an error"),
            "unreadable": _("the answer of its certificate authority is not a revocation list"),
            "wrong_issuer": _("the revocation list comes from another certificate authority"),
            "bad_signature": _("the revocation list is not signed by its certificate authority"),
            "stale": _("the revocation list of its certificate authority is out of date"),
            "ocsp_refused": _("the OCSP service of its certificate authority refused to answer"),
            "ocsp_invalid": _("the OCSP answer does not match the question"),
            "ocsp_unknown": _("the OCSP service of its certificate authority does not know it"),
        }
        return texts.get(reason) or reason

    @api.model
    def _hocba_for(self, user, tier):
        """The usable certificate ``user`` signs ``tier`` with (the newest)."""
        domain = [("company_id", "=", self.env.company.id), ("active", "=", True)]
        if tier == signing_chain.SEAL:
            seals = self.sudo().search(domain + [("purpose", "=", "seal")], order="not_after desc")
            # the seal this user operates; else one nobody operates; else the
            # newest: the checks then refuse the latter two (no operator named,
            # or the operator's name)
            return (seals.filtered(lambda c: c.user_id == user) or seals.filtered(lambda c: not c.user_id) or seals)[:1]
        domain += [("purpose", "=", "personal"), ("user_id", "=", user.id)]
        return self.sudo().search(domain, order="not_after desc", limit=1)

    # ----------------------------------------------------------------------
    # Who issued a certificate, in what form, the legal documents of its issuance and
    # what it cost.  Costs are shown only to the accountant, the IT officer and the
    # principal; documents also to the clerk who keeps them.
    # ----------------------------------------------------------------------

    provider = fields.Selection(PROVIDER_SELECTION, string="Certification provider", tracking=True, index=True)
    cert_type = fields.Selection(
        CERT_TYPE_SELECTION,
        string="Type",
        compute="_compute_cert_type",
        store=True,
        readonly=False,
        precompute=True,
        tracking=True,
        help="Follows the kind of key unless set by hand.",
    )
    document_ids = fields.One2many(
        "hocba.certificate.document", "certificate_id", string="Legal documents", groups=DOCUMENT_READERS
    )
    document_count = fields.Integer(compute="_compute_document_count", groups=DOCUMENT_READERS)
    cost_ids = fields.One2many("hocba.certificate.cost", "certificate_id", string="Costs", groups=COST_READERS)
    cost_currency_id = fields.Many2one("res.currency", compute="_compute_cost_total", groups=COST_READERS)
    cost_total = fields.Monetary(
        compute="_compute_cost_total", string="Total cost", currency_field="cost_currency_id", groups=COST_READERS
    )
    # the expiry warnings already given: the tightest threshold (days), and the
    # school year whose signing deadline this certificate was flagged for
    expiry_warned_days = fields.Integer(copy=False, readonly=True)
    deadline_warned_year_id = fields.Many2one("school.year", copy=False, readonly=True)

    @api.depends("backend")
    def _compute_cert_type(self):
        for cert in self:
            cert.cert_type = certificate_costs.type_for_backend(cert.backend)

    @api.depends("document_ids")
    def _compute_document_count(self):
        counts = dict(
            self.env["hocba.certificate.document"]._read_group(
                [("certificate_id", "in", self.ids)], ["certificate_id"], ["__count"]
            )
        )
        for cert in self:
            cert.document_count = counts.get(cert, 0)

    @api.depends("cost_ids.amount")
    def _compute_cost_total(self):
        totals = dict(
            self.env["hocba.certificate.cost"]._read_group(
                [("certificate_id", "in", self.ids)], ["certificate_id"], ["amount:sum"]
            )
        )
        vnd = self.env.ref("base.VND")
        for cert in self:
            cert.cost_currency_id = vnd
            cert.cost_total = totals.get(cert, 0)

    def action_hocba_documents(self):
        return self._hocba_open_related("hocba_digital.hocba_certificate_document_action")

    def action_hocba_costs(self):
        return self._hocba_open_related("hocba_digital.hocba_certificate_cost_action")

    def _hocba_open_related(self, action_xmlid):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(action_xmlid)
        action["domain"] = [("certificate_id", "=", self.id)]
        action["context"] = {"default_certificate_id": self.id}
        return action
