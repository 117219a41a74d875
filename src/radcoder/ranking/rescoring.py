"""Apply a fitted CodeRanker to the rule decisions of one report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..coding import FindingMention, IcdDecision, coding_view, prune_codes, selection_rules
from .features import blocked, candidate_codes, features
from .ranker import CodeRanker


@dataclass
class IcdRescorer:
    """Scores every candidate code with the ranker. A code the guideline rules chose is kept unless the
    ranker is confident it is wrong (p < ``reject``); any other candidate is added when p >= ``threshold``."""
    ranker: CodeRanker
    threshold: float = 0.5
    reject: float = 0.15  # rule codes the ranker scores below this are dropped (4-fold CV on handwritten train: 0.15-0.2 best)

    def rescore(self, doc, mentions: Sequence[FindingMention], decisions: Sequence[IcdDecision]) -> list[IcdDecision]:
        sections = getattr(doc, "spans", {}).get("sections", ()) if hasattr(doc, "spans") else ()
        has_impression = any(s.label_ == "impression" for s in sections) or None
        mentions = coding_view(mentions, doc.text, has_impression)
        rules = selection_rules()
        # (a rule code is a candidate even when its code is uncoded by default: the rules coded it by a section
        # exception, Z97.8 for the device the indication names)
        rule_codes = {d.code for d in decisions}
        cands = [c for c in candidate_codes(mentions, decisions)
                 if not blocked(c, mentions, decisions, has_impression)
                 and (c in rule_codes or not rules.is_uncoded(c))]
        if not cands:
            return list(decisions)
        X = [features(c, mentions, decisions, len(doc.text)) for c in cands]
        p = self.ranker.predict_proba(X)[:, 1]
        by_code = {d.code: d for d in decisions}
        kept = []
        for code, prob in zip(cands, p):
            d = by_code.get(code)
            if prob < (self.reject if d is not None else self.threshold):
                continue
            if d is None:
                ev = [(m.start, m.end, m.text) for m in mentions if m.code == code]
                d = IcdDecision(code, "ranker", ev)
            d.score = float(prob)
            kept.append(d)
        # first-listed order: rule order for rule codes, then the rest by probability
        rule_order = {d.code: i for i, d in enumerate(decisions)}
        kept.sort(key=lambda d: (0, rule_order[d.code]) if d.code in rule_order else (1, -d.score))
        # a code the ranker adds is subject to the same redundancy rules as the rule codes
        keep = set(prune_codes([d.code for d in kept], self._icd()))
        return [d for d in kept if d.code in keep]

    @staticmethod
    def _icd():
        from ..codesets.icd10cm import load_icd10cm
        return load_icd10cm()

    def save(self, path) -> None:
        self.ranker.save(path)
        (Path(path) / "threshold.txt").write_text(str(self.threshold))
        (Path(path) / "reject.txt").write_text(str(self.reject))

    @classmethod
    def load(cls, path) -> IcdRescorer:
        t = Path(path) / "threshold.txt"
        r = Path(path) / "reject.txt"
        return cls(CodeRanker.load(path), float(t.read_text()) if t.exists() else 0.5,
                   float(r.read_text()) if r.exists() else cls.reject)
