"""CPT/HCPCS selection from exam frames in the §5 schema (no ``procedure``/``subtype`` elements), as the
coder does it: codes, modifiers, units, bundling and supply/drug lines."""

import pytest
import spacy

from radcoder.codesets.procedures import load_cpt
from radcoder.components.coder import Coder
from radcoder.cpt_coding import is_screening, modifiers_for, select_cpt
from radcoder.extensions import register_extensions


@pytest.fixture(scope="module")
def coder():
    register_extensions()
    return Coder(spacy.blank("en"))


def F(modality, region, laterality=None, contrast="na", views=None, extent=None, guidance=None):
    return {"modality": modality, "region": region, "laterality": laterality, "contrast": contrast, "views": views,
            "extent": extent, "guidance": guidance}


def code(coder, text, frames, setting="global", payer=None):
    doc = coder.nlp.make_doc(text)
    doc._.payer = payer
    cpt = coder._cpt_lines(doc, frames, setting)
    hc = coder._hcpcs_lines(doc, cpt, setting)
    return sorted((ln.code, tuple(sorted(ln.modifiers)), ln.units) for ln in cpt + hc)


def test_schema_frame_procedure_from_title(coder):
    text = "US-GUIDED RIGHT THORACENTESIS\nIndication: Effusion.\nTechnique: 1 L removed. Images saved."
    assert code(coder, text, [F("IR", "chest", "right", guidance="US")]) == [("32555", ("RT",), 1)]


def test_second_lesion_is_the_addon(coder):
    text = "US-GUIDED FINE NEEDLE ASPIRATION, THYROID, 2 NODULES\nIndication: Nodules."
    fr = F("IR", "thyroid", guidance="US")
    assert code(coder, text, [fr, dict(fr)]) == [("10005", (), 1), ("10006", (), 1)]
    # one frame whose title counts the lesions
    assert code(coder, text, [fr]) == [("10005", (), 1), ("10006", (), 1)]


def test_right_and_left_frames_are_two_lines(coder):
    text = "MRI RIGHT AND LEFT HIPS WITHOUT CONTRAST\nIndication: Pain."
    frames = [F("MR", "hip", "right", "without"), F("MR", "hip", "left", "without")]
    assert code(coder, text, frames) == [("73721", ("LT",), 1), ("73721", ("RT",), 1)]


def test_unilateral_screening_mammogram_is_reduced(coder):
    text = "LEFT SCREENING MAMMOGRAM WITH TOMOSYNTHESIS\nHistory: s/p right mastectomy. Annual screening."
    frames = [F("MAMMO", "breast", "left", views=2), F("DBT", "breast", "left", views=2)]
    assert code(coder, text, frames) == [("77063", (), 1), ("77067", ("52",), 1)]


def test_diagnostic_tomosynthesis_by_payer(coder):
    text = ("LEFT DIAGNOSTIC MAMMOGRAM WITH TOMOSYNTHESIS\nHistory: palpable lump.\n"
            "COMPARISON: Screening mammogram 10/21/2024.\nFindings: Negative.")
    frames = [F("MAMMO", "breast", "left", views=3), F("DBT", "breast", "left", views=3)]
    assert code(coder, text, frames) == [("77065", ("LT",), 1), ("G0279", (), 1)]
    assert code(coder, text, frames, payer="commercial") == [("77061", ("LT",), 1), ("77065", ("LT",), 1)]


def test_screening_word_in_comparison_only():
    assert not is_screening("LEFT DIAGNOSTIC MAMMOGRAM\nCOMPARISON: Screening mammogram 2024.\nFindings: x")
    assert is_screening("BILATERAL MAMMOGRAM\nIndication: Annual screening.\nFindings: x")


def test_digit_modifiers(coder):
    assert code(coder, "Exam: Left ring finger, 3 views.\nFindings: x", [F("XR", "finger", "left", views=3)]) == \
        [("73140", ("F3",), 1)]
    assert code(coder, "RT GREAT TOE 3V\nFindings: x", [F("XR", "toe", "right", views=3)]) == [("73660", ("T5",), 1)]


def test_same_day_repeat_read_by_another_physician(coder):
    text = ("EXAM: CT HEAD WITHOUT CONTRAST\nINDICATION: Hemorrhage on CT at 07:30 today (interpreted by Dr. A).\n"
            "COMPARISON: CT head 07:30 today.\nFINDINGS: Larger hematoma.")
    assert code(coder, text, [F("CT", "head", contrast="without")]) == [("70450", ("77",), 1)]
    text = "LIMITED OB US (REPEAT, SAME DAY)\nReason: position.\nFindings: transverse lie."
    assert code(coder, text, [F("US", "obstetric", extent="limited")]) == [("76815", ("76",), 1)]


def test_repeat_applies_to_the_first_exam_only(coder):
    text = ("RADIOGRAPH CHEST, 1 VIEW; ABDOMEN 1 VIEW\nReason: wheezing; Repeat same-day study after the earlier "
            "examination today\nFindings: x")
    frames = [F("XR", "chest", views=1), F("XR", "abdomen", views=1)]
    assert code(coder, text, frames) == [("71045", ("76",), 1), ("74018", (), 1)]


def test_ribs_with_pa_chest_is_one_code(coder):
    text = "RIGHT RIBS WITH PA CHEST, 3 VIEWS\nIndication: Fall."
    frames = [F("XR", "ribs", "right", views=1), F("XR", "chest", views=3)]
    assert code(coder, text, frames) == [("71101", ("RT",), 1)]


def test_transabdominal_and_transvaginal_pelvic_us(coder):
    text = "PELVIC ULTRASOUND, TRANSABDOMINAL AND TRANSVAGINAL\nIndication: Pain."
    assert code(coder, text, [F("US", "pelvis")]) == [("76830", (), 1), ("76856", (), 1)]
    assert code(coder, text, [F("US", "pelvis", extent="complete"), F("US", "pelvis")]) == \
        [("76830", (), 1), ("76856", (), 1)]


def test_dxa_with_vfa_bundles_the_vfa(coder):
    text = "DXA BONE DENSITOMETRY WITH VERTEBRAL FRACTURE ASSESSMENT\nIndication: Osteoporosis."
    assert code(coder, text, [F("DEXA", "axial_skeleton"), F("DEXA", "thoracic_spine")]) == [("77085", (), 1)]


def test_scout_film_is_part_of_the_gi_study(coder):
    text = "EXAM: UPPER GI SERIES, SINGLE CONTRAST\nTECHNIQUE: Scout radiograph, then barium.\nFINDINGS: Normal."
    assert code(coder, text, [F("XR", "abdomen", views=1), F("FLUORO", "abdomen", contrast="with")]) == \
        [("74240", (), 1)]


def test_breast_us_bilateral_uses_50(coder):
    text = "BILATERAL WHOLE BREAST ULTRASOUND, COMPLETE\nIndication: Dense breasts."
    assert code(coder, text, [F("US", "breast", "bilateral", extent="complete")]) == [("76641", ("50",), 1)]


def test_radiopharmaceutical_per_100_uci_and_drug_dose(coder):
    text = ("THYROID UPTAKE AND SCAN\nIndication: Hyperthyroidism.\nTechnique: 300 uCi I-123 sodium iodide orally.\n"
            "Findings: Uptake 38%.")
    assert code(coder, text, [F("NM", "thyroid")]) == [("78014", (), 1), ("A9516", (), 3)]
    text = ("MYOCARDIAL PERFUSION IMAGING, SPECT, REST AND PHARMACOLOGIC STRESS\nTechnique: 10 mCi Tc-99m sestamibi "
            "at rest. Stress: regadenoson 0.4 mg IV followed by 30 mCi Tc-99m sestamibi.\nFindings: Normal.")
    assert code(coder, text, [F("NM", "heart")]) == [("78452", (), 1), ("A9500", (), 2), ("J2785", (), 4)]
    assert code(coder, text, [F("NM", "heart")], setting="professional") == [("78452", ("26",), 1)]


def test_vcug_with_its_bladder_injection(coder):
    text = "VOIDING CYSTOURETHROGRAM (VCUG)\nTechnique: A urethral catheter was placed and contrast instilled."
    assert code(coder, text, [F("FLUORO", "bladder", contrast="with")]) == [("51600", (), 1), ("74455", (), 1)]


def test_views_range_and_venous_duplex_side(coder):
    assert code(coder, "EXAM: XR SACROILIAC JOINTS, 3 VIEWS\nFindings: x",
                [F("XR", "sacroiliac_joints", "bilateral", views=3)]) == [("72202", (), 1)]
    assert code(coder, "DUPLEX RIGHT LOWER EXTREMITY VEINS\nFindings: No DVT.",
                [F("DUPLEX", "lower_extremity_veins", "right", extent="complete")]) == [("93971", ("RT",), 1)]


def test_reduced_service_52_rules():
    cpt = load_cpt()
    text = "NM GASTRIC EMPTYING STUDY\nTechnique: The study was terminated early because the patient vomited."
    fr = F("NM", "stomach")
    c = cpt.get(select_cpt([fr], cpt, text)[0].code)
    assert c.code == "78264"
    assert modifiers_for(c, fr, "global", text, cpt.allowed_modifiers(c.code)) == [["52"]]
    # a radiograph code is chosen by the views obtained: never 52
    text = "EXAM: IVP\nTECHNIQUE: Scout AP abdomen; the study was discontinued. Only the scout is interpreted."
    fr = F("XR", "abdomen", views=1)
    c = cpt.get(select_cpt([fr], cpt, text)[0].code)
    assert c.code == "74018"
    assert modifiers_for(c, fr, "global", text, cpt.allowed_modifiers(c.code)) == [[]]


def test_study_named_in_title_beats_an_unfitting_frame_region(coder):
    assert code(coder, "TIMED BARIUM ESOPHAGRAM\nFindings: Normal.", [F("FLUORO", "chest", contrast="with")]) == \
        [("74220", (), 1)]
    assert code(coder, "RENAL ARTERY DUPLEX\nFindings: No stenosis.",
                [F("DUPLEX", "kidney", "bilateral", extent="complete")]) == [("93975", (), 1)]
    # a venous duplex is not a visceral-vessel study; an unsided carotid duplex is the complete bilateral code
    assert code(coder, "LEFT LOWER EXTREMITY VEINS DUPLEX\nFindings: No DVT.",
                [F("DUPLEX", "lower_extremity_veins", "left")]) == [("93971", ("LT",), 1)]
    assert code(coder, "CAROTID DUPLEX\nFindings: <50% stenosis.", [F("DUPLEX", "carotid")]) == [("93880", (), 1)]


def test_bare_radioiodine_isotope_is_sodium_iodide(coder):
    text = "NM THYROID UPTAKE AND SCAN\nHx: suppressed TSH.\nI-123 300 uCi PO. Uptake at 4 and 24 hr.\nDiffuse uptake."
    assert code(coder, text, [F("NM", "thyroid")]) == [("78014", (), 1), ("A9516", (), 3)]


def test_one_line_report_title_ends_at_the_next_label(coder):
    text = ("CT-GUIDED PERCUTANEOUS DRAINAGE OF HEPATIC ABSCESS. INDICATION: Liver abscess. PROCEDURE: Limited "
            "noncontrast CT of the upper abdomen for planning. Catheter placed. Images stored.")
    assert code(coder, text, [F("IR", "liver", guidance="CT")]) == [("49405", (), 1)]


def test_ob_us_naming_only_the_transvaginal_approach_is_the_transvaginal_code(coder):
    text = "TV OB US <14 WKS\nHx: vaginal bleeding, 8 weeks.\nIMP: Single live intrauterine pregnancy."
    assert code(coder, text, [F("US", "obstetric")]) == [("76817", (), 1)]
    text2 = "OB US <14 WKS\nHx: dating.\nIMP: Single live intrauterine pregnancy."
    assert code(coder, text2, [F("US", "obstetric")]) == [("76801", (), 1)]


def test_ob_us_with_added_transvaginal_exam(coder):
    text = "EXAM: OB ULTRASOUND >14 WEEKS, SINGLE GESTATION, WITH TRANSVAGINAL CERVICAL LENGTH\nIndication: Short cervix."
    assert code(coder, text, [F("US", "obstetric"), F("US", "obstetric")]) == [("76805", (), 1), ("76817", (), 1)]


def test_us_vascular_access_guidance_needs_a_recorded_image(coder):
    frames = [F("IR", "chest", "right", guidance="US")]
    frames[0]["procedure"] = "port"
    text = "PORT PLACEMENT\nIndication: Cancer.\nTechnique: Right IJ accessed with ultrasound guidance."
    assert "76937" not in [c for c, _m, _u in code(coder, text, frames)]
    text += " A permanent image was recorded."
    assert "76937" in [c for c, _m, _u in code(coder, text, frames)]


def test_port_with_ultrasound_access_and_fluoroscopic_positioning_bills_both_guidance_codes(coder):
    frames = [F("IR", "chest", "right", guidance="US")]
    frames[0]["procedure"] = "port"
    text = ("PORT PLACEMENT\nIndication: Cancer.\nTechnique: Right IJ accessed with ultrasound guidance; a permanent "
            "image was recorded. The catheter was advanced under fluoroscopic guidance.")
    codes = [c for c, _m, _u in code(coder, text, frames)]
    assert "76937" in codes and "77001" in codes
    # no fluoroscopy documented: ultrasound guidance only
    text2 = text.replace(" The catheter was advanced under fluoroscopic guidance.", "")
    assert "77001" not in [c for c, _m, _u in code(coder, text2, frames)]


def test_fluoro_guided_arthrogram_injection_bills_guidance(coder):
    text = "FLUOROSCOPICALLY GUIDED LEFT SHOULDER ARTHROGRAM INJECTION FOR MR ARTHROGRAPHY\nINDICATION: Labral tear."
    assert code(coder, text, [F("FLUORO", "shoulder", "left", contrast="with")]) == \
        [("23350", ("LT",), 1), ("77002", (), 1)]


def test_percutaneous_pelvic_abscess_drainage_is_not_the_transrectal_code(coder):
    text = ("CT-GUIDED PERCUTANEOUS DRAINAGE, PELVIC ABSCESS\nINDICATION: Diverticulitis with abscess.\nPROCEDURE: "
            "Transgluteal approach under CT guidance; 10 Fr catheter placed.")
    assert code(coder, text, [F("IR", "pelvis", guidance="CT")]) == [("49406", (), 1)]
    tv = text.replace("Transgluteal", "Transvaginal")
    assert code(coder, tv, [F("IR", "pelvis", guidance="CT")]) == [("49407", (), 1)]


# ---------------------------------------------------------------- round 2
def test_abi_without_levels_is_limited(coder):
    t = "ANKLE-BRACHIAL INDEX\nResting ankle-brachial indices were obtained bilaterally.\nImpression: Normal."
    assert code(coder, t, [F("DUPLEX", "extremity_arteries", "bilateral")]) == [("93922", (), 1)]
    t2 = "ANKLE-BRACHIAL INDEX\nSegmental pressures and pulse volume recordings at thigh, calf and ankle.\nImp: Normal."
    assert code(coder, t2, [F("DUPLEX", "extremity_arteries", "bilateral")]) == [("93923", (), 1)]


def test_dialysis_access_duplex_vs_vessel_mapping(coder):
    t = "DUPLEX OF HEMODIALYSIS ACCESS, LEFT ARM\nFistula flow 600 mL/min."
    assert code(coder, t, [F("DUPLEX", "dialysis_access", "left")]) == [("93990", (), 1)]
    t2 = "DUPLEX VESSEL MAPPING PRIOR TO AV FISTULA CREATION, LEFT ARM\nVeins patent."
    assert [c for c, _, _ in code(coder, t2, [F("DUPLEX", "dialysis_access", "left")])] == ["93986"]


def test_twin_gestation_adds_each_additional_gestation(coder):
    t = "OB US <14 WEEKS\nTwo intrauterine gestational sacs; dichorionic diamniotic twin pregnancy."
    assert code(coder, t, [F("US", "obstetric", extent="complete")]) == [("76801", (), 1), ("76802", (), 1)]


def test_pet_initial_staging_title_wins_over_recommended_follow_up(coder):
    t = ("PET/CT SKULL BASE TO MID-THIGH, INITIAL STAGING\nINDICATION: New lung cancer.\nFINDINGS: Avid mass.\n"
         "IMPRESSION: Follow-up chest CT recommended for a small nodule.")
    assert code(coder, t, [F("PET", "skull_base_to_mid_thigh", contrast="without")], setting="professional") == \
        [("78815", ("26", "PI"), 1)]


def test_recommended_repeat_is_not_modifier_76(coder):
    t = "EXAM: XR RIGHT ELBOW 3V  HISTORY: fall. FINDINGS: Effusion. IMPRESSION: Consider repeat views in 7-10 days."
    assert code(coder, t, [F("XR", "elbow", "right", views=3)]) == [("73080", ("RT",), 1)]


def test_contrast_supply_of_guided_injection(coder):
    t = ("LEFT L5-S1 TRANSFORAMINAL EPIDURAL STEROID INJECTION\nProcedure: Injection of 1 mL Omnipaque 240 under "
         "fluoroscopy.")
    fr = [F("IR", "lumbar_sacral_spine", "left", contrast="with", guidance="FLUORO")]
    assert ("Q9966", (), 1) in code(coder, t, fr)
    assert not any(c.startswith("Q99") for c, _, _ in code(coder, t, fr, setting="professional"))


def test_limited_said_of_another_exam_in_the_statement_adds_no_52(coder):
    from radcoder.cpt_coding import _limited_for
    title = "DIAGNOSTIC MAMMOGRAM LEFT WITH TOMOSYNTHESIS; LIMITED LEFT BREAST US"
    assert not _limited_for(title, "MAMMO") and _limited_for(title, "US")
    assert _limited_for("XR CHEST, LIMITED", "XR")


def test_hysterosalpingogram_and_ct_myelogram_bill_their_injection_procedures(coder):
    from radcoder.cpt_coding import companion_codes
    assert companion_codes("74740", "Uterine catheterization was performed with a balloon catheter.") == ["58340"]
    assert companion_codes("72132", "LUMBAR MYELOGRAM WITH CT. Intrathecal contrast via L2-3 puncture.") == ["62304"]
    assert companion_codes("72132", "CT LUMBAR SPINE WITH IV CONTRAST for infection.") == []


def test_ribs_with_pa_chest_written_with_w_slash(coder):
    text = "XR RIBS LT W/ PA CHEST, MIN 3 VIEWS\nHx: fall, left rib pain.\nIMP: No fracture."
    assert code(coder, text, [F("XR", "ribs", "left", views=3)]) == [("71101", ("LT",), 1)]
