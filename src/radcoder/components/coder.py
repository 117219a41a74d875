"""The ``radcoder_coder`` component: frames + asserted findings -> CPT/HCPCS lines, ICD-10-CM codes,
documentation-gap flags and a routing decision, stored as ``doc._.coding`` (a schema.ReportResult
with an empty id; ``radcoder.to_record(doc, id)`` fills the id)."""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

from ..about import __version__
from ..cpt_coding import is_screening
from ..coding import SCREENING_RE, FindingMention, code_icd10, modifiers_for, select_cpt
from ..extensions import CODING, FRAMES, GAPS, SECTIONS_KEY, register_extensions, section_at
from ..lexicons import region_index
from ..schema import DiagnosisCode, Entity, Evidence, Flag, ProcedureLine, ReportResult

US_COMPLETE_ELEMENTS = {
    "abdomen": ("liver|hepatic", "gallbladder|gall bladder|gb\\b|cholecyst", "common bile duct|cbd|bile duct",
                "pancrea", "spleen|splenic", "kidney|renal", "inferior vena cava|ivc", "aorta"),
    "retroperitoneum": ("kidney|right kidney|r kidney|rk\\b", "left kidney|kidneys|bilateral kidneys|left(?: measures)? \\d|"
                        "l kidney|lk\\b|lt kidney", "bladder|aorta|ivc"),
    # CPT 76856: uterus, adnexa, endometrium; the bladder only 'when applicable'
    "pelvis": ("uterus|prostate", "ovar|adnexa|seminal"),
}
US_COMPLETE_ELEMENTS["kidney"] = US_COMPLETE_ELEMENTS["retroperitoneum"]  # renal US: the retroperitoneal exam
IMAGE_DOC_RE = re.compile(r"\b(images? (?:were |was )?(?:saved|stored|archived|recorded|retained|obtained and stored)|"
                          r"(?:stored|archived|saved|recorded|retained)\s+(?:\w+\s+)?images?|"
                          r"images?,? which (?:were|was) (?:saved|stored|archived|recorded|retained)|"
                          r"permanent (?:image|record|recording)|hard ?copy|documented in pacs|"
                          # images of the guided procedure reported in the record ('post-procedure images showed')
                          r"(?:pre|post)[- ]?procedur(?:e|al) (?:ultrasound |sonographic |us )?images?|"
                          r"(?:saved|stored|sent|archived) (?:to|in) pacs)\b", re.IGNORECASE)
# an indication line that says none was given ('History: none provided', 'INDICATION: Not provided.')
NO_INDICATION_RE = re.compile(r"^\W*(?:none|n/?a|unknown|not (?:provided|given|available|stated|specified|known)|"
                              r"none (?:provided|given|stated|available|specified)|no (?:clinical )?(?:history|indication|"
                              r"information|info)(?: (?:was )?(?:provided|given|available|stated))?)\W*$", re.IGNORECASE)
INLINE_INDICATION_RE = re.compile(r"\b(?:clinical |brief )?(?:indications?|history|hx|reason for (?:exam|study))\s*:"
                                  r"\s*([^\n]*?)(?=\s+(?-i:[A-Z][A-Z ]{2,}):|\n|$)", re.IGNORECASE)
# guidance codes whose CPT descriptor requires a permanently recorded image (US guidance)
RECORDED_IMAGE_GUIDANCE = frozenset({"US"})
# guidance of a second modality documented in the procedure narrative
OTHER_GUIDANCE_RE = {
    "FLUORO": re.compile(r"\b(?:under|with|using) fluoroscop(?:ic|y)\b|\bfluoroscopic(?:ally)? (?:guid|confirm|position)"
                         r"|\bfluoroscopy time\b", re.I),
    "US": re.compile(r"\b(?:ultrasound|sonograph(?:ic|y)?|US)[- ]guid|\bunder (?:real-time )?(?:ultrasound|sonograph)", re.I),
}
NEEDLE_RE = re.compile(r"\b(needle (?:tip |was )?(?:visualized|seen|observed)|real[- ]time visualization|"
                       r"under direct (?:ultrasound )?visualization|visualized entering|patent)\b", re.IGNORECASE)


def _model_name(nlp) -> str:
    cached = nlp.__dict__.get("_radcoder_model_name") if hasattr(nlp, "__dict__") else None
    if cached:
        return cached
    name = _compute_model_name(nlp)
    try:
        nlp._radcoder_model_name = name
    except AttributeError:
        pass
    return name


def _compute_model_name(nlp) -> str:
    name = nlp._meta.get("name") or "radcoder_default"
    version = nlp._meta.get("version") or __version__
    return f"radcoder-{nlp.lang} {version}" if name in ("pipeline", "") else f"{name} {version}"


class Coder:
    def __init__(self, nlp: Language, name: str = "radcoder_coder", *, bilateral_convention: str = "rt_lt",
                 auto_code_threshold_cpt: float = 0.7, auto_code_threshold_icd: float = 0.7,
                 default_setting: str = "global"):
        self.nlp = nlp
        self.name = name
        self.bilateral_convention = bilateral_convention
        self.thresholds = {"cpt": auto_code_threshold_cpt, "icd10cm": auto_code_threshold_icd}
        self.default_setting = default_setting
        self._tables = None
        self.ranker = None  # set by ranking when a trained ranker is shipped

    @property
    def tables(self):
        if self._tables is None:
            from ..codesets.icd10cm import load_icd10cm
            from ..codesets.procedures import load_cpt, load_hcpcs, load_ncci
            self._tables = (load_cpt(), load_hcpcs(), load_ncci(), load_icd10cm())
        return self._tables

    # ------------------------------------------------------------------ helpers
    def _mentions(self, doc: Doc) -> list[FindingMention]:
        out = []
        for e in doc.ents:
            if e.label_ != "FINDING":
                continue
            out.append(FindingMention(e._.icd10cm, e._.assertion or "present", section_at(doc, e.start_char),
                                      e.start_char, e.end_char, e.text, e._.concept))
        return out

    @staticmethod
    def _us_missing_elements(doc: Doc, fr) -> list[str]:
        """The required elements of a complete ultrasound (abdomen, retroperitoneum, pelvis) that the findings
        and impression do not document."""
        if fr.get("modality") != "US" or fr.get("extent") != "complete" or fr.get("region") not in US_COMPLETE_ELEMENTS:
            return []
        body = " ".join(s.text for s in doc.spans.get(SECTIONS_KEY, ()) if s.label_ in ("findings", "impression")).lower()
        return [el for el in US_COMPLETE_ELEMENTS[fr["region"]] if not re.search(r"\b(" + el + r")", body)]

    def _cpt_lines(self, doc: Doc, frames, setting: str):
        cpt, _hcpcs, ncci, _icd = self.tables
        text = doc.text
        lines: list[ProcedureLine] = []
        # a 'complete' ultrasound whose findings do not document the required elements is billed as the limited
        # exam (the ultrasound_completeness_unsupported flag says why); needs the report's sections
        if doc.spans.get(SECTIONS_KEY):
            frames = [dict(f, extent="limited") if self._us_missing_elements(doc, f) else f for f in frames]
        cands = select_cpt(frames, cpt, text, payer=getattr(doc._, "payer", None))
        codes = [c.code for c in cands]
        # a code that an NCCI edit without a modifier exception bundles into another selected code is not billed
        bundled = {b for a in codes for b in codes
                   if a != b and (e := ncci.conflict(a, b)) is not None
                   and str(getattr(e, "modifier_indicator", "1")) == "0" and getattr(e, "column1", a) == a}
        for cand in cands:
            if cand.code in bundled:
                continue
            code = cpt.get(cand.code)
            fr = cand.frame if cand.frame is not None else frames[cand.frame_index]
            allowed = cpt.allowed_modifiers(code.code)
            evid = tuple(Evidence(s, e, text[s:e]) for s, e in cand.evidence)
            for mods in modifiers_for(code, fr, setting, text, allowed, primary=cand is cands[0]):
                lines.append(ProcedureLine(code.code, tuple(mods), getattr(cand, "units", 1), cand.score, evid,
                                           code.description, cand.alternatives))
            from ..cpt_coding import companion_codes
            for cc in companion_codes(code.code, text):
                comp = cpt.get(cc)
                if comp is not None and all(ln.code != cc for ln in lines):
                    # the injection takes the side of its exam (23350-RT with 73040-RT)
                    for mods in modifiers_for(comp, fr, setting, text, cpt.allowed_modifiers(cc), primary=False):
                        lines.append(ProcedureLine(cc, tuple(mods), 1, cand.score, evid, comp.description, ()))
            g = self._separate_guidance(code, fr)
            if g is not None and g.guidance in RECORDED_IMAGE_GUIDANCE and not IMAGE_DOC_RE.search(text):
                g = None  # US guidance requires a permanently recorded image (incomplete_guidance_documentation)
            # (a second guidance modality is its own service even when the first lacks its documentation)
            extra = self._other_guidance(code, fr, text) if fr.get("guidance") and code.modality == "IR" else []
            for g in ([g] if g is not None else []) + extra:
                if all(ln.code != g.code for ln in lines):
                    gm = [m for m in (["26"] if setting == "professional" and g.pctc == 1 else
                                      ["TC"] if setting == "technical" and g.pctc == 1 else [])
                          if m in cpt.allowed_modifiers(g.code)]
                    lines.append(ProcedureLine(g.code, tuple(gm), 1, cand.score, evid, g.description, ()))
        return lines

    def _other_guidance(self, code, frame, text: str) -> list:
        """Guidance of a second modality that the report documents for the same procedure (a port placed with
        ultrasound-guided venous access and fluoroscopic catheter positioning: 76937 + 77001), when an add-on
        code of that modality lists the procedure as its parent."""
        cpt = self.tables[0]
        out = []
        for g, rx in OTHER_GUIDANCE_RE.items():
            if g == frame.get("guidance") or not rx.search(text):
                continue
            if g in RECORDED_IMAGE_GUIDANCE and not IMAGE_DOC_RE.search(text):
                continue
            listed = [c for c in cpt if c.modality == "GUIDANCE" and c.guidance == g and c.addon
                      and code.code in (c.addon_parents or ())]
            out.extend(listed[:1])
        return out

    def _separate_guidance(self, code, frame):
        """The imaging-guidance code of a procedure whose code does not include guidance: the guidance code
        of the frame's guidance modality that lists the procedure as a parent (else a needle-placement code
        without a parent list)."""
        cpt = self.tables[0]
        g = frame.get("guidance")
        if code.modality != "IR" or code.guidance is not None or not g:
            return None
        if code.addon or "included" in (code.notes or "").lower():
            return None
        cands = [c for c in cpt if c.modality == "GUIDANCE" and c.guidance == g and not c.family.endswith("ablation")]
        listed = [c for c in cands if code.code in (c.addon_parents or ())]
        if listed:
            return listed[0]
        free = [c for c in cands if not c.addon and c.family == "guidance_needle"]
        return free[0] if free else None

    def _hcpcs_lines(self, doc: Doc, cpt_lines, setting: str):
        _cpt, hcpcs, _ncci, _icd = self.tables
        out = []
        codes = {ln.code for ln in cpt_lines}
        if setting == "professional":  # supplies are billed on the technical/global claim
            return out
        text = doc.text.lower()
        payer = getattr(doc._, "payer", None)
        if codes & {"77065", "77066"} and re.search(r"\btomosynthesis\b|\bdbt\b|\b3d mammo", text) \
                and payer != "commercial" and "G0279" in hcpcs:
            out.append(ProcedureLine("G0279", (), 1, 0.8, (), hcpcs.get("G0279").short))
        # diagnostic radiopharmaceuticals of the NM/PET study (units from the code's billing unit)
        from ..cpt_coding import contrast_supply_lines, radiopharm_lines
        if any(getattr(_cpt.get(c), "modality", None) in ("NM", "PET") for c in codes):
            for hc, units in radiopharm_lines(doc.text, hcpcs):
                out.append(ProcedureLine(hc, (), units, 0.8, (), hcpcs.get(hc).short))
        # injected drugs with a documented dose (pharmacologic stress agents, sincalide, joint steroids)
        from ..cpt_coding import drug_lines
        mods = {getattr(_cpt.get(c), "modality", None) for c in codes}
        for hc, units in drug_lines(doc.text, mods, hcpcs):
            out.append(ProcedureLine(hc, (), units, 0.8, (), hcpcs.get(hc).short))
        # per-mL IV contrast of the CT/MR exam it was given for: units = documented mL
        for hc, units in contrast_supply_lines(text, {getattr(_cpt.get(c), "modality", None) for c in codes}, hcpcs):
            out.append(ProcedureLine(hc, (), units, 0.8, (), hcpcs.get(hc).short))
        return out

    def _flags(self, doc: Doc, frames, cpt_lines, icd_codes) -> list[Flag]:
        cpt, _hcpcs, ncci, _icd = self.tables
        text = doc.text
        flags: list[Flag] = []
        seen = set()

        def add(code, msg, evid=()):
            if code in seen:
                return
            seen.add(code)
            flags.append(Flag(code, msg, tuple(Evidence(s, e, text[s:e]) for s, e in evid)))
        # image guidance is a billed service of its own only when the procedure code does not include it
        sep_guidance = any(getattr(cpt.get(ln.code), "modality", None) == "IR" and cpt.get(ln.code).guidance is None
                           for ln in cpt_lines)
        sections = {s.label_ for s in doc.spans.get(SECTIONS_KEY, ())}
        ind_text = " ".join(s.text for s in doc.spans.get(SECTIONS_KEY, ()) if s.label_ == "indication")
        ind_body = re.sub(r"^[A-Za-z /]+:", "", ind_text).strip()
        has_ind = "indication" in sections and len(ind_body) > 2 and not NO_INDICATION_RE.match(ind_body)
        if not has_ind and "indication" not in sections:
            # a report written on one line: the indication label follows the exam title on the same line
            exam_text = " ".join(s.text for s in doc.spans.get(SECTIONS_KEY, ()) if s.label_ == "exam")
            m = INLINE_INDICATION_RE.search(exam_text)
            has_ind = bool(m) and len(m.group(1).strip()) > 2 and not NO_INDICATION_RE.match(m.group(1).strip())
        if not has_ind:
            add("missing_indication", "No clinical indication is documented; query the ordering provider for the "
                "reason for the exam.")
        for fr in frames:
            evid = [tuple(x) for x in fr.get("evidence", ())]
            reg = region_index().get((fr.get("region") or "").replace("_", " "))
            paired = bool(reg and reg.paired) or (fr.get("region") or "") in {
                "knee", "hip", "shoulder", "elbow", "wrist", "hand", "ankle", "foot", "breast", "femur", "humerus",
                "forearm", "tibia_fibula", "finger", "toe", "clavicle", "scapula", "upper_extremity",
                "lower_extremity", "upper_extremity_joint", "lower_extremity_joint", "lower_extremity_veins",
                "lower_extremity_arteries", "upper_extremity_veins"}
            # nuclear studies of a paired organ image both sides; a screening mammogram is bilateral by default
            # no side to query when every billed code is one without laterality (76770 covers both kidneys)
            if cpt_lines and not any(getattr(cpt.get(ln.code), "laterality", None) == "unilateral" for ln in cpt_lines):
                paired = False
            if paired and fr.get("laterality") is None and fr["modality"] not in ("NM", "PET") \
                    and not (fr["modality"] in ("MAMMO", "DBT") and is_screening(text)):
                add("missing_laterality", f"The {fr.get('region')} exam does not state left, right or bilateral; "
                    "query the radiologist before assigning RT/LT/50.", evid)
            if fr["modality"] in ("CT", "CTA", "MR", "MRA") and fr.get("contrast") is None:
                add("contrast_unclear", "The report does not say whether contrast was given; the CPT code depends "
                    "on it (without / with / without and with).", evid)
            tc, bc = fr.get("title_contrast"), fr.get("body_contrast")
            if tc and bc and tc != bc:
                add("header_body_discrepancy", f"Exam title says contrast '{tc}' but the report body documents "
                    f"'{bc}'; coded from the body.", evid)
            # the frame builder kept the title's value of an element that the report body contradicts
            for el, what in (("views", "views"), ("laterality", "side"), ("modality", "exam")):
                tv = fr.get("title_" + el)
                if tv is not None and tv != fr.get(el):
                    add("header_body_discrepancy", f"Exam title says {what} '{tv}' but the report documents "
                        f"'{fr.get(el)}'; coded from what was performed.", evid)
            # (not for radiographs whose billed codes do not depend on a view count: skeletal survey)
            xr_lines = [cpt.get(ln.code) for ln in cpt_lines if getattr(cpt.get(ln.code), "modality", None) == "XR"]
            if fr["modality"] == "XR" and fr.get("views") is None and (not xr_lines or any(
                    c.views is not None or c.views_min is not None for c in xr_lines)):
                add("views_missing", "The number of views is not documented; the radiograph code depends on it.", evid)
            if fr["modality"] == "IR" and fr.get("guidance") in RECORDED_IMAGE_GUIDANCE and sep_guidance \
                    and not IMAGE_DOC_RE.search(text):
                add("incomplete_guidance_documentation", "Imaging guidance is described without a statement "
                    "that permanent images were recorded; query before billing guidance.", evid)
            if fr["modality"] == "US" and fr.get("title_extent") == "complete" and fr.get("extent") == "limited":
                add("ultrasound_completeness_unsupported", "The exam is titled complete but the report says the "
                    "examination was limited; coded as the limited exam.", evid)
            if fr["modality"] == "US" and fr.get("extent") == "complete" and fr.get("region") in US_COMPLETE_ELEMENTS:
                missing = self._us_missing_elements(doc, fr)
                if missing:
                    add("ultrasound_completeness_unsupported", "The exam is titled complete but the findings do not "
                        f"document every required element (missing: {', '.join(m.split('|')[0] for m in missing)}).",
                        evid)
        codes = [ln.code for ln in cpt_lines]
        for i, a in enumerate(codes):
            for b in codes[i + 1:]:
                edit = ncci.conflict(a, b) if a != b else None
                if edit is not None:
                    add("ncci_conflict", f"NCCI edit: {a} and {b} are not billed together"
                        + (" without a distinct-service modifier." if str(getattr(edit, 'modifier_indicator', '1')) == "1"
                           else "."))
        units: dict[str, int] = {}
        for ln in cpt_lines:
            units[ln.code] = units.get(ln.code, 0) + ln.units
        for c, u in units.items():
            mue = getattr(cpt.get(c), "mue", None)
            if mue and u > mue:
                add("mue_exceeded", f"{c}: {u} units exceed the MUE of {mue} per day.")
        if cpt_lines and not icd_codes and "missing_indication" not in seen:  # §7.20: only when an indication is given
            add("medical_necessity_unsupported", "No billable diagnosis supports the procedure; query for the "
                "indication or a confirmed finding.")
        return flags

    # ------------------------------------------------------------------ main
    def code(self, doc: Doc) -> ReportResult:
        cpt, hcpcs, _ncci, icd = self.tables
        frames = list(doc._.get(FRAMES) or ())
        setting = doc._.setting or self.default_setting
        cpt_lines = self._cpt_lines(doc, frames, setting)
        hcpcs_lines = self._hcpcs_lines(doc, cpt_lines, setting)
        mentions = self._mentions(doc)
        screening = bool(SCREENING_RE.search(doc.text))
        has_impression = any(s.label_ == "impression" for s in doc.spans.get(SECTIONS_KEY, ()))
        decisions = code_icd10(mentions, doc.text, icd=icd, screening=screening, has_impression=has_impression)
        if self.ranker is not None:
            decisions = self.ranker.rescore(doc, mentions, decisions)
        icd_codes = tuple(
            DiagnosisCode(d.code, i + 1, d.score, tuple(Evidence(s, e, t) for s, e, t in d.evidence),
                          icd.description(d.code) if icd.is_valid(d.code) else "", d.reason)
            for i, d in enumerate(decisions))
        flags = self._flags(doc, frames, cpt_lines, icd_codes)
        entities = tuple(
            Entity(e.start_char, e.end_char, e.label_, e.text,
                   (e._.assertion or "present") if e.label_ == "FINDING" else None,
                   section_at(doc, e.start_char), e._.icd10cm if e.label_ == "FINDING" else None)
            for e in doc.ents)
        scores = [ln.score for ln in cpt_lines] + [c.score for c in icd_codes]
        auto = bool(scores) and all(ln.score >= self.thresholds["cpt"] for ln in cpt_lines) and \
            all(c.score >= self.thresholds["icd10cm"] for c in icd_codes) and not flags
        return ReportResult(
            id="", model=_model_name(self.nlp), cpt=tuple(cpt_lines), hcpcs=tuple(hcpcs_lines), icd10cm=icd_codes,
            entities=entities, flags=tuple(flags), frames=tuple({k: v for k, v in f.items()} for f in frames),
            route="auto" if auto else "review",
            codesets={"icd10cm": icd.release, "cpt": getattr(cpt, "version", ""), "hcpcs": getattr(hcpcs, "version", "")})

    def to_disk(self, path, *, exclude=()) -> None:
        from pathlib import Path
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.ranker is not None:
            self.ranker.save(path / "ranker")

    def from_disk(self, path, *, exclude=()) -> Coder:
        from pathlib import Path
        p = Path(path) / "ranker"
        if (p / "ranker.json").exists():
            from ..ranking.rescoring import IcdRescorer
            self.ranker = IcdRescorer.load(p)
        return self

    def __call__(self, doc: Doc) -> Doc:
        result = self.code(doc)
        doc._.set(CODING, result)
        doc._.set(GAPS, result.flags)
        return doc


@Language.factory(
    "radcoder_coder", assigns=["doc._.coding", "doc._.gaps"],
    default_config={"bilateral_convention": "rt_lt", "auto_code_threshold_cpt": 0.7,
                    "auto_code_threshold_icd": 0.7, "default_setting": "global"})
def make_coder(nlp: Language, name: str, bilateral_convention: str, auto_code_threshold_cpt: float,
               auto_code_threshold_icd: float, default_setting: str):
    register_extensions()
    return Coder(nlp, name, bilateral_convention=bilateral_convention,
                 auto_code_threshold_cpt=auto_code_threshold_cpt, auto_code_threshold_icd=auto_code_threshold_icd,
                 default_setting=default_setting)
