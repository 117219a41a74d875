"""Integrity tests for the finding -> ICD-10-CM lexicon (findings.jsonl)."""
import json
import re
from collections import Counter
from pathlib import Path

import pytest

cm = pytest.importorskip("simple_icd_10_cm")

LEXICON = (Path(__file__).resolve().parents[1]
           / "src" / "radcoder" / "resources" / "lexicons" / "findings.jsonl")

REQUIRED_KEYS = {
    "id", "term", "synonyms", "icd10cm", "laterality", "acuity", "kind",
    "body_system", "integral_symptoms", "history_code", "family_code",
    "external_cause", "notes",
}
KINDS = {"diagnosis", "sign", "symptom", "finding", "status", "history",
         "screening", "encounter", "external_cause"}
BODY_SYSTEMS = {"respiratory", "cardiovascular", "gastrointestinal", "genitourinary",
                "reproductive", "musculoskeletal", "nervous", "breast", "endocrine",
                "hematologic_lymphatic", "head_neck", "skin", "general"}
# optional context fields (resources/lexicons/README.md): gates for ambiguous surface forms, context codes
OPTIONAL_KEYS = {"context", "context_codes"}
SCOPES = {"window", "sentence", "exam", "procedure", "document"}
LATERALITY_KEYS = {"right", "left", "bilateral"}
ACUITY_KEYS = {"acute", "subacute", "chronic", "acute_on_chronic"}
ID_RE = re.compile(r"^[a-z0-9_]+$")


def _load():
    concepts = []
    with LEXICON.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            assert line.strip(), f"blank line {lineno}"
            concepts.append(json.loads(line))
    return concepts


CONCEPTS = _load()


def _billable(code):
    return isinstance(code, str) and cm.is_valid_item(code) and cm.is_leaf(code)


def _all_codes(c):
    yield "icd10cm", c["icd10cm"]
    for field in ("laterality", "acuity"):
        for k, v in (c[field] or {}).items():
            yield f"{field}.{k}", v
    for v in c["integral_symptoms"]:
        yield "integral_symptoms", v
    for field in ("history_code", "family_code"):
        if c[field] is not None:
            yield field, c[field]
    for i, r in enumerate(c.get("context_codes") or ()):
        yield f"context_codes[{i}]", r["code"]


def test_minimum_size():
    assert len(CONCEPTS) >= 650


def test_keys_and_types():
    for c in CONCEPTS:
        assert REQUIRED_KEYS <= set(c) <= REQUIRED_KEYS | OPTIONAL_KEYS, (c.get("id"), set(c) ^ REQUIRED_KEYS)
        assert isinstance(c["id"], str) and ID_RE.match(c["id"]), c["id"]
        assert isinstance(c["term"], str) and c["term"].strip() == c["term"] and c["term"]
        assert isinstance(c["synonyms"], list)
        assert isinstance(c["integral_symptoms"], list)
        assert isinstance(c["notes"], str)
        assert isinstance(c["external_cause"], bool)
        assert c["laterality"] is None or (isinstance(c["laterality"], dict) and c["laterality"])
        assert c["acuity"] is None or (isinstance(c["acuity"], dict) and c["acuity"])


def test_enums():
    for c in CONCEPTS:
        assert c["kind"] in KINDS, (c["id"], c["kind"])
        assert c["body_system"] in BODY_SYSTEMS, (c["id"], c["body_system"])
        if c["laterality"]:
            assert set(c["laterality"]) <= LATERALITY_KEYS, c["id"]
            assert {"right", "left"} <= set(c["laterality"]), c["id"]
        if c["acuity"]:
            assert set(c["acuity"]) <= ACUITY_KEYS, c["id"]
        assert c["external_cause"] == (c["kind"] == "external_cause"), c["id"]


def test_unique_ids():
    dup = [k for k, n in Counter(c["id"] for c in CONCEPTS).items() if n > 1]
    assert not dup, dup


def test_all_codes_billable():
    bad = [(c["id"], where, code) for c in CONCEPTS for where, code in _all_codes(c)
           if not _billable(code)]
    assert not bad, bad[:20]


def test_external_cause_codes_only_in_external_cause_concepts():
    for c in CONCEPTS:
        first = c["icd10cm"][0]
        if first in "VWXY":
            assert c["kind"] == "external_cause", c["id"]


def test_seventh_character_chapters_use_full_codes():
    # injury/poisoning codes must carry the 7th character (checked by leaf-ness,
    # but make the convention explicit: initial encounter 'A' for S/T codes)
    for c in CONCEPTS:
        for where, code in _all_codes(c):
            if code[0] in "ST" and len(code.replace(".", "")) == 7:
                assert code[-1] == "A", (c["id"], where, code)


def test_synonyms_lowercase_nonempty_unique():
    owner = {}
    for c in CONCEPTS:
        assert c["term"] == c["term"].lower(), c["id"]
        assert c["term"] not in c["synonyms"], c["id"]
        assert len(set(c["synonyms"])) == len(c["synonyms"]), c["id"]
        for s in [c["term"]] + c["synonyms"]:
            assert isinstance(s, str) and s.strip(), c["id"]
            assert s == s.lower(), (c["id"], s)
            assert s == " ".join(s.split()), (c["id"], s)
            assert "?" not in s, (c["id"], s)
            assert owner.setdefault(s, c["id"]) == c["id"], (s, owner[s], c["id"])


def test_no_empty_strings_anywhere():
    def walk(v, path):
        if isinstance(v, str):
            assert v != "" or path.endswith("notes"), path
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, f"{path}[{i}]")
        elif isinstance(v, dict):
            for k, x in v.items():
                assert k, path
                walk(x, f"{path}.{k}")
    for c in CONCEPTS:
        walk(c, c["id"])


@pytest.mark.parametrize("surface,code", [
    ("pneumonia", "J18.9"), ("cough", "R05.9"), ("fever", "R50.9"), ("uti", "N39.0"),
    ("vesicoureteral reflux", "N13.70"), ("hydronephrosis", "N13.30"), ("wheezing", "R06.2"),
    ("pyelectasis", "N28.89"), ("neurogenic bladder", "N31.9"), ("enuresis", "R32"),
    ("hematuria", "R31.9"), ("chest pain", "R07.9"), ("asthma", "J45.909"),
    ("atelectasis", "J98.11"), ("spina bifida", "Q05.9"), ("duplicated collecting system", "Q63.8"),
    ("cystic fibrosis", "E84.9"), ("positive ppd", "R76.11"), ("beckwith-wiedemann syndrome", "Q87.3"),
    ("pneumothorax", "J93.9"), ("pleural effusion", "J90"), ("cardiomegaly", "I51.7"),
    ("pacemaker", "Z95.0"), ("screening mammogram", "Z12.31"), ("low back pain", "M54.50"),
    ("shortness of breath", "R06.02"), ("hemoptysis", "R04.2"), ("thyroid nodule", "E04.1"),
    ("postmenopausal", "Z78.0"), ("history of smoking", "Z87.891"),
])
def test_anchor_mappings(surface, code):
    hits = [c for c in CONCEPTS if surface == c["term"] or surface in c["synonyms"]]
    assert len(hits) == 1, surface
    assert hits[0]["icd10cm"] == code, (surface, hits[0]["icd10cm"])


def test_laterality_examples():
    by_id = {c["id"]: c for c in CONCEPTS}
    assert by_id["knee_oa"]["laterality"] == {"right": "M17.11", "left": "M17.12", "bilateral": "M17.0"}
    assert by_id["knee_pain"]["laterality"]["right"] == "M25.561"
    assert by_id["dvt"]["laterality"]["left"] == "I82.402"
    assert by_id["breast_cancer"]["laterality"]["right"] == "C50.911"


def test_context_fields():
    n_gates = n_codes = 0
    for c in CONCEPTS:
        forms = {c["term"], *c["synonyms"]}
        for g in c.get("context") or ():
            n_gates += 1
            assert set(g) <= {"forms", "scope", "window", "forbid", "require", "specialize"}, (c["id"], g)
            assert g.get("scope", "sentence") in SCOPES, (c["id"], g)
            assert g.get("forbid") or g.get("require"), (c["id"], g)
            assert set(g.get("forms") or ()) <= forms, (c["id"], set(g["forms"]) - forms)
            assert all(isinstance(w, str) and w.strip() for w in (g.get("forbid") or []) + (g.get("require") or []))
        rules = c.get("context_codes") or ()
        for k, r in enumerate(rules):
            n_codes += 1
            assert set(r) <= {"code", "scope", "window", "any", "skip_negated", "and"}, (c["id"], r)
            for a in r.get("and") or ():  # a second cue, each in its own scope
                assert a["any"] and a.get("scope", "sentence") in SCOPES, (c["id"], a)
            assert r.get("scope", "sentence") in SCOPES, (c["id"], r)
            assert r["any"] and all(isinstance(w, str) and w.strip() for w in r["any"]), (c["id"], r)
            # a rule with the default code only as a stop before a later rule of another code (a lumbar level
            # next to a Schmorl's node wins over a thoracic exam)
            assert r["code"] != c["icd10cm"] or any(x["code"] != c["icd10cm"] for x in rules[k + 1:]), (c["id"], r)
    assert n_gates >= 5 and n_codes >= 5


def test_ambiguous_abbreviations_are_gated():
    by_id = {c["id"]: c for c in CONCEPTS}
    gated = {f for c in CONCEPTS for g in c.get("context") or () for f in g.get("forms") or ()}
    for form in ("cad", "tof", "nof", "volume loss"):
        assert form in gated, form
    assert by_id["nof"]["icd10cm"] == "M85.00"     # index: Fibroma, nonosteogenic -> Dysplasia, fibrous
    assert "sfu grade" not in by_id["hydronephrosis"]["synonyms"]


def test_inversion_injury_is_a_mechanism_not_a_sprain():
    # "inversion injury" names how the ankle was hurt: an external cause, not the sprain a fracture would replace
    rows = [json.loads(l) for l in LEXICON.read_text(encoding="utf-8").splitlines() if l.strip()]
    owners = {r["id"]: r["kind"] for r in rows for s in [r["term"], *r["synonyms"]] if s.lower() == "inversion injury"}
    assert owners and set(owners.values()) == {"external_cause"}
