"""Corpus: the validator passes on the committed corpus and catches each failure mode; split manifests;
DocBin / Hugging Face conversion; statistics per split."""

from __future__ import annotations

import copy
import importlib.util

import pytest

import radcoder.corpus
from radcoder.corpus import (
    HARD_CASE_TAGS,
    corpus_dir,
    corpus_stats,
    load_authored,
    load_standoff,
    read_ids,
    read_jsonl,
    to_docbin,
    validate_corpus,
    validate_corpus_record,
)

needs_shared_data = pytest.mark.skipif(radcoder.corpus.shared_data_dir() is None,
                                       reason="../shared/data is absent")
needs_datasets = pytest.mark.skipif(importlib.util.find_spec("datasets") is None,
                                    reason="datasets is not installed")


@pytest.fixture(scope="module")
def authored():
    return load_authored()


@pytest.fixture(scope="module")
def nlp():
    from radcoder.components.tokenizer import blank
    return blank()


@pytest.fixture(scope="module")
def tables():
    from radcoder.codesets.icd10cm import load_icd10cm
    from radcoder.codesets.procedures import load_cpt, load_hcpcs
    return {"cpt": load_cpt(), "hcpcs": load_hcpcs(), "icd": load_icd10cm()}


# ------------------------------------------------------------------------------------ whole corpus
def test_authored_corpus_is_valid(authored, nlp):
    manifest = {i for name in ("train", "dev", "test") for i in read_ids(corpus_dir() / "authored" / "splits" / f"{name}.ids")}
    assert len(authored) >= 450 and {r["id"] for r in authored} == manifest   # every report is in a split
    assert validate_corpus(authored, nlp) == []


@needs_shared_data
@pytest.mark.parametrize("name", ["cmc2007", "openi"])
def test_standoff_corpus_is_valid(name, nlp):
    recs = load_standoff(name)
    ids = read_ids(corpus_dir() / name / "annotated_train.ids") + read_ids(corpus_dir() / name / "annotated_test.ids")
    assert len(recs) == len(ids) == 150, "stand-off records dropped (SHA-1 drift of text or renderer?)"
    assert validate_corpus(recs, nlp) == []
    test_ids = set(read_ids(corpus_dir() / name / "annotated_test.ids"))
    for r in recs:
        assert r["split"] == ("test" if r["id"] in test_ids else "train")
        for s in r["spans"]:
            assert "XXXX" not in s["text"]


def test_standoff_files_hold_no_text():
    for name in ("cmc2007", "openi"):
        for ann in read_jsonl(corpus_dir() / name / "annotations.jsonl"):
            assert "text" not in ann
            assert all("text" not in s for s in ann["spans"])


# ------------------------------------------------------------------------------------ failure modes
TEXT = "CT CHEST WITHOUT CONTRAST\nINDICATION: cough, r/o pneumonia.\nIMPRESSION: No pleural effusion."


def _good() -> dict:
    def span(word, label, section, start_at=0, **kw):
        i = TEXT.index(word, start_at)
        return {"start": i, "end": i + len(word), "text": word, "label": label, "section": section, **kw}
    return {
        "id": "T-001", "origin": "handwritten", "modality": "CT", "setting": "global", "tags": ["negated_finding"],
        "text": TEXT,
        "spans": [span("CT", "MODALITY", "exam"), span("CHEST", "ANATOMY", "exam"),
                  span("WITHOUT CONTRAST", "CONTRAST", "exam"),
                  span("cough", "FINDING", "indication", assertion="present", icd10cm="R05.9"),
                  span("pneumonia", "FINDING", "indication", assertion="hypothetical", icd10cm="J18.9"),
                  span("pleural effusion", "FINDING", "impression", assertion="negated", icd10cm="J90")],
        "frames": [], "cpt": [{"code": "71250", "modifiers": [], "units": 1}], "hcpcs": [],
        "icd10cm": ["R05.9"], "flags": [],
    }


def _check(rec, nlp, tables):
    return validate_corpus_record(rec, nlp, tables["cpt"], tables["icd"], tables["hcpcs"])


def test_good_record_is_valid(nlp, tables):
    assert _check(_good(), nlp, tables) == []


def _span(rec, text):
    return next(s for s in rec["spans"] if s["text"] == text)


def _offset_mismatch(r):
    _span(r, "cough")["text"] = "cougd"


def _overlap(r):
    i = TEXT.index("pleural")
    r["spans"].append({"start": i, "end": i + 7, "text": "pleural", "label": "ANATOMY", "section": "impression"})


def _unknown_label(r):
    _span(r, "CHEST")["label"] = "BODYPART"


def _no_assertion(r):
    del _span(r, "cough")["assertion"]


def _non_billable(r):
    _span(r, "cough")["icd10cm"] = "R05"


def _non_billable_doc(r):
    r["icd10cm"] = ["R05"]


def _cpt_unknown(r):
    r["cpt"] = [{"code": "99999", "modifiers": [], "units": 1}]


def _modifier(r):
    r["cpt"] = [{"code": "71046", "modifiers": ["RT"], "units": 1}]


def _negated_only(r):
    r["icd10cm"] = ["R05.9", "J90"]


def _hypothetical_only(r):
    r["icd10cm"] = ["J18.9"]


def _unknown_flag(r):
    r["flags"] = ["missing_side"]


def _unknown_tag(r):
    r["tags"] = ["very_hard"]


def _misaligned(r):
    s = _span(r, "pleural effusion")
    s["end"] -= 2
    s["text"] = TEXT[s["start"]:s["end"]]


def _bad_section(r):
    _span(r, "cough")["section"] = "history"


def _bad_units(r):
    r["cpt"][0]["units"] = 0


def _no_diagnosis(r):
    r["icd10cm"] = []


FAILURES = [
    (_offset_mismatch, "quoted text does not match offsets"),
    (_overlap, "overlaps the previous span"),
    (_unknown_label, "label 'BODYPART' not in"),
    (_no_assertion, "FINDING needs an assertion"),
    (_non_billable, "ICD-10-CM R05 is not billable"),
    (_non_billable_doc, "document ICD-10-CM R05 is not billable"),
    (_cpt_unknown, "CPT 99999 is not in the CPT attribute table"),
    (_modifier, "modifier(s) ['RT'] not allowed on CPT 71046"),
    (_negated_only, "J90 comes only from negated/uncertain/hypothetical findings"),
    (_hypothetical_only, "J18.9 comes only from negated/uncertain/hypothetical findings"),
    (_unknown_flag, "unknown flag 'missing_side'"),
    (_unknown_tag, "unknown hard-case tag 'very_hard'"),
    (_misaligned, "not aligned to token boundaries"),
    (_bad_section, "section 'history' not in"),
    (_bad_units, "units must be a positive integer"),
    (_no_diagnosis, "procedures billed without a first-listed diagnosis"),
]


@pytest.mark.parametrize("mutate,message", FAILURES, ids=[f.__name__.strip("_") for f, _ in FAILURES])
def test_validator_detects(mutate, message, nlp, tables):
    rec = _good()
    mutate(rec)
    probs = _check(rec, nlp, tables)
    assert any(message in p for p in probs), probs


def test_missing_indication_flag_allows_no_diagnosis(nlp, tables):
    rec = _good()
    rec["icd10cm"], rec["flags"] = [], ["missing_indication"]
    assert _check(rec, nlp, tables) == []


def test_validate_corpus_detects_duplicate_ids(nlp):
    rec = _good()
    probs = validate_corpus([rec, copy.deepcopy(rec)], nlp)
    assert probs == ["T-001: duplicate id"]


def test_allowed_modifier_passes(nlp, tables):
    rec = _good()
    rec["cpt"] = [{"code": "73562", "modifiers": ["26", "RT"], "units": 1}]
    assert _check(rec, nlp, tables) == []


# ------------------------------------------------------------------------------------ splits
def test_split_manifests(authored):
    root = corpus_dir() / "authored" / "splits"
    ids = {name: read_ids(root / f"{name}.ids") for name in ("train", "dev", "test")}
    sets = {k: set(v) for k, v in ids.items()}
    for k, v in ids.items():
        assert len(v) == len(sets[k]), f"duplicate ids in {k}.ids"
    assert not sets["train"] & sets["dev"]
    assert not sets["train"] & sets["test"]
    assert not sets["dev"] & sets["test"]
    by_id = {r["id"]: r for r in authored}
    assert set(by_id) == sets["train"] | sets["dev"] | sets["test"], "every authored report is in one manifest"
    for name in ("dev", "test"):
        assert sets[name] and all(by_id[i]["origin"] == "handwritten" for i in sets[name])
    for r in authored:
        assert r["split"] in ("train", "dev", "test")
        if r["origin"] == "template":
            assert r["split"] == "train"
    # stratified: every modality with at least 3 hand-written reports has one in test
    hw = [r for r in authored if r["origin"] == "handwritten"]
    for mod in {r["modality"] for r in hw}:
        rs = [r for r in hw if r["modality"] == mod]
        if len(rs) >= 3:
            assert any(r["split"] == "test" for r in rs), mod


def test_realtext_split_manifests_disjoint():
    for name in ("cmc2007", "openi"):
        tr = read_ids(corpus_dir() / name / "annotated_train.ids")
        te = read_ids(corpus_dir() / name / "annotated_test.ids")
        assert len(tr) == 100 and len(te) == 50
        assert not set(tr) & set(te)
        ann = {a["id"]: a.get("split") for a in read_jsonl(corpus_dir() / name / "annotations.jsonl")}
        assert {i for i, s in ann.items() if s == "test"} == set(te)
        assert {i for i, s in ann.items() if s == "train"} == set(tr)


def test_agreement_sample_is_handwritten(authored):
    by_id = {r["id"]: r for r in authored}
    sample = read_ids(corpus_dir() / "agreement" / "sample.ids")
    assert len(sample) == 40 and all(by_id[i]["origin"] == "handwritten" for i in sample)


# ------------------------------------------------------------------------------------ conversion
@needs_datasets
def test_to_hf_dataset(authored):
    import datasets
    ds = radcoder.corpus.to_hf_dataset(authored)
    assert isinstance(ds, datasets.DatasetDict)
    assert set(ds) == {"train", "dev", "test"}
    for split in ("train", "dev", "test"):
        assert ds[split].num_rows == sum(r["split"] == split for r in authored)
    row = ds["test"][0]
    rec = next(r for r in authored if r["id"] == row["id"])
    assert row["text"] == rec["text"] and len(row["spans"]) == len(rec["spans"])
    assert row["icd10cm"] == rec["icd10cm"]


def test_to_docbin_round_trip(authored, nlp):
    recs = [r for r in authored if r["split"] == "test"]
    db = to_docbin(recs, nlp)
    docs = list(db.get_docs(nlp.vocab))
    assert len(docs) == len(recs)
    for doc, r in zip(docs, recs):
        assert doc.text == r["text"]
        assert len(doc.ents) == len(r["spans"])
        assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == sorted(
            (s["start"], s["end"], s["label"]) for s in r["spans"])


# ------------------------------------------------------------------------------------ statistics
def test_stats_count_per_split(authored):
    st = corpus_stats(authored)
    n = {s: sum(r["split"] == s for r in authored) for s in ("train", "dev", "test")}
    assert st["documents"] == {f"authored/{s}": k for s, k in n.items()}
    manifest = {name: len(read_ids(corpus_dir() / "authored" / "splits" / f"{name}.ids")) for name in ("train", "dev", "test")}
    assert n == manifest and n["test"] >= 70
    for label, per in st["labels"].items():
        assert sum(per.values()) == sum(s["label"] == label for r in authored for s in r["spans"])
    findings = sum(s["label"] == "FINDING" for r in authored for s in r["spans"])
    assert sum(sum(per.values()) for per in st["assertions"].values()) == findings
    assert set(st["tags"]) <= set(HARD_CASE_TAGS)
    assert sum(st["modalities"][m].get("test", 0) for m in st["modalities"]) == n["test"]


def test_stats_include_standoff_splits():
    recs = [{"id": "x", "text": "cough", "source": "cmc2007", "split": "test",
             "spans": [{"start": 0, "end": 5, "label": "FINDING", "assertion": "present"}]}]
    st = corpus_stats(recs)
    assert st["documents"] == {"cmc2007/test": 1}
    assert st["labels"] == {"FINDING": {"test": 1}}
    assert st["assertions"] == {"present": {"test": 1}}
