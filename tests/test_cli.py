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
