"""Behaviour tests for ICD-10-CM coding (guideline §5 icd10cm rules, §7.2) on short synthetic reports,
rules-only pipeline (no trained NER, no ranker)."""

import pytest

import radcoder
from radcoder.coding import FindingMention, code_icd10


@pytest.fixture(scope="module")
def nlp(rules_nlp):
    return rules_nlp


def icd(nlp, text, setting="global"):
    doc = nlp.make_doc(text)
    doc._.setting = setting
    doc = nlp(doc)
    return [c["code"] if isinstance(c, dict) else c for c in radcoder.to_record(doc, "t")["icd10cm"]]


def test_negated_finding_never_coded(nlp):
    codes = icd(nlp, "EXAM: CHEST 2 VIEWS\nINDICATION: cough\nFINDINGS: No pneumothorax. No pleural effusion.\n"
                     "IMPRESSION: No pneumothorax.")
    assert not any(c.startswith("J93") or c.startswith("J90") or c.startswith("S27") for c in codes)


def test_uncertain_finding_falls_back_to_indication_symptom(nlp):
    codes = icd(nlp, "EXAM: CHEST 2 VIEWS\nINDICATION: cough\nFINDINGS: Hazy opacity.\n"
                     "IMPRESSION: Possible pneumonia.")
    assert not any(c.startswith("J18") for c in codes)
    assert codes and codes[0].startswith("R05")


def test_normal_study_codes_indication(nlp):
    codes = icd(nlp, "EXAM: CHEST 2 VIEWS\nINDICATION: shortness of breath\nFINDINGS: Lungs are clear.\n"
                     "IMPRESSION: No acute cardiopulmonary process.")
    assert codes and codes[0] == "R06.02"


def test_screening_z_code_first(nlp):
    codes = icd(nlp, "EXAM: SCREENING MAMMOGRAM BILATERAL\nINDICATION: Annual screening.\n"
                     "FINDINGS: Scattered fibroglandular densities. No suspicious mass.\nIMPRESSION: BI-RADS 1.")
    assert codes and codes[0] == "Z12.31"


def test_generic_screening_word_takes_the_exams_target():
    m = FindingMention("Z13.9", "present", "indication", 12, 21, "screening")
    text = "INDICATION: screening. EXAM: DEXA bone density."
    assert [d.code for d in code_icd10([m], text)] == ["Z13.820"]


def test_history_of_cancer_gives_z85(nlp):
    codes = icd(nlp, "EXAM: CT CHEST WITH CONTRAST\nINDICATION: history of lung cancer, surveillance\n"
                     "FINDINGS: No mass.\nIMPRESSION: No evidence of recurrence.")
    assert "Z85.118" in codes
    assert not any(c.startswith("C34") for c in codes)


def test_integral_symptom_dropped_with_confirmed_pneumonia(nlp):
    codes = icd(nlp, "EXAM: CHEST 2 VIEWS\nINDICATION: cough and fever\nFINDINGS: Right lower lobe pneumonia.\n"
                     "IMPRESSION: Right lower lobe pneumonia.")
    assert codes and codes[0].startswith("J18")
    assert not any(c.startswith("R05") or c == "R50.9" for c in codes)


def test_indication_symptom_dropped_when_diagnosis_explains_exam():
    pain = FindingMention("M25.561", "present", "indication", 12, 21, "knee pain")
    oa = FindingMention("M17.11", "present", "impression", 40, 54, "osteoarthritis")
    assert [d.code for d in code_icd10([pain, oa], "x" * 60)] == ["M17.11"]


@pytest.mark.parametrize("side,code", [("left", "M17.12"), ("right", "M17.11")])
def test_laterality_code_from_side_word(nlp, side, code):
    codes = icd(nlp, f"EXAM: XR KNEE 3 VIEWS\nINDICATION: knee pain\nFINDINGS: Joint space narrowing.\n"
                     f"IMPRESSION: Osteoarthritis of the {side} knee.")
    assert code in codes


def test_excludes1_pair_not_both_coded(nlp):
    from radcoder.codesets.icd10cm import load_icd10cm
    table = load_icd10cm()
    a = FindingMention("J18.9", "present", "impression", 0, 9, "pneumonia")
    b = FindingMention("J18.1", "present", "impression", 20, 36, "lobar pneumonia")
    codes = [d.code for d in code_icd10([a, b], "x" * 40, icd=table)]
    for i, x in enumerate(codes):
        for y in codes[i + 1:]:
            assert not table.excludes1_conflict(x, y)


def test_external_cause_never_coded():
    fall = FindingMention("W19.XXXA", "present", "indication", 0, 4, "fall")
    fx = FindingMention("S42.001A", "present", "impression", 10, 30, "clavicle fracture")
    codes = [d.code for d in code_icd10([fall, fx], "x" * 40)]
    assert codes == ["S42.001A"]


def test_reason_for_withheld_contrast_is_present():
    text = "TECHNIQUE: IV contrast was not given due to chronic kidney disease."
    start = text.index("chronic")
    m = FindingMention("N18.9", "negated", "technique", start, start + 22, "chronic kidney disease")
    assert [d.code for d in code_icd10([m], text)] == ["N18.9"]
