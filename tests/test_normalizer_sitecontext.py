"""Site-aware context codes, synonym families and side attribution of the normalizer (findings.jsonl
'context_codes' with 'and' conditions, icd_specificity limb/inclusion handling)."""
import pytest

from radcoder import icd_specificity as spec
from radcoder.components.normalizer import context_rules, lookup_concept
from normalizer_helpers import normalize_with_spans as _doc




def _code(nlp, text, span, others=()):
    doc = _doc(nlp, text, [(span, "FINDING"), *((o, "FINDING") for o in others)])
    return {e.text: e._.icd10cm for e in doc.ents}[span]


@pytest.mark.parametrize("text,span,code", [
    # synonym families
    ("INDICATION: Acute right hand weakness and slurred speech.", "slurred speech", "R47.81"),
    ("INDICATION: Acute right hand weakness and slurred speech.", "hand weakness", "R29.898"),
    ("INDICATION: Sore throat, fever and trismus.", "trismus", "R25.2"),
    ("INDICATION: Painless hematochezia since this morning.", "hematochezia", "K92.1"),
    ("Hx: R pulsatile tinnitus x 2 mo.", "pulsatile tinnitus", "H93.A1"),
    ("FINDINGS: Mild left ventricular hypertrophy.", "left ventricular hypertrophy", "I51.7"),
    ("FINDINGS: Common bile duct dilatation to 11 mm.", "Common bile duct dilatation", "K83.8"),
    # a bare stone takes its site from the words next to it
    ("FINDINGS: 5 mm calculus at the left ureterovesical junction.", "calculus", "N20.1"),
    ("FINDINGS: 4 mm nonobstructing calculus in the lower pole of the right kidney.", "calculus", "N20.0"),
    ("FINDINGS: Gallbladder contains multiple stones.", "stones", "K80.20"),
    ("FINDINGS: Gallbladder distended with multiple stones, one impacted in the neck.", "stones", "K80.21"),
    # combination codes
    ("FINDINGS: Obstructing ureteral stone with mild left hydronephrosis.", "hydronephrosis", "N13.2"),
    ("FINDINGS: No hydronephrosis. Nonobstructing renal stone.", "hydronephrosis", "N13.30"),
    ("Hx: EtOH cirrhosis w/ recurrent ascites.", "EtOH cirrhosis", "K70.31"),
    ("IMPRESSION: Acute calculous cholecystitis w/ stone impacted in GB neck.", "Acute calculous cholecystitis", "K80.01"),
    ("IMPRESSION: Active diverticular hemorrhage in the proximal descending colon.", "diverticular hemorrhage", "K57.31"),
    # lymphadenopathy at a named station is localized
    ("FINDINGS: Reactive-appearing level II lymphadenopathy bilaterally.", "lymphadenopathy", "R59.0"),
    ("FINDINGS: Diffuse lymphadenopathy in the chest, abdomen and pelvis.", "lymphadenopathy", "R59.1"),
    ("FINDINGS: Enlarged lymph nodes noted, lymphadenopathy.", "lymphadenopathy", "R59.9"),
    # nodal metastasis by station, whatever primary is named with it
    ("IMPRESSION: Hypermetabolic L inguinal adenopathy c/w nodal metastatic melanoma.", "nodal metastatic melanoma", "C77.4"),
    # DVT by vein, side from the sentence
    ("IMPRESSION: Acute occlusive deep vein thrombosis of the left brachial veins.", "deep vein thrombosis", "I82.622"),
    ("IMPRESSION: Occlusive deep vein thrombosis of the right common femoral vein.", "deep vein thrombosis", "I82.411"),
    # former smoker (GUIDELINE 7.1)
    ("INDICATION: 66-year-old man, former smoker (38 pack-years).", "smoker", "Z87.891"),
    ("INDICATION: 66-year-old man, smoker.", "smoker", "F17.210"),
    # fall from a ladder further away in the sentence
    ("Clinical history: 46-year-old man after a fall of approximately 8 feet from a ladder.", "fall", "W11.XXXA"),
    # a negated cue is no context: hydronephrosis "without visible stones" is not obstructive (N13.2)
    ("IMPRESSION: Mild bilateral hydronephrosis without visible stones.", "hydronephrosis", "N13.30"),
    ("IMPRESSION: Moderate right hydronephrosis with no obstructing stone.", "hydronephrosis", "N13.30"),
    ("IMPRESSION: Moderate right hydronephrosis due to an obstructing UVJ stone.", "hydronephrosis", "N13.2"),
    # degenerative change takes the examined joint or spine; meningioma of a brain exam is cerebral
    ("XR ABDOMEN 2 VIEWS\nIMPRESSION: Nonobstructive bowel gas pattern. Degenerative changes.", "Degenerative changes",
     "M47.816"),
    ("MRI BRAIN\nIMPRESSION: Incidental 9 mm right frontal convexity meningioma.", "convexity meningioma", "D32.0"),
    ("MRI THORACIC SPINE\nIMPRESSION: T6 intradural meningioma.", "meningioma", "D32.1"),
    # a stone of a salivary duct is sialolithiasis, not a urinary calculus
    ("IMPRESSION: 7 mm calculus in the left Wharton duct with ductal dilatation.", "calculus", "K11.5"),
    ("IMPRESSION: Perforated acute appendicitis.", "Perforated acute appendicitis", "K35.32"),
])
def test_site_context(rules_nlp, text, span, code):
    assert _code(rules_nlp, text, span) == code


def test_disc_radiculopathy_needs_the_nerve_root_in_the_sentence(rules_nlp):
    text = ("FINDINGS: At L5-S1 there is a left paracentral disc extrusion compressing the traversing left S1 nerve root. "
            "At L4-5 there is a small broad-based disc bulge without spinal stenosis.")
    doc = _doc(rules_nlp, text, [("disc extrusion", "FINDING"), ("disc bulge", "FINDING")])
    assert [e._.icd10cm for e in doc.ents] == ["M51.17", "M51.26"]


def test_and_conditions_load():
    rules = context_rules()["urolithiasis"][1]
    assert any(r[4] for r in rules) and any(not r[4] for r in rules)


def test_fracture_site_in_long_of_phrase(rules_nlp):
    text = "FINDINGS: Displaced, mildly comminuted fracture of the midshaft of the left clavicle."
    assert _code(rules_nlp, text, "Displaced, mildly comminuted fracture") == "S42.022A"


def test_pilon_and_colles(rules_nlp):
    assert _code(rules_nlp, "FINDINGS: Comminuted fracture of the left distal tibial plafond.", "fracture") == "S82.872A"
    text = "EXAM: XR WRIST RIGHT\nFINDINGS: Impacted right distal radius fracture, consistent with a Colles fracture."
    assert _code(rules_nlp, text, "distal radius fracture") == "S52.531A"


def test_nondisplaced_overrides_displaced_default(rules_nlp):
    text = "IMPRESSION: Nondisplaced left lateral malleolar fracture."
    assert _code(rules_nlp, text, "lateral malleolar fracture") == "S82.65XA"
    text = "IMPRESSION: Left lateral malleolar fracture."
    assert _code(rules_nlp, text, "lateral malleolar fracture") == "S82.62XA"


def test_side_word_of_another_finding_is_not_taken(rules_nlp):
    text = "INDICATION: Ovarian carcinoma on chemotherapy, with dyspnea and a recurrent left pleural effusion."
    doc = _doc(rules_nlp, text, [("Ovarian carcinoma", "FINDING"), ("pleural effusion", "FINDING")])
    assert doc.ents[0]._.icd10cm == "C56.9"
    text = "INDICATION: Ovarian carcinoma, left side."
    assert _code(rules_nlp, text, "Ovarian carcinoma") == "C56.2"


def test_exam_side_not_given_to_a_history_of_another_organ(rules_nlp):
    text = "EXAM: LEFT UPPER EXTREMITY VENOUS DUPLEX\nHISTORY: History of small cell lung cancer, now arm swelling."
    doc = _doc(rules_nlp, text, [("LEFT", "LATERALITY"), ("small cell lung cancer", "FINDING"), ("arm swelling", "FINDING")])
    codes = {e.text: e._.icd10cm for e in doc.ents}
    assert codes["small cell lung cancer"] == "C34.90"


def test_limb_words_and_inclusion_clause():
    ctx = spec.build_context("melanoma L heel", side="left")
    assert spec.refine("C43.9", ctx) == "C43.72"
    ctx = spec.build_context("lump wrist swelling", side="right")
    assert spec.refine("R22.9", ctx) == "R22.31"


def test_lookup_variants():
    assert lookup_concept("common bile duct dilatation").id == lookup_concept("common bile duct dilation").id
    assert lookup_concept("nodal metastatic melanoma").id == "lymph_node_metastases"


def test_lung_nodule_not_made_thyroid_by_another_organ_of_the_report(rules_nlp):
    text = ("REASON FOR EXAM: F/u RLL pulmonary nodule.\nFINDINGS: The 7 mm solid nodule in the right lower lobe is "
            "unchanged. 1.8 cm nodule in the left thyroid lobe.\nIMPRESSION: Thyroid nodule. Recommend thyroid "
            "ultrasound.")
    doc = _doc(rules_nlp, text, [("pulmonary nodule", "FINDING"), ("nodule", "FINDING", 2), ("Thyroid", "ANATOMY"),
                                 ("thyroid", "ANATOMY")])
    codes = [(e.text, e._.icd10cm) for e in doc.ents if e.label_ == "FINDING"]
    assert codes[:2] == [("pulmonary nodule", "R91.1"), ("nodule", "R91.1")]


@pytest.mark.parametrize("text,code", [
    ("CT RIGHT WRIST\nFINDINGS: The scaphoid waist fracture shows sclerotic margins, indicating nonunion.\n"
     "IMPRESSION: Established nonunion of the scaphoid waist fracture.", "S62.023K"),
    ("XR LEFT TIBIA\nIMPRESSION: Open tibial shaft fracture, now with malunion.", None),
])
def test_bare_nonunion_takes_the_fracture_code_with_its_7th_character(rules_nlp, text, code):
    doc = _doc(rules_nlp, text, [("scaphoid waist fracture", "FINDING"), ("nonunion", "FINDING"),
                                 ("nonunion", "FINDING", 2)] if "WRIST" in text else [("malunion", "FINDING")])
    got = [e._.icd10cm for e in doc.ents if "union" in e.text]
    assert got == ([code, code] if code else [None])   # no fracture span: no code searched from the word alone


@pytest.mark.parametrize("text,code", [
    ("CT RIGHT WRIST WITHOUT CONTRAST\nIMPRESSION: Early radioscaphoid degenerative change.", "M19.031"),
    ("XR BILATERAL KNEES\nIMPRESSION: Degenerative changes.", "M17.0"),
    ("XR LEFT KNEE 3 VIEWS\nIMPRESSION: Mild degenerative changes.", "M17.12"),
])
def test_degenerative_change_is_the_osteoarthritis_of_the_examined_joint_and_side(rules_nlp, text, code):
    doc = rules_nlp(text)
    assert [e._.icd10cm for e in doc.ents if e.label_ == "FINDING"] == [code]


def test_post_stroke_deficit_is_a_sequela_code(rules_nlp):
    doc = _doc(rules_nlp, "Hx: post-stroke dysphagia, feeding tube placed.", [("post-stroke dysphagia", "FINDING")])
    assert [e._.icd10cm for e in doc.ents] == ["I69.391"]


def test_a_grade_alone_is_not_searched_as_a_condition(rules_nlp):
    text = "IMPRESSION: Vesicoureteral reflux, grade II on the left."
    doc = _doc(rules_nlp, text, [("Vesicoureteral reflux", "FINDING"), ("grade II", "FINDING")])
    assert {e.text: e._.icd10cm for e in doc.ents}["grade II"] in (None, "N13.70")   # never hemorrhoids (K64.1)


@pytest.mark.parametrize("text,code", [
    ("CT LEFT HIP\nIMPRESSION: Nondisplaced left greater trochanteric fracture.", "S72.115A"),
    # a hematoma of a limb is its contusion; the side of the exam title's anatomy ("RIGHT THIGH")
    ("US RIGHT THIGH SOFT TISSUE, LIMITED\nHISTORY: Fall.\nIMPRESSION: Subcutaneous collection, consistent with "
     "hematoma.", "S70.11XA"),
])
def test_limb_injuries_by_site_and_exam_side(rules_nlp, text, code):
    doc = rules_nlp(text)
    assert code in [e._.icd10cm for e in doc.ents if e.label_ == "FINDING"]


def test_eye_pain_and_blurred_vision_are_integral_to_optic_neuritis(rules_nlp):
    import radcoder
    doc = rules_nlp("EXAM: MRI ORBITS\nREASON FOR EXAM: Left eye pain on eye movement and blurred vision.\n"
                    "IMPRESSION: Left optic neuritis.")
    assert {"H57.12", "H53.8", "H46.9"} <= {e._.icd10cm for e in doc.ents if e.label_ == "FINDING"}
    assert [c["code"] for c in radcoder.to_record(doc, "t")["icd10cm"]] == ["H46.9"]


def test_side_label_and_side_of_the_same_condition_beat_a_bilateral_exam(shipped_nlp):
    text = ("US CAROTID DUPLEX BILATERAL\nFINDINGS:\nRight: Smooth walls without plaque.\nLeft: Heterogeneous plaque "
            "at the bulb.\nIMPRESSION:\n1. Left ICA stenosis of 70-99%, with heterogeneous plaque.")
    doc = shipped_nlp(text)
    codes = [(e.text, e._.icd10cm) for e in doc.ents if e.label_ == "FINDING" and "plaque" in e.text]
    assert [c for _, c in codes] == ["I65.21", "I65.22", "I65.22"]


def test_prostate_enlargement_with_urinary_symptoms_is_n40_1(rules_nlp):
    doc = _doc(rules_nlp, "Hx: urinary frequency and weak stream.\nIMP: Enlarged prostate.",
               [("Enlarged prostate", "FINDING")])
    assert [e._.icd10cm for e in doc.ents] == ["N40.1"]
