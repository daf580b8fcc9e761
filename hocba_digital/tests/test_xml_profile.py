import copy
import os

from lxml import etree

from odoo.tests import BaseCase, tagged

from ..lib.documents import xml_profile as xp
from ..lib.documents.xml_profile import hocba_1_0 as xml_profile_hocba_1_0
from ..lib.rules import catalogue

PERIODS = catalogue.PERIODS
# Grade 4 rows in transcript order: (code, Vietnamese name, kind, periods with a test)
GRADE4_SUBJECTS = (
    ("TV", "Tiếng Việt", "subject", PERIODS),
    ("TOAN", "Toán", "subject", PERIODS),
    ("NN1", "Ngoại ngữ 1 (Tiếng Anh)", "subject", ("end_term1", "end_year")),
    ("LSDL", "Lịch sử và Địa lí", "subject", ("end_term1", "end_year")),
    ("KH", "Khoa học", "subject", ("end_term1", "end_year")),
    ("TIN", "Tin học và Công nghệ (Tin học)", "subject", ("end_term1", "end_year")),
    ("CNGHE", "Tin học và Công nghệ (Công nghệ)", "subject", ("end_term1", "end_year")),
    ("DD", "Đạo đức", "subject", ()),
    ("GDTC", "Giáo dục thể chất", "subject", ()),
    ("AN", "Nghệ thuật (Âm nhạc)", "subject", ()),
    ("MT", "Nghệ thuật (Mĩ thuật)", "subject", ()),
    ("HDTN", "Hoạt động trải nghiệm", "activity", ()),
)
TRAIT_NAMES = {
    "yeu_nuoc": "Yêu nước",
    "nhan_ai": "Nhân ái",
    "cham_chi": "Chăm chỉ",
    "trung_thuc": "Trung thực",
    "trach_nhiem": "Trách nhiệm",
    "tu_chu": "Tự chủ và tự học",
    "giao_tiep": "Giao tiếp và hợp tác",
    "giai_quyet": "Giải quyết vấn đề và sáng tạo",
    "ngon_ngu": "Ngôn ngữ",
    "tinh_toan": "Tính toán",
    "khoa_hoc": "Khoa học",
    "cong_nghe": "Công nghệ",
    "tin_hoc": "Tin học",
    "tham_mi": "Thẩm mĩ",
    "the_chat": "Thể chất",
}
NS = {"hb": xml_profile_hocba_1_0.NS_1_0}
DS_SIGNATURE = (
    b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="xades-1">'
    b"<ds:SignedInfo>"
    b'<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
    b'<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
    b'<ds:Reference URI="#subject-TOAN">'
    b'<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
    b"<ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo>"
    b"<ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>"
)


def grade4_transcript():
    """A realistic grade-4 transcript: 12 rows, 4 periods, 15 traits."""
    subjects = []
    for code, name, kind, tested in GRADE4_SUBJECTS:
        subjects.append(
            {
                "code": code,
                "name": name,
                "kind": kind,
                "assessments": [
                    {
                        "period": period,
                        "level": "T" if code != "KH" else "H",
                        "score": (9 if code != "KH" else 7) if period in tested else None,
                        "comment": "Em học tốt, tích cực phát biểu." if period == "end_year" else None,
                    }
                    for period in PERIODS
                ],
            }
        )
    traits = {"quality": [], "general": [], "specific": []}
    for code, kind, _label, _first in catalogue.TRAITS:
        if code not in catalogue.traits_of_grade("4"):
            continue
        trait = {
            "code": code,
            "name": TRAIT_NAMES[code],
            "assessments": [
                {
                    "period": period,
                    "level": "Đ" if code == "the_chat" else "T",
                    "comment": "Mạnh dạn, tự tin." if period == "end_year" else None,
                }
                for period in PERIODS
            ],
        }
        if kind != "quality":
            trait["kind"] = kind
        traits[kind].append(trait)
    return {
        "header": {
            "document_id": "3b1f8a52-7c1e-4d2a-9a57-0c6f1e2d4b11",
            "version": 2,
            "replaces": "0d6c2f1e-1111-4c2a-8a57-0c6f1e2d4b99",
            "created": "2026-05-30T10:15:00+07:00",
            "school": {
                "code": "79000001",
                "name": "Trường Tiểu học Nguyễn Bỉnh Khiêm",
                "authority": "Sở Giáo dục và Đào tạo Thành phố Hồ Chí Minh",
            },
            "school_year": "2025-2026",
            "class_name": "4A",
            "grade": 4,
        },
        "pupil": {
            "full_name": "Nguyễn Thị Ánh Dương",
            "sex": "female",
            "birth_date": "2016-03-02",
            "birth_place": "Bệnh viện Từ Dũ, TP Hồ Chí Minh",
            "hometown": "Quảng Ngãi",
            "address": "12 Lê Lợi, phường Bến Thành",
            "ethnicity": "Kinh",
            "nationality": "VN",
            "personal_id": "079316001234",
            "moet_code": "7900000112345",
            "school_code": "HS0042",
            "register_number": "124/2022",
            "father_name": "Nguyễn Văn Đức",
            "mother_name": "Trần Thị Hương",
            "guardian_name": None,
        },
        "health": {"height_cm": 132.5, "weight_kg": 28},
        "attendance": {"excused": 2, "unexcused": 0},
        "subjects": subjects,
        "qualities": traits["quality"],
        "competencies": traits["general"] + traits["specific"],
        "result": {
            "computed": "HT",
            "override": "HTT",
            "override_reason": "Điểm Khoa học thi lại đạt 8 (biên bản số 3)",
            "final": "HTT",
            "comment": "Chăm ngoan, cần rèn chữ viết.",
        },
        "rewards": [
            {"kind": "exemplary", "text": "Tiêu biểu môn Toán"},
            {"kind": "other", "text": "Giải Ba Hội khỏe Phù Đổng cấp phường"},
        ],
        "completion": {"grade": True, "primary": False},
        "promotion": None,
        "signatures": [],
    }


@tagged("post_install", "-at_install")
class TestXmlProfile(BaseCase):
    """The transcript XML profile, pure layer, without a database."""

    def build(self, data):
        return xp.build(data)

    def errors(self, data):
        return [str(e) for e in xp.validate(xp.build(data))]

    def assertRefused(self, document, *words):
        with self.assertRaises(xp.XmlProfileError) as caught:
            xp.parse(document)
        for word in words:
            self.assertIn(word, str(caught.exception))
        errors = xp.validate(document)
        self.assertEqual(len(errors), 1)
        self.assertEqual(errors[0].path, "/")

    # -- the profile itself ------------------------------------------------

    def test_shipped_xsd_loads(self):
        profile = xp.get_profile("hocba-transcript-1.0")
        self.assertTrue(os.path.isfile(profile.xsd_path))
        schema = xp.schema("hocba-transcript-1.0")
        self.assertEqual(schema.target_namespace, "urn:hocba-digital:transcript:1.0")
        self.assertIn("HocBa", schema.elements)
        self.assertIn("hocba-transcript-1.0", xp.profiles())
        # the XSD is itself safe, well-formed XML
        xsd = etree.parse(profile.xsd_path, xp.safe_parser())
        self.assertIsNone(xsd.docinfo.internalDTD)

    def test_unknown_profile(self):
        with self.assertRaises(xp.XmlProfileError):
            xp.build(grade4_transcript(), profile="moet-3016-1.0")

    # -- a realistic transcript --------------------------------------------

    def test_grade4_builds_and_validates(self):
        document = self.build(grade4_transcript())
        self.assertEqual(xp.validate(document), [])
        self.assertTrue(document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n'))
        text = document.decode("utf-8")  # raw UTF-8, no character references
        for words in (
            "Nguyễn Thị Ánh Dương",
            "Tin học và Công nghệ (Công nghệ)",
            "<Level>Đ</Level>",
            "Giải quyết vấn đề và sáng tạo",
            "Sở Giáo dục",
        ):
            self.assertIn(words, text)
        self.assertNotIn("&#", text)
        root = etree.fromstring(document)
        self.assertEqual(root.xpath("count(//hb:Subject)", namespaces=NS), 12)
        self.assertEqual(root.xpath("count(//hb:Competency)", namespaces=NS), 10)
        self.assertEqual(root.xpath("//hb:Subject[@code='TOAN']/@Id", namespaces=NS), ["subject-TOAN"])
        self.assertEqual(root.xpath("/hb:HocBa/hb:Data/@Id", namespaces=NS), ["data"])
        self.assertEqual(len(root.xpath("/hb:HocBa/hb:Signatures/*", namespaces=NS)), 0)

    def test_minimal_transcript_validates(self):
        data = grade4_transcript()
        data["header"]["replaces"] = None
        data["pupil"] = {"full_name": "Lò Văn A", "sex": "male", "birth_date": "2016-01-01"}
        data.update(
            health={"height_cm": 0.0, "weight_kg": 0.0}, rewards=[], promotion={"decision": "repeat", "note": None}
        )
        data["result"] = {"computed": "CHT", "final": "CHT"}
        data["completion"] = {"grade": False, "primary": False}
        document = self.build(data)
        self.assertEqual(xp.validate(document), [])
        self.assertNotIn(b"<Health", document)  # 0 = not measured
        self.assertIsNone(xp.parse(document)["health"])

    # -- invalid data gives errors with paths ------------------------------

    def test_scores_out_of_range(self):
        for bad in (0, 11):
            data = grade4_transcript()
            data["subjects"][2]["assessments"][3]["score"] = bad  # NN1, end of year
            self.assertEqual(
                self.errors(data),
                [
                    "/HocBa/Data/Subjects/Subject[3]/Assessment[4]/Score: value must be a whole "
                    "number between 1 and 10 (got '%s')" % bad
                ],
            )

    def test_bad_levels(self):
        data = grade4_transcript()
        data["subjects"][0]["assessments"][1]["level"] = "X"
        data["competencies"][0]["assessments"][3]["level"] = "H"  # H is not a trait level
        errors = self.errors(data)
        self.assertEqual(len(errors), 2, errors)
        self.assertTrue(
            errors[0].startswith("/HocBa/Data/Subjects/Subject[1]/Assessment[2]/Level: value 'X' is not one of"), errors
        )
        self.assertTrue(
            errors[1].startswith("/HocBa/Data/Competencies/Competency[1]/Assessment[4]/Level: value 'H'"), errors
        )

    def test_personal_id_must_have_12_digits(self):
        data = grade4_transcript()
        data["pupil"]["personal_id"] = "07931600123"
        self.assertEqual(
            self.errors(data),
            ["/HocBa/Data/Pupil/PersonalId: personal ID must be exactly 12 digits (got '07931600123')"],
        )

    def test_other_rules(self):
        data = grade4_transcript()
        data["result"]["final"] = "HT"  # override says HTT
        self.assertEqual(
            self.errors(data),
            [
                "/HocBa/Data/Result/Final: must equal the override, or the computed result "
                "when there is no override (HTT)"
            ],
        )
        data = grade4_transcript()
        data["subjects"][1]["code"] = "TV"  # twice the same subject: duplicate Id
        self.assertTrue(any("Subject[2]" in e for e in self.errors(data)))
        data = grade4_transcript()
        data["result"]["override_reason"] = None  # an override needs its reason
        self.assertTrue(self.errors(data))
        data = grade4_transcript()
        data["header"]["created"] = "2026-05-30T10:15:00"  # no time zone
        self.assertEqual([e.split(":")[0] for e in self.errors(data)], ["/HocBa/Data/Header/Created"])

    # -- round trip and determinism ------------------------------------------

    def test_round_trip(self):
        document = self.build(grade4_transcript())
        data = xp.parse(document)
        self.assertEqual(xp.build(data), document)
        self.assertEqual(data["pupil"]["full_name"], "Nguyễn Thị Ánh Dương")
        self.assertEqual(
            data["subjects"][1]["assessments"][3],
            {"period": "end_year", "level": "T", "score": 9, "comment": "Em học tốt, tích cực phát biểu."},
        )
        self.assertEqual(data["health"], {"height_cm": "132.5", "weight_kg": "28.0"})
        self.assertEqual(data["completion"], {"grade": True, "primary": False})
        self.assertIsNone(data["promotion"])

    def test_round_trip_with_signatures(self):
        data = grade4_transcript()
        data["signatures"] = [
            {"id": "sig-1", "tier": "subject_teacher", "subject": "TOAN", "content": DS_SIGNATURE},
            {
                "id": "sig-2",
                "tier": "homeroom_teacher",
                "subject": None,
                "content": DS_SIGNATURE.replace(b"#subject-TOAN", b"#data").replace(b"xades-1", b"xades-2"),
            },
        ]
        document = self.build(data)
        self.assertEqual(xp.validate(document), [])
        parsed = xp.parse(document)
        self.assertEqual(parsed["signatures"][0]["content"], DS_SIGNATURE)
        self.assertEqual(xp.build(parsed), document)
        # a subject teacher must name one of the transcript's subjects
        data["signatures"][0]["subject"] = "XYZ"
        self.assertEqual(
            self.errors(data),
            [
                "/HocBa/Signatures/Signature[1]: a subject teacher's signature names a subject "
                "of this transcript (subject='XYZ')"
            ],
        )
        # the ds:Signature itself is checked against XMLDSig (lax: when known)
        data["signatures"][0]["subject"] = "TOAN"
        data["signatures"][0]["content"] = DS_SIGNATURE.replace(b"<ds:SignatureValue>AAAA</ds:SignatureValue>", b"")
        self.assertEqual([e.split(":")[0] for e in self.errors(data)], ["/HocBa/Signatures/Signature[1]/ds"])
        self.assertIn("/HocBa/Signatures/Signature[1]/ds:Signature", self.errors(data)[0])
        data["signatures"][0]["content"] = DS_SIGNATURE
        data["signatures"][0]["tier"] = "vice_principal"  # approves, never signs
        self.assertEqual(
            self.errors(data),
            [
                "/HocBa/Signatures/Signature[1]/@tier: value 'vice_principal' is not one of "
                "subject_teacher, homeroom_teacher, principal, seal"
            ],
        )
        data["signatures"][0]["tier"] = "subject_teacher"
        data["signatures"][0]["id"] = "1"
        self.assertEqual({e.split(":")[0] for e in self.errors(data)}, {"/HocBa/Signatures/Signature[1]/@Id"})

    def test_subject_change_touches_only_its_block(self):
        """What a subject teacher signs (#subject-CODE) is unchanged by other subjects."""

        def block(document, code):
            root = etree.fromstring(document)
            element = root.xpath("//*[@Id=$id]", id="subject-" + code)[0]
            return etree.tostring(element, method="c14n", exclusive=True)

        before = self.build(grade4_transcript())
        data = grade4_transcript()
        data["subjects"][1]["assessments"][3]["score"] = 10  # TOAN
        after = self.build(data)
        self.assertEqual(block(before, "TV"), block(after, "TV"))
        self.assertNotEqual(block(before, "TOAN"), block(after, "TOAN"))

    def test_deterministic(self):
        first = self.build(grade4_transcript())
        self.assertEqual(self.build(grade4_transcript()), first)
        # key order of the input dicts does not matter
        shuffled = {key: value for key, value in reversed(list(grade4_transcript().items()))}
        shuffled["header"] = dict(reversed(list(shuffled["header"].items())))
        self.assertEqual(self.build(shuffled), first)
        self.assertEqual(self.build(copy.deepcopy(grade4_transcript())), first)

    # -- hostile input ---------------------------------------------------------

    def test_xxe_refused(self):
        document = (
            b'<?xml version="1.0"?>\n<!DOCTYPE HocBa [\n'
            b'<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            b'<HocBa xmlns="urn:hocba-digital:transcript:1.0">&xxe;</HocBa>'
        )
        self.assertRefused(document, "DTD")
        self.assertNotIn("root:", str(xp.validate(document)))

    def test_billion_laughs_refused(self):
        entities = b'<!ENTITY lol "lol">' + b"".join(
            b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10)
        )
        document = (
            b'<?xml version="1.0"?><!DOCTYPE lolz [' + entities + b"]>"
            b'<HocBa xmlns="urn:hocba-digital:transcript:1.0">&lol9;</HocBa>'
        )
        self.assertRefused(document, "DTD", "entit")

    def test_dtd_refused(self):
        document = (
            b'<!DOCTYPE HocBa SYSTEM "http://example.com/hocba.dtd"><HocBa xmlns="urn:hocba-digital:transcript:1.0"/>'
        )
        self.assertRefused(document, "DTD")
        # also when the parser is reached directly (no pre-check shortcut by case)
        with self.assertRaises(xp.XmlProfileError):
            xp.safe_parse(document.replace(b"DOCTYPE", b"doctype"))

    def test_malformed_and_foreign_input(self):
        self.assertRefused(b"<HocBa><Data></HocBa>", "well-formed")
        self.assertRefused(b"<Invoice xmlns='urn:other'/>", "No installed XML profile")
        with self.assertRaises(xp.XmlProfileError):
            xp.parse("<HocBa/>")  # text, not bytes
