"""Round-4 behaviour (blind waves AV-AZ and BA-BE): loss-of-consciousness axis, vertebral levels, paired title
words, perinephric hematoma, collections that are the named abscess, trimesters, lactation, lines and tubes,
newborn codes, liver fibrosis, degenerative meniscal tears, salivary diagnoses; frames and CPT for guided
procedures, two exams in one title, infant surveys, renal ultrasound, withheld contrast; assertion cues.
Rules-only pipeline (no trained NER, no ranker)."""

import pytest

import radcoder
from normalizer_helpers import normalize_with_spans as _doc
from normalizer_helpers import cpt, icd, record  # noqa: F401
from radcoder import icd_specificity as spec

pytest.importorskip("simple_icd_10_cm")


@pytest.fixture(scope="module")
def nlp(rules_nlp):
    return rules_nlp


def _codes(doc):
    return [(e.text, e._.icd10cm) for e in doc.ents if e.label_ == "FINDING"]


# ---------------------------------------------------------------- normalization

@pytest.mark.parametrize("history,code", [
    ("Fall, struck his forehead. No loss of consciousness.", "S06.5X0A"),
    ("MVC with LOC.", "S06.5X9A"),
    ("Found down. Loss of consciousness unknown.", "S06.5XAA"),
    ("Fall.", "S06.5XAA"),
])
def test_intracranial_injury_takes_the_documented_consciousness_state(nlp, history, code):
    text = f"EXAM: CT HEAD\nHISTORY: {history}\nFINDINGS: Acute right subdural hematoma."
    doc = _doc(nlp, text, [("subdural hematoma", "FINDING")])
    assert _codes(doc) == [("subdural hematoma", code)]


def test_abbreviated_fracture_and_vertebral_level(nlp):
    doc = _doc(nlp, "IMPRESSION: Stable L1 burst fx.", [("L1 burst fx", "FINDING")])
    assert _codes(doc) == [("L1 burst fx", "S32.011A")]
    # a level pair in the code title ('T11-T12 vertebra') is one place: T12 alone names it
    assert spec.refine("S22.000A", spec.build_context("T12 compression fracture")) == "S22.080A"


def test_type_ii_dens_fracture_by_displacement(nlp):
    doc = _doc(nlp, "IMPRESSION: Posteriorly displaced type II odontoid fracture.",
               [("type II odontoid fracture", "FINDING")])
    assert _codes(doc) == [("type II odontoid fracture", "S12.111A")]


def test_one_place_named_in_two_title_words(nlp):
    # 'left ankle and foot': the report names the foot
    ctx = spec.build_context("foot osteomyelitis", side="left", sentence_text="44M with acute L foot osteomyelitis.")
    assert spec.refine("M86.10", ctx) == "M86.172"


def test_part_of_the_femoral_neck_fills_the_unspecified_part():
    ctx = spec.build_context("Displaced transcervical left femoral neck fracture", side="left")
    assert spec.refine("S72.002A", ctx) == "S72.032A"


def test_intra_articular_fracture_is_the_other_intraarticular_code():
    ctx = spec.build_context("Intra-articular distal radius fracture", side="right")
    assert spec.refine("S52.501A", ctx) == "S52.571A"


def test_perinephric_hematoma_after_biopsy_is_postprocedural(nlp):
    text = "HISTORY: Flank pain after renal biopsy.\nFINDINGS: Right perinephric hematoma."
    assert _codes(_doc(nlp, text, [("perinephric hematoma", "FINDING")])) == [("perinephric hematoma", "N99.840")]
    text = "EXAM: XR RIGHT FEMUR\nHISTORY: Fall.\nFINDINGS: Large thigh hematoma."
    assert _codes(_doc(nlp, text, [("thigh hematoma", "FINDING")]))[0][1].startswith("S70.1")


def test_a_collection_is_the_abscess_the_report_names(nlp):
    text = ("HISTORY: Perforated appendicitis with RLQ abscess, drain placed.\n"
            "FINDINGS: Residual rim-enhancing collection has decreased.")
    doc = _doc(nlp, text, [("RLQ abscess", "FINDING"), ("rim-enhancing collection", "FINDING")])
    assert dict(_codes(doc)) == {"RLQ abscess": "K65.1", "rim-enhancing collection": "K65.1"}
    # an abscess only suspected is not what the collection is
    text = "FINDINGS: Gas-containing pelvic fluid collection, concerning for abscess."
    doc = _doc(nlp, text, [("fluid collection", "FINDING"), ("abscess", "FINDING")])
    assert dict(_codes(doc))["fluid collection"] != dict(_codes(doc))["abscess"]


def test_lactation_and_newborn_codes(nlp):
    text = "HISTORY: 6 wks postpartum, breastfeeding.\nFINDINGS: Breast abscess at 3:00."
    assert _codes(_doc(nlp, text, [("Breast abscess", "FINDING")])) == [("Breast abscess", "O91.13")]
    text = "HISTORY: 9-day-old girl.\nFINDINGS: Gastroesophageal reflux to the thoracic inlet."
    assert _codes(_doc(nlp, text, [("Gastroesophageal reflux", "FINDING")])) == [("Gastroesophageal reflux", "P78.83")]
    text = "HISTORY: 29-year-old woman with galactorrhea."
    assert _codes(_doc(nlp, text, [("galactorrhea", "FINDING")])) == [("galactorrhea", "N64.3")]


def test_liver_fibrosis_and_stiffness(nlp):
    text = "EXAM: US LIVER WITH SHEAR WAVE ELASTOGRAPHY\nIMPRESSION: Liver stiffness 8.1 kPa, compatible with F2 fibrosis."
    doc = _doc(nlp, text, [("stiffness", "FINDING"), ("F2 fibrosis", "FINDING")])
    assert _codes(doc) == [("stiffness", None), ("F2 fibrosis", "K74.01")]
    text = "EXAM: CT CHEST\nIMPRESSION: Basilar pulmonary fibrosis."
    assert _codes(_doc(nlp, text, [("pulmonary fibrosis", "FINDING")]))[0][1].startswith("J84")


def test_degenerative_meniscal_tear_is_a_derangement(nlp):
    text = "EXAM: MRI RIGHT KNEE\nIMPRESSION: Degenerative horizontal tear of the posterior horn of the right medial meniscus."
    doc = _doc(nlp, text, [("Degenerative horizontal tear", "FINDING")])
    assert _codes(doc) == [("Degenerative horizontal tear", "M23.221")]


def test_salivary_diagnoses(nlp):
    text = "FINDINGS: 7 mm obstructing calculus in the left Wharton duct."
    assert _codes(_doc(nlp, text, [("obstructing calculus", "FINDING")])) == [("obstructing calculus", "K11.5")]
    text = "FINDINGS: 5 mm obstructing calculus at the left UVJ."
    assert _codes(_doc(nlp, text, [("obstructing calculus", "FINDING")]))[0][1] != "K11.5"
    text = "IMPRESSION: Left parotid lesion, most consistent with pleomorphic adenoma."
    assert _codes(_doc(nlp, text, [("pleomorphic adenoma", "FINDING")])) == [("pleomorphic adenoma", "D11.0")]


def test_acute_on_chronic_heart_failure(nlp):
    text = "HISTORY: Acute on chronic diastolic heart failure."
    assert _codes(_doc(nlp, text, [("diastolic heart failure", "FINDING")])) == [("diastolic heart failure", "I50.33")]


def test_bone_density_is_no_lung_opacity(nlp):
    text = "IMPRESSION: Osteoporosis with stable bone density on alendronate."
    assert _codes(_doc(nlp, text, [("bone density", "FINDING")])) == [("bone density", None)]


# ---------------------------------------------------------------- document codes

def test_pregnancy_code_takes_the_trimester_of_the_gestational_age(nlp):
    codes = icd(nlp, "EXAM: OB US\nINDICATION: Dichorionic diamniotic twin pregnancy at 20 weeks 1 day.\n"
                     "FINDINGS: Two live fetuses.\nIMPRESSION: Live dichorionic diamniotic twin gestation at 20w1d.")
    assert "O30.042" in codes and "Z3A.20" in codes and "O30.041" not in codes


def test_weeks_postpartum_are_no_gestational_age(nlp):
    codes = icd(nlp, "US BREAST LTD\nHx: 6 wks postpartum, breastfeeding.\nFindings: Abscess at 3:00, 3 cm.\n"
                     "Imp: Breast abscess.")
    assert "O91.13" in codes and not any(c.startswith("Z3A") for c in codes)


def test_line_checked_by_the_film_is_coded(nlp):
    text = ("PORTABLE CXR 1V\nHx: ETT in place for acute hypoxic respiratory failure; new R IJ central line.\n"
            "FINDINGS: ETT tip 4 cm above the carina. Right IJ central venous catheter tip at the cavoatrial junction.\n"
            "IMPRESSION: ETT and R IJ CVC in satisfactory position.")
    assert "Z97.8" in icd(nlp, text)
    # a tube named only in the body is not coded
    text = ("CT ABDOMEN PELVIS WITHOUT CONTRAST\nHISTORY: Acute kidney injury.\nFINDINGS: Foley catheter in the "
            "bladder. No hydronephrosis.\nIMPRESSION: No hydronephrosis.")
    assert "Z97.8" not in icd(nlp, text)
    # the malpositioned line is coded as its complication, not its presence
    text = ("EXAM: CHEST, SINGLE VIEW\nINDICATION: PICC placed; confirm tip position.\nFINDINGS: The PICC tip projects "
            "over the right internal jugular vein.\nIMPRESSION: PICC malposition, tip in the right internal jugular vein.")
    codes = icd(nlp, text)
    assert "T82.524A" in codes and "Z97.8" not in codes


def test_one_fracture_one_encounter(nlp):
    text = ("XR RIBS LEFT\nHISTORY: Known left 5th-7th rib fractures 4 weeks ago. Follow-up.\n"
            "FINDINGS: Healing fractures of the left 5th, 6th and 7th ribs with callus.\n"
            "IMPRESSION: Healing left 5th through 7th rib fractures.")
    codes = icd(nlp, text)
    assert "S22.42XD" in codes and "S22.42XA" not in codes


def test_low_probability_scan_is_not_the_disease(nlp):
    text = ("LUNG VENTILATION/PERFUSION SCINTIGRAPHY\nIndication: acute dyspnea, hypoxemia. r/o PE.\n"
            "Findings: No mismatched segmental perfusion defect.\nIMP: Low probability for pulmonary embolism.")
    codes = icd(nlp, text)
    assert not any(c.startswith("I26") for c in codes) and "R06.00" in codes


def test_assertion_cues_of_round4(nlp):
    doc = nlp("CT HEAD WO\nHx: Headache. Neg CT head at time of injury per outside records.\nIMP: Negative.")
    assert [e._.assertion for e in doc.ents if e.text == "injury"] in ([], ["historical"])
    spans = radcoder.assert_spans(nlp, "History: Woman with known osteoporosis has been treated with alendronate "
                                       "since 2021.", [(30, 42)])
    assert spans == ["present"]


# ---------------------------------------------------------------- frames and CPT

def test_guided_procedures(nlp):
    assert cpt(nlp, "ULTRASOUND-GUIDED DRAINAGE CATHETER PLACEMENT, LEFT THIGH ABSCESS\nClinical history: fever.\n"
                    "Procedure: Under continuous ultrasound guidance an 8 French catheter was placed into the "
                    "collection.\nImpression: Successful placement.") == [("10030", ())]
    assert cpt(nlp, "US ABDOMEN LIMITED - PRE-PARACENTESIS MARKING\nHx: cirrhosis.\nSmall volume ascites. No safe "
                    "window.\nIMP: Procedure not performed.") == [("76705", ())]
    assert cpt(nlp, "Ultrasound-guided left thoracentesis with post-procedure chest radiograph.\nHistory: effusion.\n"
                    "Findings: An upright AP view of the chest was obtained afterward. Small residual effusion.") == \
        [("32555", ("LT",)), ("71045", ())]


def test_two_exams_joined_by_and_in_the_title(nlp):
    text = ("LEFT DIAGNOSTIC MAMMOGRAM AND LEFT BREAST ULTRASOUND\nREASON FOR EXAM: Palpable lump.\nTECHNIQUE: Left CC, "
            "MLO and spot compression views. Targeted ultrasound of the left breast at 2 o'clock.\nFINDINGS: Simple "
            "cyst.\nIMPRESSION: Simple cyst of the left breast.")
    assert cpt(nlp, text) == [("76642", ("LT",)), ("77065", ("LT",))]
    # one exam of two body parts stays one exam statement
    assert cpt(nlp, "CT ABDOMEN AND PELVIS WITH CONTRAST\nHx: pain\nFindings: normal.") == [("74177", ())]


def test_extent_abbreviation_and_infant_survey(nlp):
    assert cpt(nlp, "US BREAST LTD\nHx: lump.\nFindings: 1 cm cyst at 3:00.\nImp: Cyst.") == [("76642", ())]
    assert cpt(nlp, "SKELETAL SURVEY, INFANT\nHistory: Femur fracture.\nA complete skeletal survey was performed.\n"
                    "IMPRESSION: No other fracture.") == [("77076", ())]


def test_renal_ultrasound_without_side_is_both_kidneys(nlp):
    text = ("US RENAL COMPLETE\nReason: AKI.\nR kidney 11.2 cm, L kidney 10.8 cm. No hydronephrosis.\n"
            "Bladder decompressed around a Foley catheter.\nIMP: No hydronephrosis.")
    assert cpt(nlp, text) == [("76770", ())]


def test_withheld_contrast_is_a_noncontrast_exam(nlp):
    text = ("CT CHEST WITHOUT CONTRAST. HISTORY: Empyema. TECHNIQUE: Helical noncontrast CT of the chest; IV contrast "
            "withheld per the primary team. COMPARISON: CT chest with contrast 11/19/2026. FINDINGS: Smaller empyema.")
    assert cpt(nlp, text) == [("71250", ())]


# ---------------------------------------------------------------- wave BF-BJ

def test_exam_names_without_a_modality_word(nlp):
    assert cpt(nlp, "KUB\nHistory: Known left nephrolithiasis, follow-up.\nComparison: CT abdomen and pelvis.\n"
                    "A supine single view of the abdomen was obtained. Stable left renal calculus.") == [("74018", ())]
    assert cpt(nlp, "LEFT UPPER EXTREMITY VENOGRAM\nClinical history: Vein mapping before fistula creation.\n"
                    "50 mL of Omnipaque 300 was injected under fluoroscopy. Focal subclavian vein stenosis.") == \
        [("75820", ("LT",))]
    assert ("47000", ()) in cpt(nlp, "US GUIDED RANDOM LIVER BX\nHx: elevated transaminases.\n18g core x2 from the "
                                     "right lobe under US guidance.\nIMP: Successful liver biopsy.")


def test_limb_abbreviation_in_a_vascular_title(nlp):
    assert cpt(nlp, "DUPLEX RT LE ARTERIAL - STENT SURVEILLANCE\nHx: PAD s/p R SFA stent.\nMid-stent PSV 310 cm/s.\n"
                    "IMP: Focal in-stent stenosis, mid R SFA.") == [("93926", ("RT",))]


def test_quadrant_ultrasound_is_limited(nlp):
    assert cpt(nlp, "EXAM: ULTRASOUND RIGHT LOWER QUADRANT (APPENDIX)\nREASON FOR EXAM: RLQ pain.\nFINDINGS: "
                    "Noncompressible 10 mm appendix.\nIMPRESSION: Acute appendicitis.") == [("76705", ())]


def test_pet_strategy_ignores_recommended_follow_up():
    from radcoder.cpt_coding import pet_strategy_modifier
    text = ("PET-CT TUMOR IMAGING\nREASON FOR EXAM: 2.2 cm pulmonary nodule on CT, characterize.\nFINDINGS: Low "
            "uptake.\nIMPRESSION: 1. Nodule. 2. Incidental aortic aneurysm; vascular surgery follow-up suggested.")
    assert pet_strategy_modifier(text) == "PI"
    assert pet_strategy_modifier("PET-CT\nHistory: Lymphoma, restaging after chemotherapy.\nFindings: None.") == "PS"


def test_vault_fracture_and_stroke_sequela(nlp):
    text = "FINDINGS: Nondisplaced linear parietal skull fracture."
    assert _codes(_doc(nlp, text, [("skull fracture", "FINDING")])) == [("skull fracture", "S02.0XXA")]
    text = "HISTORY: Prior left MCA stroke with residual right hemiparesis. New dysarthria."
    doc = _doc(nlp, text, [("hemiparesis", "FINDING")])
    assert _codes(doc) == [("hemiparesis", "I69.351")]
    assert _codes(_doc(nlp, "HISTORY: Acute left hemiparesis.", [("hemiparesis", "FINDING")])) == \
        [("hemiparesis", "G81.90")]


def test_breast_mri_screening_is_not_a_screening_mammogram(nlp):
    codes = icd(nlp, "MRI BILATERAL BREASTS WITHOUT AND WITH CONTRAST - HIGH RISK SCREENING\nINDICATION: BRCA1 "
                     "carrier, high-risk screening.\nFINDINGS: No suspicious enhancement.\nIMPRESSION: BI-RADS 1.")
    assert "Z12.39" in codes and "Z12.31" not in codes


def test_intact_hardware_is_no_complication(nlp):
    text = ("EXAM: RIGHT WRIST, 3 VIEWS\nHISTORY: Follow-up distal radius fracture.\nFINDINGS: Volar plate fixation "
            "unchanged, without hardware loosening.\nIMPRESSION: 1. Healing fracture after volar plate fixation; "
            "hardware intact.")
    assert not any(c.startswith("T84") for c in icd(nlp, text))


# ---------------------------------------------------------------- wave BK-BO

def test_context_codes_of_round5(nlp):
    text = "HISTORY: Metastatic neuroendocrine tumor.\nFINDINGS: Multiple liver metastases."
    assert _codes(_doc(nlp, text, [("liver metastases", "FINDING")])) == [("liver metastases", "C7B.02")]
    text = "HISTORY: Prostate cancer s/p radical prostatectomy. Rising PSA."
    assert _codes(_doc(nlp, text, [("Rising PSA", "FINDING")])) == [("Rising PSA", "R97.21")]
    text = "Hx: SNF pt s/p L MCA CVA with dysphagia."
    assert _codes(_doc(nlp, text, [("dysphagia", "FINDING")])) == [("dysphagia", "I69.391")]


def test_stroke_sequela_is_coded_under_a_history_cue(nlp):
    codes = icd(nlp, "XR CHEST 1 VIEW PORTABLE\nHx: SNF pt s/p L MCA CVA with dysphagia. Feeding tube placed.\n"
                     "FINDINGS: Lungs clear.\nIMPRESSION: No acute process.")
    assert "I69.391" in codes


def test_emphysema_is_the_copd_coded(nlp):
    codes = icd(nlp, "CT CHEST WITHOUT CONTRAST\nHISTORY: COPD, former smoker.\nFINDINGS: Centrilobular emphysema.\n"
                     "IMPRESSION: Centrilobular emphysema.")
    assert any(c.startswith("J43") for c in codes) and not any(c.startswith("J44") for c in codes)
