"""Human-readable rendering of output records (for ``radcoder code``)."""

from __future__ import annotations


def format_record(rec: dict) -> str:
    lines = [f"Report {rec['id']}  ({rec['model']})"]
    if rec.get("error"):
        lines.append(f"  ERROR {rec['error']['code']}: {rec['error']['message']}")
        return "\n".join(lines)
    lines.append("CPT/HCPCS:")
    for ln in rec["cpt"] + rec["hcpcs"]:
        mods = "-".join(ln["modifiers"])
        ev = "; ".join(e["text"] for e in ln.get("evidence", [])[:2])
        lines.append(f"  {ln['code']}{('-' + mods) if mods else ''} x{ln['units']}  score {ln['score']:.2f}"
                     f"  {ln.get('description', '')}  [{ev}]")
    if not rec["cpt"] and not rec["hcpcs"]:
        lines.append("  (none)")
    lines.append("ICD-10-CM:")
    for c in rec["icd10cm"]:
        ev = "; ".join(e["text"] for e in c.get("evidence", [])[:2])
        lines.append(f"  {c['rank']}. {c['code']}  score {c['score']:.2f}  {c.get('description', '')}  [{ev}]")
    if not rec["icd10cm"]:
        lines.append("  (none)")
    if rec["flags"]:
        lines.append("Documentation gaps:")
        for f in rec["flags"]:
            lines.append(f"  - {f['code']}: {f['message']}")
    findings = [e for e in rec["entities"] if e["label"] == "FINDING"]
    if findings:
        lines.append("Findings:")
        for e in findings:
            lines.append(f"  {e['text']!r} {e['assertion']} ({e['section']}) -> {e['icd10cm']}")
    lines.append(f"Route: {rec.get('route')}")
    return "\n".join(lines)
