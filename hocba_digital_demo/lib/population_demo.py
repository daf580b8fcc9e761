"""What the demo population database holds for the demo school's pupils.  No Odoo import here.

:func:`citizens_for` turns the school's pupil list into the citizens a
population database would know, from a fixed seed, with the kinds of gaps a
real school finds:

* names in capitals, some with the old tone placement ("HOÀ" for "Hòa"): both
  still match;
* a pupil without a personal ID at school has one there (the school sees its
  number differs and can fill it in);
* ``NAME_CHANGES`` pupils have another tone on their given name, one of them in
  ``first_class`` (the demo homeroom teacher's);
* ``DATE_CHANGES`` pupils have another birth date;
* ``NOT_FOUND`` pupils are not there at all (a wrong number at school).
"""

import datetime
import random
import unicodedata

from odoo.addons.hocba_digital.lib.population.reconcile import TONE_MARKS, Identity
from odoo.addons.hocba_digital.lib.rules import personal_id as pid

SEED = 2026
NAME_CHANGES, DATE_CHANGES, NOT_FOUND = 3, 2, 2
HOME_PROVINCE_CODE = "031"  # Hải Phòng, the demo school's
ACUTE = "\u0301"
_VOWELS = set("aeiouy")
_OLD_PLACEMENT = {
    new: old
    for new, old in (
        ("òa", "oà"),
        ("óa", "oá"),
        ("ỏa", "oả"),
        ("õa", "oã"),
        ("ọa", "oạ"),
        ("òe", "oè"),
        ("óe", "oé"),
        ("ỏe", "oẻ"),
        ("õe", "oẽ"),
        ("ọe", "oẹ"),
        ("ùy", "uỳ"),
        ("úy", "uý"),
        ("ủy", "uỷ"),
        ("ũy", "uỹ"),
        ("ụy", "uỵ"),
    )
}


def other_tone(word):
    """The word with its tone taken off, or an acute added when it has none."""
    decomposed = unicodedata.normalize("NFD", word)
    if any(ch in TONE_MARKS for ch in decomposed):
        return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in TONE_MARKS))
    for index, ch in enumerate(decomposed):
        if ch.lower() in _VOWELS:
            end = index + 1
            while end < len(decomposed) and unicodedata.combining(decomposed[end]):
                end += 1
            return unicodedata.normalize("NFC", decomposed[:end] + ACUTE + decomposed[end:])
    return word + "h"


def old_placement(name):
    """'Nguyễn Thị Hòa' -> 'Nguyễn Thị Hoà' (tone on the second vowel)."""
    for new, old in _OLD_PLACEMENT.items():
        name = name.replace(new, old)
    return name


def _capitals(name):
    return unicodedata.normalize("NFC", name).upper()


def citizens_for(pupils, seed=SEED, first_class=None, province_codes=None):
    """The citizens (:class:`Identity`) for ``pupils``: dicts with ``ref``,
    ``class_name``, ``name``, ``birth_date``, ``sex``, ``personal_id`` and
    ``birth_place``.  ``province_codes``: province name -> code, for the numbers
    of pupils who have none at school."""
    rng = random.Random(seed)
    province_codes = province_codes or {}
    with_number = [p for p in pupils if p.get("personal_id")]
    chosen = set()

    def pick(count, among):
        free = [p["ref"] for p in among if p["ref"] not in chosen]
        picked = rng.sample(free, min(count, len(free)))
        chosen.update(picked)
        return set(picked)

    in_first = [p for p in with_number if p.get("class_name") == first_class]
    renamed = pick(1, in_first) | pick(NAME_CHANGES - 1 if in_first else NAME_CHANGES, with_number)
    redated = pick(DATE_CHANGES, with_number)
    missing = pick(NOT_FOUND, with_number)
    used = {p["personal_id"] for p in with_number}
    citizens = []
    for pupil in pupils:
        if pupil["ref"] in missing:
            continue
        name, birth_date = pupil["name"], pupil["birth_date"]
        if pupil["ref"] in renamed:
            words = name.split()
            name = " ".join(words[:-1] + [other_tone(words[-1])])
        elif rng.random() < 0.5:
            name = old_placement(name)
        if pupil["ref"] in redated:
            birth_date = birth_date + datetime.timedelta(days=1 if birth_date.day < 28 else -1)
        number = pupil.get("personal_id")
        while not number or (not pupil.get("personal_id") and number in used):
            code = province_codes.get(pupil.get("birth_place"), HOME_PROVINCE_CODE)
            number = pid.make(code, pupil["sex"], birth_date.year, rng.randrange(1, 10**6))
        used.add(number)
        citizens.append(Identity(_capitals(name), birth_date, pupil["sex"], number))
    return citizens
