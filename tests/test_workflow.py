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
