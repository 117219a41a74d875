"""Tests for the report writers, plots and the offline HTML report (radcoder.evaluation.report).

The HTML is rendered in headless Chromium when ``/usr/bin/chromium`` exists (skipped otherwise).
Set ``RADCODER_SAVE_SCREENSHOT=1`` to copy the screenshot to
``evaluation/screenshots/report_example.png``.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from radcoder.evaluation.metrics import (
    Counts,
    assertion_scores,
    auto_code_curve,
    code_scores,
    reliability_curve,
    span_prf,
)
from radcoder.evaluation.report import (
    flatten_metrics,
    plot_auto_code,
    plot_confusion,
    plot_pr_curve,
    plot_reliability,
    render_html,
    write_errors_jsonl,
    write_metrics,
    write_table_csv,
)

pytest.importorskip("matplotlib")

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
EVIL = "<script>alert('x')</script>"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def metrics() -> dict:
    rng = np.random.default_rng(0)
    prob = rng.random(200)
    y = (rng.random(200) < prob).astype(int)
    gold_a = ["present", "negated", "present", "uncertain", "historical", "present"]
    pred_a = ["present", "negated", "negated", "uncertain", "present", "present"]
    return {
        "spans": span_prf([{(0, 5, "MODALITY"), (10, 20, "ANATOMY")}], [{(0, 5, "MODALITY"), (12, 20, "FINDING")}]),
        "assertions": assertion_scores(gold_a, pred_a),
        "codes": code_scores([{"R05.9", "J18.9"}], [{"R05.9"}]),
        "calibration": {"ece": 0.0412, "reliability": reliability_curve(y, prob, n_bins=5)},
        "auto_code": auto_code_curve(prob.tolist(), y.astype(bool).tolist(), thresholds=[0.0, 0.5, 0.9]),
        "n_docs": 2,
        "note": EVIL,
    }


@pytest.fixture(scope="module")
def errors() -> list[dict]:
    return [
        {"id": "rpt-001", "kind": "span_fn", "sentence": "No focal consolidation in the right lower lobe.",
         "sentence_start": 120, "gold": {"label": "FINDING", "text": "consolidation"}, "pred": {},
         "spans": [{"start": 9, "end": 22, "label": "FINDING"}, {"start": 30, "end": 46, "label": "ANATOMY"}]},
        {"id": "rpt-002", "kind": "assertion", "sentence": "Possible small left effusion.",
         "sentence_start": 0, "gold": {"assertion": "uncertain"}, "pred": {"assertion": "present"},
         "spans": [{"start": 15, "end": 19, "label": "LATERALITY"}, {"start": 16, "end": 28, "label": "FINDING"},
                   {"start": 20, "end": 99, "label": "FINDING"},
                   {"start": 50, "end": 60, "label": "FINDING"}]},  # overlapping + out-of-range spans
        {"id": "rpt-<3>", "kind": "code_fp", "sentence": f"Impression: {EVIL} & more",
         "sentence_start": 5, "gold": {"codes": []}, "pred": {"code": "J18.9"},
         "spans": [{"start": 12, "end": 37, "label": "<b>EVIL</b>"}]},
    ]


@pytest.fixture(scope="module")
def report(tmp_path_factory, metrics, errors) -> Path:
    d = tmp_path_factory.mktemp("report")
    plots = {
        "Precision-recall": plot_pr_curve([{"recall": 0.2, "precision": 0.95}, (0.6, 0.85), (0.9, 0.6)],
                                          d / "pr.png"),
        "Reliability": plot_reliability(metrics["calibration"]["reliability"], d / "rel.png"),
        "Assertion confusion": plot_confusion(metrics["assertions"]["confusion"], d / "conf.png"),
        "Auto-coding": plot_auto_code(metrics["auto_code"], d / "auto.png"),
    }
    return render_html(metrics, errors, plots, d / "out" / "report.html", title="Eval <demo> & test")


# ---------------------------------------------------------------------------- file writers
def test_write_metrics_sorted_and_indented(tmp_path):
    m = {"b": {"z": np.float64(0.5), "a": np.int64(3)}, "a": [np.array([1, 2])], "c": Counts(1, 2, 3),
         "s": {"y", "x"}}
    path = write_metrics(m, tmp_path / "new")
    assert path == tmp_path / "new" / "metrics.json"
    text = path.read_text()
    assert text.startswith('{\n  "a": [')
    assert json.loads(text) == {"a": [[1, 2]], "b": {"a": 3, "z": 0.5}, "c": {"tp": 1, "fp": 2, "fn": 3},
                                "s": ["x", "y"]}
    assert text.index('"a"') < text.index('"b"') < text.index('"c"')
    with pytest.raises(TypeError):
        write_metrics({"x": object()}, tmp_path)


def test_write_table_csv(tmp_path):
    path = write_table_csv([{"label": "A", "f": 0.5}, {"label": "B, x", "p": 1.0}], tmp_path / "t" / "t.csv")
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows == [{"label": "A", "f": "0.5", "p": ""}, {"label": "B, x", "f": "", "p": "1.0"}]
    assert write_table_csv([], tmp_path / "empty.csv").read_text() == ""


def test_write_errors_jsonl(tmp_path, errors):
    path = write_errors_jsonl(iter(errors), tmp_path / "errors.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == errors
    assert write_errors_jsonl([], tmp_path / "none.jsonl").read_text() == ""


def test_flatten_metrics(metrics):
    scalars, tables = flatten_metrics(metrics)
    keys = dict(scalars)
    assert keys["spans.micro.f"] == metrics["spans"]["micro"]["f"]
    assert keys["spans.mode"] == "exact" and keys["n_docs"] == 2
    names = [name for name, _ in tables]
    assert "spans.per_label" in names and "assertions.confusion" in names and "auto_code" in names
    assert "calibration.reliability" not in names  # dict of lists: kept as scalar rows
    assert "calibration.reliability.count" in keys


# ----------------------------------------------------------------------------------- plots
@pytest.mark.parametrize(
    "fn, arg",
    [
        (plot_pr_curve, []),
        (plot_reliability, {"bin_lower": [], "bin_upper": [], "mean_pred": [], "frac_pos": [], "count": []}),
        (plot_confusion, {}),
        (plot_auto_code, []),
        (plot_confusion, {"a": {"a": 3, "b": 1}, "b": {"a": 0, "b": 5}}),
    ],
)
def test_plots_write_png_even_when_empty(tmp_path, fn, arg):
    path = fn(arg, tmp_path / "sub" / "plot.png")
    assert path == tmp_path / "sub" / "plot.png"
    w, h = _png_size(path)
    assert w > 100 and h > 100


# ------------------------------------------------------------------------------------ HTML
def test_html_is_self_contained_and_escaped(report):
    text = report.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    # nothing is loaded from elsewhere: no external src/href, no <script>, no <link>
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "<script" not in text.lower() and "<link" not in text.lower()
    assert "Content-Security-Policy" in text
    assert text.count("data:image/png;base64,") == 4
    # user text is escaped everywhere (sentence, label, id, title, free-form metric value)
    assert "&lt;script&gt;" in text
    assert "&lt;b&gt;EVIL&lt;/b&gt;" in text and "<b>EVIL" not in text
    assert "rpt-&lt;3&gt;" in text
    assert "Eval &lt;demo&gt; &amp; test" in text
    # tables and displaCy marks
    assert "<th>Metric</th>" in text and "<h3>spans.per_label</h3>" in text
    assert "<h3>assertions.confusion</h3>" in text and "gold \\ pred" in text
    assert text.count('<mark class="entity"') == 5  # 2 + 2 (overlap dropped, end clipped, beyond-end dropped) + 1
    assert "small" in text and "effusion." in text


def test_html_max_errors(tmp_path, metrics, errors):
    out = render_html(metrics, errors, {}, tmp_path / "r.html", title="t", max_errors=1)
    text = out.read_text()
    assert "Showing 1 of 3 errors." in text
    assert text.count('class="entities"') == 1


def test_html_empty_inputs(tmp_path):
    out = render_html({}, [], {}, tmp_path / "empty.html", title="empty")
    text = out.read_text()
    assert "<h1>empty</h1>" in text and "<mark" not in text


# -------------------------------------------------------------------------------- Chromium
def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium not installed")
def test_html_renders_in_headless_chromium(report, tmp_path):
    url = report.resolve().as_uri()
    shot = tmp_path / "shot.png"
    res = _chromium([f"--screenshot={shot}", "--window-size=1200,900", url], tmp_path / "profile1")
    assert shot.exists(), f"no screenshot; rc={res.returncode} stderr={res.stderr[-2000:]}"
    assert shot.stat().st_size > 5_000
    assert _png_size(shot) == (1200, 900)
    import matplotlib.image as mpimg

    pixels = mpimg.imread(str(shot))
    assert pixels.ndim == 3 and pixels.reshape(-1, pixels.shape[-1]).std(axis=0).max() > 0.01, "blank page"
    assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 10

    dom = _chromium(["--dump-dom", url], tmp_path / "profile2")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<th>Metric</th>" in dom.stdout
    assert "<h3>spans.per_label</h3>" in dom.stdout
    assert '<mark class="entity"' in dom.stdout and "consolidation" in dom.stdout
    assert "<script>alert" not in dom.stdout  # the escaped sentence did not become markup

    if os.environ.get("RADCODER_SAVE_SCREENSHOT") == "1":
        dest = REPO / "evaluation" / "screenshots" / "report_example.png"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, dest)


def test_html_section_headings_not_duplicated(report):
    text = report.read_text(encoding="utf-8")
    assert text.count("<h3>auto_code</h3>") == 1
    assert text.count("<h3>spans</h3>") == 1
    assert "<th>Kind</th><th>Count</th>" in text
