from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from odoo.addons.hocba_digital.lib.sandbox.population_sandbox import API, MAX_BODY

from ..models.hocba_demo_population import ROUTE


class HocbaDemoPopulationController(http.Controller):
    """The demo database's population database service (the contract of
    docs/reconciliation.md, checked by its bearer token).  A database without
    the demo population database answers 404."""

    @http.route(
        f"{ROUTE}{API}/<string:endpoint>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
    )
    def service(self, endpoint):
        registry = request.env["hocba.demo.population"].sudo()._hocba_registry()
        if registry is None:
            raise NotFound()
        httprequest = request.httprequest
        body = httprequest.get_data(cache=False)
        if len(body) > MAX_BODY:
            raise NotFound()
        status, payload = registry.handle(httprequest.method, endpoint, httprequest.headers, body)
        payload = dict(payload)
        headers = [("Idempotent-Replayed", "true")] if payload.pop("replayed", False) else []
        return request.make_json_response(payload, headers=headers, status=status)
