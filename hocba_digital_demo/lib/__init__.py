"""Pure layer of hocba_digital_demo: no Odoo import here.

The plan of the demo school (``demo_school``), the citizens its population
database holds (``population_demo``) and how its DEMO PKI is stored
(``demo_pki_store``), on top of hocba_digital's own ``lib``.
"""
