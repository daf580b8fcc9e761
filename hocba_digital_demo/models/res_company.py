from urllib.parse import urlsplit, urlunsplit

from odoo import api, models
from odoo.tools import config

# the demo transcript store and population database (hocba.demo.exchange/population)
DEMO_ROUTES = ("/hocba/demo-exchange/", "/hocba/demo-population/")


class ResCompany(models.Model):
    _inherit = "res.company"

    @api.model
    def _hocba_reachable_url(self, url):
        """The demo services are routes of this very server: the address the
        demo database was installed under (its ``web.base.url``) need not be
        the port it is served on now."""
        parts = urlsplit(url or "")
        if parts.hostname not in ("localhost", "127.0.0.1") or not parts.path.startswith(DEMO_ROUTES):
            return super()._hocba_reachable_url(url)
        interface = config["http_interface"] or "127.0.0.1"
        if interface in ("0.0.0.0", "::"):
            interface = "127.0.0.1"
        return urlunsplit(("http", "%s:%s" % (interface, config["http_port"]), parts.path, parts.query, ""))
