"""Write corpus/authored/splits/{train,dev,test}.ids.

Test and dev are drawn only from hand-written reports (never from template reports), stratified by
modality. Assignments are stable: a report already in a manifest keeps its split. A new hand-written
report goes to test while its modality has fewer than 3 test reports, otherwise, by the position of
its salted hash within the modality, 7 in 20 to test, 2 in 20 to dev and the rest to train. Template
reports all go to train. Deterministic.

    python corpus/tools/make_splits.py
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT.parent / "src"))

from radcoder.corpus import read_ids, read_jsonl  # noqa: E402

TEST_POS = {0, 3, 6, 9, 12, 15, 18}
DEV_POS = {1, 11}
MIN_TEST = 3


def key(i: str) -> str:
    return hashlib.sha256(f"radcoder-split-v1:{i}".encode()).hexdigest()


def main() -> None:
    out = ROOT / "authored" / "splits"
    existing = {i: name for name in ("train", "dev", "test") for i in read_ids(out / f"{name}.ids")}
    recs = []
    for p in sorted((ROOT / "authored").glob("*.jsonl")):
        recs.extend(read_jsonl(p))
    splits = {"train": [], "dev": [], "test": []}
    groups = defaultdict(list)
    test_count = Counter()
    for r in recs:
        if r["id"] in existing:
            splits[existing[r["id"]]].append(r["id"])
            if existing[r["id"]] == "test":
                test_count[r.get("modality", "?")] += 1
        elif r.get("origin") == "handwritten":
            groups[r.get("modality", "?")].append(r["id"])
        else:
            splits["train"].append(r["id"])
    for mod in sorted(groups):
        for pos, i in enumerate(sorted(groups[mod], key=key)):
            if test_count[mod] < MIN_TEST:
                split = "test"
            else:
                k = pos % 20
                split = "test" if k in TEST_POS else "dev" if k in DEV_POS else "train"
            test_count[mod] += split == "test"
            splits[split].append(i)
    out.mkdir(exist_ok=True)
    for name, ids in splits.items():
        (out / f"{name}.ids").write_text("\n".join(sorted(ids)) + "\n")
        print(name, len(ids))


if __name__ == "__main__":
    main()
