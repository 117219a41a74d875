"""Exam frames: one frame per performed procedure, with the elements CPT selection needs.

A frame is a dict: ``modality, region, laterality, contrast, views, extent, guidance, procedure,
subtype, evidence`` (evidence = list of (start, end) of the spans that gave each element) plus
``title_contrast``/``body_contrast`` so header/body disagreements stay visible for the flags.
"""

from __future__ import annotations

import re
from functools import cache

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..datafiles import iter_jsonl, resource_path
from ..extensions import FRAMES, SECTIONS_KEY, register_extensions, section_at
from ..lexicons import NON_ANATOMY, norm, region_index, term_maps
from ..lexicons import regions as lexicon_regions
from ..layout import cut_at_label

COMBINE = {frozenset({"abdomen", "pelvis"}): "abdomen_pelvis"}
NO_CONTRAST_MODALITIES = {"XR", "US", "DUPLEX", "MAMMO", "DBT", "DEXA", "NM", "PET", "FLUORO", "IR"}
PLURAL_BILATERAL = re.compile(r"(knees|hips|shoulders|ankles|feet|hands|wrists|elbows|breasts|legs|arms|"
                              r"extremities|femurs|tibias|heels|thumbs|clavicles|carotids|sacroiliac joints|si joints|kidneys|testes|testicles)\b", re.IGNORECASE)
WORD_NUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "single": 1}


@cache
def frame_rules() -> dict:
    """Frame conventions of resources/rules/frame_rules.jsonl, grouped by kind."""
    out: dict = {"procedure_region": {}, "reported_region": {}, "sided_organ": {}, "included_region": [],
                 "title_modality": {}, "title_region": {}, "combined_region": [], "limited_organ": {}}
    try:
        path = resource_path("rules", "frame_rules.jsonl")
    except Exception:  # a model packaged without the rules file: no conventions
        return out
    rows = [r for _, r in iter_jsonl(path)]
    for r in rows:
        k = r.get("kind")
        if k == "procedure_region":
            out[k][r["procedure"]] = r["region"]
        elif k == "reported_region":
            out[k][(r["modality"], r["region"])] = r["reported"]
        elif k == "sided_organ":
            out[k][r["region"]] = (frozenset(r.get("modalities") or ()), tuple(r.get("terms") or ()),
                                   {norm(a): v for a, v in (r.get("side_abbrevs") or {}).items()},
                                   r.get("both_sides", "bilateral"))
        elif k == "included_region":
            out[k].append((r.get("modality", "*"), r["region"], r["includes"]))
        elif k == "title_modality":
            out[k][norm(r["literal"])] = r["modality"]
        elif k == "title_region":
            out[k][norm(r["literal"])] = r["region"]
        elif k == "combined_region":
            out[k].append((r.get("modality", "*"), frozenset(r["regions"]), r["region"]))
        elif k == "limited_organ":
            out[k][(r["modality"], r["region"])] = r.get("extent", "limited")
    return out


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

    # ------------------------------------------------------------------ title-driven frames
    def _title(self, doc: Doc) -> tuple[int, str]:
        """(start char, text) of the statement naming the performed exam: the exam section, else the
        first line of the report when it is a heading (no 'Label:' prefix other than exam words)."""
        for s in doc.spans.get(SECTIONS_KEY, ()):
            if s.label_ == "exam":
                return s.start_char, s.text.split("\n", 1)[0]
        m = re.match(r"\s*([^\n]+)", doc.text)
        if m and not re.match(r"\s*[A-Za-z /]{2,30}:", m.group(1)):
            return m.start(1), m.group(1)
        return 0, ""

    def build(self, doc: Doc) -> list[dict]:
        try:
            items = [(m.start(1), m.group(1)) for m in NUMBERED_TITLE_RE.finditer(doc.text[:600])]
            if len(items) > 1 and items[0][0] < 10:  # a numbered list of exams heading the report
                frames = []
                for it in items:
                    for fr in self.build_from_title(doc, it):
                        if not any((f["modality"], f["region"]) == (fr["modality"], fr["region"]) for f in frames):
                            frames.append(fr)
            else:
                t0, title = self._title(doc)
                parts = _split_exams(title)
                if len(parts) > 1:  # 'EXAMS: <exam 1>; <exam 2>': one statement per performed exam
                    frames = []
                    for off, part in parts:
                        frames.extend(self.build_from_title(doc, (t0 + off, part)))
                else:
                    frames = self.build_from_title(doc)
        except Exception:  # never fail the pipeline on an odd title
            frames = []
        return frames or self.build_from_entities(doc)

    def build_from_title(self, doc: Doc, item: tuple[int, str] | None = None) -> list[dict]:
        t0, title = item or self._title(doc)
        if not title.strip():
            return []
        title = re.sub(r"^\s*(exam(?:ination)?s?|procedures?|stud(?:y|ies))\s*:\s*", lambda m: " " * len(m.group(0)), title,
                       flags=re.IGNORECASE)
        # a report written on one line: the exam statement ends where the next 'LABEL:' starts
        title = cut_at_label(title)
        low = title.lower()
        technique = " ".join(s.text for s in doc.spans.get(SECTIONS_KEY, ()) if s.label_ == "technique")
        if not technique:
            m = INLINE_TECHNIQUE_RE.search(doc.text)
            technique = m.group(1) if m else ""
        modality = _scan_modality(low)
        named = _phrase_hits(low, dict(frame_rules()["title_modality"]))
        guided = bool(_phrase_hits(low, dict(term_maps().get("GUIDANCE", {}))))
        proc = _scan_procedure(low, allow_all=guided) \
            if modality not in ("PET", "NM", "MAMMO", "DBT", "DEXA") and not named else None
        if proc is not None and modality in ("US", "CT", "MR", "XR") and (
                PROC_EVALUATION_RE.match(low, proc[1]) or PROC_NOT_DONE_RE.search(doc.text[t0 + len(low):])
                or PROC_BEFORE_RE.search(low[:proc[0]])):
            # 'US ABDOMEN LIMITED - PARACENTESIS EVALUATION' ... 'paracentesis not performed': the diagnostic exam
            low = low[:proc[0]] + " " * (proc[1] - proc[0]) + low[proc[1]:]
            proc = None
        if proc is not None:
            return self._procedure_frames(doc, t0, low, modality, proc, technique)
        regs = _scan_regions(low)
        if not regs and modality == "PET":  # the imaged range is often given in the technique
            regs = [(0, 0, r) for _, _, r in _scan_regions(technique.lower())[:1]] or [(0, 0, "skull_base_to_mid_thigh")]
        if not regs and modality in DEFAULT_REGION:
            regs = [(0, 0, DEFAULT_REGION[modality])]
        if not regs:
            return []
        if modality is None and re.search(r"\barthrogra(?:m|ms|phy)\b", low):
            modality = "FLUORO"  # an arthrogram the title names with no CT / MR: the conventional (fluoroscopic) one
        if modality is None:
            body = _body_text(doc, t0, title).lower()
            if VIEWS_WORD_RE.search(low) or VIEW_NAME_RE.search(low) or re.search(
                    r"\b(portable|radiograph|film|weights?|weight[- ]bearing|stress views?)\b", low) or (
                    # a title naming only the body part, whose report says which views were obtained
                    _count_done_views(_view_sentences(technique.lower() or body[:400])) and not _scan_modality(body)):
                modality = "XR"
            else:
                return []
        frames = []
        seen = set()
        for i, (st, en, reg) in enumerate(regs):
            seg_end = regs[i + 1][0] if i + 1 < len(regs) else len(low)
            seg_start = regs[i - 1][1] if i > 0 else 0
            seg = low[seg_start:seg_end]
            key = (modality, reg)
            if key in seen:
                continue
            seen.add(key)
            lat = _scan_laterality(seg, low[st:en]) or (_scan_laterality(low, low[st:en]) if len(regs) == 1 else None)
            views = _count_views(low[st:seg_end]) if len(regs) > 1 else None
            if views is None and len(regs) > 1 and (each := EACH_VIEWS_RE.search(low)):
                views = _count_views(each.group(0))  # 'CHEST AND ABDOMEN, 1 VIEW EACH'
            if views is None:
                views = _count_views(low) if len(regs) == 1 else None
            if views is None and len(regs) == 1:
                views = _count_views(technique.lower())
            if views is None and len(regs) > 1 and modality == "XR":
                # 'Three views of the left ankle and three views of the left foot were obtained.'
                views = _views_of_region(technique.lower() or _view_sentences(doc.text[t0 + len(title):].lower()), reg)
            fr = {"modality": modality, "region": reg, "laterality": lat, "contrast": None, "views": views,
                  "extent": None, "guidance": None, "procedure": None, "subtype": None,
                  "evidence": [[t0 + st, t0 + en]]}
            frames.append(fr)
        _finish(doc, frames, low, technique.lower(), own_title=item is not None)
        _conventions(doc, frames, low, technique.lower(), t0)
        return frames

    def _procedure_frames(self, doc: Doc, t0: int, low: str, modality: str | None, proc: tuple, technique: str) -> list[dict]:
        """A title naming an image-guided procedure (US-guided paracentesis, CT-guided liver biopsy, PICC
        placement): one IR frame, guided by the imaging named in the title (else in the technique)."""
        ps, pe, pval = proc
        guid = [v for _, _, v in _phrase_hits(low, dict(term_maps().get("GUIDANCE", {})))]
        if not guid and modality in GUIDANCE_MODALITIES:
            guid = [modality]
        if not guid:
            guid = [v for _, _, v in _phrase_hits(technique.lower(), dict(term_maps().get("GUIDANCE", {})))]
        if not guid and not technique:
            guid = _body_guidance(doc, t0 + len(low))
        regs = [r for r in _scan_regions(low) if not (r[0] < pe and ps < r[1])]
        reg = regs[0] if regs else None
        lat = _scan_laterality(low, low[reg[0]:reg[1]] if reg else "")
        region = reg[2] if reg else (_spine_level_region(low) or frame_rules()["procedure_region"].get(pval))
        if pval in ACCESS_PROCEDURES:
            region = "central_venous_access"  # the access codes' region, whatever vein or limb the title names (§7.24)
        elif pval == "drainage" and (_in_limb(region) or region in SOFT_TISSUE_WALLS
                                     or SOFT_TISSUE_RE.search(low + " " + (technique or _body_text(doc, t0, low)).lower())):
            region = "soft_tissue"  # a collection of a limb or the body wall, or a subcutaneous one: 10030, not 49405
        if lat is None and pval in ACCESS_PROCEDURES:  # the side of the accessed vein
            m = ACCESS_SIDE_RE.search(doc.text[t0 + len(low):])
            lat = SIDE_VAL[m.group(1).lower()] if m else None
        guids = [GUIDANCE_MODALITIES.get(g, g) for g in guid]
        if re.search(r"\bguid", low):  # 'with ultrasound and fluoroscopic guidance': each guidance is a service
            guids += [GUIDANCE_MODALITIES[v] for _, _, v in _phrase_hits(low, dict(term_maps().get("MODALITY", {})))
                      if v in GUIDANCE_MODALITIES]
        guids = list(dict.fromkeys(guids)) or [None]
        # contrast given for the procedure (needle position confirmed with contrast): 'with' (§7.16)
        proc_text = technique or _body_text(doc, t0, low)
        contrast = "with" if _contrast_state(proc_text.lower()) in ("with", "without_with") else "na"
        frames = []
        for g in guids:
            mod = "IR"
            if region == "breast" and g in ("STEREO", "MAMMO", "US"):  # guided breast procedures (§7.16)
                mod = "US" if g == "US" else "MAMMO"
            frames.append({"modality": mod, "region": region, "laterality": lat,
                           "contrast": contrast if mod == "IR" else "na", "views": None,
                           "extent": None, "guidance": g, "procedure": pval, "subtype": None,
                           "evidence": [[t0 + ps, t0 + pe]], "title_contrast": None, "body_contrast": None})
        _conventions(doc, frames, low, technique.lower(), t0)
        return frames

    def build_from_entities(self, doc: Doc) -> list[dict]:
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


# ---------------------------------------------------------------------- title scanning helpers
VIEWS_WORD_RE = re.compile(r"\b(views?|vws?|\d\s*v)\b")
_NUM = r"(\d+|one|two|three|four|five|six|single)"
VIEWS_NUM_RE = re.compile(r"\b" + _NUM + r"\s*\+?\s*-?\s*(?:(?:frontal|portable|standard|upright|supine|erect|ap|pa|"
                          r"weight-bearing|weightbearing|standing)\s+)?(?:v|vw|vws|views?)\b|\b(?:min(?:imum)?\.?|at least)\s*(?:of\s*)?"
                          + _NUM + r"\b")
VIEW_NAMES = ("ap", "pa", "lateral", "lat", "oblique", "obliques", "mortise", "grashey", "scapular y", "y",
              "sunrise", "merchant", "frog", "frog-leg", "frogleg", "axillary", "swimmer", "swimmers", "odontoid",
              "open mouth", "flexion", "extension", "cross-table", "tunnel", "notch", "scaphoid", "cc", "mlo",
              "lordotic", "decubitus", "waters", "caldwell", "towne", "ferguson", "internal rotation",
              "external rotation", "outlet", "inlet", "judet", "harris", "axial", "skyline", "stress",
              "ulnar deviation", "radial deviation", "ap internal rotation", "ap external rotation",
              # one view each, named by a position and a projection ('AP and frog-leg lateral views' = 2 views)
              "frog-leg lateral", "frog leg lateral", "frogleg lateral", "frog lateral", "cross-table lateral",
              "cross table lateral", "swimmer's lateral", "swimmers lateral", "lateral decubitus")
VIEW_NAME_RE = re.compile(r"(?<![\w-])(" + "|".join(sorted((re.escape(v) for v in VIEW_NAMES), key=len, reverse=True))
                          + r")(?![\w-])")
SIDE_RE = re.compile(r"(?<![\w/])(left|right|lt|rt|bilateral|bilat|b/l|both|l|r)(?![\w/])"
                     r"(?!\s+(?:upper|lower)\s+quadrant)")  # 'right upper quadrant' names a part of the abdomen
SIDE_VAL = {"left": "left", "lt": "left", "l": "left", "right": "right", "rt": "right", "r": "right",
            "bilateral": "bilateral", "bilat": "bilateral", "b/l": "bilateral", "both": "bilateral"}
# region synonyms that name views, positions or non-exam words in titles
TITLE_REGION_STOP = frozenset({"a/p", "le", "ue", "port", "node", "nodes", "gi", "effusion", "reflux", "speech",
                               "peripheral", "regional", "superficial", "muscle", "axial", "lateral", "ivc"})
DEFAULT_REGION = {"MAMMO": "breast", "DBT": "breast", "DEXA": "axial_skeleton"}
LIMB_ABBREV = {"le": "lower_extremity", "ue": "upper_extremity", "les": "lower_extremity", "ues": "upper_extremity"}
LIMB_ABBREV_RE = re.compile(r"\b(le|ue|les|ues)\b(?=\s*(?:-\s*)?(?:arterial|venous|arteries|artery|veins?|duplex|doppler|dvt|"
                            r"runoff|run-off|abi|pvr|segmental)\b)|\b(?:duplex|doppler|venous|arterial)\s+(le|ue)\b")
EXTENT_RE = re.compile(r"\b(complete|limited|ltd|targeted|focused|fast|e-?fast)\b")
# (a FAST exam, focused assessment with sonography for trauma, is a limited study)
EXTENT_WORDS = {"ltd": "limited", "targeted": "limited", "focused": "limited", "fast": "limited", "efast": "limited",
                "e-fast": "limited"}


def _extent(text: str) -> str | None:
    """complete / limited as ``text`` first names it ('LTD', 'targeted' and 'focused' name the limited exam)."""
    m = EXTENT_RE.search(text)
    return EXTENT_WORDS.get(m.group(1), m.group(1)) if m else None
LIMITED_DONE_RE = re.compile(r"\b(?:limited|incomplete)\s+(?:exam(?:ination)?|study|sonographic (?:exam|study))\b")


_PHRASE_RE_CACHE: dict = {}


def _phrase_regex(lexicon: dict):
    key = tuple(sorted(lexicon))
    rx = _PHRASE_RE_CACHE.get(key)
    if rx is None:
        alts = "|".join(re.escape(k) for k in sorted((k for k in lexicon if k), key=len, reverse=True))
        rx = re.compile(r"(?<![\w])(?:" + alts + r")(?![\w])") if alts else None
        _PHRASE_RE_CACHE[key] = rx
    return rx


def _phrase_hits(text: str, lexicon: dict) -> list[tuple[int, int, str]]:
    """Non-overlapping longest matches of lexicon keys in ``text`` (word-bounded), in text order.
    One compiled alternation per lexicon (longest alternatives first), cached."""
    rx = _phrase_regex(lexicon)
    if rx is None:
        return []
    return [(m.start(), m.end(), lexicon[m.group(0)]) for m in rx.finditer(text)]


NUMBERED_TITLE_RE = re.compile(r"(?:^|\n)[ \t]*\d\s*[.)][ \t]+([^\n]+)")
GUIDANCE_MODALITIES = {"US": "US", "CT": "CT", "FLUORO": "FLUORO", "MR": "MR", "STEREO": "STEREO", "XR": "FLUORO",
                       "DUPLEX": "US"}
# procedure words that name an image-guided procedure when they head the exam title
TITLE_PROCEDURE_SKIP = frozenset({"marker", "injection", "arthrogram", "drainage", "port"})


SPINE_LEVEL_RE = re.compile(r"(?<![\w-])([ctls])\s?-?(\d{1,2})(?:\s*(?:-|/|to)\s*([ctls])?\s?(\d{1,2}))?(?![\w])")
SPINE_LEVEL_REGION = {frozenset("c"): "cervical_spine", frozenset("t"): "thoracic_spine", frozenset("ct"): "cervical_thoracic_spine",
                      frozenset("l"): "lumbar_spine", frozenset("s"): "sacrum_coccyx", frozenset("ls"): "lumbar_sacral_spine",
                      frozenset("tl"): "thoracolumbar_spine"}


def _spine_level_region(low: str) -> str | None:
    """The spine region of the vertebral levels a procedure title names ('L5-S1 transforaminal injection')."""
    letters = set()
    for m in SPINE_LEVEL_RE.finditer(low):
        letters |= {m.group(1)} | ({m.group(3)} if m.group(3) else set())
    return SPINE_LEVEL_REGION.get(frozenset(letters)) if letters else None


# 'PRE-PARACENTESIS MARKING', 'pre-biopsy planning': an exam done before a procedure, not the procedure
PRE_PROCEDURE_RE = re.compile(r"\bpre[- ]?$")


def _scan_procedure(low: str, allow_all: bool = False):
    """First image-guided procedure named in a title. Single words that often name an object rather than the
    performed procedure (port, drainage, marker) count only when ``allow_all`` (the title names guidance);
    phrases such as 'port placement' always count."""
    hits = [h for h in _phrase_hits(low, dict(term_maps().get("PROCEDURE", {})))
            if (allow_all or h[2] not in TITLE_PROCEDURE_SKIP or " " in low[h[0]:h[1]].strip())
            and not PRE_PROCEDURE_RE.search(low[max(0, h[0] - 5):h[0]])]
    return hits[0] if hits else None


def _scan_modality(low: str) -> str | None:
    named = _phrase_hits(low, dict(frame_rules()["title_modality"]))
    if named:  # an exam name (upper GI series, arthrogram injection) fixes the modality
        return named[0][2]
    hits = _phrase_hits(low, dict(term_maps().get("MODALITY", {})))
    if hits and hits[0][2] == "US" and re.search(r"\bduplex\b", low):
        return "DUPLEX"  # 'US CAROTID DUPLEX': the duplex study is the exam
    return hits[0][2] if hits else None


SPINE_COORD_RE = re.compile(r"\b(?:cervical|thoracic|lumbar)(?:\s*(?:,|and|&|/|\+)\s*(?:cervical|thoracic|lumbar))+(?=\s+spines?\b)")
# regions that are named by a kind of study (ankle-brachial index, pulse volume recordings), not by anatomy
STUDY_TYPE_REGIONS = frozenset({"extremity_arteries"})


def _scan_regions(low: str) -> list[tuple[int, int, str]]:
    lex = {k: r.region for k, r in region_index().items() if k not in NON_ANATOMY and k not in TITLE_REGION_STOP}
    lex.update(term_maps().get("ANATOMY", {}))
    lex.update(frame_rules()["title_region"])
    # a word inside a longer view name is no region ('FROG-LEG LATERAL')
    views = [(m.start(1), m.end(1)) for m in VIEW_NAME_RE.finditer(low)]
    hits = [h for h in _phrase_hits(low, lex) if not any(a <= h[0] and h[1] <= b and (a, b) != h[:2] for a, b in views)]
    # 'LE' / 'UE' name a limb only next to a vascular study word ('DUPLEX RT LE ARTERIAL', 'UE VENOUS DOPPLER')
    taken = [(a, b) for a, b, _ in hits]
    for m in LIMB_ABBREV_RE.finditer(low):
        g = 1 if m.group(1) else 2
        if not any(a < m.end(g) and m.start(g) < b for a, b in taken):
            hits.append((m.start(g), m.end(g), LIMB_ABBREV[m.group(g)]))
    # 'THORACIC AND LUMBAR SPINE': each segment word of a coordination ending in 'spine' is its own spine region
    for m in SPINE_COORD_RE.finditer(low):
        for w in re.finditer(r"cervical|thoracic|lumbar", m.group(0)):
            a, b = m.start() + w.start(), m.start() + w.end()
            hits = [h for h in hits if not (h[0] < b and a < h[1])] + [(a, b, f"{w.group(0)}_spine")]
    hits.sort()
    # words in parentheses only detail the exam named outside them
    paren = [(m.start(), m.end()) for m in re.finditer(r"\([^)]*\)", low)]
    # a region naming the protocol of an exam of a larger region ('CT ABDOMEN ... ADRENAL PROTOCOL') is not an
    # exam of its own
    proto = [h for h in hits if re.match(r"\s*(?:mass\s+|nodule\s+)?protocol\b", low[h[1]:])]
    if proto and len(proto) < len(hits):
        hits = [h for h in hits if h not in proto]
    # (a study type named in them, 'LOWER EXTREMITIES (ABI WITH SEGMENTAL PRESSURES)', says what the exam is)
    outside = [h for h in hits if not any(a <= h[0] < b for a, b in paren) or h[2] in STUDY_TYPE_REGIONS]
    inside = [h for h in hits if h not in outside]
    # ... unless they name a part of it ('US ABDOMEN LIMITED (PYLORUS)'): the most specific region covering the
    # imaged area (§7.18)
    if len({h[2] for h in outside}) == 1 and inside:
        # (a protocol named in parentheses, 'TRIPLE PHASE LIVER', 'PANCREAS PROTOCOL', is no part of the region)
        named = [h for h in inside if not any(
            a <= h[0] < b and re.search(r"\b(?:phases?|protocol)\b", low[a:b]) for a, b in paren)]
        parts = [h for h in named if outside[0][2] in _region_ancestors(h[2])]
        # (organs listed in parentheses that are not all parts of it, 'RETROPERITONEAL (KIDNEYS/BLADDER)', list
        # what the exam of the region covers)
        if len({h[2] for h in parts}) == 1 and len(parts) == len(named):
            outside = [(o[0], o[1], parts[0][2]) for o in outside]
    hits = outside or hits
    names = [h[2] for h in hits]
    for pair, combined in COMBINE.items():
        if pair <= set(names):
            first = min(h[0] for h in hits if h[2] in pair)
            last = max(h[1] for h in hits if h[2] in pair)
            hits = [h for h in hits if h[2] not in pair] + [(first, last, combined)]
            hits.sort()
    out, seen = [], set()
    for h in hits:
        if h[2] not in seen:
            seen.add(h[2])
            out.append(h)
    return out


@cache
def _region_ancestors(region: str) -> tuple[str, ...]:
    parents = {r.region: r.parent for r in lexicon_regions()}
    out, cur = [], parents.get(region)
    while cur and cur not in out:
        out.append(cur)
        cur = parents.get(cur)
    return tuple(out)


def _scan_laterality(text: str, region_text: str) -> str | None:
    sides = {SIDE_VAL[m.group(1)] for m in SIDE_RE.finditer(text)
             if m.group(1) not in ("l", "r") or re.search(r"(?<![\w/])" + m.group(1) + r"\s+" + re.escape(region_text), text)}
    if "bilateral" in sides or {"left", "right"} <= sides:
        return "bilateral"
    if sides:
        return sides.pop()
    if PLURAL_BILATERAL.search(region_text):
        return "bilateral"
    return None


EACH_VIEWS_RE = re.compile(r"\b(?:\d|one|two|three|four|five|six|single)\s*-?\s*views?\s+(?:each|of each)\b")


def _count_views(text: str) -> int | None:
    nums = []
    for m in VIEWS_NUM_RE.finditer(text):
        t = (m.group(1) or m.group(2)).lower()
        nums.append(int(t) if t.isdigit() else WORD_NUM[t])
    if nums:
        return max(nums)
    names = {("oblique" if n.group(1) == "obliques" else "lateral" if n.group(1) == "lat" else n.group(1))
             for n in VIEW_NAME_RE.finditer(text)}
    # a patient position named alone is a view of its own ('SUPINE AND UPRIGHT ABDOMEN, PA CHEST' = 3 views);
    # next to a projection it only says how that view was taken ('AP supine and upright views' = 2 views)
    for m in POSITION_VIEW_RE.finditer(text):
        before, after = text[:m.start()].split()[-1:], text[m.end():].split()[:1]
        near = [w.strip(",.;:()").lower() for w in before + after]
        if not any(VIEW_NAME_RE.fullmatch(w) for w in near if w):
            names.add(m.group(1).lower().replace("erect", "upright"))
    return len(names) or None


POSITION_VIEW_RE = re.compile(r"(?<![\w-])(supine|upright|erect|prone)(?![\w-])", re.IGNORECASE)


BEFORE_AFTER_RE = re.compile(r"\b(before and after|pre[- ]? and post(?![- ]?reduction)[- ]?|without and with|with and without|"
                             r"(?:tof|time[- ]of[- ]flight)\b(?:[^.;]){0,30}\bfollowed by (?:[\w-]+ ){0,2}contrast|"
                             r"noncontrast (?:\w+ ){0,6}followed by|non-contrast (?:\w+ ){0,6}followed by)\b")


INLINE_TECHNIQUE_RE = re.compile(r"\btechnique\s*:\s*(.*?)(?=\b(?:comparison|findings|impression)\s*:|$)",
                                 re.IGNORECASE | re.DOTALL)
# contrast that was ordered or planned but not given: the exam is coded without it
NOT_GIVEN_RE = re.compile(r"\b(?:contrast|gadolinium|gad)\b[^.;\n]{0,40}?\b(?:not|never)\s+(?:been\s+)?(?:given|administered|"
                          r"injected)\b|\b(?:contrast|gadolinium)\s+(?:was\s+|were\s+)?(?:with)?held\b|\bno\s+(?:iv\s+|intravenous\s+)?(?:contrast|gadolinium)\s+(?:was\s+)?"
                          r"(?:given|administered)\b|\bbefore any contrast\b", re.IGNORECASE)


ENTERIC_RE = re.compile(r"\b(?:oral|enteric|rectal|po|positive oral|water-soluble oral)\s+$")


def _not_given(text: str) -> bool:
    """The report says IV contrast was not given. Oral / rectal contrast not given ('oral contrast not given')
    says nothing about the IV contrast the CPT code depends on."""
    for m in NOT_GIVEN_RE.finditer(text):
        before = text[max(0, m.start() - 25):m.start()].lower()
        if ENTERIC_RE.search(before) or re.search(r"\b(?:oral|enteric|rectal)\b", m.group(0).lower()):
            continue
        return True
    return False


# a statement of what was ordered, not what was done ('the order was placed as a noncontrast study')
_ORDER_CUE = r"(?:ordered|order (?:was |had been )?(?:placed|written|entered|requested)|requested)"
ORDERED_AS_RE = re.compile(r"[^.;,\n]*?\b" + _ORDER_CUE + r"\s+as\b"
                           r"[^.;,\n]*?(?=\bbut\b|[.;,\n]|$)", re.IGNORECASE)


def _contrast_state(text: str) -> str | None:
    text = ORDERED_AS_RE.sub(" ", text)
    hits = _phrase_hits(text, dict(term_maps().get("CONTRAST", {})))
    vals = [v for _, _, v in hits]
    if _not_given(text):
        vals.append("not_given")
    if BEFORE_AFTER_RE.search(text) and "not_given" not in vals:
        return "without_with"
    return resolve_contrast(vals)


# exam-title shorthand the contrast lexicon leaves out: a bare 'W/O' ('MRI C-SPINE W/O') and 'W/ IV (AND ORAL)
# CONTRAST' (oral contrast given with the IV contrast does not make the exam non-contrast)
TITLE_WITHOUT_RE = re.compile(r"(?<![\w/])(?:w/o|w/out|wo|non-?con|noncontrast|non-contrast)(?![\w/])(?!\s*(?:and|&|/|\+)\s*w)")
# 'WO/W', 'W/O/W', 'W/O & W', 'W/W/O', 'W+WO': the exam without and with contrast
TITLE_WITHOUT_WITH_RE = re.compile(r"(?<![\w/])(?:wo|w/o|w/out)\s*(?:/|&|\+|and)\s*w(?:/|ith\b|\b)"
                                   r"|(?<![\w/])(?:w|w/|with)\s*(?:/|&|\+|and)\s*(?:wo|w/o|w/out)(?![\w/])")
TITLE_WITH_IV_RE = re.compile(r"(?<![\w/])(?:w/|with)\s*(?:iv|intravenous)\b(?![^;,]{0,12}\bnot\b)")


ORDERED_RE = re.compile(r"\(\s*(?:as\s+)?ordered\s*\)")


def _title_contrast_state(title: str) -> str | None:
    """Contrast state of an exam title: the contrast lexicon, plus title shorthand ('W/O', 'W/ IV AND ORAL')."""
    if ORDERED_RE.search(title):
        return None  # the title names the exam as ordered, not as performed
    if TITLE_WITHOUT_WITH_RE.search(title) and not _not_given(title):
        return "without_with"
    st = _contrast_state(title)
    vals = {v for _, _, v in _phrase_hits(title, dict(term_maps().get("CONTRAST", {})))}
    if st in (None, "without") and vals <= {"oral"} and TITLE_WITH_IV_RE.search(title):
        return "with"
    if st is None and TITLE_WITHOUT_RE.search(title):
        return "without"
    return st


LIMITED_STUDY_RE = re.compile(r"\b(?:limited|incomplete|abbreviated)(?:,?\s+(?:incomplete|motion[- ]degraded|noncontrast|"
                              r"non-contrast))?\s+(?:exam(?:ination)?|study)\b|\b(?:exam(?:ination)?|study|scan) (?:was )?"
                              r"terminated\b|\bterminated (?:early|before)\b")


def _impression_text(doc: Doc) -> str:
    return " ".join(s.text for s in doc.spans.get(SECTIONS_KEY, ()) if s.label_ == "impression").lower()


# a sentence about another exam than the one performed: a recommendation or a comparison with a prior exam
# 'there are no prior studies for comparison' names no other exam
NO_PRIOR_RE = re.compile(r"\b(?:no|without)\s+(?:prior|previous)\s+(?:studies|study|exams?|examinations?|films?|imaging|"
                         r"radiographs?)(?:\s+(?:are\s+|is\s+)?(?:available\s+)?for\s+comparison)?")
OTHER_EXAM_RE = re.compile(r"\b(?:recommend\w*|consider\w*|suggest\w*|advis\w*|could be|would be|may be (?:obtained|"
                           r"performed|helpful)|more sensitive|if (?:clinically|clinical)|follow[- ]?up|f/u|prior|previous)\b")


def _modality_sentences(technique: str, modality: str) -> str:
    """The technique sentences that name ``modality`` ('3D TOF MRA ... without contrast' of an MR + MRA report)."""
    sents = [x for x in re.split(r"(?<=[.;])\s+|\n", technique) if x.strip()]
    return " ".join(x for x in sents if _scan_modality(x) == modality)


def _body_contrast_values(doc: Doc, frames: list[dict]) -> list[str]:
    """Contrast terms of the findings/impression that describe the performed exam: not those of a sentence that
    names another modality ('MRI brain with and without contrast is more sensitive' in a CT report) or recommends
    or compares with another exam."""
    mods = {fr["modality"] for fr in frames}
    out = []
    for c in doc.ents:
        if c.label_ != "CONTRAST" or section_at(doc, c.start_char) not in ("findings", "impression", "other", None):
            continue
        sent = c.sent.text.lower()
        named = _scan_modality(sent)
        if (named is not None and named not in mods) or OTHER_EXAM_RE.search(sent):
            continue
        if ORDERED_BEFORE_RE.search(doc.text[max(0, c.start_char - 30):c.start_char]):
            continue  # 'performed without IV contrast although ordered with contrast': the order, not the exam
        v = term_value("CONTRAST", c)
        if v:
            out.append(v)
    return out


# the order's words just before a contrast term of the body ('... although ordered with contrast')
ORDERED_BEFORE_RE = re.compile(r"\b(?:" + _ORDER_CUE + r"|scheduled|order(?:ed)? was|protocoll?ed)\s+(?:as\s+)?(?:an?\s+)?$",
                               re.IGNORECASE)


def _finish(doc: Doc, frames: list[dict], title: str, technique: str, own_title: bool = False) -> None:
    """Contrast, extent and conventions of the frames of one exam statement. ``own_title``: the statement is one
    of several exams listed in the title ('MRI BRAIN W/WO; MRA HEAD W/O'), so the technique sentences that name
    its modality say how it was done."""
    title_state = _title_contrast_state(title)
    if own_title and technique and len({fr["modality"] for fr in frames}) == 1:
        own = _modality_sentences(technique, frames[0]["modality"])
        technique_state = _contrast_state(own or technique)
    else:
        technique_state = _contrast_state(technique) if technique else None
    body_state = technique_state
    if body_state is None:
        body_state = resolve_contrast(_body_contrast_values(doc, frames))
    state = body_state or title_state
    if title_state == "without_with" and body_state == "with":
        state = body_state = "without_with"
    extent = _extent(title)
    if extent is None and technique:
        extent = _extent(technique)
    # an exam titled complete that the report says was limited / incomplete: the performed exam is limited
    # (§7.13); the title's extent is kept for the flags
    title_extent = None
    if extent == "complete" and (LIMITED_DONE_RE.search(technique) or LIMITED_DONE_RE.search(" ".join(
            s.text for s in doc.spans.get(SECTIONS_KEY, ()) if s.label_ == "impression").lower())):
        title_extent, extent = extent, "limited"
    extra = []
    for fr in frames:
        fr["contrast"] = "na" if fr["modality"] in NO_CONTRAST_MODALITIES else state
        if fr["modality"] == "PET":  # the CT of PET/CT is for attenuation/localization unless IV contrast is given
            fr["contrast"] = state if state in ("with", "without_with") else "without"
        if fr["modality"] == "FLUORO" and fr.get("procedure") is None and fr.get("guidance") is None \
                and re.search(r"\b(?:injection|arthrogra(?:m|ms|phy))\b", title):
            fr["guidance"] = "FLUORO"  # an injection named in a fluoroscopic exam title is done under fluoroscopy (§7.16)
        if fr["modality"] == "FLUORO" and fr.get("procedure") is None and not _not_given(technique) \
                and "not_given" not in [v for _, _, v in _phrase_hits(technique, dict(term_maps().get("CONTRAST", {})))]:
            fr["contrast"] = "with"  # GI/GU fluoroscopic studies are contrast studies (barium is their contrast)
        if fr["modality"] in ("CT", "CTA") and fr["region"] == "brain":
            fr["region"] = "head"
        if fr["modality"] in ("MAMMO", "DBT") and fr["views"] is None:
            fr["views"] = 2  # standard CC and MLO views
        fr["title_contrast"], fr["body_contrast"] = title_state, body_state
        if fr["modality"] not in ("XR", "MAMMO", "DBT"):
            fr["views"] = None
        if fr["modality"] in ("US", "DUPLEX"):
            fr["extent"] = extent
            if title_extent:
                fr["title_extent"] = title_extent
        elif fr.get("procedure") is None and fr["modality"] not in ("MAMMO", "DBT", "DEXA", "IR"):
            # other exams: the extent the exam statement names ('XR FOOT COMPLETE', 'MRI KNEE - LIMITED'), and a
            # performed exam that the report says was limited, incomplete or stopped (§7.13)
            fr["extent"] = _extent(title)
            if LIMITED_STUDY_RE.search(technique) or LIMITED_STUDY_RE.search(_impression_text(doc)):
                fr["extent"] = "limited"
        if fr["modality"] in ("MAMMO", "DBT") and fr["laterality"] is None and re.search(r"\bscreening\b", title):
            fr["laterality"] = "bilateral"
        if fr["modality"] == "MAMMO" and re.search(r"\b(tomosynthesis|tomo|dbt|3d|3-d)\b", title):
            extra.append(dict(fr, modality="DBT"))
    frames.extend(extra)
    # DXA of the hip(s) and/or spine is one axial-skeleton study
    dexa = [f for f in frames if f["modality"] == "DEXA" and f["region"] in DEXA_AXIAL]
    if dexa:
        keep = dexa[0]
        keep["region"], keep["laterality"] = "axial_skeleton", None
        for f in dexa[1:]:
            keep["evidence"] = keep["evidence"] + f["evidence"]
            frames.remove(f)


ACCESS_PROCEDURES = frozenset({"picc", "port", "cvc"})
QUADRANT_RE = re.compile(r"\b(?:ruq|rlq|luq|llq|(?:right|left) (?:upper|lower) quadrant|appendix|appendicitis|pylorus|"
                         r"pyloric|gallbladder)\b")
TRANSPLANT_RE = re.compile(r"\b(?:transplant\w*|allograft|graft kidney)\b")
SOFT_TISSUE_WALLS = frozenset({"buttock", "chest_wall", "abdominal_wall"})
SOFT_TISSUE_RE = re.compile(r"\b(?:subcutaneous|soft[- ]tissue|intramuscular)\s+(?:[a-z-]+\s+){0,2}(?:abscess|collection|"
                            r"fluid|seroma|hematoma)")


def _in_limb(region: str | None) -> bool:
    return bool(region) and (region == "extremity" or "extremity" in _region_ancestors(region))
ACCESS_SIDE_RE = re.compile(r"\b(right|left)\s+(?:[a-z]+\s+){0,2}?(?:basilic|brachial|cephalic|internal jugular|ij|"
                            r"subclavian|femoral|arm|upper arm|chest)\b", re.IGNORECASE)
VIEW_RANGE_RE = re.compile(r"\b\d\s*(?:-|to|or)\s*\d\s*(?:v|vw|vws|views?)\b")
MAMMO_EXTRA_VIEW_RE = re.compile(r"\b(spot|ml|lm|xccl|exaggerated|tangential|magnification|magnified|rolled|cleopatra|"
                                 r"additional|true lateral|mediolateral(?! oblique)|lateromedial|implant[- ]displac\w*|"
                                 r"eklund)\b")
MAMMO_VIEW_RE = re.compile(r"(?<![\w-])(exaggerated cc(?:[- ](?:lateral|medial))?|exaggerated craniocaudal|xccl|xccm|"
                           r"craniocaudal|mediolateral oblique|mediolateral|lateromedial oblique|lateromedial|cc|mlo|ml|lm|lmo|"
                           r"tangential|rolled|cleopatra|true lateral|90[- ]degree lateral)(?![\w-])")
MAMMO_UNNAMED_VIEW_RE = re.compile(r"\b(?:spot|magnification|magnified)(?:[- ](?:compression|magnification))?\s+views?\b")
# projections that name the breast they image ('Left CC, MLO and ML views')
MAMMO_SIDE_VIEW_NAMES = ("cc", "mlo", "ml", "lm", "xccl", "craniocaudal", "mediolateral oblique", "mediolateral")
INFANT_RE = re.compile(r"\b(?:infant|neonat\w*|newborn|babygram)\b")
SIDE_TERM_RE_CACHE: dict = {}
MULTIPART_US_RE = re.compile(r"\b(transabdominal (?:and|&|/|\+) ?transvaginal|ta ?(?:and|&|/|\+) ?tv|transvaginal (?:and|&|/|\+) ?"
                             r"transabdominal|tv ?(?:and|&|/|\+) ?ta)\b"
                             # an obstetric / pelvic exam 'with transvaginal cervical length': a second, transvaginal exam
                             r"|(?:\bwith|\band|\bplus|&|\+)\s+(?:an?\s+|additional\s+)?(?:trans-?vaginal|endovaginal)\b")
PRE_POST_REDUCTION_RE = re.compile(r"\bpre[- ]?\s*(?:and|&|/|\+)\s*post[- ]?reduction\b|\bpre[- ]?reduction\b[^.;\n]{0,40}"
                                   r"\bpost[- ]?reduction\b")
REPEAT_PART_RE = re.compile(r"[;\n]\s*((?:repeat(?:ed)?|post[- ]?reduction)\b[^;\n]*)")
LABELED_RBC_RE = re.compile(r"\b(?:tagged|labell?ed|tc-?99m)\s+(?:red (?:blood )?cells?|rbcs?)\b|\b(?:red blood cells?|rbcs?)\s+"
                            r"(?:were\s+|was\s+)?(?:labell?ed|tagged)\b|\brbc\s+(?:scintigraph\w*|scan|study)\b")
GI_BLEED_RE = re.compile(r"\b(?:gi|gastrointestinal)\s+(?:bleed\w*|blood loss|hemorrhage)|\bbleeding (?:scan|study)\b|"
                         r"\bhematochezia\b|\bmelena\b")
COUNT_TARGETS_RE = re.compile(r"\b(2|3|4|two|three|four)\s+(?:\w+\s+)?(nodules|lesions|masses|sites|targets|nodes)\b"
                              r"|\b(?:nodules|lesions|masses|sites|targets|nodes)\s*\(([2-4])\)")
# a procedure named in the exam statement only as what the imaging evaluates ('PARACENTESIS EVALUATION'), or one the
# report says was not done: the diagnostic exam is the service
PROC_EVALUATION_RE = re.compile(r"\s*(?:site\s+)?(?:evaluation|eval|assessment|planning|marking|localization|"
                                r"mapping)\b")
# 'Chest x-ray, single frontal view, obtained after left thoracentesis': the exam follows the procedure
PROC_BEFORE_RE = re.compile(r"\b(?:after|following|post|s/p|status post)[- ]\s*(?:(?:left|right|lt|rt|bilateral|the|a|an|"
                            r"recent|us[- ]guided|ct[- ]guided|ultrasound[- ]guided)\s+)*$")
PROC_NOT_DONE_RE = re.compile(r"\b(?:paracentesis|thoracentesis|aspiration|drainage|biopsy|procedure)\s+(?:was\s+)?"
                              r"(?:not\s+(?:performed|done|attempted)|deferred|aborted|cancell?ed)\b", re.IGNORECASE)
VFA_RE = re.compile(r"\b(vertebral fracture assessment|vfa)\b")
SCOUT_RE = re.compile(r"\bscout\b")
CONTRAST_STUDY_NOT_DONE_RE = re.compile(r"\b(could not (?:ingest|drink|tolerate)|not (?:performed|done)|cancel(?:l)?ed|"
                                        r"discontinued|only the scout|scout (?:image |radiograph )?only)\b")


def _split_exams(title: str) -> list[tuple[int, str]]:
    """(offset, text) of the exams a title lists separated by semicolons, when each names a modality or an
    image-guided procedure; else the whole title."""
    out, pos = [], 0
    for part in title.split(";"):
        out.append((pos, part))
        pos += len(part) + 1
    if len(out) < 2:
        # 'LEFT DIAGNOSTIC MAMMOGRAM AND LEFT BREAST ULTRASOUND': two exams of different modalities, each with its
        # own body part, joined by 'and' / '&' / '+'
        parts, pos = [], 0
        for m in re.finditer(r"\s+(?:and|&|\+|plus|with)\s+", title, re.IGNORECASE):
            parts.append((pos, title[pos:m.start()]))
            pos = m.end()
        parts.append((pos, title[pos:]))
        mods = [_scan_modality(p.lower()) for _, p in parts]
        if len(parts) > 1 and all(mods) and len(set(mods)) == len(mods) and not {"MAMMO", "DBT"} <= set(mods) and all(
                _scan_regions(p.lower()) or _scan_procedure(p.lower()) or m in ("MAMMO", "DBT")
                for (_, p), m in zip(parts, mods)):
            return parts
        return [(0, title)]
    guided = [bool(_scan_procedure(p.lower()) or _phrase_hits(p.lower(), dict(term_maps().get("GUIDANCE", {}))))
              for _, p in out]
    mods = [_scan_modality(p.lower()) for _, p in out]
    # split only exams of different kinds (a guided injection and an MR arthrogram); 'CT abdomen; CT pelvis'
    # stays one statement so that its parts combine
    if not all(m or g for m, g in zip(mods, guided)) or (len(set(mods)) == 1 and not any(guided)):
        return [(0, title)]
    return out


CONTRAST_LINE_RE = re.compile(r"(?:^|\n)[ \t]*(?:no|without|with|non-?contrast|contrast\s*:)[^.\n]{0,40}?(?:contrast|"
                              r"gadolinium)?[^.\n]{0,20}(?:\.|\n|$)", re.IGNORECASE)
NOT_IMAGED_RE = re.compile(r"\bnot (?:be(?:en)? )?(?:evaluated|imaged|examined|scanned|visualized|seen|assessed|included)\b"
                           r"|\b(?:absent|surgically absent|removed|nephrectomy|orchiectomy)\b")


def _is_paired(region: str) -> bool:
    return any(r.region == region and r.paired for r in lexicon_regions())


def _acquisition_sentences(text: str) -> str:
    """Sentences that describe what was acquired (views, images, measurements obtained / performed)."""
    return " ".join(s for s in re.split(r"(?<=[.;\n])", text)
                    if re.search(r"\bviews?\b|\b(?:were|was) (?:obtained|performed|acquired|imaged|measured)\b", s))


def _region_names(region: str) -> list[str]:
    """The anatomy words that name ``region`` (``regions.jsonl`` synonyms of more than two letters)."""
    return [k for k, v in region_index().items() if v.region == region and len(k) > 2]


def _stated_side(text: str, region: str, rules: dict) -> str | None:
    """left / right / bilateral that ``text`` gives for ``region`` (a side word next to a name of the region, or
    'bilateral(ly)' / 'both' in a sentence naming it); None when it names none or several."""
    names = _region_names(region)
    names += [k for k, v in rules["title_region"].items() if v == region]
    names += [n + "s" for n in names] + [n[:-1] + "ices" for n in names if n.endswith("ex")]
    if not names or not text:
        return None
    alts = "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))
    rx = re.compile(r"(?<![\w/])(left|right|lt|rt|l|r|bilateral|both)\s+(?:[a-z]+\s+){0,1}?(?:" + alts + r")(?![\w])")
    low = text.lower()
    sides = {SIDE_VAL[m.group(1)] for m in rx.finditer(low)}
    for sent in re.split(r"(?<=[.;\n])", low):
        if re.search(r"(?<![\w])(?:" + alts + r")(?![\w])", sent) and re.search(r"\b(?:bilaterally|bilateral)\b", sent):
            sides.add("bilateral")
    if "bilateral" in sides or {"left", "right"} <= sides:
        return "bilateral" if ("bilateral" in sides or len(sides) >= 2) else None
    return sides.pop() if len(sides) == 1 else None


def _region_segment(technique: str, region: str | None, others: list) -> str:
    """The part of the technique labelled with the region ('head: ... ' up to the next region label)."""
    if region is None:
        return ""
    names = lambda r: _region_names(r) + [r.replace("_", " ")]
    own = "|".join(re.escape(n) for n in names(region))
    oth = "|".join(re.escape(n) for o in others if o for n in names(o))
    if not own or not oth:
        return ""
    m = re.search(r"\b(?:" + own + r")\s*:(.*?)(?=\b(?:[a-z]+\s+)?(?:" + oth + r")\s*:|$)", technique, re.DOTALL)
    return m.group(1) if m else ""


VIEWS_MIN_RE = re.compile(r"\b(?:min(?:imum)?\.?|at least|\d\s*\+)")
NOT_OBTAINED_RE = re.compile(r"[^.;,()\n]*\b(?:(?:not|never)\s+(?:been\s+)?(?:obtained|performed|done|acquired|possible|"
                             r"tolerated)|(?:unable|not able) to (?:stand|sit|cooperate|tolerate|hold|turn|position)"
                             r"|could not (?:stand|sit|cooperate|tolerate|be positioned))\b[^.;,\n]*")
FRONTAL_RE = re.compile(r"(?<![\w-])frontal(?=\s+(?:and|&|,|/|views?\b))")
DONE_VIEWS_NUM_RE = re.compile(r"\b" + _NUM + r"\s+(?:[a-z-]+\s+)?views?\b")


CONED_VIEW_RE = re.compile(r"\b(?:coned(?:[- ]down)?|cone[- ]down|spot)\s+(?:[a-z0-9-]+\s+){0,2}?(?:ap|pa|lateral|lat)\b")


def _views_numbered(text: str) -> bool:
    return bool(VIEWS_NUM_RE.search(text) or DONE_VIEWS_NUM_RE.search(text))


def _count_done_views(text: str) -> int | None:
    """Views the report says were obtained: a number of views ('single AP view', '3 views'), else the distinct
    view names, leaving out views it says were not obtained ('lateral not obtained')."""
    text = NOT_OBTAINED_RE.sub(" ", text.lower())
    if VIEWS_NUM_RE.search(text):
        return _count_views(text)
    # numbered views ('two oblique views') plus the views named apart from them ('a PA view of the chest')
    total, rest = 0, text
    for m in DONE_VIEWS_NUM_RE.finditer(text):
        total += int(m.group(1)) if m.group(1).isdigit() else WORD_NUM[m.group(1)]
        rest = rest.replace(m.group(0), " ")
    names = {("oblique" if n.group(1) == "obliques" else "lateral" if n.group(1) == "lat" else n.group(1))
             for n in VIEW_NAME_RE.finditer(rest)} | set(FRONTAL_RE.findall(rest))
    # a second view of the same name taken as a separate, coned / spot view ('AP, lateral and coned L5-S1
    # lateral views') is a view of its own
    extra = len(CONED_VIEW_RE.findall(rest))
    return (total + len(names) + extra) or None


def _body_guidance(doc: Doc, start: int) -> list[str]:
    """The guidance a report without a technique section names in its body ('Under US guidance, ...'): the first
    sentence after the title, outside the indication and comparison, that names one and is not about another
    (recommended, prior) procedure."""
    gmap = dict(term_maps().get("GUIDANCE", {}))
    for sent in doc.sents:
        if sent.end_char <= start or section_at(doc, max(sent.start_char, start)) in ("indication", "comparison"):
            continue
        low = doc.text[max(sent.start_char, start):sent.end_char].lower()
        if OTHER_EXAM_RE.search(low):
            continue
        hits = [v for _, _, v in _phrase_hits(low, gmap)]
        if hits:
            return hits
    return []


_LABEL_RE = re.compile(r"(?:^|(?<=[.;\n]))[ \t]*[A-Za-z][A-Za-z /-]{1,30}:", re.MULTILINE)


def _region_paragraph(body: str, region: str) -> str:
    """The text a report body labels with the region ('Foot: AP and lateral views only. ...'), up to the next
    label or line end; '' when no such label."""
    names = sorted(set(_region_names(region)) | {region.replace("_", " ")}, key=len, reverse=True)
    rx = re.compile(r"(?:^|(?<=[.;\n]))[ \t]*(?:(?:right|left|bilateral)\s+)?(?:" + "|".join(re.escape(n) for n in names)
                    + r")s?[ \t]*:", re.IGNORECASE | re.MULTILINE)
    m = rx.search(body)
    if not m:
        return ""
    end = len(body)
    nl = body.find("\n", m.end())
    if nl >= 0:
        end = nl
    nxt = _LABEL_RE.search(body, m.end(), end)
    return body[m.end():nxt.start() if nxt else end]


def _body_text(doc: Doc, t0: int, title: str) -> str:
    return doc.text[t0 + len(title):]


def _views_of_region(text: str, region: str) -> int | None:
    """The number of views a sentence gives for one region of a multi-region radiograph ('three views of the left
    foot'); not one of a prior or recommended exam."""
    names = sorted(set(_region_names(region)) | {region.replace("_", " ")}, key=len, reverse=True)
    rx = re.compile(r"\b" + _NUM + r"\s+(?:[a-z-]+\s+)?views?\s+of\s+(?:the\s+)?(?:(?:right|left|bilateral|both)\s+)?(?:"
                    + "|".join(re.escape(n) for n in names) + r")\b")
    for sent in re.split(r"(?<=[.;\n])", text):
        if OTHER_EXAM_RE.search(sent):
            continue
        m = rx.search(sent)
        if m:
            t = m.group(1)
            return int(t) if t.isdigit() else WORD_NUM[t]
    return None


# a view named as the place of a finding ("narrowing of the trachea on the frontal view"), not as one obtained
VIEW_AS_PLACE_RE = re.compile(r"\b(?:on|in) (?:the )?(?:[a-z-]+ ){0,2}views?\b")
ACQUIRED_RE = re.compile(r"\b(?:obtained|performed|acquired|submitted|taken|provided)\b")


def _not_view_places(text: str) -> str:
    """``text`` without the sentences that name a view only as the place of a finding."""
    return " ".join(s for s in re.split(r"(?<=[.;\n])", text)
                    if not (VIEW_AS_PLACE_RE.search(s) and not ACQUIRED_RE.search(s)))


VIEW_ONLY_SENT_RE = re.compile(r"\s*(?:(?:single|portable|frontal|ap|pa|lateral|upright|erect|semi-?erect|semi-?upright|"
                               r"supine|sitting|and|&|/|,|-)\s*)+[.;]?\s*$")


def _view_sentences(text: str) -> str:
    """The sentences that describe the views obtained: those that name views, and those made only of view
    names and positions ('AP semi-erect.')."""
    return " ".join(s for s in re.split(r"(?<=[.;\n])", _not_view_places(text))
                    if re.search(r"\bviews?\b", s) or (VIEW_NAME_RE.search(s) and VIEW_ONLY_SENT_RE.fullmatch(s)))


def _conventions(doc: Doc, frames: list[dict], title: str, technique: str, t0: int) -> None:
    """Guideline conventions applied to the frames of one exam statement (§7.14-7.18)."""
    rules = frame_rules()
    body = _body_text(doc, t0, title).lower()
    tech = technique or body
    # one code covers both areas (ribs with PA chest; CTA chest with its lungs): one frame
    for mod, keep, drop in rules["included_region"]:
        kf = [f for f in frames if f["region"] == keep and mod in ("*", f["modality"])]
        df = [f for f in frames if f["region"] == drop and mod in ("*", f["modality"])]
        for k in kf:
            for d in df:
                if d in frames and d["modality"] == k["modality"]:
                    frames.remove(d)
                    k["evidence"] = k["evidence"] + d["evidence"]
                    if k["modality"] == "XR":
                        k["views"] = _count_views(title) or k["views"]
    # two title regions that together name one (ankle-brachial index + lower extremity)
    for mod, pair, combined in rules["combined_region"]:
        hit = [f for f in frames if f["region"] in pair and mod in ("*", f["modality"])]
        if {f["region"] for f in hit} == pair and len({f["modality"] for f in hit}) == 1:
            keep = hit[0]
            for f in hit[1:]:
                frames.remove(f)
                keep["evidence"] = keep["evidence"] + f["evidence"]
                keep["laterality"] = keep["laterality"] or f["laterality"]
            keep["region"] = combined
            if keep["modality"] == "XR":  # 'XR NECK SOFT TISSUE 2 VIEWS': the title's views are the combined exam's
                keep["views"] = _count_views(title) or keep["views"]
    # the parts of a multi-region exam whose technique gives each its own contrast ('MRA head: ...; MRA neck: ...')
    if len(frames) > 1 and technique:
        for fr in frames:
            seg = _region_segment(technique, fr["region"], [f["region"] for f in frames if f is not fr])
            st = _contrast_state(seg) if seg else None
            if st and fr["contrast"] not in (None, "na") and fr["modality"] not in NO_CONTRAST_MODALITIES:
                fr["contrast"] = st
    for fr in frames:
        rep = rules["reported_region"].get((fr["modality"], fr["region"]))
        if rep:
            fr["region"] = rep
        # paired organs: the sides the report describes
        sided = rules["sided_organ"].get(fr["region"])
        if sided and fr["laterality"] is None and fr["modality"] in sided[0]:
            rx = SIDE_TERM_RE_CACHE.get(fr["region"])
            abbrevs = sided[2] if len(sided) > 2 else {}
            if rx is None:
                alts = "|".join(re.escape(t) for t in sided[1])
                # a side abbreviation that names the organ itself ('RK 11.0 cm, LK 11.6 cm')
                abbr = "".join(r"|(?<![\w/])" + re.escape(a) + r"(?![\w/])" for a in abbrevs)
                rx = SIDE_TERM_RE_CACHE[fr["region"]] = re.compile(
                    r"\b(right|left)\s+(?:[a-z]+\s+){0,1}(?:" + alts + r")" + abbr, re.IGNORECASE)
            side_rx = re.compile(r"(?<![\w/])(right|left" + "".join("|" + re.escape(a) for a in abbrevs)
                                 + r")(?![\w/])")
            sides = set()
            for sent in re.split(r"\.(?=\s|$)|[;\n]", body):
                if not rx.search(sent):  # a sentence that describes a side of the organ ...
                    continue
                for clause in re.split(r",|\band\b", sent):  # ... and the sides it says were imaged
                    if NOT_IMAGED_RE.search(clause):
                        continue
                    sides |= {abbrevs.get(m.group(1).lower(), m.group(1).lower()) for m in side_rx.finditer(clause)}
            if sides:
                # (an unpaired region whose exam covers both sides, the scrotum, states no side: both_sides null)
                fr["laterality"] = (sided[3] if len(sided) > 3 else "bilateral") if len(sides) == 2 else sides.pop()
        # a view range in the title ('2-3 views') names the code; the report says what was done
        if fr["modality"] == "XR" and VIEW_RANGE_RE.search(title):
            n = _count_done_views(technique) if technique else _count_done_views(_view_sentences(body))
            if n:
                fr["views"] = n
        # the title states a number of views and the report documents a different number obtained: the views
        # obtained decide the code (§5: fewer views than the code requires is the right code, not 52) and the
        # header/body discrepancy is kept for the flags
        elif fr["modality"] == "XR" and len(frames) == 1 and fr.get("views") is not None \
                and (VIEWS_NUM_RE.search(title) or (VIEW_NAME_RE.search(title) and _views_numbered(
                    NOT_OBTAINED_RE.sub(" ", technique or _view_sentences(body))))):
            # (a title that names its views counts only against a number of views the report gives)
            n = _count_done_views(_not_view_places(technique)) if technique else _count_done_views(_view_sentences(body))
            minimum = bool(VIEWS_MIN_RE.search(title))
            if n and n != fr["views"] and not (minimum and n > fr["views"]):
                fr["title_views"], fr["views"] = fr["views"], n
            elif n and minimum and n > fr["views"]:
                fr["views"] = n  # 'MIN 3 VIEWS' names the code's minimum; more views obtained is no discrepancy
        # a radiograph of several regions whose body gives a region its own paragraph ('Foot: AP and lateral views
        # only.'): the views obtained there decide its code, as for one region
        elif fr["modality"] == "XR" and len(frames) > 1 and fr.get("views") is not None \
                and (para := _region_paragraph(body, fr["region"])):
            n = _count_done_views(_view_sentences(para))
            if n and n != fr["views"] and not (VIEWS_MIN_RE.search(title) and n > fr["views"]):
                fr["title_views"], fr["views"] = fr["views"], n
        # a title without views ('post-procedure chest radiograph'): the views the report says were obtained
        elif fr["modality"] == "XR" and fr.get("views") is None and len(frames) == 1:
            own = " ".join(x.text.lower() for x in doc.sents if x.start_char >= t0 + len(title)
                           and section_at(doc, x.start_char) not in ("comparison", "indication")
                           and not OTHER_EXAM_RE.search(NO_PRIOR_RE.sub(" ", x.text.lower())))
            n = _count_done_views(_not_view_places(technique)) if technique else _count_done_views(_view_sentences(own))
            if n:
                fr["views"] = n
        # diagnostic mammography of one breast: CC and MLO plus the supplementary view(s)
        if fr["modality"] in ("MAMMO", "DBT") and fr.get("procedure") is None and fr["laterality"] != "bilateral" \
                and not re.search(r"\bscreening\b", title) and not VIEWS_NUM_RE.search(title) \
                and MAMMO_EXTRA_VIEW_RE.search(technique or _view_sentences(body)):
            # every view named counts (CC and MLO plus 'spot compression CC and ML views' = 4); at least 3
            vt = (technique or _view_sentences(body)).lower()
            # a spot / magnification view that names no projection of its own is one more view
            n = len(MAMMO_VIEW_RE.findall(vt)) + len(MAMMO_UNNAMED_VIEW_RE.findall(vt))
            fr["views"] = max(3, n)
        # bilateral mammography with more views of each breast than CC and MLO (implant-displaced views)
        if fr["modality"] in ("MAMMO", "DBT") and fr.get("procedure") is None and fr["laterality"] == "bilateral" \
                and not VIEWS_NUM_RE.search(title):
            both = [c for c in re.split(r"[.;]|\bplus\b|,\s*and\b", (technique or _view_sentences(body)).lower())
                    if not re.search(r"(?<![\w/])(?:right|left|rt|lt)(?![\w/])", c)]
            n = sum(len(MAMMO_VIEW_RE.findall(c)) for c in both)
            if n > 2:
                fr["views"] = n
    # no technique section: a stand-alone contrast statement in the body ('No IV contrast.')
    for fr in frames:
        if fr["contrast"] is None and fr["modality"] in ("CT", "CTA", "MR", "MRA") and not technique:
            st = [_contrast_state(m.group(0)) for m in CONTRAST_LINE_RE.finditer(body)]
            st = [x for x in st if x]
            if st:
                fr["contrast"] = fr["body_contrast"] = st[0]
    # the technique names the other side of the same body part than the title: the images decide (§5 flags
    # keep the discrepancy visible)
    for fr in frames:
        if fr["laterality"] in ("left", "right") and technique and fr["region"]:
            names = _region_names(fr["region"])
            if fr["modality"] in ("MAMMO", "DBT") and fr["region"] == "breast" and fr.get("procedure") is None:
                names += MAMMO_SIDE_VIEW_NAMES
            if names:
                rx = re.compile(r"\b(right|left)\s+(?:[a-z]+\s+){0,2}?(?:" + "|".join(map(re.escape, names)) + r")\b")
                sides = {m.group(1) for m in rx.finditer(technique)}
                if len(sides) == 1 and fr["laterality"] not in sides:
                    fr["title_laterality"], fr["laterality"] = fr["laterality"], sides.pop()
    # a title without a side for a paired body part: the side the technique (or the views statement) names for it
    # ('XR BONE AGE' ... 'PA view L hand/wrist'; 'ankle-brachial indices were obtained bilaterally')
    for fr in frames:
        if fr["laterality"] is not None or not fr["region"] or fr.get("procedure") is not None \
                or fr["modality"] in ("NM", "PET", "MAMMO", "DBT") or not _is_paired(fr["region"]):
            continue
        side = _stated_side(technique or _acquisition_sentences(body), fr["region"], rules)
        if side:
            fr["laterality"] = side
    # a contrast study that stopped after the scout radiograph: the scout is the exam
    for fr in frames:
        if fr["modality"] == "FLUORO" and fr.get("procedure") is None and SCOUT_RE.search(tech) \
                and (_not_given(tech) or "not_given" in [v for _, _, v in _phrase_hits(
                    tech, dict(term_maps().get("CONTRAST", {})))]) \
                and CONTRAST_STUDY_NOT_DONE_RE.search(body):
            regs = _scan_regions(tech)
            fr["title_modality"] = fr["modality"]  # the titled contrast study was not done (a header/body discrepancy)
            fr.update(modality="XR", contrast="without", views=1,
                      region=next((r for _, _, r in regs if r in ("abdomen", "chest", "pelvis", "abdomen_pelvis")),
                                  "abdomen"))
    # a duplex study of both sides that states no extent is the complete bilateral study (CPT: 'complete bilateral
    # study'); physiologic limb-pressure studies (ABI) are not duplex scans and keep their own extent
    for fr in frames:
        if fr["modality"] == "DUPLEX" and fr.get("extent") is None and fr["laterality"] == "bilateral" \
                and fr["region"] != "extremity_arteries" and fr.get("procedure") is None:
            fr["extent"] = "complete"
    # §7.23.3: an ultrasound of both kidneys is the retroperitoneal study (76770/76775, a code without sides): its
    # region is the code's and it states no side, as the scrotum and the neck soft tissues do (§7.22.7)
    for fr in frames:
        if fr["modality"] == "US" and fr["region"] == "kidney" and fr.get("procedure") is None and (
                fr["laterality"] == "bilateral" or (fr["laterality"] is None and not TRANSPLANT_RE.search(title + " " + body))):
            # (a renal ultrasound that names no side is of both kidneys: 'US RENAL COMPLETE', 'R kidney ..., L kidney')
            fr["region"], fr["laterality"] = "retroperitoneum", None
        # an ultrasound of one kidney is the limited retroperitoneal study (76775): the complete study (76770) covers
        # both kidneys and the bladder
        elif fr["modality"] == "US" and fr["region"] == "kidney" and fr["laterality"] in ("left", "right") \
                and fr.get("procedure") is None and fr.get("extent") is None and fr.get("subtype") is None:
            fr["extent"] = "limited"
    # an ultrasound of one quadrant or organ of the abdomen ('US RIGHT LOWER QUADRANT (APPENDIX)', 'US RUQ') is the
    # limited abdominal study (76705), not the complete one
    for fr in frames:
        if fr["modality"] == "US" and fr["region"] in ("abdomen", "hepatobiliary") and fr.get("extent") is None \
                and fr.get("procedure") is None and QUADRANT_RE.search(title):
            fr["extent"] = "limited"
        # (an exam of one organ of a region the code is complete or limited for: 'US LIVER', 'US PYLORUS')
        elif fr.get("extent") is None and fr.get("procedure") is None \
                and (organ_extent := frame_rules()["limited_organ"].get((fr["modality"], fr["region"]))):
            fr["extent"] = organ_extent
    # MR of the abdomen and pelvis has no combined code: two exams, two frames (74181-74183 + 72195-72197)
    for fr in list(frames):
        if fr["modality"] == "MR" and fr["region"] == "abdomen_pelvis" and fr.get("procedure") is None:
            fr["region"] = "abdomen"
            frames.insert(frames.index(fr) + 1, dict(fr, region="pelvis", evidence=list(fr["evidence"])))
    # a skeletal survey that the report does not call limited is the complete (axial and appendicular) survey;
    # the infant survey has a code of its own
    for fr in frames:
        if fr["modality"] == "XR" and fr["region"] == "whole_body" and fr.get("extent") is None \
                and re.search(r"\bsurvey\b", title) and not INFANT_RE.search(title + " " + body):
            fr["extent"] = "complete"
    # a labelled-RBC study done for gastrointestinal bleeding is the GI blood-loss study (78278), whatever
    # abdominal area the title names
    if LABELED_RBC_RE.search(title + " " + body) and GI_BLEED_RE.search(body + " " + title):
        for fr in frames:
            if fr["modality"] == "NM" and fr["region"] in (None, "abdomen", "pelvis", "abdomen_pelvis"):
                fr["region"] = "gi_tract"
    extra = []
    for fr in frames:
        # two exams performed together and billed separately (§7.15)
        if fr["modality"] == "US" and MULTIPART_US_RE.search(title):
            extra.append(dict(fr, extent=None))  # the added (transvaginal) part states no extent of its own
            if fr.get("extent") is None and fr.get("procedure") is None:
                fr["extent"] = "complete"  # the transabdominal part is the complete exam (76856, 76801, 76805)
        # radiographs before and after a reduction, the same day: the exam and its repeat (76, §5)
        if fr["modality"] == "XR" and fr.get("procedure") is None and PRE_POST_REDUCTION_RE.search(title):
            extra.append(dict(fr, repeat=True))
        # 'XR RIGHT SHOULDER 3 VIEWS; REPEAT XR RIGHT SHOULDER 2 VIEWS': the repeat of the same exam, its own views
        elif fr["modality"] == "XR" and fr.get("procedure") is None and (
                rep := REPEAT_PART_RE.search(title)) and any(r == fr["region"] for _, _, r in _scan_regions(rep.group(1))):
            extra.append(dict(fr, repeat=True, views=_count_views(rep.group(1)) or fr["views"]))
            fr["repeat"] = False  # the first exam is no repeat, though the title says 'repeat'
            first = _count_views(title[:rep.start()])
            if first:
                fr["views"] = first
        if fr["modality"] == "US" and fr["contrast"] == "na" and re.search(
                r"\b(without and with|with and without|w/wo|w/ and w/o)\b", title) and re.search(r"\bcontrast\b", title):
            fr["contrast"] = "without"
            extra.append(dict(fr, contrast="with"))
        if fr["modality"] == "DEXA" and VFA_RE.search(title):
            extra.append(dict(fr, region="thoracic_spine", laterality=None))
        if fr["modality"] == "IR" and fr.get("procedure") in ("fna", "biopsy"):
            m = COUNT_TARGETS_RE.search(title)
            if m:
                g = m.group(1) or m.group(3)
                n = int(g) if g.isdigit() else WORD_NUM[g]
                extra.extend(dict(fr) for _ in range(n - 1))
    frames.extend(extra)


DEXA_AXIAL = frozenset({"hip", "spine", "lumbar_spine", "pelvis", "thoracic_spine", "axial_skeleton", "femur"})
