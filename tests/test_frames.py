"""Exam-frame conventions (GUIDELINE §5, §7.14-7.18): one frame per performed procedure, with the reported
region, laterality, contrast and views (rules-only pipeline)."""

import pytest

from radcoder.components.frames import frame_rules
from radcoder.extensions import FRAMES

FIELDS = ("modality", "region", "laterality", "contrast", "views")


@pytest.fixture(scope="module")
def nlp(rules_nlp):
    return rules_nlp


def frames(nlp, text):
    return [{f: fr.get(f) for f in FIELDS} for fr in nlp(text)._.get(FRAMES)]


def test_rules_file_loads_every_kind():
    rules = frame_rules()
    for kind in ("procedure_region", "reported_region", "sided_organ", "included_region", "title_modality",
                 "title_region", "combined_region"):
        assert rules[kind], kind


def test_ribs_with_pa_chest_is_one_frame(nlp):
    fr = frames(nlp, "RIGHT RIBS WITH PA CHEST, 3 VIEWS\n\nClinical history: Fall.\n\nFindings: No fracture.")
    assert fr == [{"modality": "XR", "region": "ribs", "laterality": "right", "contrast": "na", "views": 3}]


def test_cta_chest_pe_protocol_has_no_lung_frame(nlp):
    fr = frames(nlp, "EXAM: CTA CHEST, PULMONARY EMBOLISM PROTOCOL\nINDICATION: Dyspnea.\n"
                     "TECHNIQUE: CT angiography of the chest with IV contrast.\nFINDINGS: No embolus.")
    assert [(f["modality"], f["region"], f["contrast"]) for f in fr] == [("CTA", "chest", "with")]


def test_arterial_duplex_of_legs_is_one_frame(nlp):
    fr = frames(nlp, "Exam: Arterial duplex, bilateral lower extremities\nHx: claudication.\nFindings: Normal.")
    assert [(f["region"], f["laterality"]) for f in fr] == [("lower_extremity_arteries", "bilateral")]


def test_renal_us_of_both_kidneys_is_the_retroperitoneal_study_without_side(nlp):
    # GUIDELINE §7.23.3: the code's region, no side (76770 has none), as for the scrotum
    fr = frames(nlp, "RENAL ULTRASOUND COMPLETE\nHistory: AKI.\nFindings: Right kidney 11.8 cm, left 11.2 cm. "
                     "No hydronephrosis.\nImpression: Normal.")
    assert fr == [{"modality": "US", "region": "retroperitoneum", "laterality": None, "contrast": "na", "views": None}]
    fr = frames(nlp, "US LEFT KIDNEY\nHistory: Stone.\nImpression: No hydronephrosis.")
    assert [(f["region"], f["laterality"]) for f in fr] == [("kidney", "left")]


def test_scrotal_us_side_not_evaluated(nlp):
    text = ("US SCROTUM\nClinical: Swelling.\nFindings: Limited examination of the right hemiscrotum, and the left "
            "testis was not evaluated. Right testis 4.5 cm. Large right hydrocele.\nImpression: Hydrocele.")
    assert frames(nlp, text)[0]["laterality"] == "right"
    # both testes imaged: the scrotum is one unpaired region, no side (writers G, R; H-C-012 differs)
    both = "US SCROTUM\nClinical: Pain.\nFindings: Right testis 4.2 cm. Left testis 4.0 cm.\nImpression: Normal."
    assert frames(nlp, both)[0]["laterality"] is None


def test_unilateral_diagnostic_mammogram_with_spot_view(nlp):
    fr = frames(nlp, "LEFT DIAGNOSTIC MAMMOGRAM WITH TOMOSYNTHESIS\n\nCLINICAL HISTORY: Lump.\n\nTECHNIQUE: Left CC, "
                     "MLO, and spot compression tangential views with tomosynthesis.\n\nFINDINGS: Fatty breasts.")
    assert [(f["modality"], f["laterality"], f["views"]) for f in fr] == [("MAMMO", "left", 3), ("DBT", "left", 3)]
    scr = frames(nlp, "EXAM: BILATERAL SCREENING MAMMOGRAM WITH TOMOSYNTHESIS\nHISTORY: Screening.\n"
                      "TECHNIQUE: Bilateral CC and MLO views with tomosynthesis.\nFINDINGS: Negative.")
    assert [f["views"] for f in scr] == [2, 2]


def test_transabdominal_and_transvaginal_are_two_frames(nlp):
    fr = frames(nlp, "PELVIC ULTRASOUND, TRANSABDOMINAL AND TRANSVAGINAL\nINDICATION: Bleeding.\nFINDINGS: Normal.")
    assert [(f["modality"], f["region"]) for f in fr] == [("US", "pelvis"), ("US", "pelvis")]


def test_us_without_and_with_contrast_are_two_frames(nlp):
    fr = frames(nlp, "US KIDNEY, LEFT, LIMITED, WITHOUT AND WITH CONTRAST\nHistory: Cyst.\n"
                     "Technique: Grayscale of the left kidney, then Lumason IV.\nFindings: Cyst.")
    assert sorted(f["contrast"] for f in fr) == ["with", "without"]


def test_procedure_region_and_access_side(nlp):
    fr = frames(nlp, "US-guided paracentesis\nProcedure: Ultrasound of the abdomen showed ascites. 3 L removed.")
    # the most specific region (§7.18): the peritoneal cavity, as the CPT table region of 49083
    assert [(f["modality"], f["region"]) for f in fr] == [("IR", "peritoneum")]
    picc = frames(nlp, "PICC PLACEMENT WITH ULTRASOUND AND FLUOROSCOPIC GUIDANCE\n\nIndication: Antibiotics.\n\n"
                       "Procedure: The right basilic vein was accessed under ultrasound guidance.")
    # the access codes' region (GUIDELINE §7.24), the side of the accessed vein
    assert [(f["region"], f["laterality"]) for f in picc] == [("central_venous_access", "right")] * 2
    arm = nlp("RIGHT ARM PICC PLACEMENT\nHx: osteomyelitis.\nUnder US guidance, micropuncture access of the right "
              "basilic vein. Tip at the cavoatrial junction.\nIMP: Successful PICC placement.")
    # no technique section: the guidance the body names ('Under US guidance') is the procedure's
    assert [(f["region"], f["laterality"], f["guidance"]) for f in arm._.get(FRAMES)] == \
        [("central_venous_access", "right", "US")]
    # a recommended guidance is not the procedure's
    planned = ("PICC PLACEMENT\nHx: antibiotics.\nRight basilic vein accessed, PICC placed, tip at the "
               "cavoatrial junction.\nIMP: PICC placed. Recommend US-guided placement next time.")
    assert [(f["region"], f["guidance"]) for f in nlp(planned)._.get(FRAMES)] == [("central_venous_access", None)]


def test_guided_breast_procedure_uses_breast_modality(nlp):
    fr = frames(nlp, "PROCEDURE: RIGHT BREAST NEEDLE (WIRE) LOCALIZATION, MAMMOGRAPHIC GUIDANCE\n"
                     "INDICATION: Carcinoma.\nTECHNIQUE: A wire was placed under mammographic guidance.")
    assert [(f["modality"], f["region"], f["laterality"]) for f in fr] == [("MAMMO", "breast", "right")]


def test_upper_gi_is_a_fluoroscopic_contrast_study(nlp):
    fr = frames(nlp, "EXAM: UPPER GI SERIES, SINGLE CONTRAST\nINDICATION: Pain.\nTECHNIQUE: After a scout "
                     "radiograph, the patient ingested thin barium.\nFINDINGS: Normal.")
    assert [(f["modality"], f["region"], f["contrast"]) for f in fr] == [("FLUORO", "upper_gi", "with")]


def test_contrast_study_stopped_after_scout_is_the_scout(nlp):
    fr = frames(nlp, "UGI SERIES\nHx: nausea\nTechnique: Scout supine abdomen obtained. Pt could not ingest barium; "
                     "no contrast given. Exam cancelled after scout.\nFindings: Normal bowel gas pattern.")
    assert fr == [{"modality": "XR", "region": "abdomen", "laterality": None, "contrast": "without", "views": 1}]


def test_semicolon_separated_exams(nlp):
    fr = frames(nlp, "EXAMS: RIGHT SHOULDER ARTHROGRAM INJECTION UNDER FLUOROSCOPIC GUIDANCE; MR ARTHROGRAM RIGHT "
                     "SHOULDER\nINDICATION: Pain.\nTECHNIQUE: Contrast was injected into the joint.\nFINDINGS: Normal.")
    assert [(f["modality"], f["region"], f["laterality"]) for f in fr] == [("FLUORO", "shoulder", "right"),
                                                                          ("MR", "shoulder", "right")]


def test_view_range_in_title_counts_views_done(nlp):
    fr = frames(nlp, "XR LUMBAR SPINE 2-3 VIEWS\nIndication: LBP\nAP and lateral views. Disc space narrowing.")
    assert fr[0]["views"] == 2


def test_title_with_only_view_names_is_radiography(nlp):
    fr = frames(nlp, "EXAM: BILATERAL KNEES, STANDING AP\nHISTORY: knee pain\nFINDINGS: Narrowing.")
    assert fr == [{"modality": "XR", "region": "knee", "laterality": "bilateral", "contrast": "na", "views": 1}]


def test_thyroid_uptake_and_scan(nlp):
    fr = frames(nlp, "THYROID UPTAKE AND SCAN\nIndication: Hyperthyroidism.\nTechnique: I-123 orally.\n"
                     "Findings: Diffuse uptake.")
    assert [(f["modality"], f["region"]) for f in fr] == [("NM", "thyroid")]


def test_per_region_contrast_from_technique(nlp):
    fr = frames(nlp, "MRA Head and Neck\n\nClinical history: TIA.\nTechnique: MRA head: 3D TOF without contrast. "
                     "MRA neck: 2D TOF followed by contrast-enhanced 3D MRA after Dotarem IV.\nFindings: Normal.")
    assert [(f["region"], f["contrast"]) for f in fr] == [("head", "without"), ("neck", "without_with")]


def test_unheaded_contrast_statement(nlp):
    fr = frames(nlp, "LDCT lung screening, baseline\nHx: former smoker.\nNo IV contrast.\nLungs clear.")
    assert [(f["modality"], f["region"], f["contrast"]) for f in fr] == [("CT", "chest", "without")]


def test_semicolon_parts_of_one_modality_stay_one_statement(nlp):
    fr = frames(nlp, "EXAM: CT ABDOMEN; CT PELVIS WITH CONTRAST\nINDICATION: Pain.\nFINDINGS: Normal.")
    assert [(f["modality"], f["region"], f["contrast"]) for f in fr] == [("CT", "abdomen_pelvis", "with")]


def test_bare_object_word_is_not_a_procedure(nlp):
    fr = frames(nlp, "XR CHEST PORTABLE, PORT CHECK\nFINDINGS: Port catheter tip in the SVC.")
    assert [(f["modality"], f["region"]) for f in fr] == [("XR", "chest")]


def test_technique_side_overrides_wrong_title_side(nlp):
    fr = frames(nlp, "XR ANKLE LEFT MINIMUM 3 VIEWS\n\nINDICATION: Injury.\n\nTECHNIQUE: AP, mortise and lateral views of "
                     "the right ankle.\n\nFINDINGS: Fracture.")
    assert (fr[0]["laterality"], fr[0]["views"]) == ("right", 3)


def flag_codes(nlp, text):
    from radcoder.extensions import CODING
    return {f.code for f in nlp(text)._.get(CODING).flags}


def test_title_shorthand_regions_and_contrast(nlp):
    fr = frames(nlp, "PORTABLE CXR 1 VIEW\nHx: SOB.\nAP view.\nCardiomegaly.")
    assert fr == [{"modality": "XR", "region": "chest", "laterality": None, "contrast": "na", "views": 1}]
    fr = frames(nlp, "EXAM: CTA THORACIC AORTA WITHOUT AND WITH CONTRAST\nREASON FOR EXAM: Chest pain.\n"
                     "TECHNIQUE: Noncontrast images followed by CT angiography.\nFINDINGS: No dissection.")
    assert [(f["modality"], f["region"]) for f in fr] == [("CTA", "chest")]
    assert frames(nlp, "MRI C-SPINE W/O\nHx: neck pain.\nSag T1/T2.\nSpondylosis.")[0]["contrast"] == "without"
    doc = nlp("CT ABD/PELVIS W/ IV AND ORAL CONTRAST. INDICATION: Pain. TECHNIQUE: Axial images after 100 mL "
              "Omnipaque 300 IV and oral contrast. FINDINGS: Diverticulitis.")
    assert doc._.get(FRAMES)[0]["title_contrast"] == "with"


def test_ob_us_with_added_transvaginal_exam_is_two_frames(nlp):
    fr = frames(nlp, "EXAM: OB ULTRASOUND >14 WEEKS, SINGLE GESTATION, WITH TRANSVAGINAL CERVICAL LENGTH\n"
                     "INDICATION: Prior preterm delivery.\nFINDINGS: Live IUP.")
    assert [(f["modality"], f["region"]) for f in fr] == [("US", "obstetric"), ("US", "obstetric")]
    one = frames(nlp, "EXAM: PELVIC ULTRASOUND, TRANSVAGINAL\nINDICATION: Pain.\nFINDINGS: Normal.")
    assert len(one) == 1


def test_mammogram_views_count_every_named_view_and_tomo(nlp):
    fr = frames(nlp, "EXAM: DIAGNOSTIC MAMMOGRAM WITH TOMOSYNTHESIS, RIGHT\nINDICATION: Recall.\nTECHNIQUE: Right CC "
                     "and ML views with tomosynthesis, and spot compression CC and MLO views.\nFINDINGS: Mass.")
    assert [(f["modality"], f["views"]) for f in fr] == [("MAMMO", 4), ("DBT", 4)]
    fr = frames(nlp, "DX MAMMO BILAT W/ TOMO\nHx: breast pain.\nBilat CC/MLO with tomosynthesis.\nNegative.")
    assert [(f["modality"], f["laterality"]) for f in fr] == [("MAMMO", "bilateral"), ("DBT", "bilateral")]


def test_views_obtained_override_title_count_and_flag(nlp):
    text = ("EXAM: XR WRIST RIGHT 2 VIEWS\nINDICATION: Wrist pain.\nTECHNIQUE: PA, lateral and oblique views of the "
            "right wrist.\nFINDINGS: Distal radius fracture.\nIMPRESSION: Distal radius fracture.")
    assert frames(nlp, text)[0]["views"] == 3
    assert "header_body_discrepancy" in flag_codes(nlp, text)
    text = ("CHEST 2 VIEWS\nHx: fever and cough.\nSingle AP view only; lateral not obtained (pt uncooperative).\n"
            "Consolidation in the right upper lobe.\nIMP: RUL pneumonia.")
    assert frames(nlp, text)[0]["views"] == 1
    same = ("Chest radiograph, two views.\n\nClinical history: Cough.\n\nFrontal and lateral views of the chest "
            "demonstrate no consolidation.\n\nImpression: No pneumonia.")
    assert frames(nlp, same)[0]["views"] == 2
    assert "header_body_discrepancy" not in flag_codes(nlp, same)


def test_us_titled_complete_but_limited(nlp):
    text = ("EXAM: US RENAL COMPLETE\nINDICATION: Acute kidney injury.\nTECHNIQUE: Grayscale imaging of the kidneys. "
            "Limited examination: the right kidney could not be visualized due to habitus.\nFINDINGS:\nRIGHT KIDNEY: "
            "Not visualized.\nLEFT KIDNEY: Hydronephrosis.\nBLADDER: Decompressed.\nIMPRESSION: Left hydronephrosis.")
    fr = nlp(text)._.get(FRAMES)
    assert fr[0]["extent"] == "limited"
    assert "ultrasound_completeness_unsupported" in flag_codes(nlp, text)


def test_guidance_documentation_flag_only_for_separately_billed_guidance(nlp):
    bundled = ("US GUIDED PARACENTESIS\nHx: Cirrhosis with ascites.\nUnder US guidance, 5 Fr catheter into "
               "peritoneal cavity. 6 L removed.\nIMP: Successful paracentesis.")
    assert "incomplete_guidance_documentation" not in flag_codes(nlp, bundled)
    port = ("PORT PLACEMENT\nIndication: Colon cancer, starting chemotherapy.\nTechnique: Right IJ accessed with "
            "ultrasound guidance. Catheter placed under fluoroscopy.\nImpression: Right IJ port placement.")
    assert "incomplete_guidance_documentation" in flag_codes(nlp, port)


def test_stated_absent_indication_is_missing_indication(nlp):
    text = "XR CERVICAL SPINE 3 VIEWS\nHistory: none provided\nFindings: AP, lateral and odontoid views. No fracture.\nIMP: Normal."
    fl = flag_codes(nlp, text)
    assert "missing_indication" in fl and "medical_necessity_unsupported" not in fl


def test_missing_laterality_not_for_nuclear_lung_scan_but_for_diagnostic_mammogram(nlp):
    vq = "NM LUNG VENTILATION AND PERFUSION\nIndication: Dyspnea.\nFindings: Matched defects.\nImpression: Low probability."
    assert "missing_laterality" not in flag_codes(nlp, vq)
    dx = ("Diagnostic mammogram\nClinical: palpable lump at 2 o'clock.\nFindings: Scattered fibroglandular density.\n"
          "Impression: No mammographic correlate. BI-RADS 1.")
    assert "missing_laterality" in flag_codes(nlp, dx)


def test_ordered_contrast_in_title_is_no_discrepancy(nlp):
    text = ("EXAM: MRI BRAIN WITHOUT AND WITH CONTRAST (ORDERED) - LIMITED\nINDICATION: Memory loss.\nTECHNIQUE: "
            "Sagittal T1 and axial FLAIR; the examination was terminated before any contrast was given. No gadolinium "
            "administered.\nIMPRESSION: Volume loss.")
    assert frames(nlp, text)[0]["contrast"] == "without"
    assert "header_body_discrepancy" not in flag_codes(nlp, text)


# ---------------------------------------------------------------- round 2: general frame conventions
def frame_full(nlp, text):
    return [dict(fr) for fr in nlp(text)._.get(FRAMES)]


def test_one_line_report_title_stops_at_double_spaced_label(nlp):
    fr = frames(nlp, "EXAM: XR LEFT WRIST 3V  HISTORY: fell on an outstretched hand. FINDINGS: No fracture.")
    assert [(f["region"], f["laterality"], f["views"]) for f in fr] == [("wrist", "left", 3)]


def test_oral_contrast_not_given_keeps_iv_contrast(nlp):
    fr = frames(nlp, "CT ABDOMEN/PELVIS W/ CONTRAST\nINDICATION: Pain.\nTECHNIQUE: Axial images after 90 mL "
                     "Omnipaque 350 IV; oral contrast was not given.\nFINDINGS: Normal.")
    assert fr[0]["contrast"] == "with"


def test_title_shorthand_wo_w_is_without_with(nlp):
    fr = frame_full(nlp, "CT CHEST WO/W CONTRAST\nHx: mass.\nNoncontrast and contrast-enhanced images.\nIMP: Normal.")
    assert fr[0]["contrast"] == "without_with" and fr[0]["title_contrast"] == "without_with"


def test_protocol_region_is_not_a_second_exam(nlp):
    fr = frames(nlp, "EXAM: CT ABDOMEN WITHOUT AND WITH CONTRAST, LIVER PROTOCOL\nINDICATION: Lesion.\nFINDINGS: Normal.")
    assert [(f["modality"], f["region"]) for f in fr] == [("CT", "abdomen")]


def test_parenthesised_part_of_the_region_is_the_region(nlp):
    fr = frames(nlp, "US ABDOMEN LIMITED (PYLORUS)\nHx: vomiting infant.\nPyloric muscle 2 mm.\nIMP: Normal.")
    assert fr[0]["region"] == "stomach"
    fr = frames(nlp, "US ABDOMEN LIMITED (RIGHT UPPER QUADRANT)\nINDICATION: Pain.\nFINDINGS: Normal gallbladder.")
    assert (fr[0]["region"], fr[0]["laterality"]) == ("abdomen", None)


def test_side_from_the_views_statement(nlp):
    fr = frames(nlp, "XR HAND 2 VIEWS\nHx: pain.\nPA and lateral views of the R hand.\nIMP: Normal.")
    assert fr[0]["laterality"] == "right"


def test_qualified_second_lateral_view_counts(nlp):
    fr = frames(nlp, "EXAM: XR LUMBAR SPINE, 3 VIEWS\nINDICATION: Pain.\nFINDINGS:\nAP, lateral and coned L5-S1 "
                     "lateral views. Normal alignment.\nIMPRESSION: Normal.")
    assert fr[0]["views"] == 3


def test_named_title_views_vs_documented_single_view(nlp):
    fr = frame_full(nlp, "XR CHEST PA AND LATERAL\nINDICATION: Cough.\nTECHNIQUE: Single AP view only; patient "
                         "unable to stand.\nFINDINGS: Clear lungs.\nIMPRESSION: Normal.")
    assert fr[0]["views"] == 1 and fr[0]["title_views"] == 2


def test_extent_named_in_title_or_stopped_exam(nlp):
    fr = frame_full(nlp, "EXAM: XR ANKLE COMPLETE RIGHT (3 VIEWS)\nINDICATION: Sprain.\nFINDINGS: Normal.")
    assert fr[0]["extent"] == "complete"
    fr = frame_full(nlp, "MRI LUMBAR SPINE WITHOUT CONTRAST\nINDICATION: Pain.\nTECHNIQUE: Sagittal T1 and T2. The "
                         "examination was terminated early for claustrophobia.\nFINDINGS: Normal.")
    assert fr[0]["extent"] == "limited"


def test_ta_plus_tv_is_two_frames(nlp):
    fr = frame_full(nlp, "EXAM: PELVIC US, TA + TV\nINDICATION: Pain.\nFINDINGS: Normal uterus and ovaries.")
    assert [(f["region"], f["extent"]) for f in fr if f["modality"] == "US"][1][1] is None
    assert len(fr) == 2


def test_us_title_naming_duplex_and_bilateral_duplex_is_complete(nlp):
    fr = frame_full(nlp, "EXAM: US CAROTID DUPLEX BILATERAL\nINDICATION: Bruit.\nFINDINGS: No stenosis.")
    assert (fr[0]["modality"], fr[0]["laterality"], fr[0]["extent"]) == ("DUPLEX", "bilateral", "complete")


def test_dialysis_access_arm_is_one_frame(nlp):
    fr = frames(nlp, "EXAM: DUPLEX OF HEMODIALYSIS ACCESS, RIGHT ARM\nINDICATION: Low flow.\nFINDINGS: Patent fistula.")
    assert [(f["region"], f["laterality"]) for f in fr] == [("dialysis_access", "right")]


def test_spine_levels_and_procedural_contrast_of_injection(nlp):
    fr = frames(nlp, "RIGHT L4-L5 TRANSFORAMINAL EPIDURAL STEROID INJECTION UNDER FLUOROSCOPY\nHistory: radiculopathy.\n"
                     "Procedure: Needle placed under fluoroscopic guidance. Injection of 1 mL Omnipaque 240 showed "
                     "epidural spread.\nImpression: Successful injection.")
    assert (fr[0]["modality"], fr[0]["region"], fr[0]["laterality"], fr[0]["contrast"]) == \
        ("IR", "lumbar_spine", "right", "with")


def test_mammography_view_names_spelled_out_and_implant_views(nlp):
    fr = frames(nlp, "DIAGNOSTIC MAMMOGRAM RIGHT BREAST\nHistory: lump.\nCraniocaudal, mediolateral oblique and true "
                     "lateral views of the right breast were obtained.\nImpression: Benign.")
    assert fr[0]["views"] == 3
    fr = frames(nlp, "EXAM: SCREENING MAMMOGRAM BILATERAL\nHISTORY: Screening. Implants.\nTECHNIQUE: Bilateral CC and "
                     "MLO views, plus implant-displaced CC and MLO views of each breast; additional right ML view.\n"
                     "IMPRESSION: Negative.")
    assert fr[0]["views"] == 4


def test_compound_view_name_is_one_view(nlp):
    # 'frog-leg lateral' is one view (not frog-leg + lateral): the title's 2 views agree with the body
    fr = frames(nlp, "XR LEFT HIP 2 VIEWS\nHx: fall, L hip pain\nAP and frog-leg lateral views of the left hip.\n"
                     "Displaced femoral neck fracture.")
    assert fr[0]["views"] == 2


def test_renal_us_side_abbreviations_give_both_kidneys(nlp):
    fr = frames(nlp, "US RENAL LIMITED\nHX: AKI.\nRK 11.0 cm, LK 11.6 cm. Moderate hydronephrosis.\n"
                     "IMP: Hydronephrosis.")
    assert fr[0]["region"] == "retroperitoneum" and fr[0]["laterality"] is None   # both kidneys (§7.23.3)
    fr = frames(nlp, "US RENAL LIMITED\nHX: AKI.\nRK 11.0 cm. Moderate hydronephrosis.\nIMP: Hydronephrosis.")
    assert fr[0]["region"] == "kidney" and fr[0]["laterality"] == "right"


def test_focused_quadrant_us_is_abdomen(nlp):
    fr = frames(nlp, "US RLQ (APPENDIX) LIMITED\nHx: RLQ pain.\nAppendix not visualized.\nIMP: Nonvisualized appendix.")
    assert fr[0]["region"] == "abdomen"


def test_skeletal_survey_is_complete_unless_infant(nlp):
    text = "SKELETAL SURVEY\nHx: {}\nSkull, spine, ribs, pelvis, humeri and femora: lytic lesions.\nIMPRESSION: Myeloma."
    assert nlp(text.format("myeloma"))._.get(FRAMES)[0]["extent"] == "complete"
    assert nlp(text.format("infant, suspected abuse"))._.get(FRAMES)[0]["extent"] is None


def test_mammo_views_name_the_side_imaged(nlp):
    # the title names the right breast; the views obtained are of the left: the images decide, and an
    # unnamed spot compression view counts as a view
    fr = nlp("DIAGNOSTIC MAMMOGRAM RIGHT BREAST\nClinical history: lump in the left breast.\n"
             "Left CC, MLO and ML views were obtained, with a spot compression view over the marker.\n"
             "The left breast is dense. No mass.\nIMPRESSION: No correlate.")._.get(FRAMES)
    assert fr[0]["laterality"] == "left" and fr[0]["views"] == 4 and fr[0].get("title_laterality") == "right"


@pytest.mark.parametrize("text,expected", [
    ("LEFT PERCUTANEOUS NEPHROSTOMY TUBE PLACEMENT\nHistory: Obstructing stone.\nIMPRESSION: Nephrostomy placed.",
     ("IR", "kidney")),
    ("US RIGHT THIGH SOFT TISSUE, LIMITED\nHISTORY: Swelling.\nIMPRESSION: Hematoma.", ("US", "lower_extremity")),
    ("MR ANGIOGRAPHY LOWER EXTREMITY\nIndication: Claudication.\nIMPRESSION: SFA occlusion.",
     ("MRA", "lower_extremity_arteries")),
])
def test_procedure_and_reported_regions(nlp, text, expected):
    fr = frames(nlp, text)
    assert (fr[0]["modality"], fr[0]["region"]) == expected
