from odoo.tests import HttpCase, tagged

from .signing_common import SigningCase


@tagged("post_install", "-at_install")
class TestProgressTour(HttpCase, SigningCase):
    """The principal reads the roll-out dashboard in the browser."""

    def test_principal_reads_the_dashboard(self):
        self.start_tour(
            "/odoo/action-hocba_digital.hocba_progress_dashboard_action",
            "hocba_progress_dashboard",
            login="t_principal",
        )
