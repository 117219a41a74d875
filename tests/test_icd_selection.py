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


# ------------------------------------------------------------------ combination codes, Excludes1, integral codes
def test_combination_codes_replace_their_parts(table):
    text = "IMPRESSION: Alcoholic cirrhosis. Large volume ascites."
    ms = [mention(text, "Alcoholic cirrhosis", "K70.30"), mention(text, "ascites", "R18.8")]
    assert codes_of(ms, text, table) == ["K70.31"]
    text = "IMPRESSION: Obstructing distal CBD stone with biliary dilatation. Cholelithiasis."
    ms = [mention(text, "CBD stone", "K80.51"), mention(text, "biliary dilatation", "K83.8"),
          mention(text, "Cholelithiasis", "K80.20")]
    assert codes_of(ms, text, table) == ["K80.71"]
    text = "IMPRESSION: 4 mm left UVJ calculus with mild hydronephrosis."
    ms = [mention(text, "UVJ calculus", "N20.1"), mention(text, "hydronephrosis", "N13.30")]
    assert codes_of(ms, text, table) == ["N13.2"]


def test_excludes1_keeps_the_code_the_note_points_to(table):
    # N20 Excludes1 "that with hydronephrosis (N13.2)": N13.2 kept, at the better rank
    text = "IMPRESSION: UVJ calculus with hydronephrosis."
    ms = [mention(text, "UVJ calculus", "N20.1"), mention(text, "hydronephrosis", "N13.2")]
    assert codes_of(ms, text, table) == ["N13.2"]
    # M81 Excludes1 "osteoporosis with current pathological fracture (M80.-)"
    text = "IMPRESSION: Osteoporosis. Osteoporotic L1 compression fracture."
    ms = [mention(text, "Osteoporosis", "M81.0"), mention(text, "compression fracture", "M80.08XA")]
    assert codes_of(ms, text, table) == ["M80.08XA"]


def test_two_injuries_joined_by_an_excludes1_note_are_both_coded(table):
    text = "IMPRESSION: 1. Displaced pilon fracture. 2. Nondisplaced lateral malleolar fracture."
    ms = [mention(text, "pilon fracture", "S82.872A"), mention(text, "lateral malleolar fracture", "S82.65XA")]
    assert codes_of(ms, text, table) == ["S82.872A", "S82.65XA"]


def test_two_conditions_of_one_category_are_not_pruned_as_unspecified(table):
    assert prune_codes(["N13.30", "N13.4"], table) == ["N13.30", "N13.4"]
    assert prune_codes(["C50.919", "C50.412"], table) == ["C50.412"]


def test_manifestations_integral_to_heart_failure_not_coded(table):
    text = "INDICATION: SOB, CHF.\nIMPRESSION: Cardiomegaly with interstitial edema and small effusions, CHF."
    ms = [mention(text, "SOB", "R06.02", section="indication"), mention(text, "CHF", "I50.9", section="indication"),
          mention(text, "Cardiomegaly", "I51.7"), mention(text, "interstitial edema", "J81.1"),
          mention(text, "effusions", "J90"), mention(text, "CHF", "I50.9", nth=1)]
    assert codes_of(ms, text, table) == ["I50.9", "I51.7"]


def test_lymph_nodes_beside_a_solid_primary_stay_coded(table):
    assert prune_codes(["C50.412", "R59.0"], table) == ["C50.412", "R59.0"]
    assert prune_codes(["C77.4", "R59.0"], table) == ["C77.4"]


# ------------------------------------------------------------------ symptoms kept or dropped beside a diagnosis
def test_symptom_not_explained_by_a_chronic_finding_is_first_listed(table):
    text = "INDICATION: Syncope.\nIMPRESSION: Mild bilateral carotid plaque without stenosis."
    ms = [mention(text, "Syncope", "R55", section="indication"), mention(text, "carotid plaque", "I65.23")]
    assert codes_of(ms, text, table) == ["R55", "I65.23"]


def test_symptom_explained_by_the_diagnosis_is_dropped(table):
    text = "INDICATION: Abdominal pain and weight loss, eval chronic mesenteric ischemia.\n" \
           "IMPRESSION: Severe SMA stenosis, compatible with chronic mesenteric ischemia, explaining the pain."
    ms = [mention(text, "Abdominal pain", "R10.9", section="indication"),
          mention(text, "weight loss", "R63.4", section="indication"),
          mention(text, "chronic mesenteric ischemia", "K55.1", "hypothetical", "indication"),
          mention(text, "chronic mesenteric ischemia", "K55.1", nth=1), mention(text, "pain", "R10.9", nth=1)]
    assert codes_of(ms, text, table) == ["K55.1"]


def test_knee_signs_integral_to_knee_injury(table):
    text = "INDICATION: locking and instability.\nIMPRESSION: ACL tear. Bucket-handle medial meniscal tear."
    ms = [mention(text, "locking", "M23.8X2", section="indication"),
          mention(text, "instability", "M25.362", section="indication"),
          mention(text, "ACL tear", "S83.512A"), mention(text, "meniscal tear", "S83.212A")]
    assert codes_of(ms, text, table) == ["S83.512A", "S83.212A"]


# ------------------------------------------------------------------ order, statuses, weeks of gestation
def test_code_first_etiology_before_manifestation(table):
    text = "INDICATION: Ovarian carcinoma, dyspnea.\nIMPRESSION: Large right malignant pleural effusion."
    ms = [mention(text, "Ovarian carcinoma", "C56.9", section="indication"),
          mention(text, "dyspnea", "R06.00", section="indication"),
          mention(text, "malignant pleural effusion", "J91.0")]
    assert codes_of(ms, text, table) == ["C56.9", "J91.0"]


def test_injury_answers_a_trauma_indication_before_a_comorbidity(table):
    text = ("CT HEAD\nCLINICAL HISTORY: Ground-level fall, struck head. On apixaban for atrial fibrillation.\n"
            "IMPRESSION: Left parietal scalp hematoma.")
    ms = [mention(text, "atrial fibrillation", "I48.91", section="indication"),
          mention(text, "scalp hematoma", "S00.03XA")]
    assert codes_of(ms, text, table) == ["S00.03XA", "I48.91"]


def test_indication_status_of_a_site_the_exam_does_not_image_is_not_coded(table):
    text = "CT ANGIOGRAM CHEST\nINDICATION: s/p right total knee arthroplasty, chest pain.\nIMPRESSION: Pulmonary emboli."
    ms = [mention(text, "total knee arthroplasty", "Z96.651", section="indication"),
          mention(text, "Pulmonary emboli", "I26.99")]
    assert codes_of(ms, text, table) == ["I26.99"]
    text = "XR KNEE RIGHT 3 VIEWS\nINDICATION: s/p right total knee arthroplasty, pain.\nIMPRESSION: Tricompartmental OA of the left knee."
    ms = [mention(text, "total knee arthroplasty", "Z96.651", section="indication"),
          mention(text, "OA", "M17.12")]
    assert "Z96.651" in codes_of(ms, text, table)


def test_weeks_of_gestation_with_a_pregnancy_code(table):
    text = ("OB ULTRASOUND >14 WEEKS\nINDICATION: at 20 weeks by LMP. History of preterm delivery at 31 weeks.\n"
            "IMPRESSION: Short cervix.")
    ms = [mention(text, "Short cervix", "O26.872")]
    assert codes_of(ms, text, table) == ["O26.872", "Z3A.20"]
    text = "US ABDOMEN\nINDICATION: pain for 3 weeks.\nIMPRESSION: Cholelithiasis."
    assert codes_of([mention(text, "Cholelithiasis", "K80.20")], text, table) == ["K80.20"]


def test_bilateral_code_replaces_and_covers_the_sides(table):
    assert prune_codes(["I65.23", "I65.22", "I65.21"], table) == ["I65.23"]
    assert prune_codes(["M25.561", "M25.562"], table) == ["M25.561", "M25.562"]  # no bilateral code exists
    text = "IMPRESSION: Right ICA plaque. Left ICA plaque."
    ms = [mention(text, "Right ICA plaque", "I65.21"), mention(text, "Left ICA plaque", "I65.22")]
    assert codes_of(ms, text, table) == ["I65.23"]


def test_diverticulosis_not_coded_beside_diverticulitis_even_when_the_ranker_adds_it(table):
    assert prune_codes(["K57.32", "K57.30"], table) == ["K57.32"]
    assert prune_codes(["K57.20", "K57.32"], table) == ["K57.20"]
    assert prune_codes(["K57.30", "N20.0"], table) == ["K57.30", "N20.0"]


# ---------------------------------------------------------------- round 2: first-listed order on unseen writers
def test_excludes1_nos_note_on_a_whole_category_does_not_exclude_its_other_members(table):
    # I65 Excludes1 "insufficiency, NOS, of precerebral artery (G45.-)": amaurosis fugax G45.3 is still coded
    assert prune_codes(["I65.23", "G45.3"], table) == ["I65.23", "G45.3"]
    # ... but the note still excludes the member that names precerebral insufficiency
    assert prune_codes(["I65.23", "G45.2"], table) == ["G45.2"]
    # specific Excludes1 notes are unaffected
    assert prune_codes(["N20.0", "N13.2"], table) == ["N13.2"]


def test_indication_finding_confirmed_by_the_impression_is_first_listed(table):
    text = ("INDICATION: Follow-up of right upper lobe nodule.\n"
            "IMPRESSION: Stable 6 mm right upper lobe nodule. Centrilobular emphysema.")
    ms = [mention(text, "nodule", "R91.1", section="indication"),
          mention(text, "nodule", "R91.1", nth=1),
          mention(text, "Centrilobular emphysema", "J43.2")]
    assert codes_of(ms, text, table) == ["R91.1", "J43.2"]


def test_confirmed_answer_to_the_question_is_first_even_when_a_finding(table):
    text = ("INDICATION: Headache, vomiting. Evaluate for posterior fossa mass.\n"
            "IMPRESSION: Cerebellar mass with obstructive hydrocephalus.")
    ms = [mention(text, "posterior fossa mass", "R90.0", "hypothetical", "indication"),
          mention(text, "Cerebellar mass", "R90.0"),
          mention(text, "obstructive hydrocephalus", "G91.1")]
    assert codes_of(ms, text, table)[0] == "R90.0"


def test_indication_restated_in_a_trauma_report_does_not_outrank_the_injury(table):
    text = ("Hx: knee swelling after fall.\n"
            "IMP: Effusion and lateral femoral condyle contusion.")
    ms = [mention(text, "swelling", "M25.469", section="indication"),
          mention(text, "Effusion", "M25.469"),
          mention(text, "contusion", "S80.00XA")]
    assert codes_of(ms, text, table)[0] == "S80.00XA"


def test_finding_called_incidental_follows_the_answer(table):
    text = ("EXAM: US CAROTID DUPLEX BILATERAL\nCLINICAL HISTORY: Amaurosis fugax, right eye.\n"
            "IMPRESSION:\n1. Right ICA stenosis of 50-69%.\n2. Left ICA stenosis less than 50%.\n"
            "3. Incidental 1.4 cm left thyroid nodule.")
    ms = [mention(text, "Amaurosis fugax", "G45.3", section="indication"),
          mention(text, "ICA stenosis", "I65.21"),
          mention(text, "ICA stenosis", "I65.22", nth=1),
          mention(text, "thyroid nodule", "E04.1")]
    assert codes_of(ms, text, table) == ["I65.23", "G45.3", "E04.1"]


def test_vascular_exam_finding_answers_a_known_disease_of_another_system(table):
    text = ("EXAM: DUPLEX EVALUATION OF HEMODIALYSIS ACCESS, LEFT ARM\n"
            "INDICATION: ESRD on hemodialysis. Prolonged bleeding after needle removal.\n"
            "IMPRESSION: Greater than 50% stenosis of the cephalic arch outflow.")
    ms = [mention(text, "ESRD", "N18.6", section="indication"),
          mention(text, "hemodialysis", "Z99.2", section="indication"),
          mention(text, "stenosis", "T82.858A")]
    assert codes_of(ms, text, table) == ["T82.858A", "N18.6", "Z99.2"]
    # without a vascular exam title the known kidney disease stays first
    text2 = text.replace("DUPLEX EVALUATION OF HEMODIALYSIS ACCESS", "RENAL ULTRASOUND")
    ms2 = [mention(text2, "ESRD", "N18.6", section="indication"),
           mention(text2, "stenosis", "T82.858A")]
    assert codes_of(ms2, text2, table)[0] == "N18.6"


def test_presenting_lump_characterized_by_a_confirmed_diagnosis_is_not_coded(table):
    text = "INDICATION: Palpable left breast lump.\nIMPRESSION: The palpable lump is a simple cyst."
    ms = [mention(text, "lump", "N63.20", section="indication"),
          mention(text, "lump", "N63.20", nth=1),
          mention(text, "simple cyst", "N60.02")]
    assert codes_of(ms, text, table) == ["N60.02"]
    # a separate mass the indication does not present with stays coded beside the carcinoma
    text2 = ("INDICATION: Known left breast carcinoma.\n"
             "IMPRESSION: Known left breast malignancy. Additional enhancing mass in the left breast.")
    ms2 = [mention(text2, "breast carcinoma", "C50.912", section="indication"),
           mention(text2, "breast malignancy", "C50.912"),
           mention(text2, "enhancing mass", "N63.20")]
    assert "N63.20" in codes_of(ms2, text2, table)


def test_disc_displacement_with_radiculopathy_is_a_combination_code(table):
    text = "INDICATION: Left L5 radiculopathy.\nIMPRESSION: L4-5 disc extrusion with radiculopathy."
    ms = [mention(text, "radiculopathy", "M54.16", section="indication"),
          mention(text, "disc extrusion", "M51.26"),
          mention(text, "radiculopathy", "M54.16", nth=1)]
    assert codes_of(ms, text, table) == ["M51.16"]


def test_family_history_of_a_congenital_malformation(table):
    text = "INDICATION: Hip click. Family history of developmental dysplasia.\nIMPRESSION: Hip dysplasia."
    ms = [mention(text, "developmental dysplasia", "Q65.89", "family", "indication"),
          mention(text, "Hip dysplasia", "Q65.89")]
    assert codes_of(ms, text, table) == ["Q65.89", "Z82.79"]


def test_preoperative_evaluation_is_first_but_preoperative_planning_is_not(table):
    text = ("XR CHEST PA AND LATERAL\nREASON FOR EXAM: Preop evaluation, scheduled for left TKA for osteoarthritis.\n"
            "IMPRESSION: No acute cardiopulmonary abnormality.")
    ms = [mention(text, "Preop evaluation", "Z01.818", section="indication"),
          mention(text, "osteoarthritis", "M17.12", section="indication")]
    assert codes_of(ms, text, table) == ["Z01.811", "M17.12"]
    text2 = "XR KNEE 3 VIEWS\nINDICATION: Osteoarthritis, pre-op planning for right TKA.\nIMPRESSION: Severe osteoarthritis."
    ms2 = [mention(text2, "Osteoarthritis", "M17.11", section="indication"),
           mention(text2, "pre-op", "Z01.818", section="indication"),
           mention(text2, "osteoarthritis", "M17.11")]
    assert codes_of(ms2, text2, table) == ["M17.11"]


def test_disc_combination_takes_the_disc_region_when_the_radiculopathy_names_an_adjacent_level(table):
    text = "INDICATION: Lumbosacral radiculopathy.\nIMPRESSION: L4-5 disc protrusion."
    ms = [mention(text, "Lumbosacral radiculopathy", "M54.17", section="indication"),
          mention(text, "disc protrusion", "M51.26")]
    assert codes_of(ms, text, table) == ["M51.16"]


def test_hypertension_and_diabetes_with_ckd_take_the_combination_codes_and_keep_the_stage(table):
    """I.C.9.a.2 (hypertension + CKD presumed linked) and I.A.15 'with' (diabetes + CKD): I12.9 / E11.22 with the
    additional N18 stage code; ESRD takes I12.0."""
    text = "INDICATION: CKD 4, HTN, DM2.\nIMPRESSION: Renal cyst."
    ms = [mention(text, "CKD 4", "N18.4", section="indication"), mention(text, "HTN", "I10", section="indication"),
          mention(text, "DM2", "E11.9", section="indication"), mention(text, "Renal cyst", "N28.1")]
    got = codes_of(ms, text, table)
    assert set(got) == {"N28.1", "I12.9", "E11.22", "N18.4"}
    assert got.index("I12.9") < got.index("N18.4") and got.index("E11.22") < got.index("N18.4")
    text = "INDICATION: ESRD, HTN.\nIMPRESSION: Renal cyst."
    ms = [mention(text, "ESRD", "N18.6", section="indication"), mention(text, "HTN", "I10", section="indication"),
          mention(text, "Renal cyst", "N28.1")]
    assert set(codes_of(ms, text, table)) == {"N28.1", "I12.0", "N18.6"}
    text = "INDICATION: HTN.\nIMPRESSION: Renal cyst."  # hypertension alone stays I10
    ms = [mention(text, "HTN", "I10", section="indication"), mention(text, "Renal cyst", "N28.1")]
    assert set(codes_of(ms, text, table)) == {"N28.1", "I10"}


def test_diabetes_with_foot_ulcer_and_kidney_with_ureter_calculus_combine(table):
    text = "INDICATION: T2DM, foot ulcer.\nIMPRESSION: Plantar ulcer."
    ms = [mention(text, "T2DM", "E11.9", section="indication"), mention(text, "Plantar ulcer", "L97.509")]
    assert codes_of(ms, text, table) == ["E11.621", "L97.509"]
    text = "IMPRESSION: UVJ stone. Renal stone."
    ms = [mention(text, "UVJ stone", "N20.1"), mention(text, "Renal stone", "N20.0")]
    assert codes_of(ms, text, table) == ["N20.2"]


def test_single_nodule_within_multinodular_goiter_is_not_coded(table):
    text = "IMPRESSION: Multinodular thyroid; dominant nodule."
    ms = [mention(text, "Multinodular thyroid", "E04.2"), mention(text, "nodule", "E04.1")]
    assert codes_of(ms, text, table) == ["E04.2"]


def test_unspecified_injury_and_hemarthrosis_beside_a_specific_injury_of_the_region(table):
    text = "INDICATION: knee injury.\nIMPRESSION: Lateral tibial plateau fracture. Lipohemarthrosis."
    ms = [mention(text, "knee injury", "S89.91XA", section="indication"),
          mention(text, "Lateral tibial plateau fracture", "S82.121A"), mention(text, "Lipohemarthrosis", "M25.061")]
    assert codes_of(ms, text, table) == ["S82.121A"]
    text = "INDICATION: ankle injury.\nIMPRESSION: Weber B distal fibula fracture."
    ms = [mention(text, "ankle injury", "S99.911A", section="indication"),
          mention(text, "Weber B distal fibula fracture", "S82.64XA")]
    assert codes_of(ms, text, table) == ["S82.64XA"]
    # an injury of another region is not made redundant
    text = "INDICATION: shoulder injury.\nIMPRESSION: Weber B distal fibula fracture."
    ms = [mention(text, "shoulder injury", "S49.91XA", section="indication"),
          mention(text, "Weber B distal fibula fracture", "S82.64XA")]
    assert set(codes_of(ms, text, table)) == {"S82.64XA", "S49.91XA"}


def test_peripheral_vascular_disease_not_coded_beside_limb_atherosclerosis(table):
    """I73.9 Excludes1: atherosclerosis of the extremities (I70.2-I70.7-)."""
    text = "INDICATION: PVD, claudication.\nIMPRESSION: Atherosclerosis of the native arteries of the right leg."
    ms = [mention(text, "PVD", "I73.9", section="indication"),
          mention(text, "Atherosclerosis of the native arteries of the right leg", "I70.211")]
    assert "I73.9" not in codes_of(ms, text, table)
    assert prune_codes(["I73.9", "I70.219"], table) == ["I70.219"]


# ---------------------------------------------------------------------------------------------- session 4 (q set)
def test_smoker_in_the_sentence_after_a_screening_sentence_stays_present(table):
    text = ("INDICATION: Annual lung cancer screening. 63-year-old current smoker.\n"
            "IMPRESSION: Lung-RADS 2 nodule. Paraseptal emphysema.")
    ms = [mention(text, "screening", "Z12.2", section="indication"),
          mention(text, "smoker", "F17.210", section="indication"),
          mention(text, "Paraseptal emphysema", "J43.8")]
    assert codes_of(ms, text, table, screening=True) == ["Z12.2", "J43.8", "F17.210"]
    # the condition screened for in the same sentence is still the hypothetical target
    text2 = "INDICATION: Screening for lung cancer in a smoker.\nIMPRESSION: Negative."
    ms2 = [mention(text2, "Screening", "Z12.2", section="indication"),
           mention(text2, "smoker", "F17.210", section="indication")]
    assert "F17.210" not in codes_of(ms2, text2, table, screening=True)


def test_old_infarct_only_in_findings_is_not_a_history_code(table):
    text = ("History: arm weakness.\nFINDINGS: Acute infarct. An old lacunar infarct is noted in the thalamus.\n"
            "IMPRESSION: Acute left MCA infarct.")
    ms = [mention(text, "Acute infarct", "I63.9", section="findings"),
          mention(text, "lacunar infarct", "I63.81", assertion="historical", section="findings"),
          mention(text, "MCA infarct", "I63.9")]
    assert codes_of(ms, text, table, has_impression=True) == ["I63.9"]
    # restated in the impression -> Z86.73
    text2 = text + " Remote lacunar infarct."
    ms2 = ms + [mention(text2, "lacunar infarct", "I63.81", assertion="historical", nth=1)]
    assert codes_of(ms2, text2, table, has_impression=True) == ["I63.9", "Z86.73"]


def test_postoperative_changes_coded_only_when_the_impression_states_them(table):
    text = ("HISTORY: back pain. History of L5-S1 microdiscectomy.\nFINDINGS: postoperative changes at L5-S1.\n"
            "IMPRESSION: L4-5 disc extrusion. Postoperative changes at L5-S1.")
    ms = [mention(text, "microdiscectomy", "Z98.890", section="indication"),
          mention(text, "postoperative changes", "Z98.890", section="findings"),
          mention(text, "disc extrusion", "M51.16"),
          mention(text, "Postoperative changes", "Z98.890")]
    assert codes_of(ms, text, table) == ["M51.16", "Z98.890"]
    assert codes_of(ms[:3] + [mention(text, "disc extrusion", "M51.16")], text, table) == ["M51.16"]
    assert selection_rules().is_uncoded("Z98.890", "indication") and not selection_rules().is_uncoded("Z98.890", "impression")
    assert selection_rules().is_uncoded("Z97.8", "impression")  # a drain the procedure placed is no status


def test_gallstones_with_acute_cholecystitis_take_the_combination_code(table):
    text = "INDICATION: gallstones on US. IMPRESSION: Acute cholecystitis. Stone impacted in the neck."
    ms = [mention(text, "gallstones", "K80.20", section="indication"),
          mention(text, "Acute cholecystitis", "K81.0")]
    assert codes_of(ms, text, table) == ["K80.00"]
    ms2 = [mention(text, "Acute cholecystitis", "K80.01"), mention(text, "Stone impacted", "K80.21")]
    assert codes_of(ms2, text, table) == ["K80.01"]


def test_head_symptom_kept_beside_a_scalp_or_spine_injury(table):
    text = "Hx: fell from monkey bars, struck scalp, vomited, headache, neck pain.\nIMP: Scalp hematoma. C7 spinous process fracture."
    ms = [mention(text, "vomited", "R11.10", section="indication"),
          mention(text, "headache", "R51.9", section="indication"),
          mention(text, "neck pain", "M54.2", section="indication"),
          mention(text, "Scalp hematoma", "S00.03XA"),
          mention(text, "C7 spinous process fracture", "S12.691A")]
    got = codes_of(ms, text, table)
    assert "R11.10" in got and "R51.9" in got and "M54.2" not in got
    # an intracranial injury explains them
    text2 = "Hx: fall, headache, vomiting.\nIMP: Acute subdural hematoma."
    ms2 = [mention(text2, "headache", "R51.9", section="indication"),
           mention(text2, "vomiting", "R11.10", section="indication"),
           mention(text2, "subdural hematoma", "S06.5XAA")]
    assert codes_of(ms2, text2, table) == ["S06.5XAA"]


def test_incidental_diagnosis_does_not_explain_the_indication_symptom(table):
    text = ("Reason for exam: Microscopic hematuria.\nIMPRESSION:\n1. Enhancing renal mass, suspicious for renal cell "
            "carcinoma.\n2. Incidental cholelithiasis without evidence of cholecystitis.")
    ms = [mention(text, "Microscopic hematuria", "R31.29", section="indication"),
          mention(text, "renal mass", "N28.89"),
          mention(text, "renal cell carcinoma", "C64.1", assertion="uncertain"),
          mention(text, "cholelithiasis", "K80.20")]
    assert codes_of(ms, text, table) == ["N28.89", "R31.29", "K80.20"]


def test_stated_cause_explains_and_simple_ovarian_cyst_does_not(table):
    text = "Hx: postmenopausal bleeding.\nIMPRESSION: 1. Endometrial thickening. 2. Simple left ovarian cyst."
    ms = [mention(text, "postmenopausal bleeding", "N95.0", section="indication"),
          mention(text, "Endometrial thickening", "R93.89"),
          mention(text, "ovarian cyst", "N83.202")]
    # the bleeding stays coded (nothing explains it); the thickening that answers it is listed first (§7.22.2(b))
    assert codes_of(ms, text, table)[:2] == ["R93.89", "N95.0"]
    text2 = "Hx: acute right pelvic pain.\nIMPRESSION: Right ovarian hemorrhagic cyst, which likely accounts for the patient's pain."
    ms2 = [mention(text2, "pelvic pain", "R10.2", section="indication"),
           mention(text2, "ovarian hemorrhagic cyst", "N83.201")]
    assert codes_of(ms2, text2, table) == ["N83.201"]


def test_finding_suspicious_for_malignancy_is_first_listed_before_the_symptom(table):
    text = "Hx: cough x3 wks.\nIMP: New left midlung nodule, suspicious for metastasis. Recommend CT."
    ms = [mention(text, "cough", "R05.2", section="indication"),
          mention(text, "midlung nodule", "R91.1"),
          mention(text, "metastasis", "C78.00", assertion="uncertain")]
    assert codes_of(ms, text, table) == ["R91.1", "R05.2"]
    # not before a confirmed malignancy
    text2 = "Hx: breast cancer, lump.\nIMP: Invasive carcinoma, left breast. Second mass, suspicious for malignancy."
    ms2 = [mention(text2, "Invasive carcinoma", "C50.912"),
           mention(text2, "Second mass", "N63.20"),
           mention(text2, "malignancy", "C50.912", assertion="uncertain")]
    assert codes_of(ms2, text2, table)[0] == "C50.912"


def test_hemoperitoneum_with_splenic_laceration_and_myeloma_lesions_not_coded(table):
    text = "IMPRESSION: Grade III splenic laceration with small hemoperitoneum.\nLytic lesions, compatible with multiple myeloma."
    ms = [mention(text, "splenic laceration", "S36.032A"), mention(text, "hemoperitoneum", "S36.899A"),
          mention(text, "Lytic lesions", "R93.7"), mention(text, "multiple myeloma", "C90.00")]
    assert codes_of(ms, text, table) == ["S36.032A", "C90.00"]


def test_pathologic_fracture_due_to_neoplasm_is_sequenced_first(table):
    text = "HISTORY: Metastatic renal cell carcinoma. Hip pain.\nIMPRESSION: Pathologic fracture of the right femoral neck through a lytic metastasis."
    ms = [mention(text, "renal cell carcinoma", "C64.9", section="indication"),
          mention(text, "Hip pain", "M25.551", section="indication"),
          mention(text, "Pathologic fracture", "M84.551A"),
          mention(text, "lytic metastasis", "C79.51")]
    assert codes_of(ms, text, table)[0] == "M84.551A"


def test_seizure_kept_beside_the_vasogenic_edema_of_a_mass(table):
    text = "INDICATION: first-time seizure.\nIMPRESSION: Necrotic enhancing frontal mass with vasogenic edema, suspicious for glioma."
    ms = [mention(text, "seizure", "R56.9", section="indication"),
          mention(text, "frontal mass", "R90.0"), mention(text, "vasogenic edema", "G93.6"),
          mention(text, "glioma", "C71.1", assertion="uncertain")]
    assert codes_of(ms, text, table) == ["R90.0", "R56.9", "G93.6"]


def test_catch_all_current_drug_therapy_is_not_coded_but_named_drug_classes_are():
    rules = selection_rules()
    assert rules.is_uncoded("Z79.899", "indication")
    assert not rules.is_uncoded("Z79.01", "indication") and not rules.is_uncoded("Z79.52", "indication")


def test_abnormal_finding_answering_the_symptom_follows_diagnoses_and_precedes_the_symptom(table):
    # §7.22.2(b): an impression's abnormal finding of the body system the symptom asks about comes before the symptom
    text = "Hx: gross hematuria.\nIMPRESSION: Filling defect in the left renal pelvis."
    ms = [mention(text, "hematuria", "R31.0", section="indication"),
          mention(text, "Filling defect", "R93.41")]
    assert codes_of(ms, text, table) == ["R93.41", "R31.0"]
    # a finding of another body system does not answer it
    text2 = "Hx: gross hematuria.\nIMPRESSION: Small pulmonary nodule at the lung bases."
    ms2 = [mention(text2, "hematuria", "R31.0", section="indication"),
           mention(text2, "pulmonary nodule", "R91.1")]
    assert codes_of(ms2, text2, table)[0] == "R31.0"


def test_history_codes_precede_incidental_findings_but_not_the_answer(table):
    # §7.22.2: answer, then the indication's history, then what the report calls incidental
    text = ("Hx: cough. History of colon cancer.\nIMPRESSION:\n1. Right lower lobe pneumonia.\n"
            "2. Incidental 1.4 cm left thyroid nodule.")
    ms = [mention(text, "cough", "R05.9", section="indication"),
          mention(text, "colon cancer", "C18.9", assertion="historical", section="indication"),
          mention(text, "pneumonia", "J18.9"),
          mention(text, "thyroid nodule", "E04.1")]
    assert codes_of(ms, text, table) == ["J18.9", "Z85.038", "E04.1"]
    # nothing answers the indication: the order is unchanged (the finding is not pushed behind the history code)
    text2 = "History of colon cancer.\nIMPRESSION: Incidental 1.4 cm left thyroid nodule."
    ms2 = [mention(text2, "colon cancer", "C18.9", assertion="historical", section="indication"),
           mention(text2, "thyroid nodule", "E04.1")]
    assert codes_of(ms2, text2, table)[0] == "E04.1"


def test_signs_of_cellulitis_are_integral(table):
    text = "Hx: redness, swelling and pain of the left leg.\nIMPRESSION: Cellulitis of the left lower leg."
    ms = [mention(text, "redness", "L53.9", section="indication"),
          mention(text, "swelling", "R22.42", section="indication"),
          mention(text, "pain", "M79.605", section="indication"),
          mention(text, "Cellulitis", "L03.116")]
    assert codes_of(ms, text, table) == ["L03.116"]


def test_pleural_effusion_is_integral_to_heart_failure(table):
    text = "Hx: CHF exacerbation.\nIMP: Congestive heart failure with small bilateral pleural effusions."
    ms = [mention(text, "CHF", "I50.9", section="indication"),
          mention(text, "Congestive heart failure", "I50.9"),
          mention(text, "pleural effusions", "J91.8")]
    assert codes_of(ms, text, table) == ["I50.9"]


def test_screening_is_answered_by_its_target_and_other_findings_are_incidental(table):
    # §7.22.2: lung cancer screening -> the nodule answers it; the smoking risk factor precedes the incidental findings
    text = ("LOW-DOSE CT CHEST FOR LUNG CANCER SCREENING\nIndication: Lung cancer screening. Current smoker.\n"
            "IMPRESSION:\n1. Centrilobular emphysema.\n2. 5 mm right upper lobe nodule, Lung-RADS 2.\n"
            "3. Coronary artery calcification.")
    ms = [mention(text, "SCREENING", "Z12.2", section="exam"),
          mention(text, "screening", "Z12.2", section="indication"),
          mention(text, "Current smoker", "F17.210", section="indication"),
          mention(text, "emphysema", "J43.2"),
          mention(text, "nodule", "R91.1"),
          mention(text, "Coronary artery calcification", "I25.10")]
    assert codes_of(ms, text, table) == ["Z12.2", "R91.1", "F17.210", "J43.2", "I25.10"]
    rules = selection_rules()
    assert rules.screening_target(["Z12.2"], "R91.1") is True
    assert rules.screening_target(["Z12.2"], "J43.2") is False
    assert rules.screening_target(["Z11.3"], "A54.9") is None   # no target list: the order is left as it is


def test_small_vessel_ischemic_change_does_not_explain_headache(table):
    text = ("Hx: headache.\nIMPRESSION: 1. No acute intracranial abnormality. 2. Mild chronic small vessel ischemic "
            "change.")
    ms = [mention(text, "headache", "R51.9", section="indication"),
          mention(text, "chronic small vessel ischemic change", "I67.82")]
    assert codes_of(ms, text, table) == ["R51.9", "I67.82"]


def test_status_named_only_in_the_indication_needs_the_impression(table):
    # §7.19: a status is coded when the exam evaluates it or the impression states it
    text = "Hx: abdominal pain, prior appendectomy.\nIMPRESSION: Nonobstructive bowel gas pattern."
    ms = [mention(text, "abdominal pain", "R10.9", section="indication"),
          mention(text, "appendectomy", "Z90.49", section="indication")]
    assert codes_of(ms, text, table, has_impression=True) == ["R10.9"]
    text2 = "Hx: abdominal pain, prior colectomy.\nIMPRESSION: Intact colorectal anastomosis. No leak."
    ms2 = [mention(text2, "abdominal pain", "R10.9", section="indication"),
           mention(text2, "colectomy", "Z90.49", section="indication")]
    assert "Z90.49" in codes_of(ms2, text2, table, has_impression=True)
    # the exam images the site of the status on its side: evaluated; the other breast: not
    text4 = "RIGHT DIAGNOSTIC MAMMOGRAM\nHx: s/p right mastectomy, palpable axillary lump.\nIMPRESSION: BI-RADS 1."
    ms4 = [mention(text4, "mastectomy", "Z90.11", section="indication")]
    assert "Z90.11" in codes_of(ms4, text4, table, has_impression=True)
    text5 = "LEFT DIAGNOSTIC MAMMOGRAM\nHx: s/p right mastectomy, palpable lump.\nIMPRESSION: BI-RADS 1."
    ms5 = [mention(text5, "mastectomy", "Z90.11", section="indication")]
    assert "Z90.11" not in codes_of(ms5, text5, table, has_impression=True)
    # drug therapy is not a status the impression must restate
    text3 = "Hx: fall on warfarin.\nIMPRESSION: No acute intracranial abnormality."
    ms3 = [mention(text3, "fall", "W19.XXXA", section="indication"),
           mention(text3, "warfarin", "Z79.01", section="indication")]
    assert "Z79.01" in codes_of(ms3, text3, table, has_impression=True)


def test_newborn_rds_takes_in_its_opacities(table):
    text = "Hx: preterm infant with respiratory distress.\nIMPRESSION: Diffuse granular opacities, consistent with RDS."
    ms = [mention(text, "granular opacities", "R91.8"),
          mention(text, "RDS", "P22.0")]
    assert codes_of(ms, text, table) == ["P22.0"]


def test_diverticulitis_with_abscess_and_cholecystitis_signs(table):
    text = "Hx: LLQ pain.\nIMPRESSION: Acute sigmoid diverticulitis with a 3 cm pericolic abscess."
    ms = [mention(text, "sigmoid diverticulitis", "K57.32"), mention(text, "abscess", "K65.1")]
    assert codes_of(ms, text, table) == ["K57.20"]
    text2 = "Hx: RUQ pain.\nIMPRESSION: Acute calculous cholecystitis: gallstones, gallbladder wall thickening."
    ms2 = [mention(text2, "RUQ pain", "R10.11", section="indication"),
           mention(text2, "Acute calculous cholecystitis", "K80.00"),
           mention(text2, "gallbladder wall thickening", "K82.8")]
    assert codes_of(ms2, text2, table) == ["K80.00"]


@pytest.mark.parametrize("dx_phrase, dx_code", [("acute left MCA infarct", "I63.512"),
                                                 ("left M1 occlusion", "I66.02")])
def test_stroke_deficits_coded_after_confirmed_infarct_or_occlusion(table, dx_phrase, dx_code):
    # GUIDELINE §7.23.1: focal deficits are not integral to a stroke; generalized weakness still is explained
    text = f"INDICATION: aphasia, right facial droop, weakness.\nIMPRESSION: {dx_phrase.capitalize()}."
    ms = [mention(text, "aphasia", "R47.01", section="indication"),
          mention(text, "facial droop", "R29.810", section="indication"),
          mention(text, "weakness", "R53.1", section="indication"),
          mention(text, dx_phrase.capitalize(), dx_code)]
    assert codes_of(ms, text, table) == [dx_code, "R47.01", "R29.810"]
    assert selection_rules().is_coded_beside("R47.01", {dx_code})
    assert not selection_rules().is_coded_beside("R47.01", {"C71.9"})


def test_stroke_deficits_stay_the_reason_when_no_stroke_is_found(table):
    text = "INDICATION: aphasia.\nIMPRESSION: No acute infarct."
    ms = [mention(text, "aphasia", "R47.01", section="indication"),
          mention(text, "acute infarct", "I63.9", assertion="negated")]
    assert codes_of(ms, text, table) == ["R47.01"]


def test_device_the_procedure_places_is_no_status(table):
    text = "EXAM: RIGHT PERCUTANEOUS NEPHROSTOMY\nINDICATION: Obstructing stone.\nIMPRESSION: Nephrostomy placed."
    ms = [mention(text, "Obstructing stone", "N20.1", section="indication"),
          mention(text, "Nephrostomy placed", "Z93.6")]
    assert codes_of(ms, text, table) == ["N20.1"]
    text = "XR CHEST 1V PORTABLE\nHx: PICC placed, confirm tip.\nIMPRESSION: PICC tip at the cavoatrial junction."
    ms = [mention(text, "PICC tip", "Z95.828")]
    assert codes_of(ms, text, table) == ["Z95.828"]   # a film checking the device evaluates it


def test_perforated_appendicitis_with_abscess_is_one_combination_code(table):
    text = "IMPRESSION: Perforated acute appendicitis with a periappendiceal abscess."
    ms = [mention(text, "Perforated acute appendicitis", "K35.32"), mention(text, "periappendiceal abscess", "K35.33")]
    assert codes_of(ms, text, table) == ["K35.33"]


def test_asthma_exacerbation_drops_the_uncomplicated_code(table):
    text = "Hx: asthma exacerbation.\nIMPRESSION: Findings compatible with asthma."
    ms = [mention(text, "asthma exacerbation", "J45.901", section="indication"), mention(text, "asthma", "J45.909", nth=1)]
    assert codes_of(ms, text, table) == ["J45.901"]


def test_inversion_injury_fracture_answers_before_the_swelling_it_explains(table):
    text = ("History: Inverted her left ankle stepping off a curb. Left foot swelling.\nFINDINGS: Jones fracture.\n"
            "IMPRESSION: Nondisplaced Jones fracture of the left fifth metatarsal base. Soft tissue swelling.")
    ms = [mention(text, "foot swelling", "R22.42", section="indication"),
          mention(text, "Nondisplaced Jones fracture", "S92.355A"), mention(text, "Soft tissue swelling", "R22.42")]
    assert codes_of(ms, text, table)[0] == "S92.355A"
