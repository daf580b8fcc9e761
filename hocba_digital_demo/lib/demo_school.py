"""The demo school "Trường Tiểu học Trần Dương" (Hải Phòng) as plain data.

``plan(year_start)`` returns, from a fixed seed, the classes, the staff beyond
the tier users of ``demo/hocba_demo.xml``, the subject groups, the families and
the pupils as plain dicts; ``models/hocba_demo_loader.py`` only turns them into
records.  Staff are named by a key: the login of their user.
"""

import datetime
import random
import unicodedata

from odoo.addons.hocba_digital.lib.rules import personal_id as pid
from odoo.addons.hocba_digital.lib.rules.school_calendar import bounds_for

SEED = 20201217  # nothing magic: the date of Circular 27/2020
HOME_PROVINCE = "Hải Phòng"
PROVINCE_CODE = {name: code for code, name in pid.PROVINCE_CODES.items()}
EMAIL_DOMAIN = "tranduong.edu.vn"
SECTIONS = {"1": "ABC", "2": "ABC", "3": "AB", "4": "AB", "5": "AB"}
CLASS_SIZE = (30, 35)
NO_PERSONAL_ID_RATE = 0.02
SIBLING_PAIRS = 8  # besides the portal parent's two children

# Family names with rough national weights (percent).
FAMILY_NAMES = [
    ("Nguyễn", 38),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Hoàng", 3),
    ("Huỳnh", 2),
    ("Phan", 4),
    ("Vũ", 4),
    ("Võ", 2),
    ("Đặng", 2),
    ("Bùi", 2),
    ("Đỗ", 2),
    ("Hồ", 1),
    ("Ngô", 1),
    ("Dương", 1),
    ("Lý", 1),
    ("Đinh", 1),
    ("Mai", 1),
    ("Trịnh", 1),
    ("Lương", 1),
    ("Đào", 1),
    ("Cao", 1),
]
BOY_MIDDLE = "Văn Minh Gia Bảo Quốc Đức Hoàng Anh Hữu Thanh Đăng Trung Nhật Tuấn Quang Duy".split()
GIRL_MIDDLE = "Thị Ngọc Minh Bảo Thanh Khánh Phương Thu Gia Tuệ Hà Mai Diệp Quỳnh Hải Thảo".split()
BOY_GIVEN = """An Bảo Khang Khôi Minh Nam Phúc Quân Huy Đức Hưng Long Tuấn Kiên Lâm Nhật Phong
    Sơn Tùng Vinh Dũng Đạt Hiếu Hoàng Khoa Trí Việt Thành Duy Quang Hải Thịnh Khải Phát Tiến Vũ
    Nguyên Lộc""".split()
GIRL_GIVEN = """An Anh Chi Hà Hân Linh Lan Mai My Ngân Ngọc Nhi Như Phương Quỳnh Thảo Trang Trâm
    Uyên Vy Yến Diệp Hương Thư Tâm Hằng Giang Khuê Nhung Thủy Vân Châu Ánh Hoa Loan Trà""".split()
FATHER_MIDDLE = "Văn Đức Minh Quang Hữu Thanh Xuân Mạnh Tiến Ngọc Công Trọng".split()
FATHER_GIVEN = """Hùng Dũng Tuấn Thắng Hải Cường Long Nam Sơn Trung Hưng Quang Thành Tùng Phong
    Hiếu Đông Khoa Bình Toàn Lực Hoàn Quyết Tài""".split()
MOTHER_MIDDLE = "Thị, Thị, Thị, Thu, Thanh, Ngọc, Minh, Thị Thu, Thị Thanh, Hồng, Kim".split(", ")
MOTHER_GIVEN = """Hương Lan Hoa Huyền Trang Hạnh Nga Thủy Hằng Thảo Linh Phương Dung Yến Loan Mai
    Nhung Oanh Vân Hà Liên Thơm Hiền Duyên""".split()

# Birth places other than Hải Phòng (names as in personal_id.PROVINCE_CODES).
OTHER_BIRTH_PLACES = ("Hải Dương, Thái Bình, Quảng Ninh, Hà Nội, Nam Định, Hưng Yên, Thanh Hóa, Hồ Chí Minh").split(
    ", "
)
# Minority families: (ethnicity, weight in percent, provinces they often come from).
MINORITIES = [
    ("Tày", 1.5, ["Lạng Sơn", "Cao Bằng"]),
    ("Mường", 1.0, ["Hoà Bình", "Thanh Hóa"]),
    ("Hoa", 1.0, [HOME_PROVINCE]),
]
HOMETOWNS = [HOME_PROVINCE] * 6 + ["Thái Bình", "Hải Dương", "Nam Định", "Hưng Yên"]
WARDS = (
    "An Biên, Cát Dài, Dư Hàng, Dư Hàng Kênh, Hàng Kênh, Hồ Nam, Kênh Dương, Lam Sơn, "
    "Nghĩa Xá, Niệm Nghĩa, Trại Cau, Trần Nguyên Hãn, Vĩnh Niệm"
).split(", ")
STREETS = (
    "Tô Hiệu, Hai Bà Trưng, Trần Nguyên Hãn, Nguyễn Văn Linh, Chợ Con, Dư Hàng, Hàng Kênh, "
    "Miếu Hai Xã, Thiên Lôi, Lam Sơn, Dân Lập, Hồ Sen, Cát Cụt, Nguyễn Công Trứ, Mê Linh, "
    "Lán Bè"
).split(", ")

# Staff beyond the tier users of the XML: (name, role); the role is the
# homeroom class or what a specialist teaches.  Their login is their key.
HOMEROOM = {"1A": "gvcn", "1B": "totruong"}
EXTRA_STAFF = [
    ("Lê Thị Thu Trang", "1C"),
    ("Phạm Thị Hồng Nhung", "2A"),
    ("Vũ Thị Mai Anh", "2B"),
    ("Hoàng Thị Thanh Huyền", "2C"),
    ("Bùi Thị Ngọc Lan", "3A"),
    ("Đặng Văn Tuấn", "3B"),
    ("Ngô Thị Hải Yến", "4A"),
    ("Trần Thị Phương Thảo", "4B"),
    ("Đỗ Thị Kim Oanh", "5A"),
    ("Nguyễn Đức Mạnh", "5B"),
    ("Lương Thị Minh Châu", "NN1 1-2"),
    ("Phan Quốc Việt", "TIN CNGHE"),
    ("Trịnh Văn Cường", "GDTC"),
    ("Mai Thu Phương", "AN"),
    ("Dương Ngọc Ánh", "MT"),
]
# Subject groups: (name, grades of its homeroom teachers or None for the
# specialists, role of its head or None for ``totruong``).
SUBJECT_GROUPS = [
    ("Tổ 1", "1", None),
    ("Tổ 2", "2", "2A"),
    ("Tổ 3", "3", "3A"),
    ("Tổ 4-5", "45", "4A"),
    ("Tổ Chuyên biệt", None, "GDTC"),
]
JOB_TITLES = {
    "NN1 1-2": "Giáo viên Tiếng Anh",
    "TIN CNGHE": "Giáo viên Tin học - Công nghệ",
    "GDTC": "Giáo viên Giáo dục thể chất",
    "AN": "Giáo viên Âm nhạc",
    "MT": "Giáo viên Mĩ thuật",
}
# Subjects a specialist teaches; any other subject is taught by the homeroom teacher.
SPECIALIST_SUBJECTS = {
    "NN1": "NN1 1-2",
    "TIN": "TIN CNGHE",
    "CNGHE": "TIN CNGHE",
    "GDTC": "GDTC",
    "AN": "AN",
    "MT": "MT",
}
UPPER_GRADE_ENGLISH = "gvbm"  # NN1 in grades 3-5
# The electives that get a teacher: NN1 (elective in grades 1-2); TDT gets none.
ASSIGNED_ELECTIVES = {"NN1"}

# The portal parent (user ``phuhuynh``, the mother) and her two children.
PORTAL_FAMILY = {
    "father": "Đỗ Văn Thắng",
    "children": [("1A", "Đỗ Minh Khang", "male"), ("4A", "Đỗ Ngọc Hân", "female")],
}


def ascii_fold(text):
    """'Đỗ Thị Kim Oanh' -> 'dothikimoanh' (for logins)."""
    text = text.replace("Đ", "D").replace("đ", "d")
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return "".join(c for c in stripped.lower() if c.isalnum())


def extra_staff():
    """The staff beyond the tier users, with their login, tier, email and job title."""
    heads = {role: name for name, _grades, role in SUBJECT_GROUPS if role}
    staff = []
    for name, role in EXTRA_STAFF:
        login = "gv." + ascii_fold(name)
        title = JOB_TITLES.get(role) or "Giáo viên chủ nhiệm lớp %s" % role
        tier = "subject_teacher" if role in JOB_TITLES else "homeroom_teacher"
        if role in heads:
            tier = "head_of_group"
            title = "Tổ trưởng %s, %s" % (heads[role], title[0].lower() + title[1:])
        staff.append(
            {
                "key": login,
                "login": login,
                "name": name,
                "tier": tier,
                "role": role,
                "email": "%s@%s" % (login[3:], EMAIL_DOMAIN),
                "job_title": title,
            }
        )
    return staff


def class_names():
    return [(g + s, g, s) for g in sorted(SECTIONS) for s in SECTIONS[g]]


def homeroom_map():
    """Class name -> staff key of its homeroom teacher."""
    names = {name for name, _g, _s in class_names()}
    result = dict(HOMEROOM)
    result.update({s["role"]: s["key"] for s in extra_staff() if s["role"] in names})
    return result


def teacher_for(subject_code, grade, homeroom_key):
    """Staff key of the teacher of a subject in a class."""
    if subject_code == "NN1" and grade not in ("1", "2"):
        return UPPER_GRADE_ENGLISH
    if subject_code == "AN" and homeroom_key == "gvcn":
        # The demo subject teacher also teaches music in 1A, so the two demo
        # teachers can finish that class's year together.
        return UPPER_GRADE_ENGLISH
    role = SPECIALIST_SUBJECTS.get(subject_code)
    if role:
        return next(s["key"] for s in extra_staff() if s["role"] == role)
    return homeroom_key


def subject_groups():
    """Name, sequence, head and members (staff keys) of each subject group."""
    homeroom = homeroom_map()
    by_role = {person["role"]: person["key"] for person in extra_staff()}
    specialists = [UPPER_GRADE_ENGLISH] + [by_role[role] for role in JOB_TITLES]
    groups = []
    for sequence, (name, grades, head_role) in enumerate(SUBJECT_GROUPS, start=1):
        members = specialists if grades is None else [homeroom[c] for c, grade, _s in class_names() if grade in grades]
        groups.append(
            {
                "name": name,
                "sequence": sequence * 10,
                "members": members,
                "head": by_role[head_role] if head_role else "totruong",
            }
        )
    return groups


def _pick_family_name(rng):
    names, weights = zip(*FAMILY_NAMES)
    return rng.choices(names, weights)[0]


def _unique(used, draw):
    """Call ``draw()`` until it gives a value not in ``used``; remember it."""
    value = draw()
    while value in used:
        value = draw()
    used.add(value)
    return value


def _phone(rng, used):
    return _unique(used, lambda: "09%08d" % rng.randrange(10**8))


def _family(rng, phones, surname=None, father=None):
    surname = surname or _pick_family_name(rng)
    ethnicity, origins, roll = "Kinh", None, rng.random() * 100
    for name, weight, provinces in MINORITIES:
        if roll < weight:
            ethnicity, origins = name, provinces
            break
        roll -= weight
    presence = rng.random()  # both parents 82%, mother only 12%, father only 6%
    has_father = father is not None or presence < 0.82 or presence >= 0.94
    has_mother = father is not None or presence < 0.94
    mother_surname = _pick_family_name(rng)
    if mother_surname == surname:  # it happens, but rarely twice in a row
        mother_surname = _pick_family_name(rng)
    ward, street = rng.choice(WARDS), rng.choice(STREETS)
    lane = ("ngõ %d " % rng.randrange(2, 300)) if rng.random() < 0.6 else ""
    guardians = []
    if has_father:
        name = father or " ".join([surname, rng.choice(FATHER_MIDDLE), rng.choice(FATHER_GIVEN)])
        guardians.append({"relation": "father", "name": name, "phone": _phone(rng, phones)})
    if has_mother:
        name = " ".join([mother_surname, rng.choice(MOTHER_MIDDLE), rng.choice(MOTHER_GIVEN)])
        guardians.append({"relation": "mother", "name": name, "phone": _phone(rng, phones)})
    return {
        "surname": surname,
        "ethnicity": ethnicity,
        "origins": origins,
        "hometown": rng.choice(origins or HOMETOWNS),
        "guardians": guardians,
        "address": "Số %d %s%s, phường %s, quận Lê Chân, %s"
        % (rng.randrange(1, 200), lane, street, ward, HOME_PROVINCE),
    }


def _child_name(rng, surname, sex, taken):
    middles, givens = (BOY_MIDDLE, BOY_GIVEN) if sex == pid.MALE else (GIRL_MIDDLE, GIRL_GIVEN)
    while True:
        middle, given = rng.choice(middles), rng.choice(givens)
        name = "%s %s %s" % (surname, middle, given)
        if middle != given and name not in taken:
            return name


def _families(rng, classes):
    """Return (families, {(class name, index): family index}, {slot: (name, sex)})."""
    slots = [(c["name"], i) for c in classes for i in range(c["size"])]
    phones = set()
    portal = _family(rng, phones, PORTAL_FAMILY["father"].split()[0], PORTAL_FAMILY["father"])
    portal["guardians"] = [g for g in portal["guardians"] if g["relation"] == "father"]
    families, family_of, fixed = [portal], {}, {}
    for class_name, child, sex in PORTAL_FAMILY["children"]:
        family_of[(class_name, 0)], fixed[(class_name, 0)] = 0, (child, sex)
    free = [s for s in slots if s not in family_of]
    rng.shuffle(free)
    for _pair in range(SIBLING_PAIRS):  # two children in different grades
        first = free.pop()
        second = next(s for s in free if s[0][0] != first[0][0])
        free.remove(second)
        families.append(_family(rng, phones))
        family_of[first] = family_of[second] = len(families) - 1
    for slot in slots:
        if slot not in family_of:
            families.append(_family(rng, phones))
            family_of[slot] = len(families) - 1
    return families, family_of, fixed


def plan(year_start, seed=SEED):
    """Classes, families and pupils of the school year starting in ``year_start`` (an int).

    Returns ``{"classes": [...], "families": [...], "pupils": [...]}``; a pupil
    refers to its class by name and to its family by index; the portal family
    is index 0 and its mother is left out (she is the portal user).
    """
    rng = random.Random(seed)
    homeroom = homeroom_map()
    classes = [
        {"name": name, "grade": g, "section": s, "size": rng.randint(*CLASS_SIZE), "homeroom": homeroom[name]}
        for name, g, s in class_names()
    ]
    families, family_of, fixed = _families(rng, classes)
    candidates = [s for s in family_of if s not in fixed]
    no_id = {rng.choice([s for s in candidates if s[0] == "1A"])}  # a gap gvcn sees
    no_id.update(rng.sample([s for s in candidates if s not in no_id], round(len(family_of) * NO_PERSONAL_ID_RATE) - 1))
    pupils, used_ids, used_moet, cohort_seq = [], set(), set(), {}
    taken = {child for _c, child, _s in PORTAL_FAMILY["children"]}
    for school_class in classes:
        grade = int(school_class["grade"])
        entry_year, birth_year = year_start - grade + 1, year_start - 5 - grade
        days_in_year = (datetime.date(birth_year + 1, 1, 1) - datetime.date(birth_year, 1, 1)).days
        for index in range(school_class["size"]):
            slot = (school_class["name"], index)
            family = families[family_of[slot]]
            if slot in fixed:
                name, sex = fixed[slot]
            else:
                sex = rng.choice([pid.MALE, pid.FEMALE])
                name = _child_name(rng, family["surname"], sex, taken)
                taken.add(name)
            birth_date = datetime.date(birth_year, 1, 1) + datetime.timedelta(rng.randrange(days_in_year))
            if family["origins"] and rng.random() < 0.5:
                birth_place = rng.choice(family["origins"])
            elif rng.random() < 0.1:
                birth_place = rng.choice(OTHER_BIRTH_PLACES)
            else:
                birth_place = HOME_PROVINCE
            number = (
                None
                if slot in no_id
                else _unique(
                    used_ids, lambda: pid.make(PROVINCE_CODE[birth_place], sex, birth_year, rng.randrange(1, 10**6))
                )
            )
            seq = cohort_seq[entry_year] = cohort_seq.get(entry_year, 0) + 1
            pupils.append(
                {
                    "class": school_class["name"],
                    "family": family_of[slot],
                    "name": name,
                    "sex": sex,
                    "birth_date": birth_date,
                    "birth_place": birth_place,
                    "hometown": family["hometown"],
                    "address": family["address"],
                    "ethnicity": family["ethnicity"],
                    "personal_id": number,
                    "moet_code": _unique(used_moet, lambda: "31%08d" % rng.randrange(10**8)),
                    "school_code": "TD%02d%03d" % (entry_year % 100, seq),
                    "register_number": "%03d/%d" % (seq, entry_year),
                    "enrolment_date": bounds_for(datetime.date(entry_year, 9, 1))[0],
                }
            )
    return {"classes": classes, "families": families, "pupils": pupils}


COMMENTS = {
    "T": (
        "Hoàn thành tốt nội dung học tập, tích cực phát biểu.",
        "Nắm vững kiến thức, vận dụng tốt.",
        "Học tốt, trình bày sạch đẹp.",
    ),
    "H": (
        "Hoàn thành nội dung học tập, cần cẩn thận hơn khi làm bài.",
        "Nắm được kiến thức cơ bản, cần luyện thêm.",
    ),
}


def marks(rng, score_required):
    """A plausible ``(level, score, comment)`` for one pupil in one subject."""
    level = "T" if rng.random() < 0.7 else "H"
    score = None
    if score_required:
        score = rng.randint(8, 10) if level == "T" else rng.randint(6, 8)
    return level, score, rng.choice(COMMENTS[level])
