from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from odoo.addons.hocba_digital.lib.sandbox import pki_responders

from ..models.hocba_demo_pki import ROUTE

MAX_REQUEST = 64 * 1024


class HocbaDemoPkiController(http.Controller):
    """OCSP, time-stamping and CRL/certificate downloads of the demo database's
    DEMO certificate authority.  A database without a demo PKI answers 404;
    production points its certificates and settings at the real CA and TSA."""

    def _pki(self):
        pki = request.env["hocba.demo.pki"].sudo()._hocba_load()
        if pki is None:
            raise NotFound()
        return pki

    def _body(self):
        data = request.httprequest.get_data(cache=False)
        if len(data) > MAX_REQUEST:
            raise NotFound()
        return data

    @http.route(f"{ROUTE}/ocsp", type="http", auth="public", methods=["POST"], csrf=False, save_session=False)
    def ocsp(self):
        answer = pki_responders.answer_ocsp(self._body(), pki_responders.authorities_of(self._pki()))
        return request.make_response(answer, [("Content-Type", "application/ocsp-response")])

    @http.route(f"{ROUTE}/tsa", type="http", auth="public", methods=["POST"], csrf=False, save_session=False)
    def tsa(self):
        pki = self._pki()
        answer = pki_responders.answer_tsa(self._body(), pki.tsa.cert, pki.tsa.key, chain=[pki.intermediate.cert])
        return request.make_response(answer, [("Content-Type", "application/timestamp-reply")])

    @http.route(f"{ROUTE}/crl/<string:name>.crl", type="http", auth="public", methods=["GET"], save_session=False)
    def crl(self, name):
        if name not in ("root", "intermediate"):
            raise NotFound()
        return request.make_response(
            pki_responders.current_crl(self._pki(), name), [("Content-Type", "application/pkix-crl")]
        )

    @http.route(f"{ROUTE}/certs/<string:name>.cer", type="http", auth="public", methods=["GET"], save_session=False)
    def certificate(self, name):
        try:
            der = pki_responders.certificate_der(self._pki(), name)
        except KeyError:
            raise NotFound()
        return request.make_response(der, [("Content-Type", "application/pkix-cert")])
