"""Apply a fitted CodeRanker to the rule decisions of one report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..coding import FindingMention, IcdDecision
from .features import blocked, candidate_codes, features
from .ranker import CodeRanker


@dataclass
class IcdRescorer:
    """Scores every candidate code with the ranker. A code the guideline rules chose is kept unless the
    ranker is confident it is wrong (p < ``reject``); any other candidate is added when p >= ``threshold``."""
    ranker: CodeRanker
    threshold: float = 0.5
    reject: float = 0.15

    def rescore(self, doc, mentions: Sequence[FindingMention], decisions: Sequence[IcdDecision]) -> list[IcdDecision]:
        cands = [c for c in candidate_codes(mentions, decisions) if not blocked(c, mentions, decisions)]
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
        return kept

    def save(self, path) -> None:
        self.ranker.save(path)
        (Path(path) / "threshold.txt").write_text(str(self.threshold))

    @classmethod
    def load(cls, path) -> IcdRescorer:
        t = Path(path) / "threshold.txt"
        return cls(CodeRanker.load(path), float(t.read_text()) if t.exists() else 0.5)
