import datetime

from odoo.tests import TransactionCase, new_test_user

from ..lib.rules import personal_id as pid

GROUPS = {
    "subject_teacher": "hocba_digital.group_hocba_subject_teacher",
    "homeroom_teacher": "hocba_digital.group_hocba_homeroom_teacher",
    "head_of_group": "hocba_digital.group_hocba_head_of_group",
    "vice_principal": "hocba_digital.group_hocba_vice_principal",
    "principal": "hocba_digital.group_hocba_principal",
    "it_officer": "hocba_digital.group_hocba_it_officer",
    "clerk": "hocba_digital.group_hocba_clerk",
    "accountant": "hocba_digital.group_hocba_accountant",
}


class HocbaCase(TransactionCase):
    """A small school built without demo data: two grade-3 classes.

    * ``home`` is homeroom teacher of 3A, ``home_b`` of 3B;
    * ``subj`` teaches English (NN1) in 3A only;
    * ``head`` leads the group whose member is ``home`` (so 3A is in the
      group, 3B is not);
    * ``parent`` is the guardian of ``student_a`` only.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # messages are asserted in English; a demo database speaks Vietnamese
        cls.env = cls.env(context=dict(cls.env.context, lang="en_US"))
        env = cls.env
        cls.company = env.company
        cls.users = {}
        for role, group in GROUPS.items():
            cls.users[role] = new_test_user(
                env,
                login="t_" + role,
                groups="base.group_user," + group,
                name="Test " + role.replace("_", " "),
                lang="en_US",
            )
        cls.users["home_b"] = new_test_user(
            env,
            login="t_home_b",
            groups="base.group_user," + GROUPS["homeroom_teacher"],
            name="Test homeroom B",
            lang="en_US",
        )
        cls.users["parent"] = new_test_user(
            env, login="t_parent", groups="base.group_portal", name="Test parent", lang="en_US"
        )
        # the tests read messages in English; a demo database speaks Vietnamese
        env.ref("base.public_user").sudo().lang = "en_US"
        cls.employees = {
            role: env["hr.employee"].create({"name": user.name, "user_id": user.id})
            for role, user in cls.users.items()
            if role != "parent"
        }
        cls.year = env["school.year"].create(
            {
                # far from today, so it never meets the demo school's current year
                "date_start": datetime.date(2035, 9, 5),
                "term1_end_date": datetime.date(2036, 1, 17),
                "date_end": datetime.date(2036, 5, 31),
                "state": "open",
            }
        )
        cls.class_a = env["school.class"].create(
            {
                "grade": "3",
                "section": "A",
                "year_id": cls.year.id,
                "homeroom_employee_id": cls.employees["homeroom_teacher"].id,
            }
        )
        cls.class_b = env["school.class"].create(
            {
                "grade": "3",
                "section": "B",
                "year_id": cls.year.id,
                "homeroom_employee_id": cls.employees["home_b"].id,
            }
        )
        cls.subject_english = env.ref("hocba_digital.school_subject_nn1")
        cls.subject_vietnamese = env.ref("hocba_digital.school_subject_tv")
        cls.assignment_a = env["school.teaching.assignment"].create(
            {
                "employee_id": cls.employees["subject_teacher"].id,
                "subject_id": cls.subject_english.id,
                "class_id": cls.class_a.id,
            }
        )
        cls.assignment_b = env["school.teaching.assignment"].create(
            {
                "employee_id": cls.employees["home_b"].id,
                "subject_id": cls.subject_vietnamese.id,
                "class_id": cls.class_b.id,
            }
        )
        cls.subject_group = env["school.subject.group"].create(
            {
                "name": "Tổ 3",
                "head_employee_id": cls.employees["head_of_group"].id,
                "member_ids": [(6, 0, [cls.employees["homeroom_teacher"].id])],
            }
        )
        cls.guardian = cls.users["parent"].partner_id
        cls.guardian.hocba_guardian_relation = "mother"
        cls.student_a = env["school.student"].create(
            {
                "name": "Nguyễn Thị Mai Anh",
                "sex": "female",
                "birth_date": datetime.date(2017, 3, 14),
                "birth_place": "Hải Phòng",
                "personal_id": pid.make("031", "female", 2017, 4521),
                "class_id": cls.class_a.id,
                "guardian_ids": [(6, 0, cls.guardian.ids)],
            }
        )
        cls.student_b = env["school.student"].create(
            {
                "name": "Trần Minh Khôi",
                "sex": "male",
                "birth_date": datetime.date(2017, 8, 2),
                "birth_place": "Hải Phòng",
                "personal_id": pid.make("031", "male", 2017, 9876),
                "class_id": cls.class_b.id,
            }
        )

    @classmethod
    def prepare_transcripts(cls):
        """Transcripts, result rows and sheets for both classes (3A and 3B)."""
        (cls.class_a | cls.class_b).action_prepare_transcripts()
        cls.transcript_a = cls.student_a.transcript_ids
        cls.transcript_b = cls.student_b.transcript_ids
        Sheet = cls.env["hocba.entry.sheet"]
        cls.sheet_english_a = Sheet.search(
            [
                ("class_id", "=", cls.class_a.id),
                ("subject_id", "=", cls.subject_english.id),
                ("period", "=", "end_year"),
            ]
        )
        cls.sheet_home_a = Sheet.search(
            [("class_id", "=", cls.class_a.id), ("kind", "=", "homeroom"), ("period", "=", "end_year")]
        )
        cls.result_english_a = cls.transcript_a.subject_result_ids.filtered(
            lambda r: r.subject_id == cls.subject_english and r.period == "end_year"
        )
        cls.result_b = cls.transcript_b.subject_result_ids.filtered(
            lambda r: r.subject_id == cls.subject_vietnamese and r.period == "end_year"
        )
        cls.traits_a = cls.transcript_a.trait_assessment_ids.filtered(lambda a: a.period == "end_year")
