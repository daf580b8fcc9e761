"""A DemoPKI to and from plain data, so a demo database keeps its CA, OCSP
responder and TSA between restarts (no Odoo import here)."""

import json

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from odoo.addons.hocba_digital.lib.sandbox.pki_factory import DemoPKI, Issued

_SERVICES = ("root", "intermediate", "seal", "ocsp", "tsa")


def _issued_to(issued):
    return {"name": issued.name, "cert": issued.cert_pem.decode(), "key": issued.key_pem.decode()}


def _issued_from(data):
    return Issued(
        data["name"],
        serialization.load_pem_private_key(data["key"].encode(), None),
        x509.load_pem_x509_certificate(data["cert"].encode()),
    )


def dump(pki):
    """JSON bytes of every certificate, key and CRL of ``pki``."""
    return json.dumps(
        {
            "base_url": pki.base_url,
            "prefix": pki.prefix,
            "organisation": pki.organisation,
            "key_type": pki.key_type,
            "leaf_days": pki.leaf_days,
            "services": {name: _issued_to(getattr(pki, name)) for name in _SERVICES},
            "people": {key: _issued_to(issued) for key, issued in pki.people.items()},
            "crl": pki.crl_der.hex(),
            "root_crl": pki.root_crl_der.hex(),
        }
    ).encode()


def load(blob):
    data = json.loads(blob)
    services = {name: _issued_from(data["services"][name]) for name in _SERVICES}
    return DemoPKI(
        base_url=data["base_url"],
        prefix=data["prefix"],
        organisation=data["organisation"],
        key_type=data["key_type"],
        leaf_days=data["leaf_days"],
        people={key: _issued_from(item) for key, item in data["people"].items()},
        crl_der=bytes.fromhex(data["crl"]),
        root_crl_der=bytes.fromhex(data["root_crl"]),
        **services,
    )
