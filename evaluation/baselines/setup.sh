#!/usr/bin/env bash
# Create the isolated baseline environment (negspacy + medspaCy) used by
# evaluation/baselines/run_assertion_baselines.py.
#
#   bash evaluation/baselines/setup.sh
#
# The venv goes to <repo>/.venv-baselines unless RADCODER_BASELINE_VENV is set.
# It never touches the project's own .venv. Idempotent: if the venv already imports the
# pinned versions, nothing is installed. Set RADCODER_BASELINE_PYTHON to choose the
# interpreter used to create the venv (default: python3; needs CPython 3.8-3.11 for the
# pinned spacy 3.7.5 / medspacy 1.3.1 combination).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${RADCODER_BASELINE_VENV:-$REPO_ROOT/.venv-baselines}"
BASE_PYTHON="${RADCODER_BASELINE_PYTHON:-python3}"
REQS="$HERE/requirements.txt"
MARKER="$VENV/.radcoder-baselines-ok"

# Refuse to install into the project's main venv by accident.
case "$(cd "$(dirname "$VENV")" 2>/dev/null && pwd)/$(basename "$VENV")" in
  "$REPO_ROOT/.venv")
    echo "setup.sh: refusing to use $REPO_ROOT/.venv as the baseline venv" >&2
    exit 2 ;;
esac

check_env() {
  [ -x "$VENV/bin/python" ] || return 1
  "$VENV/bin/python" - <<'PY' >/dev/null 2>&1
import importlib.metadata as md
import spacy, negspacy.negation, medspacy  # noqa: F401  (the import is the check)
expected = {"medspacy": "1.3.1", "negspacy": "1.0.4", "spacy": "3.7.5"}
for name, version in expected.items():
    assert md.version(name) == version, (name, md.version(name))
PY
}

if check_env; then
  touch "$MARKER"
  echo "Baseline environment already set up: $VENV"
  echo "Python: $VENV/bin/python"
  exit 0
fi

start=$(date +%s)
if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating baseline venv at $VENV (with $BASE_PYTHON)"
  "$BASE_PYTHON" -m venv "$VENV"
fi
rm -f "$MARKER"
echo "Installing $REQS into $VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQS"

if ! check_env; then
  echo "setup.sh: install finished but the import/version check failed in $VENV" >&2
  exit 1
fi
touch "$MARKER"
echo "Baseline environment ready in $(( $(date +%s) - start ))s: $VENV"
echo "Python: $VENV/bin/python"
"$VENV/bin/python" -c 'import importlib.metadata as m; print("  " + ", ".join(f"{p}=={m.version(p)}" for p in ("medspacy", "negspacy", "spacy", "PyRuSH")))'
