"""Write corpus/authored/splits/{train,dev,test}.ids.

Test and dev are drawn only from hand-written reports (never from template reports), stratified by
modality: within each modality, reports ordered by a salted hash go 7 in 20 to test, 2 in 20 to dev and
the rest to train. Template reports all go to train. Deterministic: re-running gives the same files
unless reports are added.

    python corpus/tools/make_splits.py
"""

from __future__ import annotations

import hashlib
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT.parent / "src"))

from radcoder.corpus import read_jsonl  # noqa: E402

TEST_POS = {0, 3, 6, 9, 12, 15, 18}
DEV_POS = {1, 11}


def key(i: str) -> str:
    return hashlib.sha256(f"radcoder-split-v1:{i}".encode()).hexdigest()


def main() -> None:
    recs = []
    for p in sorted((ROOT / "authored").glob("*.jsonl")):
        recs.extend(read_jsonl(p))
    groups = defaultdict(list)
    splits = {"train": [], "dev": [], "test": []}
    for r in recs:
        if r.get("origin") == "handwritten":
            groups[r.get("modality", "?")].append(r["id"])
        else:
            splits["train"].append(r["id"])
    for mod in sorted(groups):
        for pos, i in enumerate(sorted(groups[mod], key=key)):
            k = pos % 20
            splits["test" if k in TEST_POS else "dev" if k in DEV_POS else "train"].append(i)
    out = ROOT / "authored" / "splits"
    out.mkdir(exist_ok=True)
    for name, ids in splits.items():
        (out / f"{name}.ids").write_text("\n".join(sorted(ids)) + "\n")
        print(name, len(ids))


if __name__ == "__main__":
    main()
