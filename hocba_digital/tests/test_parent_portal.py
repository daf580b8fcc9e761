from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged

from ..lib.signing import pades_verify, xades_verify
from .common import HocbaCase
from .signing_common import SigningCase


@tagged("post_install", "-at_install")
class TestParentPortal(HttpCase, SigningCase):
    """A parent reads and downloads the issued transcripts of their own
    children on the portal (/my/hocba), and only those."""

    browser_size = "360x740"  # a phone

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.parent = cls.users["parent"]
        cls.guardian.email = "t_parent@example.com"
        cls.other_parent = new_test_user(
            cls.env,
            login="t_other_parent",
            groups="base.group_portal",
            name="Other parent",
            email="t_other_parent@example.com",
            lang="en_US",
        )
        cls.student_b.guardian_ids = [(6, 0, cls.other_parent.partner_id.ids)]

    def setUp(self):
        super().setUp()
        # the pages are read in English; a demo database shows Vietnamese
        self.opener.cookies.set("frontend_lang", "en_US")

    def get(self, url, **kw):
        return self.url_open(url, allow_redirects=False, **kw)

    def assertRefused(self, url):
        status = self.get(url).status_code
        self.assertIn(status, (403, 404), url)

    def test_anonymous_is_sent_to_login(self):
        for url in ("/my/hocba", "/my/hocba/1", "/my/hocba/1/pdf"):
            response = self.get(url)
            self.assertEqual(response.status_code, 303, url)
            self.assertIn("/web/login", response.headers["Location"], url)

    def test_version_being_signed_is_refused(self):
        self.sign(self.subj)
        version = self.transcript_a.current_version_id
        self.assertEqual(version.state, "signing")
        token = version._portal_ensure_token()
        self.authenticate("t_parent", "t_parent")
        for suffix in ("", "/pdf", "/xml", "?access_token=%s" % token):
            self.assertRefused("/my/hocba/%s%s" % (version.id, suffix))
        self.assertFalse(self.env["hocba.version"].with_user(self.parent).search([]))
        self.assertFalse(self.env["hocba.signature"].with_user(self.parent).search([]))
        self.assertEqual(self.get("/my/hocba").status_code, 200)

    def test_parent_reads_and_downloads_issued_transcript(self):
        version = self.sign_all()
        self.assertEqual(version.state, "issued")
        # issuing told the guardian, with a link to the portal
        messages = version.message_ids.filtered(lambda m: self.guardian in m.partner_ids)
        self.assertTrue(messages)
        self.assertIn("/my/hocba/%s" % version.id, messages[0].body)

        self.authenticate("t_parent", "t_parent")
        self.assertEqual(self.env["hocba.version"].with_user(self.parent).search([]), version)
        self.assertTrue(version.with_user(self.parent).signature_ids)
        home = self.get("/my")
        self.assertEqual(home.status_code, 200)
        self.assertIn("hocba_version_count", home.text)
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["hocba_version_count"]})
        self.assertEqual(counters["hocba_version_count"], 1)

        listing = self.get("/my/hocba")
        self.assertEqual(listing.status_code, 200)
        self.assertIn(self.student_a.name, listing.text)
        self.assertIn("/my/hocba/%s" % version.id, listing.text)
        self.assertNotIn(self.student_b.name, listing.text)

        page = self.get("/my/hocba/%s" % version.id)
        self.assertEqual(page.status_code, 200)
        self.assertIn('data-verdict="valid"', page.text)
        self.assertIn(version.signature_ids.filtered(lambda s: s.tier == "principal").signer_name, page.text)
        self.assertIn("/my/hocba/%s/pdf" % version.id, page.text)

        Log = self.env["hocba.access.log"].sudo()
        before = Log.search_count([("version_id", "=", version.id)])
        pdf = self.get("/my/hocba/%s/pdf" % version.id)
        self.assertEqual(pdf.status_code, 200)
        self.assertEqual(pdf.headers["Content-Type"], "application/pdf")
        self.assertTrue(pades_verify.verify(pdf.content, self.roots())["verdict"])
        xml = self.get("/my/hocba/%s/xml" % version.id)
        self.assertEqual(xml.status_code, 200)
        reports = xades_verify.verify(xml.content, self.roots())
        self.assertTrue(reports and all(r.ok for r in reports))
        logs = Log.search([("version_id", "=", version.id)])
        self.assertEqual(len(logs) - before, 2)
        self.assertEqual(set(logs.mapped("kind")), {"download_pdf", "download_xml"})
        self.assertEqual(logs.user_id, self.parent)
        # each file taken is a copy in the clerk's register too
        copies = self.env["hocba.issue.log"].sudo().search([("version_ids", "in", version.ids)])
        self.assertEqual(sorted(copies.mapped("file_name")), sorted([version.pdf_filename, version.xml_filename]))
        self.assertEqual(
            {(c.kind, c.channel, c.requester_partner_id, c.requester_relation) for c in copies},
            {("copy", "portal", self.guardian, "parent")},
        )
        self.assertFalse(copies.issued_by_id)
        self.assertEqual(set(copies.mapped("file_sha256")), set(logs.mapped("file_sha256")))

    def test_other_family_and_forged_token_are_refused(self):
        version = self.sign_all()
        url = "/my/hocba/%s" % version.id
        share_url = version._get_share_url()
        self.assertIn("access_token=", share_url)

        # the link sent by mail opens without signing in; a forged token does not
        self.assertEqual(self.get(share_url).status_code, 200)
        self.assertEqual(self.get(url + "/pdf?access_token=%s" % version.access_token).status_code, 200)
        self.assertEqual(self.get(url + "?access_token=not-the-token").status_code, 403)
        self.assertEqual(self.get(url + "/xml?access_token=not-the-token").status_code, 403)

        self.authenticate("t_other_parent", "t_other_parent")
        self.assertFalse(self.env["hocba.version"].with_user(self.other_parent).search([]))
        for suffix in ("", "/pdf", "/xml", "?access_token=forged"):
            self.assertRefused(url + suffix)
        self.assertNotIn(self.student_a.name, self.get("/my/hocba").text)
        self.assertRefused("/my/hocba/999999")

    def test_back_office_downloads_are_logged(self):
        version = self.sign_all()
        Log = self.env["hocba.access.log"]
        before = Log.search_count([("version_id", "=", version.id)])
        action = version.with_user(self.users["clerk"]).action_download_pdf()
        self.authenticate("t_clerk", "t_clerk")
        response = self.get(action["url"])
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.content.startswith(b"%PDF"))
        log = Log.search([("version_id", "=", version.id)], limit=1)
        self.assertEqual(Log.search_count([("version_id", "=", version.id)]), before + 1)
        self.assertEqual((log.kind, log.user_id, log.note), ("download_pdf", self.users["clerk"], "Back office"))
        self.assertEqual(log.file_sha256, version.pdf_sha256)
        # a teacher of another class cannot read the version, nor take its file
        self.authenticate("t_home_b", "t_home_b")
        self.assertRefused(action["url"])
        self.assertRefused("/hocba/version/999999/xml")

    def test_guardian_without_email_does_not_stop_issuing(self):
        self.guardian.email = False
        version = self.sign_all()
        self.assertEqual(version.state, "issued")

    def test_parent_portal_tour_on_a_phone(self):
        self.sign_all()
        self.start_tour("/my", "hocba_parent_portal", login="t_parent")

    def test_superseded_version_points_to_the_current_one(self):
        first = self.sign_all()
        self.transcript_a.with_user(self.home).action_request_correction("Nhận xét bị nhầm.")
        self.transcript_a.with_user(self.principal).action_open_correction()
        second = self.transcript_a.current_version_id
        self.authenticate("t_parent", "t_parent")
        # while the correction is being signed, the parent still has the first one only
        self.assertRefused("/my/hocba/%s" % second.id)
        self.assertEqual(self.get("/my/hocba/%s" % first.id).status_code, 200)
        self.result_english_a.with_user(self.subj).comment = "Tiến bộ rõ rệt."
        for user, purpose in (
            (self.subj, "personal"),
            (self.home, "personal"),
            (self.principal, "personal"),
            (self.clerk, "seal"),
        ):
            self.assertEqual(self.sign(user, purpose=purpose)["signed"], 1)
        self.assertEqual((first.state, second.state), ("superseded", "issued"))

        page = self.get("/my/hocba/%s" % first.id)
        self.assertEqual(page.status_code, 200)
        self.assertIn("o_hocba_superseded", page.text)
        self.assertIn('href="/my/hocba/%s"' % second.id, page.text)
        self.assertNotIn("/my/hocba/%s/pdf" % first.id, page.text)
        self.assertRefused("/my/hocba/%s/pdf" % first.id)
        listing = self.get("/my/hocba").text
        self.assertIn("/my/hocba/%s" % second.id, listing)
        self.assertNotIn('href="/my/hocba/%s"' % first.id, listing)
        self.assertEqual(self.get("/my/hocba/%s/xml" % second.id).status_code, 200)


@tagged("post_install", "-at_install")
class TestGuardianInvitation(HocbaCase):
    """Guardians are invited to the portal from the pupil's form."""

    def test_homeroom_teacher_invites_a_new_guardian(self):
        father = self.env["res.partner"].create(
            {"name": "Nguyễn Văn Bình", "email": "binh.nv@example.com", "hocba_guardian_relation": "father"}
        )
        self.student_a.guardian_ids = [(4, father.id)]
        with self.assertRaises(AccessError):
            self.student_a.with_user(self.users["subject_teacher"]).action_invite_guardians()
        action = self.student_a.with_user(self.users["homeroom_teacher"]).action_invite_guardians()
        wizard = self.env["portal.wizard"].browse(action["res_id"])
        line = wizard.user_ids.filtered(lambda u: u.partner_id == father)
        line.with_user(self.users["homeroom_teacher"]).action_grant_access()
        portal_user = father.with_context(active_test=False).user_ids
        self.assertTrue(portal_user.has_group("base.group_portal"))
        self.assertFalse(portal_user.has_group("base.group_user"))
        self.assertEqual(father.lang, "vi_VN" if "vi_VN" in dict(self.env["res.lang"].get_installed()) else father.lang)
        self.assertEqual(portal_user.login, "binh.nv@example.com")
        with self.assertRaises(UserError):
            self.student_b.with_user(self.users["home_b"]).action_invite_guardians()
