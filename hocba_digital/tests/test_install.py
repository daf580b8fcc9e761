from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    """The addon installs on a fresh database with or without demo data.

    ``make test`` runs the suite on both kinds of database; here we check what
    each must contain, without skipping either case.
    """

    def test_catalogue_loaded(self):
        subjects = self.env["school.subject"].search([])
        self.assertEqual(len(subjects), 14)
        self.assertEqual(len(self.env["school.subject.grade"].search([])), 58)

    def test_groups_form_a_chain(self):
        principal = self.env.ref("hocba_digital.group_hocba_principal")
        implied = principal.trans_implied_ids
        for xmlid in ("vice_principal", "head_of_group", "homeroom_teacher", "subject_teacher",
                      "user"):
            self.assertIn(self.env.ref("hocba_digital.group_hocba_" + xmlid), implied)
        for xmlid in ("it_officer", "clerk", "accountant"):
            self.assertNotIn(self.env.ref("hocba_digital.group_hocba_" + xmlid), implied)

    def test_demo_school_matches_the_database_kind(self):
        demo_loaded = bool(self.env["ir.module.module"].search(
            [("name", "=", "hocba_digital")]).demo)
        students = self.env["school.student"].search_count([])
        users = self.env["res.users"].search_count([("login", "in", (
            "hieutruong", "phohieutruong", "totruong", "gvcn", "gvbm", "cntt", "vanthu",
            "ketoan", "phuhuynh"))])
        if demo_loaded:
            self.assertGreaterEqual(students, 300)
            self.assertEqual(users, 9)
            classes = self.env["school.class"].search([])
            self.assertTrue(all(30 <= c.student_count <= 35 for c in classes))
            self.assertEqual(set(classes.mapped("grade")), {"1", "2", "3", "4", "5"})
        else:
            self.assertEqual(students, 0)
            self.assertEqual(users, 0)
