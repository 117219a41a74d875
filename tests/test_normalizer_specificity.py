"""ICD-10-CM specificity refinement (radcoder.icd_specificity) and its use in the normalizer."""

import pytest

from normalizer_helpers import normalize_with_spans as _doc
from radcoder import icd_specificity as spec

pytest.importorskip("simple_icd_10_cm")


def ctx(text, side=None, exam=""):
    return spec.build_context(text, side=side, sentence_text=text, exam_text=exam)


# --- the mapping data -----------------------------------------------------------------------------

def test_terms_file_loads_and_maps_lobes_quadrants_digits():
    t = spec.terms()
    index = {p[0]: p for p in t.phrases}
    assert index[("rul",)][1:] == (("upper", "lobe"), "right")
    assert index[("lll",)][2] == "left"
    assert index[("4th", "finger")][1] == ("ring", "finger")
    assert ("upper", "outer", "quadrant") == index[("uoq",)][1]
    assert t.clock  # clock rows for both breasts
    assert {c[0] for c in t.clock} == {"left", "right"}


@pytest.mark.parametrize("text,side,expected", [
    ("mass at 10 o'clock", "right", {"upper", "outer", "quadrant"}),
    ("mass at 10:30", "right", {"upper", "outer", "quadrant"}),
    ("lump at 2 o'clock", "left", {"upper", "outer", "quadrant"}),
    ("lump at 2 o'clock", "right", {"upper", "inner", "quadrant"}),
    ("mass at 7 o'clock", "right", {"lower", "outer", "quadrant"}),
    ("mass at 12 o'clock", "right", set()),        # on the boundary: no quadrant
    ("mass at 10 o'clock", None, set()),           # no side: no quadrant
])
def test_clock_positions(text, side, expected):
    assert spec.clock_tokens(text, side) == expected


def test_side_words_single_letters_only_upper_case():
    assert spec.side_words(["l", "adrenal"], ["L", "adrenal"]) == {"left"}
    assert spec.side_words(["l", "adrenal"], ["l", "adrenal"]) == set()
    assert spec.resolve_side({"left", "right"}) == "bilateral"


# --- refine ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("code,text,side,exam,expected", [
    # breast: quadrant words and clock positions
    ("C50.911", "invasive ductal carcinoma, right breast upper outer quadrant", "right", "", "C50.411"),
    ("N63.20", "a lump in the left breast at 2 o'clock", "left", "", "N63.21"),
    ("N63.10", "right breast mass at 7 o'clock", "right", "", "N63.13"),
    ("N63.10", "right breast mass at 12 o'clock", "right", "", "N63.10"),
    # lung lobes (the side comes with the abbreviation)
    ("C34.90", "hypermetabolic RUL mass consistent with the known primary lung cancer", "right", "", "C34.11"),
    ("C34.90", "left lower lobe carcinoma", "left", "", "C34.32"),
    # fractures: nondisplaced only when stated; the 7th character is kept
    ("S52.123A", "nondisplaced radial head fracture", "left", "", "S52.125A"),
    ("S52.123A", "radial head fracture", "left", "", "S52.122A"),
    ("S52.123D", "nondisplaced radial head fracture", "left", "", "S52.125D"),
    ("S62.90XA", "fracture of the fifth metacarpal neck", "left", "LEFT HAND", "S62.337A"),
    # tear thickness, joints from the exam title, lipoma of the arm
    ("M75.102", "full-thickness supraspinatus tear", "left", "LEFT SHOULDER", "M75.122"),
    ("M25.40", "small joint effusion", "right", "RIGHT KNEE", "M25.461"),
    ("D17.9", "subcutaneous lipoma", "right", "RIGHT FOREARM", "D17.21"),
    # nodal metastases by station
    ("C77.9", "left axillary nodal metastases", "left", "", "C77.3"),
    # digits; a negated/uncertain clause documents nothing ("eval for retained foreign body")
    ("S61.219A", "laceration of the left ring finger, eval for retained foreign body", "left", "", "S61.215A"),
    # the 'without' default: diverticulitis of the sigmoid colon
    ("K57.92", "inflamed diverticulum of the sigmoid colon", None, "", "K57.32"),
])
def test_refine(code, text, side, exam, expected):
    assert spec.refine(code, ctx(text, side, exam)) == expected


@pytest.mark.parametrize("code,text,side", [
    ("R07.81", "pleuritic chest pain on breathing", None),           # nothing unspecified in the title
    ("J32.9", "chronic sinusitis of the frontal and ethmoid sinuses and maxillary sinus", "left"),  # several sites
    ("R22.9", "left scrotal pain and swelling", "left"),              # a side alone does not invent a limb
    ("N63.10", "palpable lump, right forearm", "right"),              # 'upper' alone is not a quadrant
    ("I50.9", "CHF with large right pleural effusion", "right"),      # right heart failure is no side variant
    ("R56.9", "new-onset seizure", None),
])
def test_refine_keeps_code(code, text, side):
    assert spec.refine(code, ctx(text, side)) == code


def test_refine_side_only_change_and_unknown_codes():
    assert spec.refine("Z89.511", ctx("left lower extremity below-knee amputation", "left")) == "Z89.512"
    assert spec.refine(None, ctx("x")) is None
    assert spec.refine("NOT.A.CODE", ctx("x")) == "NOT.A.CODE"


def test_specializes():
    assert spec.specializes("C50.411", "C50.911")
    assert spec.specializes("N63.13", "N63.10")
    assert not spec.specializes("C50.412", "C50.911")     # other side
    assert not spec.specializes("J32.8", "J32.9")         # 'other' is a sibling, not a specialization
    assert not spec.specializes("C50.911", "C50.411")


# --- in the normalizer ----------------------------------------------------------------------------



def _codes(doc):
    return [(e.text, e._.icd10cm) for e in doc.ents if e.label_ == "FINDING"]


def test_normalizer_refines_and_harmonizes(rules_nlp):
    text = ("EXAM: DIAGNOSTIC MAMMOGRAM RIGHT\n\nFINDINGS: The 8 mm mass in the right breast at 7 o'clock is "
            "unchanged.\n\nIMPRESSION: Stable probably benign breast mass.")
    doc = _doc(rules_nlp, text, [("MAMMOGRAM", "MODALITY"), ("RIGHT", "LATERALITY"), ("mass", "FINDING"),
                                 ("breast mass", "FINDING")])
    assert _codes(doc) == [("mass", "N63.13"), ("breast mass", "N63.13")]


def test_normalizer_refine_can_be_switched_off(rules_nlp):
    norm = rules_nlp.get_pipe("radcoder_normalizer")
    text = "FINDINGS: Invasive ductal carcinoma, right breast upper outer quadrant."
    try:
        norm.refine_codes = False
        off = _codes(_doc(rules_nlp, text, [("Invasive ductal carcinoma", "FINDING")]))
    finally:
        norm.refine_codes = True
    on = _codes(_doc(rules_nlp, text, [("Invasive ductal carcinoma", "FINDING")]))
    assert off == [("Invasive ductal carcinoma", "C50.911")]
    assert on == [("Invasive ductal carcinoma", "C50.411")]


def test_generic_word_specialized_from_context(rules_nlp):
    text = "FINDINGS: Thyroid: 1.4 cm hypodense nodule in the right lobe, unchanged."
    doc = _doc(rules_nlp, text, [("nodule", "FINDING")])
    assert _codes(doc) == [("nodule", "E04.1")]
    text = "HISTORY: Left ring finger laceration from broken glass.\nFINDINGS: No fracture."
    doc = _doc(rules_nlp, text, [("laceration", "FINDING")])
    assert _codes(doc) == [("laceration", "S61.215A")]


def test_bare_head_word_takes_the_organ_from_context(rules_nlp):
    text = "INDICATION: Left scrotal pain and swelling x 3 days."
    doc = _doc(rules_nlp, text, [("swelling", "FINDING")])
    assert _codes(doc) == [("swelling", "N50.89")]       # not soft tissue swelling R22.9
    # a two-word term stays what it says
    text = "INDICATION: history of lung cancer, surveillance."
    doc = _doc(rules_nlp, text, [("lung cancer", "FINDING")])
    assert _codes(doc)[0][1].startswith("C34")


# --- session 4: side guesses, "specified ... with unspecified laterality", condition-level "Unspecified" ---

@pytest.mark.parametrize("code,text,side,exam,expected", [
    # a named digit of no stated side: the "other" code ("specified metacarpal bone with unspecified laterality")
    ("S62.309A", "transverse fx of the fifth metacarpal neck", None, "HAND", "S62.338A"),
    ("S62.339A", "transverse fx of the fifth metacarpal neck", "left", "HAND", "S62.337A"),
    # "Other extraarticular / intraarticular fracture of lower end of radius"
    ("S52.509A", "Extra-articular distal radius fx", None, "WRIST", "S52.559A"),
    ("S52.509A", "intra-articular distal radius fracture", "right", "WRIST", "S52.571A"),
    # a pathological fracture in neoplastic disease takes its bone and side
    ("M84.50XA", "Displaced pathologic fracture of the right femoral neck through a lytic lesion", "right", "",
     "M84.551A"),
])
def test_refine_session4(code, text, side, exam, expected):
    assert spec.refine(code, ctx(text, side, exam)) == expected


def test_unspecified_condition_needs_all_its_words():
    # "Unspecified hydronephrosis" is not "with renal and ureteral calculous obstruction" without a stone
    text = "Moderate bilateral hydronephrosis, likely from distal ureteral obstruction by the cervical malignancy."
    assert spec.refine("N13.30", ctx(text, "bilateral", "RENAL")) == "N13.30"


def test_vein_written_next_to_the_span_is_kept_over_the_exam_title():
    # "unspecified popliteal vein" is unspecified in its side: the popliteal vein is not traded for the title's
    # "lower extremity" ("deep veins of left lower extremity")
    c = ctx("Acute L popliteal DVT.", "left", "LEFT LOWER EXTREMITY VENOUS DUPLEX")
    assert spec.refine("I82.439", c) == "I82.432"
    # an axis placeholder ("unspecified joint") is still filled in from the context
    assert spec.refine("M25.40", ctx("small joint effusion", "right", "RIGHT KNEE")) == "M25.461"
