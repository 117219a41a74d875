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
