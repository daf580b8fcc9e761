import logging
import random
import time
from collections import defaultdict

from odoo import api, fields, models
from odoo.fields import Command

from odoo.addons.hocba_digital.lib.rules import school_calendar

from ..lib import demo_school

_logger = logging.getLogger(__name__)

MODULE = "hocba_digital_demo"
TIER_LOGINS = ("hieutruong", "phohieutruong", "totruong", "gvcn", "gvbm", "cntt", "vanthu", "ketoan")
GROUP_XMLIDS = {"Tổ 1": "1", "Tổ 2": "2", "Tổ 3": "3", "Tổ 4-5": "4_5", "Tổ Chuyên biệt": "chuyen_biet"}


class HocbaDemoLoader(models.AbstractModel):
    """Generates the demo school from ``lib.demo_school`` (called by the demo XML).

    The plan is fixed by a seed; only the school year depends on today's date.
    Records get xml ids (``hocba_digital_demo.demo_*``, noupdate) so that tests and
    later upgrades can find them; a second call does nothing.
    """

    _name = "hocba.demo.loader"
    _description = "Demo school generator"

    @api.model
    def _load_demo_school(self):
        if self.env.ref(f"{MODULE}.demo_school_year_current", raise_if_not_found=False):
            return
        started = time.monotonic()
        loader = self.with_context(
            tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True, no_reset_password=True
        )
        company = self.env.ref("base.main_company")
        year = loader._demo_create_years(company)
        staff = loader._demo_create_staff(company)
        plan = demo_school.plan(year.date_start.year)
        classes = loader._demo_create_classes(company, year, plan["classes"], staff)
        groups = loader._demo_create_subject_groups(company, staff)
        assignments = loader._demo_create_assignments(plan["classes"], classes, staff)
        pupils = loader._demo_create_pupils(company, plan, classes)
        loader._demo_prepare_assessment(classes)
        loader._demo_speak_vietnamese(staff)
        _logger.info(
            "Demo school %s: %d classes, %d pupils, %d staff, %d subject groups, %d teaching assignments in %.1fs",
            year.name,
            len(classes),
            len(pupils),
            len(staff),
            len(groups),
            len(assignments),
            time.monotonic() - started,
        )

    def _demo_xmlids(self, records_by_name):
        self.env["ir.model.data"]._update_xmlids(
            [
                {"xml_id": f"{MODULE}.{name}", "record": record, "noupdate": True}
                for name, record in records_by_name.items()
            ]
        )

    def _demo_create_years(self, company):
        """Only the current year: a past year would need its classes and results too."""
        start, term1_end, end = school_calendar.bounds_for(fields.Date.context_today(self))
        year = self.env["school.year"].create(
            {
                "date_start": start,
                "term1_end_date": term1_end,
                "date_end": end,
                "state": "open",
                "company_id": company.id,
            }
        )
        self._demo_xmlids({"demo_school_year_current": year})
        return year

    def _demo_create_staff(self, company):
        """Return {staff key: hr.employee}: the tier users' and the extra staff's."""
        staff = {login: self.env.ref(f"{MODULE}.employee_demo_{login}") for login in TIER_LOGINS}
        extra = demo_school.extra_staff()
        base_group = self.env.ref("base.group_user")
        users = self.env["res.users"].create(
            [
                {
                    "name": person["name"],
                    "login": person["login"],
                    "email": person["email"],
                    "tz": "Asia/Ho_Chi_Minh",
                    "company_id": company.id,
                    "company_ids": [Command.set(company.ids)],
                    # No password: nobody can log in as them until an administrator sets one.
                    "groups_id": [
                        Command.set([base_group.id, self.env.ref(f"hocba_digital.group_hocba_{person['tier']}").id])
                    ],
                }
                for person in extra
            ]
        )
        employees = self.env["hr.employee"].create(
            [
                {
                    "name": person["name"],
                    "user_id": user.id,
                    "work_email": person["email"],
                    "job_title": person["job_title"],
                    "company_id": company.id,
                }
                for person, user in zip(extra, users)
            ]
        )
        xmlids = {}
        for person, user, employee in zip(extra, users, employees):
            suffix = person["key"].replace(".", "_")
            xmlids[f"user_demo_{suffix}"] = user
            xmlids[f"employee_demo_{suffix}"] = employee
            staff[person["key"]] = employee
        self._demo_xmlids(xmlids)
        return staff

    def _demo_create_classes(self, company, year, planned, staff):
        """Return {class name: school.class}."""
        classes = self.env["school.class"].create(
            [
                {
                    "grade": c["grade"],
                    "section": c["section"],
                    "year_id": year.id,
                    "homeroom_employee_id": staff[c["homeroom"]].id,
                    "company_id": company.id,
                }
                for c in planned
            ]
        )
        by_name = {c.name: c for c in classes}
        self._demo_xmlids({f"demo_class_{name.lower()}": c for name, c in by_name.items()})
        return by_name

    def _demo_create_subject_groups(self, company, staff):
        planned = demo_school.subject_groups()
        groups = self.env["school.subject.group"].create(
            [
                {
                    "name": g["name"],
                    "sequence": g["sequence"],
                    "company_id": company.id,
                    "head_employee_id": staff[g["head"]].id,
                    "member_ids": [Command.set([staff[key].id for key in g["members"]])],
                }
                for g in planned
            ]
        )
        self._demo_xmlids({f"demo_subject_group_{GROUP_XMLIDS[g.name]}": g for g in groups})
        return groups

    def _demo_create_assignments(self, planned, classes, staff):
        """Every class gets a teacher for each subject of its grade but the electives."""
        lines = self.env["school.subject.grade"].search([("subject_id.active", "=", True)])
        vals_list = []
        for c in planned:
            for line in lines.filtered(lambda rec, grade=c["grade"]: rec.grade == grade):
                code = line.subject_id.code
                if line.is_elective and code not in demo_school.ASSIGNED_ELECTIVES:
                    continue
                teacher = demo_school.teacher_for(code, c["grade"], c["homeroom"])
                vals_list.append(
                    {
                        "class_id": classes[c["name"]].id,
                        "subject_id": line.subject_id.id,
                        "employee_id": staff[teacher].id,
                    }
                )
        return self.env["school.teaching.assignment"].create(vals_list)

    def _demo_create_pupils(self, company, plan, classes):
        vn = self.env.ref("base.vn")
        guardians_vals, owner = [], []
        for index, family in enumerate(plan["families"]):
            for guardian in family["guardians"]:
                guardians_vals.append(
                    {
                        "name": guardian["name"],
                        "phone": guardian["phone"],
                        "hocba_guardian_relation": guardian["relation"],
                        "city": demo_school.HOME_PROVINCE,
                        "country_id": vn.id,
                    }
                )
                owner.append(index)
        partners = self.env["res.partner"].create(guardians_vals)
        family_partners = [self.env["res.partner"]] * len(plan["families"])
        for index, partner in zip(owner, partners):
            family_partners[index] |= partner
        # Family 0 is the portal parent's: she is a user already.
        portal_partner = self.env.ref(f"{MODULE}.user_demo_phuhuynh").partner_id
        family_partners[0] |= portal_partner
        pupils = self.env["school.student"].create(
            [
                {
                    "name": p["name"],
                    "sex": p["sex"],
                    "birth_date": p["birth_date"],
                    "birth_place": p["birth_place"],
                    "hometown": p["hometown"],
                    "address": p["address"],
                    "ethnicity": p["ethnicity"],
                    "nationality_id": vn.id,
                    "personal_id": p["personal_id"] or False,
                    "moet_code": p["moet_code"],
                    "school_code": p["school_code"],
                    "register_number": p["register_number"],
                    "enrolment_date": p["enrolment_date"],
                    "status": "studying",
                    "class_id": classes[p["class"]].id,
                    "company_id": company.id,
                    "guardian_ids": [Command.set(family_partners[p["family"]].ids)],
                }
                for p in plan["pupils"]
            ]
        )
        xmlids = {"demo_partner_phuhuynh_father": family_partners[0] - portal_partner}
        for p, pupil in zip(plan["pupils"], pupils):
            if p["family"] == 0:
                xmlids[f"demo_student_phuhuynh_{p['class'].lower()}"] = pupil
        no_id = [pupil for p, pupil in zip(plan["pupils"], pupils) if not p["personal_id"]]
        xmlids["demo_student_without_personal_id"] = no_id[0]
        self._demo_xmlids(xmlids)
        return pupils

    def _demo_prepare_assessment(self, classes):
        """Transcripts and sheets for every class. In 1A everything is filled and
        submitted except the end-of-year sheets of the two demo teachers (``gvcn``
        and ``gvbm``), so they, ``totruong`` and ``phohieutruong`` can finish the
        year through the user interface."""
        Transcript = self.env["hocba.transcript"]
        for school_class in classes.values():
            Transcript._hocba_prepare_class(school_class)
        rng = random.Random(2745)
        demo_teachers = self.env.ref(f"{MODULE}.user_demo_gvcn") | self.env.ref(f"{MODULE}.user_demo_gvbm")
        class_1a = classes["1A"]
        self._demo_fill(
            class_1a.sheet_ids.filtered(lambda s: s.period != "end_year" or s.user_id not in demo_teachers), rng
        )

    def _demo_fill(self, sheets, rng=None):
        """Fill and submit ``sheets`` with plausible marks.  Rows that get the
        same marks are written together: far fewer recomputations of the
        transcripts than one write per row."""
        rng = rng or random.Random(2746)
        results, traits = defaultdict(list), defaultdict(list)
        for sheet in sheets:
            for result in sheet.subject_result_ids:
                level, score, comment = demo_school.marks(rng, result.score_required)
                results[(level, score and str(score), comment)].append(result.id)
            for row in sheet.trait_assessment_ids:
                traits[
                    tuple((f"level_{code}", "T" if rng.random() < 0.8 else "Đ") for code, *_rest in row._hocba_marks())
                ].append(row.id)
        for (level, score, comment), ids in results.items():
            sheets.subject_result_ids.browse(ids).write({"level": level, "score": score, "comment": comment})
        for marks, ids in traits.items():
            sheets.trait_assessment_ids.browse(ids).write(dict(marks))
        sheets.write({"state": "submitted"})

    def _demo_speak_vietnamese(self, staff):
        """Demo users work in Vietnamese, as the school's staff would.

        Only the language is activated here; its translations are loaded by
        ``--load-language=vi_VN`` (``make run``) or from Settings.
        """
        self.env["res.lang"]._activate_lang("vi_VN")
        users = self.env["hr.employee"].browse([e.id for e in staff.values()]).user_id
        users |= self.env.ref(f"{MODULE}.user_demo_phuhuynh")
        users.write({"lang": "vi_VN"})
