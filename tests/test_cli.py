import json

from typer.testing import CliRunner

from radcoder import __version__
from radcoder.cli import app

runner = CliRunner()
REPORT = "XR CHEST PA AND LATERAL\nINDICATION: cough\nIMPRESSION: No pneumonia."


def test_cli_version():
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and __version__ in r.output


def test_cli_code_json_and_text(tmp_path, rules_model_dir):
    p = tmp_path / "r.txt"
    p.write_text(REPORT)
    r = runner.invoke(app, ["code", str(p), "--json", "--model", str(rules_model_dir)])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    assert rec["id"] == "r" and rec["error"] is None and rec["cpt"][0]["code"] == "71046"
    r = runner.invoke(app, ["code", "-", "--model", str(rules_model_dir)], input=REPORT)
    assert r.exit_code == 0 and "71046" in r.output and "ICD-10-CM" in r.output


def test_cli_code_errors_exit_2(tmp_path, rules_model_dir):
    p = tmp_path / "empty.txt"
    p.write_text("  ")
    r = runner.invoke(app, ["code", str(p), "--model", str(rules_model_dir)])
    assert r.exit_code == 2 and "E302" in r.output
    r = runner.invoke(app, ["code", str(tmp_path / "nope.txt")])
    assert r.exit_code == 2
    r = runner.invoke(app, ["code", "-", "--model", str(tmp_path / "no_model")], input=REPORT)
    assert r.exit_code == 2 and "E002" in r.output


def test_cli_batch(tmp_path, rules_model_dir):
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"id": "a", "text": REPORT}) + "\n" + json.dumps({"id": "b", "text": ""}) + "\n")
    out = tmp_path / "out.jsonl"
    r = runner.invoke(app, ["batch", str(inp), "--out", str(out), "--model", str(rules_model_dir)])
    assert r.exit_code == 0, r.output
    assert "1 coded, 1 errors" in r.output
    assert len(out.read_text().splitlines()) == 2
    r = runner.invoke(app, ["batch", str(tmp_path / "missing.jsonl"), "--out", str(out)])
    assert r.exit_code == 2 and "E402" in r.output


def _gold_file(tmp_path):
    text = "XR CHEST PA AND LATERAL\nINDICATION: Cough.\nIMPRESSION: No pneumonia."
    i = text.index("Cough")
    gold = {"id": "g1", "text": text, "split": "test",
            "spans": [{"start": i, "end": i + 5, "label": "FINDING", "assertion": "present", "section": "indication",
                       "icd10cm": "R05.9"}],
            "cpt": [{"code": "71046", "modifiers": [], "units": 1}], "hcpcs": [], "icd10cm": ["R05.9"], "flags": []}
    g = tmp_path / "gold.jsonl"
    g.write_text(json.dumps(gold) + "\n")
    return g, text


def test_cli_corpus_validate_and_stats(tmp_path):
    r = runner.invoke(app, ["corpus", "validate"])
    assert r.exit_code == 0, r.output
    assert "0 problems" in r.output
    out = tmp_path / "stats.json"
    r = runner.invoke(app, ["corpus", "stats", "--out", str(out)])
    assert r.exit_code == 0 and json.loads(out.read_text())["labels"]["FINDING"]


def test_cli_corpus_validate_fails_on_bad_corpus(tmp_path):
    (tmp_path / "authored").mkdir()
    bad = {"id": "X1", "text": "No pneumonia.", "spans": [{"start": 3, "end": 12, "label": "FINDING",
                                                          "section": "impression", "text": "pneumonia"}],
           "cpt": [], "hcpcs": [], "icd10cm": [], "flags": []}
    (tmp_path / "authored" / "bad.jsonl").write_text(json.dumps(bad) + "\n")
    r = runner.invoke(app, ["corpus", "validate", "--root", str(tmp_path)])
    assert r.exit_code == 1 and "assertion" in r.output


def test_cli_evaluate_on_gold_jsonl(tmp_path, rules_model_dir):
    g, _ = _gold_file(tmp_path)
    out = tmp_path / "eval"
    r = runner.invoke(app, ["evaluate", "--model", str(rules_model_dir), "--dataset", str(g), "--out", str(out),
                            "--no-baselines", "--n-boot", "10"])
    assert r.exit_code == 0, r.output
    assert (out / "gold" / "metrics.json").exists() and (out / "gold" / "report.html").exists()


def test_cli_score_and_compare(tmp_path, rules_model_dir):
    g, text = _gold_file(tmp_path)
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"id": "g1", "text": text}) + "\n")
    pred = tmp_path / "pred.jsonl"
    assert runner.invoke(app, ["batch", str(inp), "--out", str(pred), "--model", str(rules_model_dir)]).exit_code == 0
    r = runner.invoke(app, ["score", "--pred", str(pred), "--gold", str(g), "--out", str(tmp_path / "s")])
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "s" / "metrics.json").read_text())
    assert m["n_scored"] == 1 and m["cpt_hcpcs"]["line"]["f"] == 1.0
    r = runner.invoke(app, ["compare", str(rules_model_dir), str(rules_model_dir), "--dataset", str(g),
                            "--n-boot", "20", "--out", str(tmp_path / "c")])
    assert r.exit_code == 0, r.output
    c = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert c[str(g)]["ner_exact_f1"]["delta"] == 0.0


def test_benchmark_cmc_cv_prints_scores_with_intervals(monkeypatch, tmp_path):
    from radcoder.benchmarks import cmc2007

    def fake_cv(data, out, folds=5, model=None):
        return {"results": {"radcoder": {"micro_f1": 0.85, "macro_f1": 0.45,
                                         "micro_f1_ci95": [0.85, 0.83, 0.87], "macro_f1_ci95": [0.45, 0.43, 0.55]},
                            "rules_only": {"micro_f1": 0.67, "macro_f1": 0.22}}}
    monkeypatch.setattr(cmc2007, "cross_validate", fake_cv)
    r = runner.invoke(app, ["benchmark", "cmc2007-cv", "--data", str(tmp_path / "x.xml"), "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "radcoder: micro-F1 0.8500 [0.8300, 0.8700] macro-F1 0.4500 [0.4300, 0.5500]" in r.output
    assert "rules_only: micro-F1 0.6700 macro-F1 0.2200" in r.output
