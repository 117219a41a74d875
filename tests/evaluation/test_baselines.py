"""Assertion baselines (negspacy / medspaCy ConText) run in the isolated .venv-baselines.

The tests that need the baseline venv skip when it has not been created
(`bash evaluation/baselines/setup.sh`); the error-path tests always run.
"""

from __future__ import annotations

import pytest

from radcoder.evaluation import baselines

NEEDS_ENV = pytest.mark.skipif(
    baselines.baseline_python() is None,
    reason=(
        f"baseline venv not set up at {baselines.baseline_venv()}; "
        "run `bash evaluation/baselines/setup.sh` to enable these tests"
    ),
)


def _span(text: str, phrase: str) -> list[int]:
    start = text.index(phrase)
    return [start, start + len(phrase)]


T1 = "No pneumothorax. Small left pleural effusion."
T2 = "Possible pneumonia. History of cholecystectomy."
T3 = "Heart size is normal. No focal consolidation or pleural effusion."

RECORDS = [
    {"id": "t1", "text": T1, "spans": [_span(T1, "pneumothorax"), _span(T1, "pleural effusion")]},
    {"id": "t2", "text": T2, "spans": [_span(T2, "pneumonia"), _span(T2, "cholecystectomy")]},
    {
        "id": "t3",
        "text": T3,
        "spans": [_span(T3, "Heart size"), _span(T3, "focal consolidation"), _span(T3, "pleural effusion")],
    },
]


@pytest.fixture(scope="module")
def results():
    return baselines.run_assertion_baselines(RECORDS)


@NEEDS_ENV
def test_labels_align_one_to_one_with_spans(results):
    assert set(results) == {"negspacy", "medspacy"}
    for name in ("negspacy", "medspacy"):
        assert len(results[name]) == len(RECORDS)
        for record, labels in zip(RECORDS, results[name]):
            assert len(labels) == len(record["spans"])
    assert {lab for labels in results["negspacy"] for lab in labels} <= {"negated", "present"}
    allowed = {"negated", "uncertain", "historical", "hypothetical", "family", "present"}
    assert {lab for labels in results["medspacy"] for lab in labels} <= allowed


@NEEDS_ENV
def test_negspacy_negation(results):
    assert results["negspacy"][0] == ["negated", "present"]  # "No pneumothorax." / effusion
    # NegEx only knows negation: "Possible pneumonia." stays "present".
    assert results["negspacy"][1] == ["present", "present"]
    # "No" scopes over the coordinated findings up to the end of the sentence.
    assert results["negspacy"][2] == ["present", "negated", "negated"]


@NEEDS_ENV
def test_medspacy_context_default_rules(results):
    assert results["medspacy"][0] == ["negated", "present"]
    # medspaCy 1.3.1's default ConText rules do map "possible" to POSSIBLE_EXISTENCE
    # (-> is_uncertain) and "history" to HISTORICAL (-> is_historical).
    assert results["medspacy"][1] == ["uncertain", "historical"]
    assert results["medspacy"][2] == ["present", "negated", "negated"]


@NEEDS_ENV
def test_overlapping_spans_fall_back_to_present():
    text = "No pneumothorax."
    # the second span overlaps the first after token expansion; the third is out of range
    records = [{"id": "o", "text": text, "spans": [[3, 15], [5, 8], [100, 110]]}]
    out = baselines.run_assertion_baselines(records)
    assert out["negspacy"] == [["negated", "present", "present"]]
    assert out["medspacy"] == [["negated", "present", "present"]]


def test_bogus_python_raises_clear_error(tmp_path):
    bogus = tmp_path / "nope" / "bin" / "python"
    with pytest.raises(RuntimeError, match=r"evaluation/baselines/setup\.sh"):
        baselines.run_assertion_baselines(RECORDS, python=bogus)


def test_non_executable_python_raises_clear_error(tmp_path):
    # exists but cannot be executed -> the subprocess call itself fails
    fake = tmp_path / "python"
    fake.write_text("not a program\n")
    fake.chmod(0o644)
    with pytest.raises(RuntimeError, match=r"evaluation/baselines/setup\.sh"):
        baselines.run_assertion_baselines(RECORDS, python=fake)


def test_failing_runner_raises_clear_error(tmp_path):
    # a "python" that runs but exits non-zero
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho boom >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(RuntimeError, match=r"exit code 3(.|\n)*boom"):
        baselines.run_assertion_baselines(RECORDS, python=fake)


def test_missing_env_raises_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(baselines.ENV_VAR, str(tmp_path / "no-venv"))
    assert baselines.baseline_python() is None
    with pytest.raises(RuntimeError, match=r"bash evaluation/baselines/setup\.sh"):
        baselines.run_assertion_baselines(RECORDS)
    with pytest.raises(RuntimeError, match=r"bash evaluation/baselines/setup\.sh"):
        baselines.run_medspacy_speed(tmp_path / "texts.jsonl", ["pneumonia"])
