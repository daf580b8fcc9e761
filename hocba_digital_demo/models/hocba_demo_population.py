import base64
import hashlib
import json
import logging
import secrets

from odoo import api, models

from odoo.addons.hocba_digital.lib.population import reconcile as pr
from odoo.addons.hocba_digital.lib.sandbox.population_sandbox import (
    API,
    PopulationRegistry,
    citizen_to_json,
    citizens_from_json,
)

from ..lib import population_demo
from ..lib.demo_school import PROVINCE_CODE

_logger = logging.getLogger(__name__)

MODULE = "hocba_digital_demo"
PARAM = "hocba_digital.demo_population"
TOKEN_PARAM = "hocba_digital.demo_population_token"
ROUTE = "/hocba/demo-population"
FIRST_ROUND_CLASSES = ("1A", "4A")  # the demo homeroom teacher's class, the signed class
_CACHE = {}


class HocbaDemoPopulation(models.AbstractModel):
    """A DEMO population database for the demo school, so that reconciliation
    works on a fresh demo install with no outside service.

    At install: the citizens it holds (``lib.population_demo``: a few pupils
    differ or are missing), stored in a system parameter; the company points
    its online service at the controller ``/hocba/demo-population``, which
    speaks the contract of ``docs/reconciliation.md``; a first round (classes
    1A and 4A, by answer file) is imported by the IT officer ``cntt``, so the
    school starts with a few matched pupils and a few mismatches to fix.  The
    reconciliation wizard also offers the demo answer file for download.
    """

    _name = "hocba.demo.population"
    _description = "Demo population database"

    @api.model
    def _hocba_registry(self):
        """The demo service (a PopulationRegistry), or None outside a demo database."""
        params = self.env["ir.config_parameter"].sudo()
        blob = params.get_param(PARAM)
        if not blob:
            return None
        key = (self.env.cr.dbname, hashlib.sha256(blob.encode()).hexdigest())
        if key not in _CACHE:
            _CACHE.clear()  # one database at a time is plenty for a demo
            _CACHE[key] = PopulationRegistry(
                citizens_from_json(json.loads(blob)), tokens={params.get_param(TOKEN_PARAM) or ""}
            )
        return _CACHE[key]

    @api.model
    def _hocba_store(self, citizens, token):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(PARAM, json.dumps([citizen_to_json(c) for c in citizens], ensure_ascii=False))
        params.set_param(TOKEN_PARAM, token)

    @api.model
    def _hocba_service_url(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "http://localhost:8069").rstrip("/")
        return base_url + ROUTE + API

    @api.model
    def _hocba_answer_file(self, pupils):
        """The demo database's answer for ``pupils``, as an xlsx answer file."""
        registry = self._hocba_registry()
        if registry is None:
            raise ValueError("no demo population database here")
        Wizard = self.env["hocba.reconciliation.wizard"]
        results = []
        for pupil in pupils.sudo():
            sent = Wizard._hocba_request_row(pupil)
            found = registry.lookup(sent["personal_id"], sent["name"], sent["birth_date"])
            results.append((sent, found))
        return pr.write_answer(results, source="CSDL quốc gia về dân cư (DEMO)")

    @api.model
    def _load_demo_population(self):
        if self._hocba_registry() is not None:
            return
        company = self.env.ref("base.main_company")
        pupils = self.env["school.student"].search([("company_id", "=", company.id)])
        Wizard = self.env["hocba.reconciliation.wizard"]
        rows = [Wizard._hocba_request_row(pupil) for pupil in pupils]
        citizens = population_demo.citizens_for(rows, first_class=FIRST_ROUND_CLASSES[0], province_codes=PROVINCE_CODE)
        token = "DEMO-" + secrets.token_urlsafe(18)
        self._hocba_store(citizens, token)
        company.sudo().write({"hocba_population_url": self._hocba_service_url(), "hocba_population_token": token})
        first = pupils.filtered(lambda p: p.class_id.name in FIRST_ROUND_CLASSES)
        it_officer = self.env.ref(f"{MODULE}.user_demo_cntt")
        wizard = (
            Wizard.with_user(it_officer)
            .with_company(company)
            .create(
                {
                    "mode": "import",
                    "filename": "KetQuaDoiSoat_1A_4A.xlsx",
                    "file": base64.b64encode(self._hocba_answer_file(first)),
                }
            )
        )
        wizard.action_import()
        stats = self.env["school.student"]._hocba_reconciliation_stats(company)
        _logger.info(
            "Demo population database: %d citizens; first round on %s: %d matched, "
            "%d mismatched, %d not found of %d pupils",
            len(citizens),
            "/".join(FIRST_ROUND_CLASSES),
            stats["matched"],
            stats["mismatched"],
            stats["not_found"],
            stats["total"],
        )
