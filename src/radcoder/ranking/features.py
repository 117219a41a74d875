"""(report, candidate code) -> feature dict. Pure and deterministic."""

from __future__ import annotations

from collections.abc import Sequence

from ..coding import FindingMention, IcdDecision
from ..lexicons import concepts_by_code

BLOCKED = ("negated", "uncertain", "hypothetical")


def candidate_codes(mentions: Sequence[FindingMention], decisions: Sequence[IcdDecision]) -> list[str]:
    """Rule decisions first (in order), then every other code mentioned, in text order."""
    out = [d.code for d in decisions]
    for m in mentions:
        if m.code and m.code not in out:
            out.append(m.code)
    return out


def features(code: str, mentions: Sequence[FindingMention], decisions: Sequence[IcdDecision],
             text_len: int) -> dict[str, float]:
    ms = [m for m in mentions if m.code == code]
    rule_codes = [d.code for d in decisions]
    f: dict[str, float] = {"bias": 1.0}
    if code in rule_codes:
        r = rule_codes.index(code)
        f["rule_selected"] = 1.0
        f["rule_first"] = 1.0 if r == 0 else 0.0
        f["rule_rank_inv"] = 1.0 / (1 + r)
        f["rule_reason=" + decisions[r].reason] = 1.0
    f["n_mentions"] = min(len(ms), 5) / 5.0
    for a in ("present", "negated", "uncertain", "historical", "hypothetical", "family"):
        n = sum(1 for m in ms if m.assertion == a)
        if n:
            f[f"assert={a}"] = 1.0
    for s in ("indication", "findings", "impression", "exam", "technique", "comparison", "other"):
        if any(m.section == s and m.assertion == "present" for m in ms):
            f[f"present_in={s}"] = 1.0
    c = concepts_by_code().get(code)
    f["kind=" + (c.kind if c else "unknown")] = 1.0
    f["chapter=" + code[:1]] = 1.0
    if ms:
        f["first_pos"] = min(m.start for m in ms) / max(text_len, 1)
    f["n_rule_codes"] = min(len(rule_codes), 6) / 6.0
    # normalization source: a lexicon concept is more reliable than the ICD search fallback
    if ms:
        f["has_concept"] = 1.0 if any(m.concept for m in ms) else 0.0
        f["max_span_words"] = min(max(len(m.text.split()) for m in ms), 6) / 6.0
        if any(m.assertion == "present" for m in ms) and any(m.assertion in BLOCKED for m in ms):
            f["mixed_assertion"] = 1.0
        n_imp = sum(1 for m in ms if m.section == "impression" and m.assertion == "present")
        f["n_impression_present"] = min(n_imp, 3) / 3.0
    else:
        f["no_mention"] = 1.0
    if _unspecified(code):
        f["unspecified"] = 1.0
    if c is not None and c.kind in ("symptom", "sign", "finding") or code[:1] == "R":
        f["symptom_like"] = 1.0
    # another candidate of the same 3-character category (a competing specificity)
    if any(d.code != code and d.code[:3] == code[:3] for d in decisions):
        f["same_category_rule_code"] = 1.0
    # confirmed diagnoses beside this one (a symptom next to a diagnosis is usually integral)
    n_dx = sum(1 for d in decisions if d.reason == "confirmed diagnosis")
    f["n_confirmed_dx"] = min(n_dx, 4) / 4.0
    return f


def _unspecified(code: str) -> bool:
    from ..codesets.icd10cm import load_icd10cm
    icd = load_icd10cm()
    try:
        return icd.is_valid(code) and "unspecified" in (icd.description(code) or "").lower()
    except Exception:  # noqa: BLE001
        return False


# sections whose present mentions alone never make a code (guideline §7.19: a finding stated only in FINDINGS
# is not coded when the report has an impression)
BODY_ONLY = ("findings", "technique", "comparison")


def blocked(code: str, mentions: Sequence[FindingMention], decisions: Sequence[IcdDecision],
            has_impression: bool | None = None) -> bool:
    """True when the ranker may not add ``code`` (a code the rules chose is never blocked): every
    mention is negated/uncertain/hypothetical (never code such findings), there is no mention, or, in a
    report with an impression, every present mention lies in the body of the report (§7.19)."""
    if code in {d.code for d in decisions}:
        return False
    ms = [m for m in mentions if m.code == code]
    if not ms or all(m.assertion in BLOCKED for m in ms):
        return True
    if has_impression:
        present = [m for m in ms if m.assertion not in BLOCKED]
        return all(m.section in BODY_ONLY for m in present)
    return False
