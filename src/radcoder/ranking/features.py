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
    return f


def blocked(code: str, mentions: Sequence[FindingMention], decisions: Sequence[IcdDecision]) -> bool:
    """True when every mention of ``code`` is negated/uncertain/hypothetical and no rule chose it
    (guideline: never code such findings)."""
    if code in {d.code for d in decisions}:
        return False
    ms = [m for m in mentions if m.code == code]
    return bool(ms) and all(m.assertion in BLOCKED for m in ms) or not ms
