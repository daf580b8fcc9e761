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
        for xmlid in ("vice_principal", "head_of_group", "homeroom_teacher", "subject_teacher", "user"):
            self.assertIn(self.env.ref("hocba_digital.group_hocba_" + xmlid), implied)
        for xmlid in ("it_officer", "clerk", "accountant"):
            self.assertNotIn(self.env.ref("hocba_digital.group_hocba_" + xmlid), implied)

    def test_no_demo_school_of_its_own(self):
        """The demo school is hocba_digital_demo's: hocba_digital has no demo
        record, whether or not the database has demo data."""
        own_demo = self.env["ir.model.data"].search(
            [
                ("module", "=", "hocba_digital"),
                "|",
                "|",
                ("name", "=like", "demo\\_%"),
                ("name", "=like", "user\\_demo\\_%"),
                ("name", "=like", "employee\\_demo\\_%"),
            ]
        )
        self.assertFalse(own_demo.mapped("complete_name"))
        if not self.env["ir.module.module"].search([("name", "=", "hocba_digital_demo"), ("state", "=", "installed")]):
            self.assertEqual(self.env["school.student"].search_count([]), 0)
            self.assertFalse(
                self.env["res.users"].search(
                    [
                        (
                            "login",
                            "in",
                            (
                                "hieutruong",
                                "phohieutruong",
                                "totruong",
                                "gvcn",
                                "gvbm",
                                "cntt",
                                "vanthu",
                                "ketoan",
                                "phuhuynh",
                            ),
                        )
                    ]
                )
            )
