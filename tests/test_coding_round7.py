"""Session-10 rules: exam statements (venous duplex word order, coordinated spine segments, FAST, procedures only
evaluated or not done, target counts), repeats, ordered-as contrast, prose indications, and coding rules."""

import pytest

from normalizer_helpers import assertion, code_of, cpt, icd
from normalizer_helpers import normalize_with_spans as _doc

pytest.importorskip("simple_icd_10_cm")


@pytest.fixture(scope="module")
def nlp(rules_nlp):
    return rules_nlp


# ---------------------------------------------------------------- exam statements and CPT

@pytest.mark.parametrize("title,expected", [
    ("DUPLEX VENOUS LOWER EXTREMITY BILATERAL", [("93970", ())]),
    ("VENOUS DUPLEX ULTRASOUND BILATERAL LOWER EXTREMITIES", [("93970", ())]),
    ("US DUPLEX VENOUS RIGHT LOWER EXTREMITY", [("93971", ("RT",))]),
    # one side whose name the statement leaves out
    ("LE VENOUS DOPPLER, UNILATERAL", [("93971", ())]),
])
def test_venous_duplex_of_the_legs(nlp, title, expected):
    text = f"EXAM: {title}\nINDICATION: Leg swelling.\nFINDINGS: The veins compress completely.\nIMPRESSION: No DVT."
    assert cpt(nlp, text) == expected


def test_coordinated_spine_segments_are_two_exams(nlp):
    text = ("EXAM: CT THORACIC AND LUMBAR SPINE WITHOUT CONTRAST\nINDICATION: Fall from a roof.\n"
            "FINDINGS: No fracture.\nIMPRESSION: No acute fracture.")
    assert cpt(nlp, text) == [("72128", ()), ("72131", ())]


def test_a_fast_exam_is_a_limited_abdominal_ultrasound(nlp):
    text = ("FAST US\nHx: Motorcycle crash, hypotension.\nBedside views of the RUQ, LUQ and pelvis.\n"
            "Free fluid in the hepatorenal space.\nIMP: Positive FAST.")
    assert cpt(nlp, text) == [("76705", ())]


@pytest.mark.parametrize("title,body,expected", [
    # the procedure is only what the ultrasound evaluates, or the report says it was not done
    ("US ABDOMEN LIMITED - PARACENTESIS EVALUATION", "Small ascites, no safe window. No tap.", [("76705", ())]),
    ("US ABDOMEN LIMITED WITH PARACENTESIS", "Only trace ascites; paracentesis was not performed.", [("76705", ())]),
    ("US GUIDED PARACENTESIS", "2.1 L of clear fluid was removed from the right lower quadrant.", [("49083", ())]),
])
def test_a_procedure_evaluated_or_not_done_is_the_diagnostic_exam(nlp, title, body, expected):
    text = f"EXAM: {title}\nINDICATION: Cirrhosis with distension.\nFINDINGS: {body}\nIMPRESSION: As above."
    assert cpt(nlp, text) == expected


def test_a_count_of_nodes_in_parentheses_bills_each_node(nlp):
    text = ("EXAM: US-GUIDED FINE NEEDLE ASPIRATION, RIGHT NECK LYMPH NODES (2)\nINDICATION: Enlarged nodes.\n"
            "PROCEDURE: Three passes into each of two nodes under ultrasound guidance.\nIMPRESSION: FNA of two nodes.")
    assert cpt(nlp, text) == [("10005", ()), ("10006", ())]


def test_a_same_day_comparison_of_another_body_part_is_no_repeat(nlp):
    base = ("RADIOGRAPH ABDOMEN, SINGLE VIEW\nINDICATION: Feeding tube placement.\nCOMPARISON: {cmp}\n"
            "FINDINGS: The feeding tube tip is in the stomach.\nIMPRESSION: Tube in the stomach.")
    assert cpt(nlp, base.format(cmp="Chest radiograph from earlier today.")) == [("74018", ())]
    assert cpt(nlp, base.format(cmp="Abdomen radiograph from earlier today.")) == [("74018", ("76",))]


def test_contrast_the_order_named_is_not_the_exam(shipped_nlp):
    text = ("CT MAXILLOFACIAL WITH CONTRAST\nHISTORY: Chronic congestion.\nFINDINGS: Images were obtained without "
            "intravenous contrast. Mucosal thickening of the maxillary sinuses.\nIMPRESSION: Chronic sinusitis. The "
            "study was performed without IV contrast although ordered with contrast.")
    assert cpt(shipped_nlp, text) == [("70486", ())]


def test_a_cta_runoff_includes_the_abdominal_aorta(nlp):
    text = ("CT ANGIOGRAPHY ABDOMINAL AORTA AND BILATERAL LOWER EXTREMITY RUNOFF\nHISTORY: Claudication.\n"
            "FINDINGS: After IV contrast, the aorta is patent. The right superficial femoral artery is occluded.\n"
            "IMPRESSION: Right SFA occlusion.")
    assert [c for c, _ in cpt(nlp, text)] == ["75635"]


# ---------------------------------------------------------------- sections and assertion

def test_a_prose_history_line_under_the_exam_statement_is_the_indication(nlp):
    text = ("EXAM: CT HEAD WITHOUT CONTRAST\nThe patient is a 51-year-old woman with new headache.\n"
            "FINDINGS: No hemorrhage.\nIMPRESSION: Normal noncontrast head CT.")
    assert icd(nlp, text) == ["R51.9"]


@pytest.mark.parametrize("text,target,expected", [
    ("Family history of aneurysm and new headache.", "headache", "present"),
    ("History of stroke and now left arm weakness.", "weakness", "present"),
    ("Family history of aneurysm and stroke.", "stroke", "family"),
    ("No cardiac activity, diagnostic of early pregnancy loss.", "early pregnancy loss", "present"),
    ("No cardiac activity.", "cardiac activity", "negated"),
])
def test_scope_ends_at_and_new_and_diagnostic_of(nlp, text, target, expected):
    assert assertion(nlp, text, target) == expected


# ---------------------------------------------------------------- normalization

def test_an_untyped_ulcer_is_the_pressure_ulcer_the_report_names(nlp):
    text = ("XR RIGHT CALCANEUS 2 VIEWS\nHistory: stage 4 pressure ulcer of the right heel.\n"
            "FINDINGS: Soft tissue ulcer at the plantar heel.\nIMPRESSION: Heel ulcer without osseous erosion.")
    doc = _doc(nlp, text, [("stage 4 pressure ulcer", "FINDING"), ("ulcer", "FINDING", 2),
                           ("Heel ulcer", "FINDING")])
    assert {e.text: e._.icd10cm for e in doc.ents} == {"stage 4 pressure ulcer": "L89.614", "ulcer": "L89.614",
                                                      "Heel ulcer": "L89.614"}


def test_an_ulcer_stays_its_own_code_without_a_typed_mention(nlp):
    text = "XR LEFT FOOT 3 VIEWS\nHistory: diabetic foot ulcer.\nFINDINGS: Ulcer at the first metatarsal head."
    doc = _doc(nlp, text, [("diabetic foot ulcer", "FINDING"), ("Ulcer", "FINDING")])
    assert doc.ents[1]._.icd10cm == doc.ents[0]._.icd10cm


@pytest.mark.parametrize("text,span,code", [
    ("MRI CERVICAL SPINE\nFINDINGS: Small disc protrusion at C6-C7.", "disc protrusion", "M50.223"),
    ("MRI CERVICAL SPINE\nFINDINGS: Interspinous ligament edema at C5-C6.", "edema", None),
    ("XR CHEST 2 VIEWS\nFINDINGS: Mild interstitial edema and small effusions.", "edema", "J81.1"),
    ("INDICATION: Nasogastric tube placement.", "Nasogastric tube placement", "Z97.8"),
    ("INDICATION: Heavy periods and iron deficiency anemia.", "iron deficiency anemia", "D50.9"),
    ("IMPRESSION: Embryo without cardiac activity, early pregnancy loss.", "early pregnancy loss", "O02.1"),
    ("FINDINGS: No cystic hygroma.", "cystic hygroma", "D18.1"),
    ("CT SINUS\nHISTORY: Chronic congestion.", "congestion", None),
])
def test_concepts_of_round_20(nlp, text, span, code):
    if code is None:
        assert code_of(nlp, text, span) != "J81.1"
    else:
        assert code_of(nlp, text, span) == code


def test_nuchal_translucency_screening(nlp):
    text = ("US OB NUCHAL TRANSLUCENCY\nHx: 12w3d by LMP, first trimester screening.\nSingle live IUP. CRL 60 mm = "
            "12w3d. NT 1.4 mm.\nIMP: Single live IUP at 12w3d. Normal NT.")
    assert icd(nlp, text) == ["Z36.82", "Z3A.12"]


# ---------------------------------------------------------------- coding rules

@pytest.mark.parametrize("codes,expected", [
    (["S62.336P", "Z87.81"], ["S62.336P"]),  # malunion of the healed fracture
    (["S82.222K", "Z87.81"], ["S82.222K"]),  # nonunion
    (["S52.501S", "Z87.81"], ["S52.501S"]),  # sequela
    (["S52.501A", "Z87.81"], ["S52.501A", "Z87.81"]),  # a new fracture beside an old healed one
])
def test_a_fracture_malunion_is_no_history_of_fracture(codes, expected):
    from radcoder.coding import prune_codes
    assert prune_codes(codes) == expected


def test_the_pregnant_state_is_not_coded_beside_a_pregnancy_code():
    from radcoder.coding import prune_codes
    assert prune_codes(["Z36.82", "Z33.1", "Z3A.12"]) == ["Z36.82", "Z3A.12"]
    assert prune_codes(["S82.201A", "Z33.1"]) == ["S82.201A", "Z33.1"]


def test_choledocholithiasis_with_ductal_dilatation_is_obstructing(nlp):
    text = ("MRCP\nINDICATION: Jaundice.\nFINDINGS: Stones in the gallbladder. A 7 mm stone in the distal common "
            "bile duct with intrahepatic biliary ductal dilatation.\nIMPRESSION: Choledocholithiasis with biliary "
            "dilatation. Cholelithiasis.")
    codes = icd(nlp, text)
    assert "K80.71" in codes and "K83.8" not in codes and "K80.70" not in codes


def test_an_appendicolith_is_part_of_acute_appendicitis(nlp):
    text = ("CT ABDOMEN AND PELVIS WITH CONTRAST\nINDICATION: Right lower quadrant pain.\nFINDINGS: Dilated appendix "
            "with an appendicolith and periappendiceal stranding.\nIMPRESSION: Acute appendicitis with appendicolith.")
    codes = icd(nlp, text)
    assert codes[0].startswith("K35") and "K38.1" not in codes


@pytest.mark.parametrize("text,span,code", [
    # a generic word remembered with another organ is coded from this report's context
    ("US ARTERIAL DUPLEX BILATERAL LOWER EXTREMITIES\nIMPRESSION: Mild left lower extremity atherosclerosis.",
     "atherosclerosis", "I70.202"),
    ("CT HEAD\nIMPRESSION: Intracranial atherosclerosis.", "Intracranial atherosclerosis", "I67.2"),
    ("CARDIAC MRI\nREASON: Heart failure with reduced ejection fraction.", "Heart failure", "I50.20"),
    ("ECHO\nREASON: Heart failure with preserved ejection fraction.", "Heart failure", "I50.30"),
])
def test_atherosclerosis_and_heart_failure_by_context(nlp, text, span, code):
    assert code_of(nlp, text, span) == code


def test_an_abnormal_cardiac_imaging_finding_is_part_of_the_heart_disease():
    from radcoder.coding import prune_codes
    assert prune_codes(["I42.0", "R93.1"]) == ["I42.0"]
    assert prune_codes(["R93.1", "J18.9"]) == ["R93.1", "J18.9"]


# ---------------------------------------------------------------- wave CU-CY round

@pytest.mark.parametrize("text,expected", [
    ("ACUTE ABDOMINAL SERIES (SUPINE AND UPRIGHT ABDOMEN, PA CHEST)", 3),
    ("XR ABDOMEN, AP SUPINE AND UPRIGHT VIEWS", 2),
    ("XR ABDOMEN, SUPINE AP VIEW", 1),
    ("XR CHEST, UPRIGHT PA AND LATERAL", 2),
])
def test_a_position_named_alone_is_a_view(text, expected):
    from radcoder.components.frames import _count_views
    assert _count_views(text.lower()) == expected


def test_gb_names_the_gallbladder_of_a_complete_abdominal_ultrasound(nlp):
    text = ("US ABDOMEN COMPLETE\nRUQ pain.\nLiver normal. GB with stones. CBD 4 mm. Pancreas normal. Spleen 9 cm. "
            "Kidneys normal. Aorta and IVC normal.\nIMP: Cholelithiasis.")
    assert cpt(nlp, text) == [("76700", ())]


def test_shear_wave_elastography_beside_the_liver_ultrasound(nlp):
    text = ("EXAM: US ABDOMEN LIMITED (RUQ) WITH SHEAR WAVE ELASTOGRAPHY\nINDICATION: Abnormal liver tests.\n"
            "FINDINGS: Echogenic liver. Median liver stiffness 7.1 kPa.\nIMPRESSION: Hepatic steatosis.")
    assert cpt(nlp, text) == [("76705", ()), ("76981", ())]


def test_a_popliteal_fossa_ultrasound_is_a_limited_extremity_exam(nlp):
    text = ("US EXTREMITY NONVASCULAR, LIMITED - POPLITEAL FOSSA\nHx: Posterior knee swelling.\n"
            "Anechoic cyst between the medial gastrocnemius and semimembranosus tendons.\nImp: Baker cyst.")
    assert [c for c, _ in cpt(nlp, text)] == ["76882"]


@pytest.mark.parametrize("codes,expected", [
    (["E11.621", "E11.9"], ["E11.621"]),
    (["E11.9", "I10"], ["E11.9", "I10"]),
    (["C25.0", "K86.89"], ["C25.0"]),
    (["S82.222K", "S82.402D"], ["S82.222K", "S82.402D"]),  # tibia and fibula: two fractures
    (["S72.342A", "S72.92XA"], ["S72.342A"]),  # the femur's unspecified fracture is the spiral shaft fracture
    (["T18.2XXA", "T18.9XXA"], ["T18.2XXA"]),
])
def test_pruning_of_unspecified_and_generic_codes(codes, expected):
    from radcoder.codesets.icd10cm import load_icd10cm
    from radcoder.coding import prune_codes
    assert prune_codes(codes, load_icd10cm()) == expected


def test_lower_urinary_tract_symptoms_are_coded_beside_bph(nlp):
    text = ("US PELVIS\nHISTORY: Weak stream and nocturia.\nFINDINGS: Enlarged prostate, 62 mL.\n"
            "IMPRESSION: Enlarged prostate.")
    codes = icd(nlp, text)
    assert codes[0] == "N40.1" and "R39.12" in codes and "R35.1" in codes


def test_a_mass_the_impression_calls_a_lipoma_is_the_lipoma(nlp):
    text = ("US SOFT TISSUE UPPER EXTREMITY, LIMITED\nINDICATION: Lump of the forearm.\nFINDINGS: 2 cm oval mass in "
            "the subcutaneous fat of the forearm, isoechoic to fat.\nIMPRESSION: Subcutaneous mass, consistent with a "
            "lipoma.")
    assert icd(nlp, text) == ["D17.20"]


def test_a_bare_diverticulum_is_the_named_one(nlp):
    text = ("ESOPHAGRAM\nHISTORY: Dysphagia.\nFINDINGS: Zenker diverticulum, 2 cm.\nIMPRESSION: Moderate "
            "diverticulum.")
    doc = _doc(nlp, text, [("Zenker diverticulum", "FINDING"), ("diverticulum", "FINDING", 2)])
    assert [e._.icd10cm for e in doc.ents] == ["K22.5", "K22.5"]


def test_a_healed_fracture_followed_since_the_injury_is_a_subsequent_encounter(nlp):
    text = ("EXAM: XR LEFT TIBIA AND FIBULA\nINDICATION: Fibular shaft fracture 6 months ago, follow-up.\n"
            "IMPRESSION: Healed fibular shaft fracture.")
    doc = _doc(nlp, text, [("Healed fibular shaft fracture", "FINDING")])
    assert doc.ents[0]._.icd10cm.endswith("D")


@pytest.mark.parametrize("text,span,code", [
    # several thyroid nodules are the multinodular goiter (train/dev gold: 16 of 19 plural mentions)
    ("US THYROID\nFINDINGS: Several thyroid nodules, the largest 1.2 cm.", "thyroid nodules", "E04.2"),
    ("US THYROID\nFINDINGS: A thyroid nodule of 1.2 cm.", "thyroid nodule", "E04.1"),
    # the organ header that opens the line is the context of a bare word
    ("US ABDOMEN LIMITED\nGB: multiple mobile shadowing stones, largest 1 cm.", "stones", "K80.20"),
    ("US RENAL\nRight kidney: two nonobstructing stones, largest 4 mm.", "stones", "N20.0"),
])
def test_plural_thyroid_nodules_and_line_headers(nlp, text, span, code):
    assert code_of(nlp, text, span) == code


# ---------------------------------------------------------------- wave CZ-DD round (train/dev part)

def test_a_film_after_a_procedure_is_the_film(nlp):
    text = ("Chest x-ray, single frontal view, obtained after left thoracentesis.\n\nHistory: Post left "
            "thoracentesis. Evaluate for pneumothorax.\n\nSmall left apical pneumothorax.\n\nImpression: Small left "
            "apical pneumothorax.")
    assert cpt(nlp, text) == [("71045", ())]


def test_fewer_views_than_the_smallest_code_is_a_reduced_service(nlp):
    base = ("XR ELBOW LEFT{t}\nHx: Fall, elbow pain.\n{v}\nJoint effusion. No fracture line.\nIMP: Joint effusion.")
    assert cpt(nlp, base.format(t=", LIMITED", v="Single lateral view only; the child would not tolerate "
                                 "repositioning.")) == [("73070", ("52", "LT"))]
    assert cpt(nlp, base.format(t=", 2 VIEWS", v="AP and lateral views.")) == [("73070", ("LT",))]


def test_contrast_volume_after_the_brand_in_parentheses():
    from radcoder.codesets.procedures import load_hcpcs
    from radcoder.cpt_coding import contrast_supply_lines
    hc = load_hcpcs()
    text = "TECHNIQUE: post-contrast T1 images after IV gadobutrol (Gadavist) 3 mL."
    assert contrast_supply_lines(text, {"MR"}, hc) == [("A9585", 30)]


def test_the_post_biopsy_mammogram_is_billed_beside_the_biopsy(nlp):
    text = ("PROCEDURE: ULTRASOUND-GUIDED CORE BIOPSY, RIGHT BREAST\nINDICATION: Right breast mass, BI-RADS 4.\n"
            "PROCEDURE DETAILS: Under ultrasound guidance four 14-gauge cores were obtained and a clip was placed.\n"
            "FINDINGS: Post-procedure mammogram, right CC and ML views: the clip is at the biopsy site.\n"
            "IMPRESSION: Successful ultrasound-guided biopsy with clip placement.")
    assert ("77065", ("RT",)) in cpt(nlp, text)


def test_the_achilles_tendon_is_the_ankle(nlp):
    text = ("ULTRASOUND ACHILLES TENDON, LIMITED\nHistory: Pop at the back of the ankle.\nFull-thickness tear of the "
            "Achilles tendon.\nIMPRESSION: Achilles tendon rupture.")
    assert [c for c, _ in cpt(nlp, text)] == ["76882"]


def test_a_resected_cancer_without_recurrence_is_a_history(nlp):
    text = ("CT THORAX WITH CONTRAST\nHISTORY: Right upper lobe lung cancer s/p right upper lobectomy 2 "
            "years ago. Surveillance.\nFINDINGS: Postsurgical changes. No evidence of recurrence.\nIMPRESSION: Status "
            "post right upper lobectomy. No evidence of recurrence.")
    codes = icd(nlp, text)
    assert "Z85.118" in codes and not any(c.startswith("C34") for c in codes)


@pytest.mark.parametrize("text,target,expected", [
    # 'if there are' opens a hypothetical scope ('there are' alone only ends a scope)
    ("If there are neurologic deficits, MRI of the cervical spine could be obtained.", "neurologic deficits",
     "hypothetical"),
    ("There are small bilateral effusions.", "effusions", "present"),
    # a work-up for a condition evaluates it; 'the likely cause' names an uncertain one
    ("Dementia work-up.", "Dementia", "hypothetical"),
    ("Known dementia, worsening confusion.", "dementia", "present"),
    ("Small bowel obstruction; adhesions are the likely cause.", "adhesions", "uncertain"),
    ("Small bowel obstruction; adhesions are the likely cause.", "Small bowel obstruction", "present"),
])
def test_if_there_are_work_up_and_likely_cause(nlp, text, target, expected):
    assert assertion(nlp, text, target) == expected
