"""Inter-annotator agreement: the blind re-annotation (corpus/agreement/reannotation.jsonl) against the
original gold of the same reports. Writes corpus/agreement/agreement.json.

    python corpus/tools/agreement.py
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT.parent / "src"))

from radcoder.corpus import load_authored, read_jsonl  # noqa: E402
from radcoder.evaluation import metrics as M  # noqa: E402


def main() -> None:
    gold = {r["id"]: r for r in load_authored()}
    other = read_jsonl(ROOT / "agreement" / "reannotation.jsonl")
    ids = [o["id"] for o in other if o["id"] in gold]
    A = [gold[i] for i in ids]
    Bm = {o["id"]: o for o in other}
    Bl = [Bm[i] for i in ids]
    sa = [[(s["start"], s["end"], s["label"]) for s in r["spans"]] for r in A]
    sb = [[(s["start"], s["end"], s["label"]) for s in r["spans"]] for r in Bl]
    out = {"n_reports": len(ids), "span_exact": M.span_prf(sa, sb, "exact"), "span_overlap": M.span_prf(sa, sb, "overlap")}
    # assertion agreement on FINDING spans both annotators marked with the same offsets
    ga, gb = [], []
    for ra, rb in zip(A, Bl):
        bmap = {(s["start"], s["end"]): s for s in rb["spans"] if s["label"] == "FINDING"}
        for s in ra["spans"]:
            if s["label"] == "FINDING" and (s["start"], s["end"]) in bmap:
                ga.append(s.get("assertion") or "present")
                gb.append(bmap[(s["start"], s["end"])].get("assertion") or "present")
    out["assertion_on_shared_findings"] = M.assertion_scores(ga, gb)
    out["assertion_on_shared_findings"]["n"] = len(ga)
    ia = [set(r.get("icd10cm", [])) for r in A]
    ib = [set(r.get("icd10cm", [])) for r in Bl]
    out["icd10cm_set"] = M.code_scores(ia, ib)
    out["icd10cm_set"].pop("per_code")
    out["icd10cm_first_listed_agreement"] = M.first_listed_accuracy(
        [r["icd10cm"][0] if r.get("icd10cm") else None for r in A], [r.get("icd10cm", []) for r in Bl])
    la = [[(c["code"], tuple(sorted(c.get("modifiers", []))), int(c.get("units", 1))) for c in r.get("cpt", [])] for r in A]
    lb = [[(c["code"], tuple(sorted(c.get("modifiers", []))), int(c.get("units", 1))) for c in r.get("cpt", [])] for r in Bl]
    out["cpt_lines"] = M.cpt_line_scores(la, lb)
    fa = [set(r.get("flags", [])) for r in A]
    fb = [set(r.get("flags", [])) for r in Bl]
    out["flags"] = M.code_scores(fa, fb)
    out["flags"].pop("per_code")
    # the disagreements, for the guideline
    dis = Counter()
    for ra, rb in zip(A, Bl):
        a = {(s["start"], s["end"], s["label"]) for s in ra["spans"]}
        b = {(s["start"], s["end"], s["label"]) for s in rb["spans"]}
        for s, e, lab in a - b:
            dis[("gold_only", lab)] += 1
        for s, e, lab in b - a:
            dis[("reannotation_only", lab)] += 1
    out["span_disagreements_by_label"] = {f"{k[0]}:{k[1]}": v for k, v in sorted(dis.items())}
    (ROOT / "agreement" / "agreement.json").write_text(json.dumps(out, indent=2, sort_keys=True))
    print(json.dumps({k: (v["micro"] if isinstance(v, dict) and "micro" in v else v) for k, v in out.items()
                      if k in ("n_reports", "span_exact", "span_overlap", "icd10cm_first_listed_agreement")}, indent=1))
    print("assertion acc", out["assertion_on_shared_findings"]["accuracy"], "ICD set F1", out["icd10cm_set"]["micro"]["f"],
          "CPT line F1", out["cpt_lines"]["line"]["f"], "CPT code F1", out["cpt_lines"]["code"]["f"])


if __name__ == "__main__":
    main()
