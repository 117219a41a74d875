"""End-to-end: corpus -> NER training -> ranker -> packaged pipeline -> spacy.load -> coding, on a tiny corpus."""

import json
import shutil

import pytest
import spacy

import radcoder
from radcoder.corpus import CORPUS_DIR, read_ids


@pytest.mark.slow
def test_workflow_train_package_load(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    (corpus / "authored" / "splits").mkdir(parents=True)
    recs = [json.loads(x) for x in (CORPUS_DIR / "authored" / "templates.jsonl").read_text().splitlines()[:24]]
    with open(corpus / "authored" / "tiny.jsonl", "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")
    (corpus / "authored" / "splits" / "train.ids").write_text("\n".join(r["id"] for r in recs[:18]) + "\n")
    (corpus / "authored" / "splits" / "dev.ids").write_text("\n".join(r["id"] for r in recs[18:]) + "\n")
    monkeypatch.setenv("RADCODER_CORPUS", str(corpus))
    monkeypatch.setattr("radcoder.training.training_records.__defaults__", (False,))
    from radcoder.training import train_all
    out = train_all(tmp_path / "model", work_dir=tmp_path / "work",
                    overrides={"training.max_steps": 20, "training.eval_frequency": 10})
    assert (out / "config.cfg").exists() and (out / "ner").exists()
    assert not list(out.rglob("*.pkl")) and not list(out.rglob("*.joblib"))
    nlp = spacy.load(out)           # factories come from the installed entry points
    assert nlp.pipe_names[:2] == ["radcoder_sentences", "radcoder_sectionizer"] and "ner" in nlp.pipe_names
    doc = nlp("XR CHEST PA AND LATERAL\nINDICATION: cough\nIMPRESSION: No pneumonia.")
    rec = radcoder.to_record(doc, "t1")
    assert rec["cpt"] and rec["cpt"][0]["code"] == "71046"
    assert read_ids(corpus / "authored" / "splits" / "train.ids")
    shutil.rmtree(tmp_path / "work", ignore_errors=True)


def _tiny_corpus(tmp_path, monkeypatch, n_train=6, n_dev=3):
    corpus = tmp_path / "corpus"
    (corpus / "authored" / "splits").mkdir(parents=True)
    lines = (CORPUS_DIR / "authored" / "templates.jsonl").read_text().splitlines()[:n_train + n_dev]
    recs = [json.loads(x) for x in lines]
    (corpus / "authored" / "tiny.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    (corpus / "authored" / "splits" / "train.ids").write_text("\n".join(r["id"] for r in recs[:n_train]) + "\n")
    (corpus / "authored" / "splits" / "dev.ids").write_text("\n".join(r["id"] for r in recs[n_train:]) + "\n")
    monkeypatch.setenv("RADCODER_CORPUS", str(corpus))
    return recs


@pytest.mark.parametrize("refit", [False, True])
def test_build_corpus_refit_trains_on_train_and_dev(tmp_path, monkeypatch, refit):
    from spacy.tokens import DocBin

    from radcoder.components.tokenizer import blank
    from radcoder.training import build_corpus, normalization_pairs
    recs = _tiny_corpus(tmp_path, monkeypatch)
    paths = build_corpus(tmp_path / "docs", include_real=False, refit=refit)
    n = lambda p: len(list(DocBin().from_disk(p).get_docs(blank().vocab)))
    assert n(paths["train"]) == (9 if refit else 6)
    assert n(paths["dev"]) == 3                      # dev stays dev (monitoring only when refit)
    assert n(paths["test"]) == 0
    dev_pairs = {(s["text"].lower(), s["icd10cm"]) for r in recs[6:] for s in r["spans"]
                 if s["label"] == "FINDING" and s.get("icd10cm")}
    train_pairs = {(s["text"].lower(), s["icd10cm"]) for r in recs[:6] for s in r["spans"]
                   if s["label"] == "FINDING" and s.get("icd10cm")}
    only_dev = dev_pairs - train_pairs
    assert only_dev, "the fixture needs a finding that only a dev report has"
    learned = {(t.lower(), c) for t, c in normalization_pairs(refit)}
    assert bool(only_dev & learned) is refit


def test_prune_ruler_drops_patterns_the_gold_contradicts():
    from radcoder.pipeline import build_pipeline
    from radcoder.training import prune_ruler
    nlp = build_pipeline(ruler=True)

    def rec(text, *gold):
        spans = []
        for label, surface in gold:
            i = text.index(surface)
            spans.append({"start": i, "end": i + len(surface), "label": label})
        return {"id": "x", "text": text, "spans": spans}

    records = [rec("The lungs are clear. Small pneumothorax.", ("FINDING", "pneumothorax")),
               rec("Lungs: no consolidation. Large pneumothorax.", ("FINDING", "pneumothorax")),
               rec("The spleen is normal.")]
    removed = prune_ruler(nlp, records)
    assert {(p["label"], p["pattern"]) for p in removed} == {("ANATOMY", "lungs")}
    assert removed[0]["right"] == 0 and removed[0]["wrong"] == 2
    kept = {(p["label"], p["pattern"]) for p in nlp.get_pipe("entity_ruler").patterns if isinstance(p["pattern"], str)}
    assert ("ANATOMY", "lungs") not in kept
    assert ("FINDING", "pneumothorax") in kept          # right every time
    assert ("ANATOMY", "spleen") in kept                # one match only: too little evidence to drop
    assert any(not isinstance(p["pattern"], str) for p in nlp.get_pipe("entity_ruler").patterns)  # token patterns stay
    doc = nlp("The lungs are clear.")
    assert not [e for e in doc.ents if e.text.lower() == "lungs" and e.label_ == "ANATOMY"]


def test_shipped_model_lists_its_pruned_ruler_patterns():
    meta = json.loads((radcoder.pipeline.default_model_path() / "meta.json").read_text())
    pruned = meta["radcoder"]["ruler_pruned"]
    assert pruned["min_precision"] == 0.5 and pruned["patterns"]
    for p in pruned["patterns"]:
        assert p["wrong"] + p["right"] >= pruned["min_matches"]
        assert p["right"] < pruned["min_precision"] * (p["right"] + p["wrong"])
    ruler = [json.loads(x) for x in (radcoder.pipeline.default_model_path() / "entity_ruler" / "patterns.jsonl")
             .read_text().splitlines()]
    assert not {(p["label"], p["pattern"]) for p in pruned["patterns"]} & {(p["label"], p["pattern"]) for p in ruler
                                                                          if isinstance(p["pattern"], str)}
