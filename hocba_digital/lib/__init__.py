"""Pure domain layer of hocba_digital: no Odoo import here.

Everything in this package works on plain Python values so that the rules of
Circular 27/2020 and of the personal identification number can be tested (and
reused by tools outside Odoo) without a database.
"""
