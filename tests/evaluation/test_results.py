import json

from radcoder.evaluation.results import render


def _write(p, obj):
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(obj))


def test_render_reads_the_assertion_only_set_and_the_mesh_scores(tmp_path):
    out = tmp_path / "radcoder_default"
    conf = {"present": {"present": 3, "negated": 1}, "negated": {"present": 0, "negated": 4}}
    _write(out / "assertion_ext" / "metrics.json", {"dataset": "assertion_ext", "n_docs": 2, "model": "m 1", "assertion": {
        "radcoder": {"accuracy": 0.875, "accuracy_ci95": [0.875, 0.7, 1.0], "confusion": conf,
                     "per_class": {"negated": {"f": 0.889, "support": 4}}}}})
    _write(out / "openi_mesh" / "metrics.json", {"n_reports": 10, "micro": {"p": 0.8, "r": 0.7, "f": 0.747},
                                                  "micro_f_ci95": [0.747, 0.6, 0.85], "macro": {"f": 0.5},
                                                  "per_code": {"J90": {}, "R91.8": {}}})
    text = render(out, tmp_path / "RESULTS.md")
    assert "Non-radiology clinical notes" in text and "0.875 [0.700, 1.000]" in text
    assert "Open-i's manual MeSH indexing" in text and "0.747 [0.600, 0.850]" in text
    # datasets without NER figures get no NER row
    assert "| Non-radiology clinical notes (authored stand-in for an external set, test half) | 2 |" not in text
