"""A value that never shows itself (no Odoo import here)."""


class Secret:
    """Holds a PIN, password, token...: ``repr`` / ``str`` never show it, so
    object dumps, debuggers and error reports do not leak it."""

    __slots__ = ("_value",)

    def __init__(self, value):
        self._value = value

    def reveal(self):
        return self._value

    def __bool__(self):
        return self._value is not None

    def __repr__(self):
        return "<secret hidden>"

    __str__ = __repr__
