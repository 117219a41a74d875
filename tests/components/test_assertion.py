import pytest

import radcoder
from radcoder.components.assertion import AssertionDetector


def _assert(nlp, text, terms):
    spans, pos = [], 0
    for t in terms:
        i = text.index(t, pos)
        spans.append((i, i + len(t)))
        pos = i + len(t)
    return radcoder.assert_spans(nlp, text, spans)


@pytest.mark.parametrize("text,terms,expected", [
    ("No pneumothorax, pleural effusion, or consolidation.", ["pneumothorax", "pleural effusion", "consolidation"],
     ["negated"] * 3),
    ("Lungs are clear of infiltrate.", ["infiltrate"], ["negated"]),
    ("Pneumonia has resolved.", ["Pneumonia"], ["negated"]),
    ("The nodule is no longer seen.", ["nodule"], ["negated"]),
    ("No evidence of fracture.", ["fracture"], ["negated"]),
    ("Without evidence of abscess.", ["abscess"], ["negated"]),
    ("Findings may represent atelectasis.", ["atelectasis"], ["uncertain"]),
    ("Cannot exclude pneumonia.", ["pneumonia"], ["uncertain"]),
    ("Atelectasis versus pneumonia.", ["Atelectasis", "pneumonia"], ["uncertain", "uncertain"]),
    ("Suspicious for malignancy.", ["malignancy"], ["uncertain"]),
    ("Active bleeding in the sigmoid. Differential for the source includes diverticular bleeding and angiodysplasia.",
     ["bleeding", "diverticular bleeding", "angiodysplasia"], ["present", "uncertain", "uncertain"]),
    ("Cough, r/o pneumonia.", ["Cough", "pneumonia"], ["present", "hypothetical"]),
    ("To evaluate for appendicitis.", ["appendicitis"], ["hypothetical"]),
    ("History of breast cancer.", ["breast cancer"], ["historical"]),
    ("Family history of breast cancer.", ["breast cancer"], ["family"]),
    ("No change in the nodule.", ["nodule"], ["present"]),
    ("No increase in size of the cyst.", ["cyst"], ["present"]),
    ("No effusion but there is pneumonia.", ["effusion", "pneumonia"], ["negated", "present"]),
    ("No hemorrhage; small infarct is present.", ["hemorrhage", "infarct"], ["negated", "present"]),
])
def test_assertion_cues(rules_nlp, text, terms, expected):
    assert _assert(rules_nlp, text, terms) == expected


def test_assertion_spans_by_someone_else_align_one_to_one(rules_nlp):
    text = "No pneumothorax. Possible effusion.\n\nEdema."
    labels = radcoder.assert_spans(rules_nlp, text, [(3, 15), (26, 34), (37, 42), (36, 37)])
    assert len(labels) == 4 and labels[:3] == ["negated", "uncertain", "present"]


def test_assertion_rules_round_trip(rules_nlp, tmp_path):
    a = rules_nlp.get_pipe("radcoder_assertion")
    a.to_disk(tmp_path)
    b = AssertionDetector(rules_nlp).from_disk(tmp_path)
    assert b.rules == a.rules and len(b.rules) > 200


def test_assertion_without_rules_warns_and_leaves_doc(rules_nlp):
    import radcoder.errors
    radcoder.errors._warned.clear()
    det = AssertionDetector(rules_nlp)
    doc = rules_nlp.make_doc("No effusion.")
    with pytest.warns(UserWarning, match="W001"):
        det(doc)


@pytest.mark.parametrize("text,terms,expected", [
    ("No focal consolidation or pulmonary edema.", ["focal consolidation", "pulmonary edema"], ["negated", "negated"]),
    ("Atelectasis or pneumonia in the left base.", ["Atelectasis", "pneumonia"], ["uncertain", "uncertain"]),
    ("Cardiomegaly and/or pericardial effusion.", ["Cardiomegaly", "pericardial effusion"], ["uncertain", "uncertain"]),
    ("Hydronephrosis, status post pyeloplasty.", ["Hydronephrosis", "pyeloplasty"], ["present", "present"]),
    ("History of breast cancer status post mastectomy.", ["breast cancer", "mastectomy"], ["historical", "present"]),
    ("Now with three day history of cough.", ["cough"], ["present"]),
    ("No history of malignancy.", ["malignancy"], ["negated"]),
    ("Healed rib fractures.", ["rib fractures"], ["historical"]),
    ("Five year old with cough.", ["cough"], ["present"]),
    ("Risks including infection and bleeding were discussed.", ["infection", "bleeding"], ["hypothetical", "hypothetical"]),
    ("Adenopathy cannot be completely excluded.", ["Adenopathy"], ["uncertain"]),
])
def test_assertion_radiology_constructions(rules_nlp, text, terms, expected):
    assert _assert(rules_nlp, text, terms) == expected


@pytest.mark.parametrize("text,terms,expected", [
    # post-cues: the treated condition before the treatment is historical (GUIDELINE 7.3)
    ("Rectal adenocarcinoma s/p low anterior resection.", ["Rectal adenocarcinoma", "low anterior resection"],
     ["historical", "present"]),
    ("Hx melanoma of the back excised 2019.", ["melanoma"], ["historical"]),
    ("Melanoma of the back, stage IIIB, excised 2024.", ["Melanoma"], ["historical"]),
    ("Laryngeal carcinoma, completed chemoradiation 11/2024.", ["Laryngeal carcinoma"], ["historical"]),
    ("Two urinary tract infections this year, now treated.", ["urinary tract infections"], ["historical"]),
    ("Completed chemoradiation for rectal cancer.", ["rectal cancer"], ["historical"]),
    ("Treated lymphoma.", ["lymphoma"], ["historical"]),
    ("Pneumonia being treated with antibiotics.", ["Pneumonia"], ["present"]),
    # "s/p" before a procedure: the procedure is a present status, the condition after it stays historical
    ("s/p cholecystectomy for cholecystitis.", ["cholecystectomy", "cholecystitis"], ["present", "historical"]),
    ("s/p EVAR for AAA.", ["EVAR", "AAA"], ["present", "historical"]),
    # a comma-separated condition before "s/p <non-curative procedure>" is untouched
    ("Neurogenic bladder, status post bladder augmentation.", ["Neurogenic bladder"], ["present"]),
    # a new clause about the current state ends the history scope
    ("History of breast cancer treated in 2021, now with blurred vision.", ["breast cancer", "blurred vision"],
     ["historical", "present"]),
    ("History of febrile UTI, known grade III reflux.", ["UTI", "grade III reflux"], ["historical", "present"]),
    ("No hydronephrosis in this patient with known reflux.", ["hydronephrosis", "reflux"], ["negated", "present"]),
    ("No abnormality at the site of the palpable lump.", ["abnormality", "lump"], ["negated", "present"]),
    ("Metastasis, given the history.", ["Metastasis"], ["present"]),
    ("Smoking history.", ["Smoking"], ["historical"]),
    # comparison exams called "prior" are not a history cue
    ("New lesions compared with prior, consistent with demyelination.", ["demyelination"], ["present"]),
    ("No prior fractures.", ["fractures"], ["negated"]),
    # reasons for an omitted step are present
    ("IV contrast was not administered due to acute kidney injury.", ["acute kidney injury"], ["present"]),
    ("Left side not imaged (mastectomy).", ["mastectomy"], ["present"]),
    # hypothetical
    ("Colorectal cancer screening.", ["Colorectal cancer"], ["hypothetical"]),
    ("Postmenopausal, screening.", ["Postmenopausal"], ["present"]),
    ("Dense breasts, which may obscure small masses.", ["masses"], ["hypothetical"]),
    ("10-year probability: hip fracture 1.9%.", ["hip fracture"], ["hypothetical"]),
    ("Differentiate Graves disease from thyroiditis.", ["Graves disease", "thyroiditis"],
     ["hypothetical", "hypothetical"]),
    ("Chronic knee pain, eval OA.", ["knee pain", "OA"], ["present", "hypothetical"]),
    # present lesions of unknown nature
    ("Probably benign mass, likely fibroadenoma.", ["mass", "fibroadenoma"], ["present", "uncertain"]),
    ("Indeterminate 4 cm liver lesion.", ["liver lesion"], ["present"]),
    ("Probably not a fracture.", ["fracture"], ["uncertain"]),
    ("Mother died of ovarian cancer.", ["ovarian cancer"], ["family"]),
])
def test_assertion_historical_post_cues_and_scope(rules_nlp, text, terms, expected):
    assert _assert(rules_nlp, text, terms) == expected


@pytest.mark.parametrize("text,terms,expected", [
    ("No mammographic cause for breast pain.", ["breast pain"], ["present"]),          # pseudo-negation
    ("No mammographic correlate for the palpable lump.", ["lump"], ["present"]),
    ("Moderate hydronephrosis, cause not identified.", ["hydronephrosis"], ["present"]),
    ("Diverticulosis without CT signs of diverticulitis.", ["Diverticulosis", "diverticulitis"],
     ["present", "negated"]),
    ("Pain, fever, leukocytosis. r/o diverticulitis vs abscess.",                         # §7.5 stronger cue
     ["fever", "leukocytosis", "diverticulitis", "abscess"], ["present", "present", "hypothetical", "hypothetical"]),
    ("Hx: melanoma L heel s/p WLE 2024.", ["melanoma", "WLE"], ["historical", "present"]),  # §7.3
    ("knee pain s/p fall.", ["knee pain"], ["present"]),
    ("67-year-old female, former smoker.", ["former smoker"], ["historical"]),          # §7.1
])
def test_assertion_new_set_constructions(rules_nlp, text, terms, expected):
    assert _assert(rules_nlp, text, terms) == expected


@pytest.mark.parametrize("text,terms,expected", [
    ("Right basilar opacity, atelectasis versus pneumonia.", ["opacity", "atelectasis", "pneumonia"],
     ["present", "uncertain", "uncertain"]),                 # "versus" reaches back over its noun phrase only
    ("Patchy opacity at the right base may represent atelectasis versus pneumonia.",
     ["opacity", "atelectasis", "pneumonia"], ["present", "uncertain", "uncertain"]),
    ("Vomiting after every feed x 3 days, ? pyloric stenosis.", ["Vomiting"], ["present"]),
    ("Anechoic mass with no internal flow, c/w simple cyst.", ["flow", "simple cyst"], ["negated", "present"]),
    ("Laceration without active extravasation, consistent with splenic injury.",
     ["extravasation", "splenic injury"], ["negated", "present"]),
    ("Medulloblastoma is less likely.", ["Medulloblastoma"], ["uncertain"]),
    ("Last known well 55 minutes prior, with acute facial droop.", ["facial droop"], ["present"]),
    ("Two episodes of amaurosis fugax in the past week.", ["amaurosis fugax"], ["present"]),
    ("Former smoker, with a left upper lobe mass on PET/CT.", ["smoker", "mass"], ["historical", "present"]),
    ("Osteoporosis, treated with alendronate since then.", ["Osteoporosis", "alendronate"],
     ["historical", "present"]),
])
def test_assertion_new2_scope_constructions(rules_nlp, text, terms, expected):
    assert _assert(rules_nlp, text, terms) == expected
