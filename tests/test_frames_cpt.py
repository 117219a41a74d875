"""Behaviour tests of exam frames -> CPT/HCPCS lines, modifiers and flags (rules-only pipeline)."""

import pytest

from normalizer_helpers import record as run


@pytest.fixture(scope="module")
def nlp(rules_nlp):
    return rules_nlp


def lines(rec):
    return sorted((c["code"], tuple(sorted(c["modifiers"])), c["units"]) for c in rec["cpt"])


def flags(rec):
    return {f["code"] for f in rec["flags"]}


def test_chest_two_views(nlp):
    rec = run(nlp, "EXAM: XR CHEST PA AND LATERAL\nINDICATION: Cough.\nFINDINGS: Lungs clear.\nIMPRESSION: Normal.")
    assert lines(rec) == [("71046", (), 1)]
    assert rec["frames"][0]["views"] == 2


def test_view_names_counted(nlp):
    rec = run(nlp, "EXAM: XR RIGHT ANKLE\nINDICATION: Injury.\nTECHNIQUE: AP, mortise and lateral views.\n"
                   "FINDINGS: No fracture.")
    assert rec["frames"][0]["views"] == 3
    assert lines(rec) == [("73610", ("RT",), 1)]


def test_ct_abdomen_pelvis_without_and_with(nlp):
    rec = run(nlp, "EXAM: CT ABDOMEN AND PELVIS WITHOUT AND WITH CONTRAST\nINDICATION: Hematuria.\n"
                   "FINDINGS: Normal.")
    assert rec["frames"][0]["region"] == "abdomen_pelvis"
    assert [c["code"] for c in rec["cpt"]] == ["74178"]


def test_oral_contrast_only_is_without(nlp):
    rec = run(nlp, "EXAM: CT ABDOMEN AND PELVIS\nINDICATION: Pain.\nTECHNIQUE: Oral contrast only. No IV contrast.\n"
                   "FINDINGS: Normal.")
    assert [c["code"] for c in rec["cpt"]] == ["74176"]


def test_contrast_ordered_not_given(nlp):
    rec = run(nlp, "EXAM: CT HEAD WITH CONTRAST\nINDICATION: Headache.\nTECHNIQUE: Contrast was not administered "
                   "because of allergy.\nFINDINGS: Normal.")
    assert [c["code"] for c in rec["cpt"]] == ["70450"]
    assert "header_body_discrepancy" in flags(rec)


def test_before_and_after_is_without_with(nlp):
    rec = run(nlp, "EXAM: CT HEAD WITH CONTRAST\nINDICATION: Metastases.\nTECHNIQUE: Axial images before and after "
                   "75 mL Omnipaque 350 IV.\nFINDINGS: Normal.")
    assert rec["frames"][0]["contrast"] == "without_with"
    assert [c["code"] for c in rec["cpt"]] == ["70470"]


def test_contrast_supply_per_ml(nlp):
    rec = run(nlp, "EXAM: CT CHEST WITH CONTRAST\nINDICATION: Mass.\nTECHNIQUE: Axial CT after 75 mL Omnipaque 350 IV."
                   "\nFINDINGS: Normal.")
    assert [(h["code"], h["units"]) for h in rec["hcpcs"]] == [("Q9967", 75)]
    rec = run(nlp, "EXAM: CT CHEST WITH CONTRAST\nINDICATION: Mass.\nTECHNIQUE: Axial CT after 75 mL Omnipaque 350 IV."
                   "\nFINDINGS: Normal.", setting="professional")
    assert rec["hcpcs"] == []


def test_bilateral_knees_two_lines(nlp):
    rec = run(nlp, "EXAM: XR BILATERAL KNEES 2 VIEWS\nINDICATION: Knee pain.\nFINDINGS: Mild osteoarthritis.")
    assert lines(rec) == [("73560", ("LT",), 1), ("73560", ("RT",), 1)]


def test_professional_setting_adds_26(nlp):
    rec = run(nlp, "EXAM: XR CHEST PA AND LATERAL\nINDICATION: Cough.\nFINDINGS: Clear.", setting="professional")
    assert lines(rec) == [("71046", ("26",), 1)]


def test_left_knee_mri(nlp):
    rec = run(nlp, "EXAM: MRI LEFT KNEE WITHOUT CONTRAST\nINDICATION: Knee pain.\nFINDINGS: Meniscal tear.")
    assert lines(rec) == [("73721", ("LT",), 1)]


def test_missing_laterality_flag(nlp):
    rec = run(nlp, "KNEE 2 VIEWS\nIndication: Knee pain.\nFindings: No fracture.")
    assert "missing_laterality" in flags(rec)
    assert lines(rec) == [("73560", (), 1)]


def test_two_exams_in_title(nlp):
    rec = run(nlp, "Left hand 3 views and left wrist 3 views\nIndication: Fall.\nFindings: No fracture.")
    assert lines(rec) == [("73110", ("LT",), 1), ("73130", ("LT",), 1)]


def test_screening_mammogram_with_tomosynthesis(nlp):
    rec = run(nlp, "EXAM: BILATERAL SCREENING MAMMOGRAM WITH TOMOSYNTHESIS\nINDICATION: Annual screening.\n"
                   "FINDINGS: No suspicious mass.\nIMPRESSION: BI-RADS 1.")
    codes = [c["code"] for c in rec["cpt"]]
    assert "77067" in codes and "77063" in codes


def test_us_abdomen_complete_missing_organs(nlp):
    rec = run(nlp, "EXAM: US ABDOMEN COMPLETE\nINDICATION: Abdominal pain.\nFINDINGS: The liver is normal. "
                   "The gallbladder is normal.\nIMPRESSION: Normal.")
    assert [c["code"] for c in rec["cpt"]] == ["76705"] or "76700" in [c["code"] for c in rec["cpt"]]
    assert "ultrasound_completeness_unsupported" in flags(rec)


def test_repeat_same_day_76(nlp):
    rec = run(nlp, "CT chest w/o contrast - repeat\nHx: Pneumothorax.\nFindings: Small pneumothorax.")
    assert lines(rec) == [("71250", ("76",), 1)]


def test_comparison_exam_is_not_a_frame(nlp):
    rec = run(nlp, "EXAM: XR CHEST PA AND LATERAL\nINDICATION: Cough.\nCOMPARISON: CT abdomen 01/2024.\n"
                   "FINDINGS: Clear.")
    assert [c["code"] for c in rec["cpt"]] == ["71046"]
    assert len(rec["frames"]) == 1


def test_pet_ct_code_and_radiopharmaceutical(nlp):
    rec = run(nlp, "EXAM: FDG PET/CT SKULL BASE TO MID THIGH\nINDICATION: Lymphoma, restaging.\nTECHNIQUE: 10.8 mCi F-18 FDG "
                   "IV. Low dose CT for attenuation correction, no IV contrast.\nFINDINGS: No abnormal uptake.")
    assert [c["code"] for c in rec["cpt"]] == ["78815"]
    assert rec["frames"][0]["contrast"] == "without"
    assert [(h["code"], h["units"]) for h in rec["hcpcs"]] == [("A9552", 1)]


def test_radiopharmaceutical_units_per_mci(nlp):
    rec = run(nlp, "Ga-68 DOTATATE PET/CT\nIndication: Neuroendocrine tumor, initial staging.\nTechnique: 5.1 mCi Ga-68 "
                   "dotatate was administered intravenously. PET from the skull base to mid-thigh.\nFindings: Normal.")
    assert [c["code"] for c in rec["cpt"]] == ["78815"]
    assert [(h["code"], h["units"]) for h in rec["hcpcs"]] == [("A9587", 51)]


def test_bone_scan_whole_body(nlp):
    rec = run(nlp, "BONE SCAN, WHOLE BODY\nTechnique: 22 mCi Tc-99m MDP IV; whole body planar images at 3 hours.\n"
                   "Findings: Normal.")
    assert [c["code"] for c in rec["cpt"]] == ["78306"]
    assert [h["code"] for h in rec["hcpcs"]] == ["A9503"]


def test_contrast_ordered_but_not_given_is_without(nlp):
    rec = run(nlp, "EXAM: CT ABDOMEN AND PELVIS WITHOUT CONTRAST\nINDICATION: Weight loss.\nTECHNIQUE: CT was performed "
                   "without contrast. IV contrast was ordered but not administered because of renal failure.\nFINDINGS: Normal.")
    assert [c["code"] for c in rec["cpt"]] == ["74176"]


def test_guided_procedure_title_is_ir_frame(nlp):
    rec = run(nlp, "EXAMINATION: ULTRASOUND-GUIDED PARACENTESIS\nHISTORY: Ascites.\nTECHNIQUE: Under ultrasound guidance "
                   "a catheter was advanced into the peritoneal cavity.\nFINDINGS: 3 L removed.")
    assert rec["frames"][0]["modality"] == "IR" and rec["frames"][0]["guidance"] == "US"
    assert [c["code"] for c in rec["cpt"]] == ["49083"]


def test_liver_biopsy_separate_ct_guidance(nlp):
    rec = run(nlp, "EXAM: CT GUIDED LIVER BIOPSY\nHISTORY: Liver lesion.\nTECHNIQUE: Under CT guidance an 18-gauge core "
                   "biopsy of the liver lesion was obtained. Images were saved.\nFINDINGS: No complication.")
    assert sorted(c["code"] for c in rec["cpt"]) == ["47000", "77012"]


def test_dexa_hip_and_spine_is_axial(nlp):
    rec = run(nlp, "EXAM: DEXA BONE DENSITY HIP AND SPINE\nINDICATION: Osteoporosis screening.\nFINDINGS: T-score -1.2.")
    assert [f["region"] for f in rec["frames"]] == ["axial_skeleton"]


def test_renal_us_titled_complete_without_required_elements_is_limited(nlp):
    rec = run(nlp, "RENAL ULTRASOUND COMPLETE\nHistory: Acute kidney injury.\nFindings: Right kidney 11.8 cm. Left kidney "
                   "12.0 cm. No hydronephrosis.\nImpression: Normal kidneys.")
    assert [c["code"] for c in rec["cpt"]] == ["76775"]
    assert "ultrasound_completeness_unsupported" in flags(rec)
    rec = run(nlp, "RENAL ULTRASOUND COMPLETE\nHistory: Acute kidney injury.\nFindings: Right kidney 11.8 cm. Left kidney "
                   "12.0 cm. No hydronephrosis. The bladder is normal.\nImpression: Normal kidneys and bladder.")
    assert [c["code"] for c in rec["cpt"]] == ["76770"]


# ---------------------------------------------------------------- round 3 (writers M-P): general conventions
def test_named_deviation_and_rotation_views_counted(nlp):
    rec = run(nlp, "EXAM: XR WRIST LEFT, 4 VIEWS\nINDICATION: Scaphoid fracture.\n"
                   "TECHNIQUE: PA, lateral, oblique and ulnar deviation PA views of the left wrist.\nFINDINGS: Healing.")
    assert rec["frames"][0]["views"] == 4
    assert "header_body_discrepancy" not in flags(rec)
    sh = run(nlp, "EXAM: XR SHOULDER RIGHT MIN 2 VIEWS\nINDICATION: Fall.\n"
                  "TECHNIQUE: AP internal rotation, Grashey, and scapular Y views of the right shoulder.\nFINDINGS: Normal.")
    assert sh["frames"][0]["views"] == 3


def test_minimum_views_title_takes_views_obtained(nlp):
    rec = run(nlp, "EXAMINATION: XR WRIST COMPLETE MIN 3 VIEWS\nCLINICAL HISTORY: Fall.\n"
                   "TECHNIQUE: PA, lateral, oblique and ulnar-deviated scaphoid views.\nFINDINGS: Fracture.")
    assert rec["frames"][0]["views"] == 4
    assert "header_body_discrepancy" not in flags(rec)


def test_pre_and_post_reduction_is_exam_and_repeat(nlp):
    rec = run(nlp, "EXAMINATION: RIGHT SHOULDER, 3 VIEWS, PRE- AND POST-REDUCTION\nCLINICAL INDICATION: Fall.\n"
                   "TECHNIQUE: Pre-reduction AP, scapular Y and axillary views. After reduction, repeat AP, scapular Y "
                   "and axillary views were obtained the same day.\nFINDINGS: Dislocation, reduced.")
    assert len(rec["frames"]) == 2
    assert lines(rec) == [("73030", ("76", "RT"), 1), ("73030", ("RT",), 1)]
    assert all(f["contrast"] in ("na", None) for f in rec["frames"])


def test_hip_with_pelvis_is_one_exam(nlp):
    rec = run(nlp, "XR HIP LT W/ PELVIS 2-3V\nHx: fall, L hip pain\nAP pelvis and frog-leg lateral L hip.\n"
                   "Femoral neck fracture.")
    assert [(f["region"], f["laterality"]) for f in rec["frames"]] == [("hip", "left")]
    assert [c["code"] for c in rec["cpt"]] == ["73502"]


def test_transabdominal_part_is_the_complete_pelvic_exam(nlp):
    rec = run(nlp, "PELVIC ULTRASOUND, TRANSABDOMINAL AND TRANSVAGINAL\nHX: postmenopausal bleeding.\n"
                   "TECHNIQUE: Transabdominal images, then endovaginal exam.\nFINDINGS: Uterus 7.9 cm. Endometrium "
                   "11 mm. R ovary normal. L ovary not visualized.\nIMPRESSION: Thickened endometrium.")
    assert sorted(str(f["extent"]) for f in rec["frames"]) == ["None", "complete"]
    assert sorted(c["code"] for c in rec["cpt"]) == ["76830", "76856"]
    assert "ultrasound_completeness_unsupported" not in flags(rec)


def test_ordered_contrast_is_not_performed_contrast(nlp):
    rec = run(nlp, "CT ABDOMEN PELVIS WITHOUT CONTRAST\n\nClinical history: LLQ pain.\n\nTechnique: Helical CT in the "
                   "portal venous phase following 100 mL Omnipaque 350 intravenous contrast. Please note the order "
                   "was placed as a noncontrast study; the exam was performed with contrast.\n\nFindings: Diverticulitis.")
    assert rec["frames"][0]["contrast"] == "with"
    assert "74177" in [c["code"] for c in rec["cpt"]]
    assert "header_body_discrepancy" in flags(rec)


def test_conventional_arthrogram_one_line_report(nlp):
    rec = run(nlp, "RIGHT SHOULDER ARTHROGRAM INDICATION: pacemaker, so MRI was not performed; shoulder pain. "
                   "PROCEDURE: Under fluoroscopic guidance a 22-gauge needle was advanced into the glenohumeral joint "
                   "and 12 mL of Omnipaque 300 was injected. AP and axillary views were obtained. FINDINGS: Cuff tear.")
    fr = rec["frames"][0]
    assert (fr["modality"], fr["region"], fr["guidance"]) == ("FLUORO", "shoulder", "FLUORO")
    assert {(c["code"], tuple(c["modifiers"])) for c in rec["cpt"] if c["code"][0].isdigit()} == \
        {("73040", ("RT",)), ("23350", ("RT",))}


def test_protocol_in_parentheses_is_not_the_region(nlp):
    rec = run(nlp, "CT ABDOMEN WITHOUT AND WITH IV CONTRAST (TRIPLE PHASE LIVER)\nINDICATION: Liver lesion.\n"
                   "TECHNIQUE: Unenhanced, arterial and portal venous phases after 100 mL Omnipaque 350.\nFINDINGS: Hemangioma.")
    assert [(f["region"], f["contrast"]) for f in rec["frames"]] == [("abdomen", "without_with")]
    assert "74170" in [c["code"] for c in rec["cpt"]]


def test_labeled_rbc_gi_bleeding_study(nlp):
    rec = run(nlp, "NUCLEAR MEDICINE RBC SCINTIGRAPHY, ABDOMEN AND PELVIS\n\nClinical history: lower GI bleeding.\n\n"
                   "Autologous red blood cells were labeled in vitro with 24.6 mCi Tc-99m pertechnetate and reinjected.\n\n"
                   "Findings: Active bleeding in the sigmoid colon.", setting="technical")
    assert rec["frames"][0]["region"] == "gi_tract"
    assert ("78278", ("TC",), 1) in lines(rec)
    assert {(h["code"], h["units"]) for h in rec.get("hcpcs", [])} == {("A9560", 1)} or \
        ("A9560", (), 1) in lines(rec)


def test_no_laterality_query_for_non_lateral_code(nlp):
    rec = run(nlp, "US RETROPERITONEAL COMPLETE (KIDNEYS/BLADDER)\nHx: CKD.\nFindings: RK 8.9 cm, LK 9.2 cm. "
                   "No hydronephrosis. Bladder decompressed.\nIMP: Small echogenic kidneys.")
    assert [c["code"] for c in rec["cpt"]] == ["76770"]
    assert "missing_laterality" not in flags(rec)


def test_contrast_shorthand_without_and_with(nlp):
    for t in ("w/o/w contrast", "wo/w gadolinium", "w/o & w iv contrast"):
        rec = run(nlp, f"MRI BRAIN\nINDICATION: Mass.\nTECHNIQUE: Multiplanar images {t}.\nFINDINGS: Mass.")
        assert rec["frames"][0]["contrast"] == "without_with", t


def test_focused_appendix_us_is_limited_abdomen(nlp):
    rec = run(nlp, "US RLQ (APPENDIX) LIMITED\nHx: 9 yo M, RLQ pain.\nGraded compression technique, RLQ.\n"
                   "Appendix not visualized.\nIMP: Nonvisualized appendix.")
    assert lines(rec) == [("76705", (), 1)]


def test_skeletal_survey_code_and_no_views_query(nlp):
    rec = run(nlp, "SKELETAL SURVEY\nNo history provided.\nSkull: lytic lesions. Spine: normal. Femora: normal.\n"
                   "IMPRESSION: Lytic lesions.")
    assert lines(rec) == [("77075", (), 1)]
    assert "views_missing" not in flags(rec) and "missing_indication" in flags(rec)


def test_post_procedure_images_document_us_guidance(nlp):
    rec = run(nlp, "EXAM: ULTRASOUND-GUIDED RENAL BIOPSY, LEFT KIDNEY\nHISTORY: Proteinuria.\nPROCEDURE: The lower "
                   "pole of the left kidney was targeted under real-time ultrasound guidance. Three core biopsies were "
                   "obtained. Post-procedure images showed no perinephric hematoma.\nIMPRESSION: Successful biopsy.")
    assert ("76942", (), 1) in lines(rec)
    assert "incomplete_guidance_documentation" not in flags(rec)
    rec = run(nlp, "EXAM: ULTRASOUND-GUIDED RENAL BIOPSY, LEFT KIDNEY\nHISTORY: Proteinuria.\nPROCEDURE: The lower "
                   "pole of the left kidney was targeted under real-time ultrasound guidance. Three core biopsies were "
                   "obtained.\nIMPRESSION: Successful biopsy.")
    assert "76942" not in [c["code"] for c in rec["cpt"]]
    assert "incomplete_guidance_documentation" in flags(rec)


def test_indication_on_the_title_line(nlp):
    rec = run(nlp, "CT ABDOMEN/PELVIS WITH IV CONTRAST INDICATION: RLQ pain, eval appendicitis. TECHNIQUE: Helical "
                   "CT after 100 mL Omnipaque 350 IV. FINDINGS: Acute appendicitis. IMPRESSION: Acute appendicitis.")
    assert "missing_indication" not in flags(rec)
    rec = run(nlp, "CT HEAD WITHOUT CONTRAST  CLINICAL HISTORY: None. TECHNIQUE: Axial images. FINDINGS: Normal. "
                   "IMPRESSION: Normal head CT.")
    assert "missing_indication" in flags(rec)


def test_mammo_side_from_views_obtained(nlp):
    rec = run(nlp, "DIAGNOSTIC MAMMOGRAM RIGHT BREAST\nClinical history: lump in the upper outer left breast.\n"
                   "Left CC, MLO and ML views were obtained, with a spot compression view.\n"
                   "The left breast is dense. No mass.\nIMPRESSION: No correlate. BI-RADS 0.", setting="professional")
    assert lines(rec) == [("77065", ("26", "LT"), 1)]
    assert "header_body_discrepancy" in flags(rec)


def test_acute_abdomen_series_with_chest_view_is_74022(nlp):
    rec = run(nlp, "ACUTE ABDOMINAL SERIES: SUPINE AND UPRIGHT ABDOMEN, PA CHEST\nHISTORY: Vomiting.\n"
                   "IMPRESSION: Dilated small bowel.")
    assert lines(rec) == [("74022", (), 1)]
    rec = run(nlp, "XR CHEST PA AND LATERAL; XR ABDOMEN 1 VIEW\nHISTORY: Pain.\nIMPRESSION: Normal.")
    assert lines(rec) == [("71046", (), 1), ("74018", (), 1)]   # two exams, no series named


def test_recommended_exam_contrast_does_not_change_the_performed_exam(nlp):
    rec = run(nlp, "CT HEAD WITHOUT CONTRAST\nClinical history: Headache.\nFindings: Noncontrast axial images were "
                   "obtained. No hemorrhage.\nImpression: No acute abnormality. MRI brain with and without contrast is "
                   "more sensitive if clinical concern persists.")
    assert rec["frames"][0]["contrast"] == "without" and lines(rec) == [("70450", (), 1)]


def test_each_listed_exam_takes_the_technique_sentences_of_its_modality(nlp):
    rec = run(nlp, "EXAM: MRI BRAIN WITHOUT AND WITH CONTRAST; MRA HEAD WITHOUT CONTRAST\nINDICATION: Seizure.\n"
                   "TECHNIQUE: Multiplanar MRI of the brain before and after 7 mL Gadavist IV. 3D time-of-flight MRA of "
                   "the circle of Willis without contrast.\nIMPRESSION: Enhancing lesion.")
    assert {f["modality"]: f["contrast"] for f in rec["frames"]} == {"MR": "without_with", "MRA": "without"}
    assert {c["code"] for c in rec["cpt"]} == {"70553", "70544"}


def test_views_given_per_region_of_a_two_region_radiograph(nlp):
    rec = run(nlp, "LEFT ANKLE AND LEFT FOOT RADIOGRAPHS\n\nHistory: Inversion injury.\n\nThree views of the left ankle "
                   "and three views of the left foot were obtained.\n\nIMPRESSION: No fracture.")
    assert sorted((f["region"], f["views"]) for f in rec["frames"]) == [("ankle", 3), ("foot", 3)]
    assert lines(rec) == [("73610", ("LT",), 1), ("73630", ("LT",), 1)]


def test_xenon_ventilation_agent_billed_by_its_isotope_not_by_the_word_gas(nlp):
    rec = run(nlp, "NUCLEAR MEDICINE LUNG VENTILATION AND PERFUSION SCAN\nHx: pleuritic chest pain.\nXe-133 18 mCi inhaled "
                   "for ventilation; Tc-99m MAA 4.1 mCi IV for perfusion.\nIMP: No evidence of pulmonary embolism.")
    assert {(h["code"], h["units"]) for h in rec["hcpcs"]} == {("A9558", 2), ("A9540", 1)}
    rec = run(nlp, "NM GASTRIC EMPTYING\nTc-99m sulfur colloid 1 mCi in egg. Bowel gas noted.\nIMP: Normal.")
    assert "A9558" not in {h["code"] for h in rec["hcpcs"]}


@pytest.mark.parametrize("text,frame,codes", [
    ("XR BONE AGE\nHx: short stature.\nSingle PA view of the left hand and wrist.\nIMPRESSION: Bone age 9 years.",
     ("XR", "hand"), {"77072"}),
    ("TUNNELED HEMODIALYSIS CATHETER PLACEMENT. INDICATION: ESRD. PROCEDURE: Under ultrasound guidance the right "
     "internal jugular vein was accessed. Under fluoroscopic guidance a tunneled hemodialysis catheter was placed. "
     "IMPRESSION: Successful placement.", ("IR", "central_venous_access"), {"36558", "77001"}),
    ("US RIGHT GROIN, LIMITED\nHx: groin mass after cath.\nIMP: Hematoma.", ("US", "lower_extremity"), {"76882"}),
    ("CT ENTEROGRAPHY\nClinical history: Crohn disease.\nTECHNIQUE: CT of the abdomen and pelvis with IV contrast.\n"
     "IMPRESSION: Active ileitis.", ("CT", "abdomen_pelvis"), {"74177"}),
    ("PNEUMATIC REDUCTION OF INTUSSUSCEPTION\nHistory: colicky pain.\nUnder fluoroscopy air was insufflated.\n"
     "IMPRESSION: Successful reduction.", ("FLUORO", "colon"), {"74283"}),
    # a view named as the place of a finding is no view obtained: the title's two views stand
    ("XR NECK SOFT TISSUE 2 VIEWS\nHx: stridor.\nSubglottic narrowing on the frontal view.\nIMP: Croup.",
     ("XR", "soft_tissue_neck"), {"70360"}),
])
def test_exam_names_and_their_codes(nlp, text, frame, codes):
    rec = run(nlp, text)
    assert (rec["frames"][0]["modality"], rec["frames"][0]["region"]) == frame
    assert {c["code"] for c in rec["cpt"]} == codes


def test_soft_tissue_neck_title_views_kept(nlp):
    rec = run(nlp, "XR NECK SOFT TISSUE 2 VIEWS\nHx: stridor.\nSubglottic narrowing on the frontal view.\nIMP: Croup.")
    assert rec["frames"][0]["views"] == 2


@pytest.mark.parametrize("text,codes", [
    # MR of the abdomen and pelvis has no combined code: two exams
    ("MRI ABDOMEN AND PELVIS WITHOUT CONTRAST - APPENDICITIS PROTOCOL\nHISTORY: 24 weeks pregnant, RLQ pain.\n"
     "IMPRESSION: Normal appendix.", {"74181", "72195"}),
    ("NM RENAL SCAN WITH DIURETIC (Tc-99m MAG3, FUROSEMIDE)\nHISTORY: Hydronephrosis.\nIMPRESSION: No obstruction.",
     {"78708"}),
    # 'PVR' of a bladder scan is the post-void residual, not a pulse volume recording
    ("US PELVIS LIMITED - BLADDER/PVR\nHx: urinary frequency.\nIMP: Elevated post-void residual.", {"76857"}),
])
def test_study_names_split_and_variants(nlp, text, codes):
    rec = run(nlp, text)
    assert {c["code"] for c in rec["cpt"]} == codes


@pytest.mark.parametrize("text,lines_", [
    ("ARTERIAL PHYSIOLOGIC STUDY, BOTH LOWER EXTREMITIES (ABI WITH SEGMENTAL PRESSURES AND PVRS)\nHISTORY: Claudication.\n"
     "FINDINGS: Segmental pressures at high thigh, low thigh, calf and ankle.\nIMPRESSION: Moderate PAD.",
     [("93923", (), 1)]),
    ("NUCLEAR MEDICINE THREE-PHASE BONE SCAN, BOTH FEET\nREASON FOR EXAM: Osteomyelitis?\nTECHNIQUE: 24.6 mCi Tc-99m "
     "MDP.\nIMPRESSION: Osteomyelitis.", [("78315", (), 1)]),
    # ', LIMITED' after the ultrasound is the ultrasound's, not the mammogram's (no 52)
    ("EXAM: DIAGNOSTIC MAMMOGRAM LEFT WITH TOMOSYNTHESIS; ULTRASOUND LEFT BREAST, LIMITED\nCLINICAL HISTORY: Palpable "
     "lump in the left breast.\nTECHNIQUE: Left CC and MLO views with tomosynthesis. Targeted ultrasound of the left "
     "breast.\nIMPRESSION: Spiculated mass.", [("76642", ("LT",), 1), ("77065", ("LT",), 1)]),
])
def test_physiologic_three_phase_and_limited_of_the_other_exam(nlp, text, lines_):
    assert lines(run(nlp, text)) == lines_


def test_mr_arthrogram_bills_the_injection_and_its_fluoroscopic_guidance(nlp):
    rec = run(nlp, "MR ARTHROGRAM RIGHT HIP\nTECHNIQUE: Under fluoroscopic guidance a 22-gauge needle was placed into the "
                   "right hip joint and dilute gadolinium was injected. MR images followed.\nIMPRESSION: Labral tear.")
    assert lines(rec) == [("27093", ("RT",), 1), ("73722", ("RT",), 1), ("77002", (), 1)]
    rec = run(nlp, "MRI LEFT KNEE WITH CONTRAST\nHx: Pain.\nIMP: Tear.")
    assert [c for c, _, _ in lines(rec)] == ["73722"]


def test_ultrasound_of_one_kidney_is_the_limited_retroperitoneal_study(nlp):
    # 76770 (complete) covers both kidneys and the bladder; one kidney is 76775, and neither code takes a side
    one = run(nlp, "EXAM: US LEFT KIDNEY\nINDICATION: Left flank pain.\nFINDINGS: The left kidney measures 11 cm. "
                   "No hydronephrosis.\nIMPRESSION: Normal left kidney.")
    assert lines(one) == [("76775", (), 1)]
    both = run(nlp, "EXAM: RENAL ULTRASOUND\nINDICATION: UTI.\nFINDINGS: The right kidney measures 9 cm. The left "
                    "kidney measures 9.2 cm. No hydronephrosis. Bladder normal.\nIMPRESSION: Normal.")
    assert lines(both) == [("76770", (), 1)]
