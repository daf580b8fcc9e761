from odoo.tests import TransactionCase, tagged

from ..lib.rules import assessment, catalogue, certificate_costs
from ..models import (
    hocba_certificate,
    hocba_certificate_cost,
    hocba_subject_result,
    hocba_trait_assessment,
    hocba_transcript,
    hocba_transcript_line,
    hr_employee,
    school_subject,
)


@tagged("post_install", "-at_install")
class TestSelections(TransactionCase):
    """The models' selections take their codes from the rules (lib) and put
    words on every one of them: one source of truth for the codes."""

    def test_codes_come_from_the_rules(self):
        cases = [
            (
                hocba_subject_result.SUBJECT_LEVEL_LABELS,
                hocba_subject_result.SUBJECT_LEVEL_SELECTION,
                assessment.SUBJECT_LEVELS,
            ),
            (
                hocba_trait_assessment.TRAIT_LEVEL_LABELS,
                hocba_trait_assessment.TRAIT_LEVEL_SELECTION,
                assessment.TRAIT_LEVELS,
            ),
            (hocba_transcript.RESULT_LABELS, hocba_transcript.RESULT_SELECTION, assessment.RESULTS),
            (hocba_transcript_line.PERIOD_LABELS, hocba_transcript_line.PERIOD_SELECTION, catalogue.PERIODS),
            (school_subject.KIND_LABELS, school_subject.KIND_SELECTION, catalogue.SUBJECT_KINDS),
            (
                hocba_certificate_cost.COST_KIND_LABELS,
                hocba_certificate_cost.COST_KIND_SELECTION,
                certificate_costs.COST_KINDS,
            ),
            (hocba_certificate.PROVIDER_LABELS, hocba_certificate.PROVIDER_SELECTION, certificate_costs.PROVIDERS),
            (hocba_certificate.CERT_TYPE_LABELS, hocba_certificate.CERT_TYPE_SELECTION, certificate_costs.CERT_TYPES),
        ]
        for labels, selection, codes in cases:
            with self.subTest(codes=codes):
                self.assertEqual(set(labels), set(codes), "a word for every code, no other")
                self.assertEqual([code for code, _label in selection], list(codes))
        # the employee's tiers are ordered highest first, the rules' in signing order
        self.assertEqual(set(hr_employee.TIER_LABELS), set(catalogue.TIERS))
        self.assertEqual({code for code, _label in hr_employee.TIER_SELECTION}, set(catalogue.TIERS))

    def test_fields_use_them(self):
        Result = self.env["hocba.subject.result"]
        self.assertEqual([code for code, _l in Result._fields["level"].selection], list(assessment.SUBJECT_LEVELS))
        Cost = self.env["hocba.certificate.cost"]
        self.assertEqual([code for code, _l in Cost._fields["kind"].selection], list(certificate_costs.COST_KINDS))
