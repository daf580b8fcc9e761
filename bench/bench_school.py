"""The bench's school: N pupils in classes of ~34 (grades 1-5), built through the
addon's models as its users would (the vice principal prepares, each teacher fills and
submits their sheets, the head of group locks, the vice principal approves, the IT
officer registers a PIN-sealed PKCS#12 key for every signer and the seal)."""

import base64
import collections
import datetime

PIN, P12_PASSWORD = "468213", "bench-p12"


def build_school(env, args, rng):
    from odoo import Command

    from odoo.addons.hocba_digital.lib.rules import personal_id as pid
    from odoo.addons.hocba_digital.lib.rules import school_calendar
    from odoo.addons.hocba_digital_demo.lib import demo_school as ds

    env = env(
        context=dict(
            env.context,
            tracking_disable=True,
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            mail_notrack=True,
            no_reset_password=True,
        )
    )
    env.company.write(
        {
            "name": "Trường Tiểu học Trần Dương (bench)",
            "hocba_school_code": "31000001",
            "hocba_authority": "Sở GD&ĐT Hải Phòng",
            "hocba_revocation_check": "off",
        }
    )
    n_classes = max(1, round(args.pupils / args.class_size))
    per_grade = collections.Counter()
    classes_plan = []
    for index in range(n_classes):
        grade = str(index % 5 + 1)
        per_grade[grade] += 1
        size = args.pupils // n_classes + (index < args.pupils % n_classes)
        classes_plan.append((grade, "ABCDEFGHIJ"[per_grade[grade] - 1], size))
    specialists = {p["key"]: p["name"] for p in ds.extra_staff() if p["role"] in ds.JOB_TITLES}
    specialists[ds.UPPER_GRADE_ENGLISH] = "Hoàng Văn Bách"
    people = [
        ("phohieutruong", "Nguyễn Thị Phó", "vice_principal"),
        ("totruong", "Trần Văn Tổ", "head_of_group"),
        ("hieutruong", "Đỗ Thị Hạnh", "principal"),
        ("cntt", "Lê Văn Tín", "it_officer"),
        ("vanthu", "Phạm Thị Thư", "clerk"),
    ]
    people += [(key, name, "subject_teacher") for key, name in specialists.items()]
    people += [
        (
            "gvcn.%s%s" % (g, s),
            "%s %s %s" % (ds._pick_family_name(rng), rng.choice(ds.MOTHER_MIDDLE), rng.choice(ds.MOTHER_GIVEN)),
            "homeroom_teacher",
        )
        for g, s, _n in classes_plan
    ]
    users = env["res.users"].create(
        [
            {
                "name": name,
                "login": key,
                "email": "%s@bench.invalid" % key,
                "tz": "Asia/Ho_Chi_Minh",
                "groups_id": [
                    Command.set([env.ref("base.group_user").id, env.ref("hocba_digital.group_hocba_%s" % tier).id])
                ],
            }
            for key, name, tier in people
        ]
    )
    employees = env["hr.employee"].create([{"name": u.name, "user_id": u.id} for u in users])
    staff = {key: emp for (key, _n, _t), emp in zip(people, employees)}
    start, term1_end, end = school_calendar.bounds_for(datetime.date.today())
    year = env["school.year"].create(
        {"date_start": start, "term1_end_date": term1_end, "date_end": end, "state": "open"}
    )
    classes = env["school.class"].create(
        [
            {"grade": g, "section": s, "year_id": year.id, "homeroom_employee_id": staff["gvcn.%s%s" % (g, s)].id}
            for g, s, _n in classes_plan
        ]
    )
    env["school.subject.group"].create(
        {
            "name": "Tổ bench",
            "head_employee_id": staff["totruong"].id,
            "member_ids": [Command.set([staff["gvcn.%s" % c.name].id for c in classes])],
        }
    )
    lines = env["school.subject.grade"].search([("subject_id.active", "=", True)])
    env["school.teaching.assignment"].create(
        [
            {
                "class_id": c.id,
                "subject_id": line.subject_id.id,
                "employee_id": staff[ds.teacher_for(line.subject_id.code, c.grade, "gvcn.%s" % c.name)].id,
            }
            for c in classes
            for line in lines
            if line.grade == c.grade and not (line.is_elective and line.subject_id.code not in ds.ASSIGNED_ELECTIVES)
        ]
    )
    pupils, partners, phones, taken, ids = [], [], set(), set(), set()
    for school_class, (_g, _s, size) in zip(classes, classes_plan):
        birth_year = start.year - 5 - int(school_class.grade)
        for _i in range(size):
            family = ds._family(rng, phones)
            sex = rng.choice([pid.MALE, pid.FEMALE])
            name = ds._child_name(rng, family["surname"], sex, taken)
            taken.add(name)
            place = rng.choice(family["origins"] or [ds.HOME_PROVINCE])
            number = ds._unique(
                ids, lambda: pid.make(ds.PROVINCE_CODE[place], sex, birth_year, rng.randrange(1, 10**6))
            )
            partners.append(family["guardians"])
            pupils.append(
                {
                    "name": name,
                    "sex": sex,
                    "birth_place": place,
                    "personal_id": number,
                    "birth_date": datetime.date(birth_year, 1, 1) + datetime.timedelta(rng.randrange(365)),
                    "hometown": family["hometown"],
                    "address": family["address"],
                    "ethnicity": family["ethnicity"],
                    "moet_code": "31%08d" % (len(pupils) + 1),
                    "class_id": school_class.id,
                    "school_code": "TD%05d" % (len(pupils) + 1),
                    "status": "studying",
                }
            )
    guardians = env["res.partner"].create(
        [
            {"name": g["name"], "phone": g["phone"], "hocba_guardian_relation": g["relation"]}
            for family in partners
            for g in family
        ]
    )
    it = iter(guardians)
    for vals, family in zip(pupils, partners):
        vals["guardian_ids"] = [Command.set([next(it).id for _g in family])]
    env["school.student"].create(pupils)
    users_by_key = {key: emp.user_id for key, emp in staff.items()}
    classes.with_user(users_by_key["phohieutruong"]).action_prepare_transcripts()
    env.cr.commit()
    return env, classes, users_by_key


def fill_and_submit(env, classes, users, rng):
    """Every sheet filled by its teacher (one write per distinct mark) and submitted."""
    from odoo.addons.hocba_digital.lib.rules import catalogue
    from odoo.addons.hocba_digital_demo.lib import demo_school as ds

    for school_class in classes:
        for sheet in school_class.sheet_ids:
            teacher = sheet.user_id
            groups = collections.defaultdict(list)
            if sheet.kind == "subject":
                for result in sheet.subject_result_ids:
                    groups[ds.marks(rng, result.score_required)].append(result)
                for (level, score, comment), rows in groups.items():
                    env["hocba.subject.result"].concat(*rows).with_user(teacher).write(
                        {"level": level, "score": score and str(score), "comment": comment}
                    )
            else:
                codes = catalogue.traits_of_grade(school_class.grade)
                for row in sheet.trait_assessment_ids:
                    groups[rng.randrange(3)].append(row)
                for pattern, rows in groups.items():
                    env["hocba.trait.assessment"].concat(*rows).with_user(teacher).write(
                        {
                            **{"level_%s" % c: "Đ" if i % 3 == pattern == 2 else "T" for i, c in enumerate(codes)},
                            **{"comment_%s" % c: "Tốt" for c in codes},
                        }
                    )
            sheet.with_user(teacher).action_submit()
        school_class.with_user(users["totruong"]).action_lock()
        school_class.with_user(users["phohieutruong"]).action_approve()
        env.cr.commit()


def register_certificates(env, users):
    from cryptography.hazmat.primitives import serialization

    from odoo.addons.hocba_digital.lib.sandbox import pki_factory as pf

    signers = {key: user for key, user in users.items() if key not in ("phohieutruong", "totruong", "cntt", "vanthu")}
    pki = pf.build_pki(
        [
            pf.Person(key, user.name, "CCCD:0311900%05d" % i, "Giáo viên")
            for i, (key, user) in enumerate(signers.items())
        ],
        prefix="BENCH",
        base_url="http://127.0.0.1:9",
    )
    env.company.write({"hocba_trusted_roots_pem": pki.root_pem.decode()})
    for key, user, purpose in [(k, u, "personal") for k, u in signers.items()] + [("seal", users["vanthu"], "seal")]:
        issued = pki._lookup(key)
        cert = (
            env["hocba.certificate"]
            .with_user(users["cntt"])
            .create({"purpose": purpose, "user_id": user.id, "certificate_pem": issued.cert_pem.decode()})
        )
        p12 = serialization.pkcs12.serialize_key_and_certificates(
            b"k",
            issued.key,
            issued.cert,
            [pki.intermediate.cert],
            serialization.BestAvailableEncryption(P12_PASSWORD.encode()),
        )
        cert.with_user(users["cntt"]).hocba_store_pkcs12(base64.b64encode(p12), P12_PASSWORD, PIN)
    env.cr.commit()
    return pki
