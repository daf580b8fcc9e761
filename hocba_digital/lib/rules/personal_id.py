"""The 12-digit Vietnamese personal identification number (mã định danh cá nhân).

Layout (Decree 137/2015/NĐ-CP art. 13, Circular 07/2016/TT-BCA art. 7):

* digits 1-3: province where the birth was registered (or a country code for
  births registered abroad);
* digit 4: century and sex: 0/1 for 1900-1999, 2/3 for 2000-2099, ... with
  even digits for males and odd digits for females;
* digits 5-6: last two digits of the birth year;
* digits 7-12: random.

There is no public checksum, so none is checked.  The number is kept as a string
because the leading zero of the province code matters.

``check()`` returns a list of :class:`Issue` (code + parameters) rather than
sentences: the ORM layer turns codes into translated messages.
"""

import re
from dataclasses import dataclass, field

ERROR = "error"
WARNING = "warning"

# The 63 province codes in use before the 2025 merger.  Numbers never change
# after issue, so this list stays valid for every pupil born before it.
PROVINCE_CODES = {
    "001": "Hà Nội",
    "002": "Hà Giang",
    "004": "Cao Bằng",
    "006": "Bắc Kạn",
    "008": "Tuyên Quang",
    "010": "Lào Cai",
    "011": "Điện Biên",
    "012": "Lai Châu",
    "014": "Sơn La",
    "015": "Yên Bái",
    "017": "Hoà Bình",
    "019": "Thái Nguyên",
    "020": "Lạng Sơn",
    "022": "Quảng Ninh",
    "024": "Bắc Giang",
    "025": "Phú Thọ",
    "026": "Vĩnh Phúc",
    "027": "Bắc Ninh",
    "030": "Hải Dương",
    "031": "Hải Phòng",
    "033": "Hưng Yên",
    "034": "Thái Bình",
    "035": "Hà Nam",
    "036": "Nam Định",
    "037": "Ninh Bình",
    "038": "Thanh Hóa",
    "040": "Nghệ An",
    "042": "Hà Tĩnh",
    "044": "Quảng Bình",
    "045": "Quảng Trị",
    "046": "Thừa Thiên Huế",
    "048": "Đà Nẵng",
    "049": "Quảng Nam",
    "051": "Quảng Ngãi",
    "052": "Bình Định",
    "054": "Phú Yên",
    "056": "Khánh Hòa",
    "058": "Ninh Thuận",
    "060": "Bình Thuận",
    "062": "Kon Tum",
    "064": "Gia Lai",
    "066": "Đắk Lắk",
    "067": "Đắk Nông",
    "068": "Lâm Đồng",
    "070": "Bình Phước",
    "072": "Tây Ninh",
    "074": "Bình Dương",
    "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu",
    "079": "Hồ Chí Minh",
    "080": "Long An",
    "082": "Tiền Giang",
    "083": "Bến Tre",
    "084": "Trà Vinh",
    "086": "Vĩnh Long",
    "087": "Đồng Tháp",
    "089": "An Giang",
    "091": "Kiên Giang",
    "092": "Cần Thơ",
    "093": "Hậu Giang",
    "094": "Sóc Trăng",
    "095": "Bạc Liêu",
    "096": "Cà Mau",
}

MALE = "male"
FEMALE = "female"

_SEPARATORS = re.compile(r"[\s.\-]")


@dataclass(frozen=True)
class Issue:
    code: str
    severity: str
    params: dict = field(default_factory=dict)

    @property
    def is_error(self):
        return self.severity == ERROR


def normalize(raw):
    """Strip the spaces, dots and dashes people type; ``None`` for an empty value."""
    if raw is None or raw is False:
        return None
    value = _SEPARATORS.sub("", str(raw))
    return value or None


def decode_century_sex(digit):
    """Return ``(first year of the century, sex)`` encoded by the 4th digit."""
    d = int(digit)
    return 1900 + (d // 2) * 100, (MALE if d % 2 == 0 else FEMALE)


def birth_year(number):
    century, _sex = decode_century_sex(number[3])
    return century + int(number[4:6])


def check(number, sex=None, year=None):
    """Check a normalised number against the pupil's sex and birth year.

    ``sex`` is ``'male'``/``'female'`` or ``None`` (not checked); ``year`` an int
    or ``None``.  Returns the list of issues, errors first; empty when valid.
    """
    if not number:
        return []
    if not number.isascii() or not number.isdigit():
        return [Issue("not_digits", ERROR, {"value": number})]
    if len(number) != 12:
        return [Issue("length", ERROR, {"length": len(number)})]
    issues = []
    encoded_century, encoded_sex = decode_century_sex(number[3])
    encoded_year = encoded_century + int(number[4:6])
    if sex in (MALE, FEMALE) and sex != encoded_sex:
        issues.append(Issue("sex_mismatch", ERROR, {"digit": number[3], "encoded": encoded_sex, "recorded": sex}))
    if year:
        if encoded_century != (int(year) // 100) * 100:
            issues.append(
                Issue("century_mismatch", ERROR, {"digit": number[3], "encoded": encoded_year, "recorded": int(year)})
            )
        elif encoded_year != int(year):
            issues.append(
                Issue("year_mismatch", ERROR, {"digits": number[4:6], "encoded": encoded_year, "recorded": int(year)})
            )
    province = number[:3]
    if province not in PROVINCE_CODES:
        kind = "country_code" if province[0] != "0" else "unknown_province"
        issues.append(Issue(kind, WARNING, {"code": province}))
    return issues


def errors(issues):
    return [i for i in issues if i.is_error]


def mask(number):
    """Show only the last three digits: enough to tell siblings apart on screen."""
    if not number:
        return ""
    return "•" * (len(number) - 3) + number[-3:]


def make(province, sex, year, serial):
    """Build a well-formed number (used by demo data and tests)."""
    century_digit = ((int(year) // 100) - 19) * 2 + (1 if sex == FEMALE else 0)
    return "%s%d%02d%06d" % (province, century_digit, int(year) % 100, int(serial) % 1000000)
