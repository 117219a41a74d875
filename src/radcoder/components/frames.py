"""Exam frames: one frame per performed procedure, with the elements CPT selection needs.

A frame is a dict: ``modality, region, laterality, contrast, views, extent, guidance, procedure,
subtype, evidence`` (evidence = list of (start, end) of the spans that gave each element) plus
``title_contrast``/``body_contrast`` so header/body disagreements stay visible for the flags.
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..extensions import FRAMES, register_extensions, section_at
from ..lexicons import norm, region_index, term_maps

COMBINE = {frozenset({"abdomen", "pelvis"}): "abdomen_pelvis"}
NO_CONTRAST_MODALITIES = {"XR", "US", "DUPLEX", "MAMMO", "DBT", "DEXA", "NM", "PET", "FLUORO", "IR"}
PLURAL_BILATERAL = re.compile(r"(knees|hips|shoulders|ankles|feet|hands|wrists|elbows|breasts|legs|arms|"
                              r"extremities|femurs|tibias|heels|thumbs|clavicles|carotids)\b", re.IGNORECASE)
WORD_NUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "single": 1}


def term_value(label: str, span: Span) -> str | None:
    m = term_maps().get(label, {})
    return m.get(norm(span.text))


def views_value(span: Span) -> tuple[int | None, str | None]:
    v = term_value("VIEWS", span)
    if v in ("complete", "limited"):
        return None, v
    if v and v.isdigit():
        return int(v), None
    m = re.match(r"\s*(\d+|one|two|three|four|five|six|single)\s*-?\s*(v|vw|vws|views?)?\b", span.text, re.IGNORECASE)
    if m:
        t = m.group(1).lower()
        return (int(t) if t.isdigit() else WORD_NUM[t]), None
    return None, None


def resolve_contrast(values: list[str]) -> str | None:
    """Contrast state from the contrast statements of one part of the report."""
    vals = set(values)
    if not vals:
        return None
    if "not_given" in vals:
        return "without"
    if "without_with" in vals or {"without", "with"} <= vals:
        return "without_with"
    if "with" in vals:
        return "with"
    if "without" in vals or vals == {"oral"}:
        return "without"
    return None


class FrameBuilder:
    def __init__(self, nlp: Language, name: str = "radcoder_frames", pair_window: int = 12):
        self.name = name
        self.pair_window = pair_window

    def _region(self, span: Span) -> str | None:
        r = region_index().get(norm(span.text))
        if r is None:
            words = norm(span.text).split()
            for k in range(len(words)):
                r = region_index().get(" ".join(words[k:]))
                if r:
                    break
        return r.region if r else None

    def build(self, doc: Doc) -> list[dict]:
        ents = list(doc.ents)
        sec = {e: section_at(doc, e.start_char) for e in ents}
        by_label: dict[str, list[Span]] = {}
        for e in ents:
            by_label.setdefault(e.label_, []).append(e)
        mods = by_label.get("MODALITY", [])
        procs = by_label.get("PROCEDURE", [])
        anat = by_label.get("ANATOMY", [])
        lats = by_label.get("LATERALITY", [])
        # the statement(s) that name the exam: exam section, else technique, else any sentence with a modality
        exam_mods = [m for m in mods if sec[m] == "exam"] or [m for m in mods if sec[m] == "technique"] or mods[:1]
        frames: list[dict] = []
        seen = set()

        def side_for(a: Span) -> str | None:
            best = None
            for lt in lats:
                d = a.start - lt.end if lt.end <= a.start else lt.start - a.end
                if 0 <= d <= 3 and (best is None or d < best[0]):
                    best = (d, lt)
            if best:
                return term_value("LATERALITY", best[1]) or {"l": "left", "r": "right"}.get(norm(best[1].text))
            if PLURAL_BILATERAL.search(a.text):
                return "bilateral"
            return None

        for m in exam_mods:
            modality = term_value("MODALITY", m) or "XR"
            sent = m.sent if doc.has_annotation("SENT_START") else doc[:]
            near = [a for a in anat if sent.start <= a.start < sent.end and abs(a.start - m.start) <= self.pair_window]
            regions = []
            for a in near:
                reg = self._region(a)
                if reg and reg not in [r for r, _ in regions]:
                    regions.append((reg, a))
            names = {r for r, _ in regions}
            for pair, combined in COMBINE.items():
                if pair <= names:
                    spans = [a for r, a in regions if r in pair]
                    regions = [(r, a) for r, a in regions if r not in pair] + [(combined, spans[0])]
            if not regions:
                regions = [(None, None)]
            for reg, a in regions:
                key = (modality, reg)
                if key in seen:
                    continue
                seen.add(key)
                fr = {"modality": modality, "region": reg, "laterality": side_for(a) if a is not None else None,
                      "contrast": None, "views": None, "extent": None, "guidance": None, "procedure": None,
                      "subtype": None, "evidence": [[m.start_char, m.end_char]] + ([[a.start_char, a.end_char]] if a is not None else [])}
                frames.append(fr)
        for p in procs:
            proc = term_value("PROCEDURE", p)
            sent = p.sent if doc.has_annotation("SENT_START") else doc[:]
            near = sorted((a for a in anat if sent.start <= a.start < sent.end), key=lambda a: abs(a.start - p.start))
            reg = self._region(near[0]) if near else None
            key = ("IR", proc, reg)
            if key in seen or sec[p] not in ("exam", "technique", "impression", "findings", "other", None):
                continue
            seen.add(key)
            frames.append({"modality": "IR", "region": reg, "laterality": side_for(near[0]) if near else None,
                           "contrast": "na", "views": None, "extent": None, "guidance": None, "procedure": proc,
                           "subtype": None, "evidence": [[p.start_char, p.end_char]]})
        # report-level elements
        title_c = [term_value("CONTRAST", c) for c in by_label.get("CONTRAST", []) if sec[c] == "exam"]
        body_c = [term_value("CONTRAST", c) for c in by_label.get("CONTRAST", []) if sec[c] != "exam"]
        title_state, body_state = resolve_contrast([v for v in title_c if v]), resolve_contrast([v for v in body_c if v])
        views, extent = None, None
        for v in by_label.get("VIEWS", []):
            n, ext = views_value(v)
            views = views if views is not None else n
            extent = extent or ext
        guid = [term_value("GUIDANCE", g) for g in by_label.get("GUIDANCE", [])]
        guidance = next((g for g in guid if g), None)
        for fr in frames:
            if fr["modality"] in NO_CONTRAST_MODALITIES:
                fr["contrast"] = "na"
            else:
                fr["contrast"] = body_state or title_state
            fr["title_contrast"], fr["body_contrast"] = title_state, body_state
            if fr["modality"] in ("XR",):
                fr["views"] = views
            if fr["modality"] in ("US", "DUPLEX"):
                fr["extent"] = extent
            if fr["modality"] == "IR":
                fr["guidance"] = guidance
        # guidance named without a procedure frame: keep it on the first frame
        if guidance and not any(f["modality"] == "IR" for f in frames) and frames:
            frames[0]["guidance"] = guidance
        return frames

    def __call__(self, doc: Doc) -> Doc:
        doc._.set(FRAMES, tuple(self.build(doc)))
        return doc


@Language.factory("radcoder_frames", assigns=["doc._.frames"], default_config={"pair_window": 12})
def make_frames(nlp: Language, name: str, pair_window: int):
    register_extensions()
    return FrameBuilder(nlp, name, pair_window=pair_window)
