import datetime

import pytz
from lxml import etree

from odoo import api, models

from ..lib.documents import xml_profile
from ..lib.rules import catalogue
from ..lib.signing import chain as signing_chain

PRINT_LANG = "vi_VN"


class HocbaXmlMapping(models.AbstractModel):
    """From a transcript's records to the plain data of ``lib.xml_profile``.

    The XML is the legal record: names are printed in Vietnamese (the language
    of the paper form) whatever the user's language, and the personal ID is the
    full number, so this reads as superuser.
    """

    _name = "hocba.xml.mapping"
    _description = "Transcript XML mapping"

    @api.model
    def _hocba_lang(self):
        installed = dict(self.env["res.lang"].get_installed())
        return PRINT_LANG if PRINT_LANG in installed else "en_US"

    @api.model
    def _hocba_data(self, transcript, version, signatures=None):
        """The ``xml_profile.build`` input of ``transcript`` as ``version``
        (header) with ``signatures`` (hocba.signature records, in order)."""
        env = self.env(su=True, context=dict(self.env.context, lang=self._hocba_lang()))
        transcript = transcript.with_env(env)
        version = version.with_env(env)
        pupil = transcript.student_id
        company = transcript.company_id
        tz = pytz.timezone(env.user.tz or "Asia/Ho_Chi_Minh")
        created = pytz.utc.localize(version.created).astimezone(tz)
        guardians = pupil.guardian_ids.filtered(lambda p: p.hocba_guardian_relation == "guardian")
        data = {
            "header": {
                "document_id": version.document_id,
                "version": version.number,
                "replaces": version.replaces_id.document_id or None,
                "created": created.isoformat(timespec="seconds"),
                "school": {
                    "code": company.hocba_school_code or str(company.id),
                    "name": company.name,
                    "authority": company.hocba_authority or None,
                },
                "school_year": transcript.year_id.name,
                "class_name": transcript.class_id.name,
                "grade": int(transcript.grade),
            },
            "pupil": {
                "full_name": pupil.name,
                "sex": pupil.sex,
                "birth_date": pupil.birth_date.isoformat() if pupil.birth_date else None,
                "birth_place": pupil.birth_place,
                "hometown": pupil.hometown,
                "address": pupil.address,
                "ethnicity": pupil.ethnicity,
                "nationality": pupil.nationality_id.code or None,
                "personal_id": pupil.personal_id,
                "moet_code": pupil.moet_code,
                "school_code": pupil.school_code,
                "register_number": pupil.register_number,
                "father_name": pupil.father_name,
                "mother_name": pupil.mother_name,
                "guardian_name": guardians[:1].name or None,
            },
            "health": {"height_cm": transcript.height_cm, "weight_kg": transcript.weight_kg},
            "attendance": {"excused": transcript.days_absent_excused, "unexcused": transcript.days_absent_unexcused},
            "subjects": self._hocba_subjects(transcript),
            "result": {
                "computed": transcript.result_computed or None,
                "override": transcript.result_override or None,
                "override_reason": transcript.override_reason or None,
                "final": transcript.result or None,
                "comment": transcript.homeroom_comment or None,
            },
            "rewards": self._hocba_rewards(transcript),
            "completion": {"grade": transcript.completes_grade, "primary": transcript.completes_primary},
            "promotion": {"decision": transcript.promotion, "note": transcript.promotion_note}
            if transcript.promotion
            else None,
            "signatures": [
                {
                    "id": s.wrapper_id,
                    "tier": s.tier,
                    "subject": s.subject_id.code or None,
                    "content": s.content.encode(),
                }
                for s in (signatures or [])
            ],
        }
        data["qualities"], data["competencies"] = self._hocba_traits(transcript)
        return data

    @api.model
    def _hocba_subjects(self, transcript):
        rows = {}
        for result in transcript.subject_result_ids.sorted(lambda r: (r.subject_id.sequence, r.subject_id.id)):
            subject = result.subject_id
            entry = rows.setdefault(
                subject, {"code": subject.code, "name": subject.name, "kind": subject.kind, "assessments": []}
            )
            if result.level:
                entry["assessments"].append(
                    {
                        "period": result.period,
                        "level": result.level,
                        "score": int(result.score) if result.score else None,
                        "comment": result.comment or None,
                    }
                )
        order = {period: i for i, period in enumerate(catalogue.PERIODS)}
        for entry in rows.values():
            entry["assessments"].sort(key=lambda a: order[a["period"]])
        return list(rows.values())

    @api.model
    def _hocba_traits(self, transcript):
        labels = self.env["hocba.trait.assessment"].with_context(lang=self._hocba_lang())._hocba_trait_labels()
        kinds = {code: kind for code, kind, _name, _first in catalogue.TRAITS}
        order = {period: i for i, period in enumerate(catalogue.PERIODS)}
        rows = transcript.trait_assessment_ids.sorted(lambda a: order[a.period])
        qualities, competencies = [], []
        for code in catalogue.traits_of_grade(transcript.grade):
            marks = [
                {"period": row.period, "level": row["level_%s" % code], "comment": row["comment_%s" % code] or None}
                for row in rows
                if row["level_%s" % code]
            ]
            trait = {"code": code, "name": labels[code], "assessments": marks}
            if kinds[code] == "quality":
                qualities.append(trait)
            else:
                trait["kind"] = kinds[code]
                competencies.append(trait)
        return qualities, competencies

    @api.model
    def _hocba_rewards(self, transcript):
        rewards = []
        if transcript.reward_excellent:
            rewards.append({"kind": "excellent", "text": "Học sinh Xuất sắc"})
        if transcript.reward_exemplary:
            rewards.append(
                {"kind": "exemplary", "text": "Học sinh Tiêu biểu: %s" % (transcript.reward_exemplary_reason or "")}
            )
        if transcript.reward_other:
            rewards.append({"kind": "other", "text": transcript.reward_other})
        return rewards

    @api.model
    def _hocba_subject_digest(self, xml_bytes, subject_code):
        """SHA-256 of the exclusive-C14N subject block (what its teacher signs)."""
        root = xml_profile.safe_parse(xml_bytes)
        found = root.xpath("//*[@Id=$i]", i=signing_chain.subject_block_id(subject_code))
        if not found:
            return False
        return self.env["hocba.version"]._hocba_sha256(etree.tostring(found[0], method="c14n", exclusive=True))

    @api.model
    def _hocba_now(self):
        return datetime.datetime.now(datetime.timezone.utc)
