"""Tests for corpus/tools/generate_templates.py (deterministic template report generator)."""

import importlib.util
import json
from pathlib import Path

from radcoder.schema import ASSERTIONS, LABELS, SECTIONS

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "corpus" / "tools" / "generate_templates.py"


def _load():
    spec = importlib.util.spec_from_file_location("generate_templates", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run(mod, out):
    mod.main(["--n", "40", "--seed", "7", "--out", str(out), "--no-check"])
    return [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines() if x.strip()]


def test_generator_is_deterministic_and_consistent(tmp_path):
    mod = _load()
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    recs = _run(mod, a)
    _run(mod, b)
    assert a.read_bytes() == b.read_bytes()
    assert len(recs) == 40
    assert [r["id"] for r in recs] == ["T-%04d" % i for i in range(1, 41)]
    for r in recs:
        assert r["origin"] == "template"
        text = r["text"]
        last = -1
        for s in r["spans"]:
            assert text[s["start"]:s["end"]] == s["text"], (r["id"], s)
            assert s["text"] == s["text"].strip() and s["text"][-1] not in ".,;:", (r["id"], s)
            assert s["start"] >= last, (r["id"], s)
            last = s["end"]
            assert s["label"] in LABELS
            assert s["section"] in SECTIONS
            if s["label"] == "FINDING":
                assert s["assertion"] in ASSERTIONS
        assert set(r["tags"]) <= set(mod.TAGS)
        for code in r["icd10cm"]:
            src = [s for s in r["spans"] if s.get("icd10cm") == code]
            assert not src or any(s["assertion"] not in ("negated", "uncertain", "hypothetical") for s in src), \
                (r["id"], code)
        assert r["frames"] and r["cpt"]
        assert r["icd10cm"] or "missing_indication" in r["flags"]


def test_generated_records_pass_self_checks():
    mod = _load()
    recs = mod.generate(40, 7)
    regions, hcpcs = mod.load_regions(), mod.load_hcpcs()
    assert [p for r in recs for p in mod.check_record(r, regions, hcpcs, check_icd=False)] == []
