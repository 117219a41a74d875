"""Bridge to the isolated assertion baselines (negspacy, medspaCy ConText).

medspaCy pins an older spaCy than radcoder, so the baselines live in their own venv
(``.venv-baselines``, created by ``bash evaluation/baselines/setup.sh``) and are run as a
subprocess: ``evaluation/baselines/run_assertion_baselines.py`` reads/writes JSONL. This
module only uses the standard library and never imports negspacy/medspaCy itself.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[3]
RUNNER = REPO_ROOT / "evaluation" / "baselines" / "run_assertion_baselines.py"
SETUP_HINT = "run `bash evaluation/baselines/setup.sh` from the repository root"
ENV_VAR = "RADCODER_BASELINE_VENV"
MARKER_NAME = ".radcoder-baselines-ok"  # written by setup.sh after its import check
BASELINES = ("negspacy", "medspacy")


def baseline_venv() -> Path:
    """Where the baseline venv is expected (``$RADCODER_BASELINE_VENV`` or ``<repo>/.venv-baselines``)."""
    override = os.environ.get(ENV_VAR)
    return Path(override).expanduser() if override else REPO_ROOT / ".venv-baselines"


def baseline_python() -> Path | None:
    """The baseline venv's python, or None if the environment has not been set up."""
    venv = baseline_venv()
    python = venv / "bin" / "python"
    if not python.exists():  # Windows layout, for completeness
        python = venv / "Scripts" / "python.exe"
    if python.exists() and (venv / MARKER_NAME).exists():
        return python
    return None


def _resolve_python(python: str | os.PathLike | None) -> Path:
    if python is None:
        found = baseline_python()
        if found is None:
            raise RuntimeError(
                f"Baseline environment not found at {baseline_venv()} "
                f"(override with ${ENV_VAR}); {SETUP_HINT}."
            )
        return found
    path = Path(python)
    if not path.exists():
        raise RuntimeError(f"Baseline python {path} does not exist; {SETUP_HINT}.")
    return path


def _run(cmd: list[str], *, input: str | None, timeout: float) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError) as exc:  # not executable, timeout, ...
        raise RuntimeError(f"Could not run the baseline runner ({exc}); {SETUP_HINT}.") from exc
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(
            f"Baseline runner failed with exit code {proc.returncode}; if the environment is "
            f"broken, {SETUP_HINT}.\n{tail}"
        )
    return proc


def run_assertion_baselines(
    records: Sequence[dict],
    *,
    python: str | os.PathLike | None = None,
    timeout: float = 900.0,
) -> dict[str, list[list[str]]]:
    """Label the given spans with negspacy and medspaCy ConText.

    ``records``: ``[{"id": str, "text": str, "spans": [[start, end], ...]}, ...]``.
    Returns ``{"negspacy": [labels per record], "medspacy": [labels per record]}``, one label
    per input span, records in input order. negspacy labels are "negated"/"present";
    medspaCy labels are negated/uncertain/historical/hypothetical/family/present.
    Spans that could not be placed in ``doc.ents`` (overlap after token expansion) get
    "present" from both; their count is logged as a warning.
    """
    py = _resolve_python(python)
    payload = "".join(
        json.dumps(
            {"id": str(r.get("id", i)), "text": r["text"], "spans": [list(s) for s in r.get("spans", [])]}
        )
        + "\n"
        for i, r in enumerate(records)
    )
    proc = _run([str(py), str(RUNNER)], input=payload, timeout=timeout)
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    if len(rows) != len(records):
        raise RuntimeError(f"Baseline runner returned {len(rows)} records for {len(records)} inputs.")
    out: dict[str, list[list[str]]] = {name: [] for name in BASELINES}
    n_fallback = 0
    for record, row in zip(records, rows):
        n_spans = len(record.get("spans", []))
        for name in BASELINES:
            labels = row[name]
            if len(labels) != n_spans:
                raise RuntimeError(
                    f"{name} returned {len(labels)} labels for {n_spans} spans (id={row.get('id')})."
                )
            out[name].append(labels)
        n_fallback += len(row.get("fallback", []))
    if n_fallback:
        logger.warning(
            "%d span(s) overlapped another span after token expansion; labelled 'present'.", n_fallback
        )
    return out


def run_medspacy_speed(
    texts_path: str | os.PathLike,
    targets: Iterable[str] | str | os.PathLike,
    *,
    python: str | os.PathLike | None = None,
    timeout: float = 1800.0,
) -> dict:
    """Time medspaCy (sentencizer + target matcher + ConText + sectionizer) over a JSONL of texts.

    ``targets`` is either a path to a JSON list of finding terms or the terms themselves.
    Returns the runner's JSON: reports, seconds, reports_per_second, peak_rss_mb, ...
    """
    py = _resolve_python(python)
    with tempfile.TemporaryDirectory(prefix="radcoder-baselines-") as tmpdir:
        if isinstance(targets, (str, os.PathLike)):
            targets_path = Path(targets)
        else:
            targets_path = Path(tmpdir) / "targets.json"
            targets_path.write_text(json.dumps(list(targets)), encoding="utf-8")
        proc = _run(
            [str(py), str(RUNNER), "--speed", "--texts", str(texts_path), "--targets", str(targets_path)],
            input=None,
            timeout=timeout,
        )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if not lines:
        raise RuntimeError("Baseline speed run produced no output.")
    return json.loads(lines[-1])
