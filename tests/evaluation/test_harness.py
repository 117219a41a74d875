import json

from radcoder.evaluation.harness import evaluate_dataset, write_outputs, _frame_accuracy

TEXT = "XR CHEST PA AND LATERAL\nINDICATION: Cough.\nIMPRESSION: No pneumonia. Small pleural effusion."


def _gold():
    spans = []
    for word, label, extra in (("XR", "MODALITY", {}), ("CHEST", "ANATOMY", {}), ("PA AND LATERAL", "VIEWS", {}),
                               ("Cough", "FINDING", {"assertion": "present", "icd10cm": "R05.9"}),
                               ("pneumonia", "FINDING", {"assertion": "negated", "icd10cm": "J18.9"}),
                               ("pleural effusion", "FINDING", {"assertion": "present", "icd10cm": "J90"})):
        i = TEXT.index(word)
        spans.append({"start": i, "end": i + len(word), "label": label, "text": word, **extra})
    return [{"id": "g1", "text": TEXT, "spans": spans, "split": "test", "setting": "global",
             "cpt": [{"code": "71046", "modifiers": [], "units": 1}], "hcpcs": [], "icd10cm": ["J90", "R05.9"],
             "flags": [], "frames": [{"modality": "XR", "region": "chest", "laterality": None, "contrast": "na",
                                      "views": 2}]}]


def test_harness_scores_and_writes_outputs(rules_nlp, tmp_path):
    res, errors = evaluate_dataset(rules_nlp, _gold(), "tiny", baselines=False, n_boot=20)
    assert 0.0 <= res["ner_exact"]["micro"]["f"] <= 1.0
    assert res["assertion"]["radcoder"]["accuracy"] == 1.0
    assert res["cpt_hcpcs"]["line"]["f"] == 1.0
    assert res["frames"]["element_accuracy"] == 1.0
    assert res["icd10cm"]["codes_from_negated_or_uncertain"] == 0
    write_outputs(res, errors, tmp_path, "tiny")
    for name in ("metrics.json", "per_label.csv", "per_code.csv", "errors.jsonl", "report.html"):
        assert (tmp_path / name).exists(), name
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["dataset"] == "tiny"
    # errors carry the sentence only, never the whole report
    for e in errors:
        assert len(e["sentence"]) <= len(TEXT) and "\n" not in e["sentence"].strip()


def test_harness_frame_accuracy_pairs_frames():
    gold = [[{"modality": "CT", "region": "chest", "laterality": None, "contrast": "with", "views": None}]]
    assert _frame_accuracy(gold, [[]])["element_accuracy"] == 0.0
    pred = [[{"modality": "CT", "region": "chest", "laterality": None, "contrast": "without", "views": None}]]
    r = _frame_accuracy(gold, pred)
    assert r["contrast"] == 0.0 and r["modality"] == 1.0 and r["frame_exact"] == 0.0
    assert _frame_accuracy([], [])["n_frames"] == 0


def test_assertion_ext_set_loads_with_valid_offsets_and_disjoint_halves():
    from radcoder.evaluation.harness import load_dataset
    from radcoder.schema import ASSERTIONS
    dev, test = load_dataset("assertion_ext", "dev"), load_dataset("assertion_ext", "test")
    assert len(dev) >= 100 and len(test) >= 100
    assert not {r["id"] for r in dev} & {r["id"] for r in test}
    for r in dev + test:
        assert r["spans"]
        for s in r["spans"]:
            assert r["text"][s["start"]:s["end"]] == s["text"]
            assert s["label"] == "FINDING" and s["assertion"] in ASSERTIONS


def test_assertion_only_evaluation_scores_and_records_disagreements(rules_nlp, tmp_path):
    from radcoder.evaluation.harness import evaluate_assertion_only
    text = "ROS: denies fever. Reports cough."
    recs = [{"id": "X1", "text": text, "spans": [
        {"start": text.index("fever"), "end": text.index("fever") + 5, "label": "FINDING", "assertion": "negated"},
        # deliberately wrong gold: the metric must count it as an error and list it
        {"start": text.index("cough"), "end": text.index("cough") + 5, "label": "FINDING", "assertion": "negated"},
    ]}]
    out, errors = evaluate_assertion_only(rules_nlp, recs, "assertion_ext", baselines=False, n_boot=10)
    from radcoder.evaluation.harness import write_outputs
    write_outputs(out, errors, tmp_path, "assertion only")
    assert (tmp_path / "metrics.json").exists() and (tmp_path / "report.html").exists()
    assert not (tmp_path / "per_label.csv").exists()
    a = out["assertion"]["radcoder"]
    assert out["n_docs"] == 1 and a["n"] == 2
    assert a["accuracy"] == 0.5
    assert [e["pred"]["assertion"] for e in errors] == ["present"]
    assert "ner_exact" not in out and "icd10cm" not in out


def test_blocked_evidence_counts_only_codes_taken_from_unconfirmed_gold_findings():
    from radcoder.evaluation.harness import document_metrics
    gold = _gold()
    i_pn, i_eff = TEXT.index("pneumonia"), TEXT.index("pleural effusion")
    rec = {"icd10cm": [
        # evidence on the negated "pneumonia": counted by both checks
        {"code": "J18.9", "score": 0.9, "evidence": [{"start": i_pn, "end": i_pn + 9, "text": "pneumonia"}]},
        # a present finding coded under another code than the gold's: only the code-identity proxy would
        # count it if that code were blocked in gold; here it is a plain false positive for both
        {"code": "J94.8", "score": 0.9, "evidence": [{"start": i_eff, "end": i_eff + 16, "text": "pleural effusion"}]},
        {"code": "R05.9", "score": 0.9, "evidence": []},
    ], "cpt": [], "hcpcs": [], "flags": [], "frames": []}
    m, _ = document_metrics(gold, [rec], n_boot=5)
    assert m["icd10cm"]["codes_from_negated_or_uncertain_evidence"] == 1
    assert m["icd10cm"]["codes_from_negated_or_uncertain"] == 1
    # the same code taken from the present effusion span is not "from a negated finding" by evidence
    rec["icd10cm"][0]["evidence"] = [{"start": i_eff, "end": i_eff + 16, "text": "pleural effusion"}]
    m, _ = document_metrics(gold, [rec], n_boot=5)
    assert m["icd10cm"]["codes_from_negated_or_uncertain_evidence"] == 0
    assert m["icd10cm"]["codes_from_negated_or_uncertain"] == 1
