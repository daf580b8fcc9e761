import logging
import os
import secrets

from odoo import api, models
from odoo.tools import config

from odoo.addons.hocba_digital.lib.sandbox import exchange_receiver, faults

_logger = logging.getLogger(__name__)

ROUTE = "/hocba/demo-exchange/v1"
TOKEN_PARAM = "hocba_digital.demo_exchange_token"
DIR_PARAM = "hocba_digital.demo_exchange_dir"
FAULT_RATE_PARAM = "hocba_digital.demo_exchange_fault_rate"
# what the demo route can do within an Odoo request (no dropped connections)
DEMO_FAULTS = (faults.ERROR_500, faults.SLOW, faults.DUPLICATE_ACK, faults.LOST_ANSWER)


class HocbaDemoExchange(models.AbstractModel):
    """A DEMO transcript store served by the demo database itself, so that the
    sync works on a fresh install with no outside service: the main company's
    store URL is ``web.base.url`` + ``ROUTE`` and its token a random one the
    route checks.  What it receives is kept in the filestore (shared by Odoo's
    worker processes).  ``hocba_digital.demo_exchange_fault_rate`` (e.g. 0.05)
    makes it fail that share of requests, to watch the retries."""

    _name = "hocba.demo.exchange"
    _description = "Demo transcript store"

    @api.model
    def _hocba_receiver(self):
        """The demo store's receiver, or None when this database has none."""
        params = self.env["ir.config_parameter"].sudo()
        token = params.get_param(TOKEN_PARAM)
        if not token:
            return None
        path = params.get_param(DIR_PARAM) or os.path.join(config.filestore(self.env.cr.dbname), "hocba_demo_exchange")
        return exchange_receiver.Receiver(exchange_receiver.DirectoryStore(path), token)

    @api.model
    def _hocba_fault_plan(self):
        rate = float(self.env["ir.config_parameter"].sudo().get_param(FAULT_RATE_PARAM) or 0)
        return faults.FaultPlan(rate, DEMO_FAULTS, allowed=faults.EXCHANGE)

    @api.model
    def _load_demo_exchange(self):
        params = self.env["ir.config_parameter"].sudo()
        token = params.get_param(TOKEN_PARAM) or secrets.token_urlsafe(24)
        params.set_param(TOKEN_PARAM, token)
        base_url = params.get_param("web.base.url", "http://localhost:8069").rstrip("/")
        company_sudo = self.env.ref("base.main_company").sudo()
        if ROUTE in (company_sudo.hocba_exchange_url or ROUTE):  # never over a real store
            company_sudo.write({"hocba_exchange_url": base_url + ROUTE, "hocba_exchange_token": token})
        queued = self.env["hocba.exchange"]._hocba_queue_missing()
        _logger.info("Demo transcript store at %s%s; %d package(s) waiting", base_url, ROUTE, queued)
