import base64
import logging
import time

from cryptography.hazmat.primitives import serialization

from odoo import api, models, tools

from odoo.addons.hocba_digital.lib.sandbox import pki_factory
from odoo.addons.hocba_digital.lib.signing.keys import key_vault

from ..lib import demo_pki_store

_logger = logging.getLogger(__name__)

MODULE = "hocba_digital_demo"
PARAM = "hocba_digital.demo_pki"
DEMO_PIN = "246810"  # printed in the README: demo users sign with it
ROUTE = "/hocba/demo-pki"
SIGNED_CLASS = "4A"  # the demo parent (phuhuynh) has a child there
_CACHE = {}


class HocbaDemoPki(models.AbstractModel):
    """A DEMO certificate authority for the demo database, and what it serves.

    At install: a DEMO root, issuing CA, OCSP responder and time-stamping
    authority; a certificate (key sealed with ``DEMO_PIN``) for every teacher
    and manager and one for the seal (operated by ``vanthu``); the company
    trusts the DEMO root; class 4A is filled, approved and signed by every tier.
    The CA keys are kept sealed with the database secret; the controller
    ``/hocba/demo-pki/*`` answers OCSP, RFC 3161 and CRL requests with them.
    """

    _name = "hocba.demo.pki"
    _description = "Demo PKI"

    @api.model
    def _hocba_secret(self):
        return self.env["ir.config_parameter"].sudo().get_param("database.secret") or "demo-secret"

    @api.model
    def _hocba_load(self):
        blob = self.env["ir.config_parameter"].sudo().get_param(PARAM)
        if not blob:
            return None
        # unsealing (scrypt) and parsing every key costs far more than answering
        # one OCSP or time-stamp request: keep the last one per database
        key = (self.env.cr.dbname, blob)
        if _CACHE.get("key") != key:
            _CACHE.update(
                key=key, pki=demo_pki_store.load(key_vault.unseal(base64.b64decode(blob), self._hocba_secret()))
            )
        return _CACHE["pki"]

    @api.model
    def _hocba_store(self, pki):
        sealed = key_vault.seal(demo_pki_store.dump(pki), self._hocba_secret())
        self.env["ir.config_parameter"].sudo().set_param(PARAM, base64.b64encode(sealed).decode())

    @api.model
    def _load_demo_pki(self):
        if self._hocba_load():
            return
        started = time.monotonic()
        base_url = (
            self.env["ir.config_parameter"].sudo().get_param("web.base.url", "http://localhost:8069").rstrip("/")
            + ROUTE
        )
        signers = self._hocba_demo_signers()
        people = [
            pki_factory.Person(
                "u%d" % user.id, user.name, "DEMO-CCCD:%012d" % user.id, user.employee_id.job_title or ""
            )
            for user in signers
        ]
        company = self.env.ref("base.main_company")
        pki = pki_factory.build_pki(people, base_url=base_url, prefix="DEMO", organisation=company.name)
        self._hocba_store(pki)
        Certificate = self.env["hocba.certificate"].with_context(tracking_disable=True)
        for user in signers:
            self._hocba_certificate(Certificate, pki, pki.people["u%d" % user.id], user, "personal")
        self._hocba_certificate(Certificate, pki, pki.seal, self.env.ref(f"{MODULE}.user_demo_vanthu"), "seal")
        company.sudo().write(
            {
                "hocba_trusted_roots_pem": pki.root_pem.decode(),
                "hocba_tsa_url": False,
                "hocba_revocation_check": "off",
            }
        )
        self._hocba_sign_demo_class()
        # from now on the demo signs as production would: stamped, revocation checked
        company.sudo().write({"hocba_tsa_url": base_url + "/tsa", "hocba_revocation_check": "soft"})
        _logger.info(
            "Demo PKI: %d certificates, class %s issued in %.1fs",
            len(signers) + 1,
            SIGNED_CLASS,
            time.monotonic() - started,
        )

    @api.model
    def _hocba_demo_signers(self):
        groups = self.env.ref("hocba_digital.group_hocba_subject_teacher").users
        return groups.filtered(lambda u: u.employee_id and u.company_id == self.env.ref("base.main_company")).sorted(
            "id"
        )

    @api.model
    def _hocba_certificate(self, Certificate, pki, issued, user, purpose):
        certificate = Certificate.create(
            {
                "purpose": purpose,
                "user_id": user.id,
                "certificate_pem": issued.cert_pem.decode(),
                "chain_pem": pki.intermediate_pem.decode(),
            }
        )
        key_pem = issued.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        certificate.sudo().sealed_key = base64.b64encode(
            key_vault.seal(key_pem, DEMO_PIN, certificate._hocba_key_binding())
        )
        return certificate

    @api.model
    def _hocba_sign_demo_class(self):
        """Class 5A filled, submitted, locked, approved, and signed by each tier."""
        school_class = self.env["school.class"].search(
            [("name", "=", SIGNED_CLASS), ("year_id", "=", self.env.ref(f"{MODULE}.demo_school_year_current").id)],
            limit=1,
        )
        if not school_class:
            return
        # the signed XML names subjects and traits in Vietnamese: when the
        # database is made with Vietnamese (`make run`), load the addons' terms
        # now, not at the end of the installation (test databases stay English)
        if "vi_VN" in (tools.config.get("load_language") or "").split(","):
            self.env["ir.module.module"].sudo().search(
                [("name", "in", ("hocba_digital", MODULE))]
            )._update_translations(filter_lang=["vi_VN"])
        self.env["hocba.demo.loader"]._demo_fill(school_class.sheet_ids)
        transcripts = school_class.transcript_ids
        Service = self.env["hocba.signing.service"]
        teachers = school_class.sheet_ids.user_id
        for user in teachers:
            Service.with_user(user).hocba_sign(transcripts.ids, DEMO_PIN)
        # the homeroom teacher signs once every subject teacher has
        Service.with_user(school_class.homeroom_user_id).hocba_sign(transcripts.ids, DEMO_PIN)
        vice = self.env.ref(f"{MODULE}.user_demo_phohieutruong")
        school_class.with_user(vice).action_lock()
        school_class.with_user(vice).action_approve()
        Service.with_user(self.env.ref(f"{MODULE}.user_demo_hieutruong")).hocba_sign(transcripts.ids, DEMO_PIN)
        result = Service.with_user(self.env.ref(f"{MODULE}.user_demo_vanthu")).hocba_sign(
            transcripts.ids, DEMO_PIN, "seal"
        )
        if result["failed"] or result["remaining"]:
            _logger.warning("Demo class %s not fully issued: %s", SIGNED_CLASS, result["failed"][:3])
