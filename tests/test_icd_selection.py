"""Document-level ICD-10-CM selection and first-listed order (guideline §5 icd10cm rules 1-5, §7.8, §7.19):
redundant generic/unspecified codes, catch-all statuses, exam-title/technique mentions, surveillance, order."""

import pytest

from radcoder.codesets.icd10cm import load_icd10cm
from radcoder.coding import FindingMention, code_icd10, code_kind, coding_view, prune_codes, selection_rules


@pytest.fixture(scope="module")
def table():
    return load_icd10cm()


def mention(text, phrase, code, assertion="present", section="impression", nth=0):
    start = -1
    for _ in range(nth + 1):
        start = text.index(phrase, start + 1)
    return FindingMention(code, assertion, section, start, start + len(phrase), phrase)


def codes_of(mentions, text, table, **kw):
    return [d.code for d in code_icd10(mentions, text, icd=table, **kw)]


def test_selection_rules_load_from_data_file():
    rules = selection_rules()
    assert rules.is_uncoded("Z98.890") and rules.is_uncoded("T14.90XA") and rules.is_uncoded("Z09")
    assert not rules.is_uncoded("Z96.651") and not rules.is_uncoded("S42.001A")
    assert any(code == "C80.1" for code, _ in rules.generic)


def test_catch_all_status_and_unspecified_region_injury_not_coded(table):
    text = "INDICATION: injury, s/p surgery\nIMPRESSION: Displaced clavicle fracture."
    ms = [mention(text, "injury", "T14.90XA", section="indication"),
          mention(text, "surgery", "Z98.890", section="indication"),
          mention(text, "clavicle fracture", "S42.001A")]
    assert codes_of(ms, text, table) == ["S42.001A"]


def test_unspecified_code_dropped_beside_specific_code_of_same_category(table):
    assert prune_codes(["M85.80", "M85.89"], table) == ["M85.89"]
    assert prune_codes(["I70.201", "I70.213"], table) == ["I70.213"]
    # two specified codes of one category are both kept (two fractures)
    assert prune_codes(["S82.871A", "S82.831A"], table) == ["S82.871A", "S82.831A"]


def test_generic_code_dropped_when_specific_code_of_its_range_is_selected(table):
    assert prune_codes(["C34.90", "C80.1"], table) == ["C34.90"]
    assert prune_codes(["C80.1"], table) == ["C80.1"]
    # a BI-RADS style "abnormal mammogram" code beside the breast finding itself
    assert prune_codes(["N63.10", "R92.8"], table) == ["N63.10"]
    # nodes are the manifestation of the coded malignancy
    assert prune_codes(["C83.38", "R59.0"], table) == ["C83.38"]
    assert prune_codes(["R91.1", "R59.0"], table) == ["R91.1", "R59.0"]


def test_surveillance_after_treated_cancer_lists_z08_first(table):
    text = ("HISTORY: History of breast cancer treated with lumpectomy. Annual surveillance.\n"
            "IMPRESSION: No evidence of recurrence.")
    ms = [mention(text, "breast cancer", "C50.911", assertion="historical", section="indication")]
    codes = codes_of(ms, text, table)
    assert codes[0] == "Z08" and "Z85.3" in codes


def test_surveillance_not_listed_when_a_finding_answers_the_exam(table):
    text = ("HISTORY: History of breast cancer. Surveillance.\n"
            "IMPRESSION: New 8 mm pulmonary nodule.")
    ms = [mention(text, "breast cancer", "C50.911", assertion="historical", section="indication"),
          mention(text, "pulmonary nodule", "R91.1")]
    codes = codes_of(ms, text, table)
    assert "Z08" not in codes and codes[0] == "R91.1"


def test_diagnosis_named_only_in_technique_is_not_a_reason_for_the_exam(table):
    text = ("INDICATION: Headache.\nTECHNIQUE: 3D TOF MRA of the circle of Willis without contrast.\n"
            "FINDINGS: Normal.\nIMPRESSION: Normal MRA.")
    ms = [mention(text, "Headache", "R51.9", section="indication"),
          mention(text, "TOF", "Q21.3", section="technique")]
    assert codes_of(ms, text, table, has_impression=True) == ["R51.9"]


def test_condition_a_contrast_decision_was_made_for_is_coded(table):
    text = ("INDICATION: Abdominal pain.\nTECHNIQUE: IV contrast was not administered due to acute kidney injury.\n"
            "FINDINGS: Normal.\nIMPRESSION: No acute abnormality.")
    ms = [mention(text, "Abdominal pain", "R10.9", section="indication"),
          mention(text, "acute kidney injury", "N17.9", assertion="negated", section="technique")]
    assert "N17.9" in codes_of(ms, text, table, has_impression=True)


def test_terse_report_body_in_technique_is_read_as_findings(table):
    # no FINDINGS/IMPRESSION header: the unheaded body lines are findings (§7.8), so the confirmed PE explains
    # the chest pain and is first-listed
    text = "CTA chest\nReason: chest pain, eval for PE\nContrast: 75 mL IV\nSegmental emboli. Small effusion."
    ms = [mention(text, "chest pain", "R07.9", section="indication"),
          mention(text, "PE", "I26.99", assertion="hypothetical", section="indication"),
          mention(text, "Small effusion", "J90", section="technique"),
          mention(text, "Segmental emboli", "I26.99", section="technique")]
    view = coding_view(ms, text)
    assert {m.section for m in view if m.code == "J90"} == {"findings"}
    codes = codes_of(ms, text, table)
    assert codes[0] == "I26.99" and "R07.9" not in codes and "J90" in codes


def test_impression_mention_sets_the_order(table):
    text = ("FINDINGS: Complex tear of the medial meniscus. MCL sprain.\n"
            "IMPRESSION: 1. Complex medial meniscal tear. 2. MCL sprain.")
    ms = [mention(text, "Complex tear", "S83.231A", section="findings"),
          mention(text, "MCL sprain", "S83.411A", section="findings"),
          mention(text, "Complex medial meniscal tear", "S83.231A"),
          mention(text, "MCL sprain", "S83.411A", nth=1)]
    assert codes_of(ms, text, table) == ["S83.231A", "S83.411A"]


def test_answer_to_the_exam_question_is_first_listed(table):
    text = ("INDICATION: Rule out pneumonia.\n"
            "IMPRESSION: 1. Small pleural effusion. 2. Right lower lobe pneumonia.")
    ms = [mention(text, "pneumonia", "J18.9", assertion="hypothetical", section="indication"),
          mention(text, "pleural effusion", "J90"),
          mention(text, "lobe pneumonia", "J18.9")]
    assert codes_of(ms, text, table)[0] == "J18.9"


def test_primary_cancer_before_its_metastases(table):
    text = "INDICATION: Prostate cancer, staging.\nIMPRESSION: Osseous metastases."
    ms = [mention(text, "Prostate cancer", "C61", section="indication"),
          mention(text, "Osseous metastases", "C79.51")]
    assert codes_of(ms, text, table) == ["C61", "C79.51"]


def test_incidental_finding_of_another_body_system_follows(table):
    text = "INDICATION: Low back pain.\nIMPRESSION: 1. Simple renal cyst. 2. Lumbar spinal stenosis."
    ms = [mention(text, "Low back pain", "M54.50", section="indication"),
          mention(text, "renal cyst", "N28.1"),
          mention(text, "spinal stenosis", "M48.061")]
    assert codes_of(ms, text, table) == ["M48.061", "N28.1"]


def test_screening_codes_and_breast_ultrasound_screening():
    assert code_kind("Z12.73") == "screening" and code_kind("Z36.3") == "screening"
    text = "BILATERAL BREAST ULTRASOUND (SCREENING)\nINDICATION: Dense breasts, screening."
    ms = [mention(text, "SCREENING", "Z12.31", section="exam")]
    assert [d.code for d in code_icd10(ms, text, screening=True)] == ["Z12.39"]


def test_history_code_of_a_specific_code_follows_its_category(table):
    # the normalizer may make a historical span more specific than the lexicon's code (C18.7 for "sigmoid
    # colon cancer"): the personal-history code still follows (Z85.038), and the family code likewise
    text = "HISTORY: History of sigmoid colon cancer. Mother with breast cancer.\nIMPRESSION: Normal."
    ms = [mention(text, "sigmoid colon cancer", "C18.7", assertion="historical", section="indication"),
          mention(text, "breast cancer", "C50.412", assertion="family", section="indication")]
    codes = codes_of(ms, text, table)
    assert "Z85.038" in codes and "Z80.3" in codes


def cmention(text, phrase, code, concept, assertion="present", section="impression"):
    from dataclasses import replace
    return replace(mention(text, phrase, code, assertion, section), concept=concept)


def test_explained_finding_rule_loads_concepts_from_data_file():
    rules = selection_rules()
    assert "peribronchial_thickening" in rules.explained_findings
    assert "lung_mass" not in rules.explained_findings and "pyelectasis" not in rules.explained_findings


def test_nonspecific_descriptor_of_the_indications_system_not_coded_beside_it(table):
    # Section IV.K / III.B: "bronchial wall thickening" is the imaging picture of the cough that was asked about
    text = "CLINICAL HISTORY: Cough.\nIMPRESSION: Mild bronchial wall thickening."
    ms = [cmention(text, "Cough", "R05.9", "cough", section="indication"),
          cmention(text, "bronchial wall thickening", "R91.8", "peribronchial_thickening")]
    assert codes_of(ms, text, table) == ["R05.9"]
    # urothelial thickening beside a known UTI
    text = "CLINICAL HISTORY: Urinary tract infection.\nIMPRESSION: Urothelial thickening of the left kidney."
    ms = [cmention(text, "Urinary tract infection", "N39.0", "uti", section="indication"),
          cmention(text, "Urothelial thickening", "N28.89", "renal_disorder_other")]
    assert codes_of(ms, text, table) == ["N39.0"]


def test_specific_finding_or_other_system_or_no_reason_keeps_the_abnormal_finding(table):
    text = "CLINICAL HISTORY: Cough.\nIMPRESSION: Right upper lobe mass."
    ms = [cmention(text, "Cough", "R05.9", "cough", section="indication"),
          cmention(text, "mass", "R91.8", "lung_mass")]
    assert "R91.8" in codes_of(ms, text, table)
    text = "CLINICAL HISTORY: Urinary tract infection.\nIMPRESSION: Bronchial wall thickening."
    ms = [cmention(text, "Urinary tract infection", "N39.0", "uti", section="indication"),
          cmention(text, "Bronchial wall thickening", "R91.8", "peribronchial_thickening")]
    assert codes_of(ms, text, table) == ["N39.0", "R91.8"]
    text = "IMPRESSION: Bronchial wall thickening."
    ms = [cmention(text, "Bronchial wall thickening", "R91.8", "peribronchial_thickening")]
    assert codes_of(ms, text, table) == ["R91.8"]


def test_fever_integral_to_known_urinary_tract_infection(table):
    text = "CLINICAL HISTORY: Fever, urinary tract infection.\nIMPRESSION: Normal kidneys."
    ms = [cmention(text, "Fever", "R50.9", "fever", section="indication"),
          cmention(text, "urinary tract infection", "N39.0", "uti", section="indication")]
    assert codes_of(ms, text, table) == ["N39.0"]
