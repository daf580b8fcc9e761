import json
import time

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from odoo.addons.hocba_digital.lib.exchange import package as exchange_package
from odoo.addons.hocba_digital.lib.sandbox import faults

from ..models.hocba_demo_exchange import ROUTE


class HocbaDemoExchangeController(http.Controller):
    """The demo database's own transcript store (docs/exchange.md), with the
    contract's logic of ``lib.exchange_receiver``.  A database without a demo
    store answers 404; production points the company at the real store."""

    def _receiver(self):
        receiver = request.env["hocba.demo.exchange"].sudo()._hocba_receiver()
        if receiver is None:
            raise NotFound()
        return receiver

    @staticmethod
    def _answer(status, payload):
        return request.make_response(json.dumps(payload), status=status, headers=[("Content-Type", "application/json")])

    @http.route(f"{ROUTE}/packages", type="http", auth="public", methods=["POST"], csrf=False, save_session=False)
    def submit(self):
        receiver = self._receiver()
        body = request.httprequest.get_data(cache=False)
        if len(body) > exchange_package.MAX_PACKAGE:
            return self._answer(413, {"error": "too_large", "message": "Package too large"})
        fault = request.env["hocba.demo.exchange"].sudo()._hocba_fault_plan().pick(headers=request.httprequest.headers)
        if fault == faults.ERROR_500:
            return self._answer(500, {"error": "server_error", "message": "Injected failure"})
        if fault == faults.SLOW:
            time.sleep(1)
        status, payload = receiver.submit(request.httprequest.headers, body, request.httprequest.content_type)
        if fault == faults.LOST_ANSWER:  # stored, the answer lost on the way back
            return self._answer(502, {"error": "bad_gateway", "message": "Injected lost answer"})
        if fault == faults.DUPLICATE_ACK and status == 201:
            status, payload = 200, dict(payload, duplicate=True)
        return self._answer(status, payload)

    @http.route(f"{ROUTE}/packages/<string:key>", type="http", auth="public", methods=["GET"], save_session=False)
    def status(self, key):
        return self._answer(*self._receiver().status(request.httprequest.headers, key))
