"""A code learned from another report's span keeps its concept, not that report's details: the side, the
fracture's encounter (7th character) and 'with ...' clauses come from the report being coded."""

import pytest

from normalizer_helpers import normalize_with_spans as _doc

pytest.importorskip("simple_icd_10_cm")

from radcoder import icd_specificity as spec


def _codes(doc):
    return [(e.text, e._.icd10cm) for e in doc.ents if e.label_ == "FINDING"]


@pytest.fixture
def memory(rules_nlp):
    norm = rules_nlp.get_pipe("radcoder_normalizer")
    saved = dict(norm.memory)
    yield norm.memory
    norm.memory.clear()
    norm.memory.update(saved)


def test_generalize_axes():
    silent = spec.build_context("x")
    # another report's side -> the unspecified side; a later encounter -> the initial encounter
    assert spec.generalize("S62.025G", silent) == "S62.026A"
    assert spec.generalize("M25.561", silent) == "M25.569"
    # the span's own side is kept
    assert spec.generalize("S62.025G", spec.build_context("x", side="left")) == "S62.025A"
    # 'with obstruction' only where the report documents it
    assert spec.generalize("K80.01", silent) == "K80.00"
    assert spec.generalize("K80.01", silent, spec.document_tokens("Stone obstructing the cystic duct.")) == "K80.01"
    assert spec.generalize("K80.01", silent, spec.document_tokens("No biliary obstruction.")) == "K80.00"
    # no code of the category without the detail: unchanged
    assert spec.generalize("R10.32", silent) == "R10.32"
    assert spec.generalize("I70.219", silent, spec.document_tokens("claudication")) == "I70.219"


def test_remembered_side_and_encounter_come_from_this_report(rules_nlp, memory):
    memory["nondisplaced scaphoid waist fracture"] = "S62.025G"
    text = "RIGHT WRIST, 3 VIEWS\nFINDINGS: Acute nondisplaced scaphoid waist fracture."
    assert _codes(_doc(rules_nlp, text, [("RIGHT", "LATERALITY"), ("nondisplaced scaphoid waist fracture", "FINDING")])) \
        == [("nondisplaced scaphoid waist fracture", "S62.024A")]
    text = ("LEFT WRIST, 3 VIEWS\nFINDINGS: Nondisplaced scaphoid waist fracture with delayed healing, "
            "fracture line still visible.")
    doc = _doc(rules_nlp, text, [("LEFT", "LATERALITY"), ("Nondisplaced scaphoid waist fracture", "FINDING")])
    assert _codes(doc) == [("Nondisplaced scaphoid waist fracture", "S62.025G")]


def test_remembered_with_clause_needs_this_reports_words(rules_nlp, memory):
    memory["acute calculous cholecystitis"] = "K80.01"
    text = ("RUQ ULTRASOUND\nFINDINGS: Distended gallbladder with stones, wall thickening and a positive sonographic "
            "Murphy sign.\nIMPRESSION: Acute calculous cholecystitis.")
    assert _codes(_doc(rules_nlp, text, [("Acute calculous cholecystitis", "FINDING")])) \
        == [("Acute calculous cholecystitis", "K80.00")]
    text = ("RUQ ULTRASOUND\nFINDINGS: A stone is obstructing the gallbladder neck.\n"
            "IMPRESSION: Acute calculous cholecystitis.")
    assert _codes(_doc(rules_nlp, text, [("Acute calculous cholecystitis", "FINDING")])) \
        == [("Acute calculous cholecystitis", "K80.01")]


def test_remembered_clause_of_a_negated_mention_is_kept(rules_nlp, memory):
    memory["perforation"] = "K57.20"
    text = "CT ABDOMEN\nIMPRESSION: Acute sigmoid diverticulitis. No abscess or perforation."
    assert _codes(_doc(rules_nlp, text, [("perforation", "FINDING")])) == [("perforation", "K57.20")]


def test_remembered_injury_in_the_indication_takes_the_exam_side(rules_nlp, memory):
    memory["twisting injury"] = "S89.92XA"
    text = "MR KNEE RT WITHOUT CONTRAST\nINDICATION: Twisting injury 10 days ago, locking.\nTECHNIQUE: Sagittal PD FS."
    doc = _doc(rules_nlp, text, [("RT", "LATERALITY"), ("Twisting injury", "FINDING")])
    assert _codes(doc) == [("Twisting injury", "S89.91XA")]


def test_memory_learns_the_context_free_code(rules_nlp, memory):
    from radcoder.components.normalizer import context_free_code
    from radcoder.ranking.train import memory_pairs
    # a context code of the span's concept (sequela of a past stroke; carcinoid liver metastases) is left to
    # the context rule: the memory learns the concept's own code
    assert context_free_code("hemiparesis", "I69.351") == "G81.90"
    assert context_free_code("liver metastases", "C7B.02") == "C78.7"
    # codes of the concept's own category, and codes no context rule gives, are learned as annotated
    assert context_free_code("hemiparesis", "G81.94") == "G81.94"
    assert context_free_code("liver metastases", "C78.7") == "C78.7"
    rec = {"spans": [{"label": "FINDING", "text": "hemiparesis", "icd10cm": "I69.354", "assertion": "present"},
                     {"label": "FINDING", "text": "hemiparesis", "icd10cm": "I69.354", "assertion": "present"}]}
    assert memory_pairs([rec]) == [("hemiparesis", "G81.90")] * 2
    # at run time the context still gives the sequela, and a new deficit stays a deficit
    memory["hemiparesis"] = "G81.90"
    doc = _doc(rules_nlp, "CT HEAD\nHISTORY: Left hemiparesis from a prior stroke.", [("hemiparesis", "FINDING")])
    assert doc.ents[0]._.icd10cm == "I69.354"
    doc = _doc(rules_nlp, "CT HEAD\nHISTORY: Acute left hemiparesis.", [("hemiparesis", "FINDING")])
    assert doc.ents[0]._.icd10cm.startswith("G81.9")
