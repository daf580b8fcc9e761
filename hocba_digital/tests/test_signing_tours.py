from odoo.tests import HttpCase, tagged

from ..lib.signing import pades_verify, xades_verify
from .signing_common import SigningCase


@tagged("post_install", "-at_install")
class TestSigningTours(HttpCase, SigningCase):
    """Each tier signs 3A through the browser: the "Ký số" action on the
    transcript list, one PIN typed in the dialog."""

    def test_every_tier_signs_through_the_ui(self):
        url = "/odoo/action-hocba_digital.hocba_transcript_action"
        self.start_tour(url, "hocba_sign_as_myself", login="t_subject_teacher")
        self.start_tour(url, "hocba_sign_as_myself", login="t_homeroom_teacher")
        self.assertEqual(self.transcript_a.signing_state, "homeroom")
        self.approve()
        self.start_tour(url, "hocba_sign_as_myself", login="t_principal")
        self.start_tour(url, "hocba_sign_as_the_seal", login="t_clerk")
        version = self.transcript_a.current_version_id
        self.assertEqual(version.state, "issued")
        xml, pdf = self.files(version)
        self.assertTrue(all(r.ok for r in xades_verify.verify(xml, self.roots())))
        self.assertTrue(pades_verify.verify(pdf, self.roots())["verdict"])
        # the PIN went through the RPC only: no record anywhere holds it
        self.env.cr.execute("SELECT count(*) FROM ir_attachment WHERE index_content LIKE %s", ["%468213%"])
        self.assertEqual(self.env.cr.fetchone()[0], 0)
