"""Span post-processing (radcoder_spanfix), ruler-pattern filters and the normalizer's NER-trusting filter."""

import pytest
from spacy.tokens import Span

from radcoder.components.spanfix import trim_finding
from radcoder.lexicons import entity_patterns, finding_pattern_ok, ruler_pattern_ok


def _doc(nlp, text):
    """Tokens, sentences and sections only (no entities yet)."""
    doc = nlp.make_doc(text)
    for name in ("radcoder_sentences", "radcoder_sectionizer"):
        doc = nlp.get_pipe(name)(doc)
    return doc


def _span(doc, text, label, ruler=False, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = doc.text.index(text, start + 1)
    sp = doc.char_span(start, start + len(text), label=label)
    assert sp is not None, text
    if ruler:  # entity-ruler spans carry their pattern id
        sp = Span(doc, sp.start, sp.end, label=label, span_id=f"{label.lower()}:x")
    return sp


def _fix(nlp, doc, ents):
    doc.ents = ents
    doc = nlp.get_pipe("radcoder_spanfix")(doc)
    return [(e.text, e.label_) for e in doc.ents]


@pytest.mark.parametrize("text,expected", [
    ("nondisplaced right 8th rib fracture", "rib fracture"),   # §7.10 side never inside, size out
    ("a 5 mm nodule", "nodule"),
    ("mild cardiomegaly", "cardiomegaly"),                     # §2.1 severity out
    ("no pneumothorax", "pneumothorax"),
    ("right heart strain", "right heart strain"),              # anatomical name, not the side of a finding
    ("right lower quadrant pain", "right lower quadrant pain"),
    ("Multiple sclerosis", "Multiple sclerosis"),
    ("pleural effusion", "pleural effusion"),
    ("cough", "cough"),
    ("radiopaque calculus", "calculus"),                        # descriptors that change no code (v1.4 writers)
    ("simple hepatic cysts", "hepatic cysts"),
])
def test_trim_finding(text, expected):
    words = text.split()
    i, j = trim_finding(words)
    assert " ".join(words[i:j]) == expected


def test_ruler_context_span_needs_exam_anchor_outside_title(rules_nlp):
    text = "CT CHEST\nFINDINGS: Mass in the left breast. Compared with prior CT chest."
    doc = _doc(rules_nlp, text)
    ents = [_span(doc, "CT", "MODALITY"), _span(doc, "CHEST", "ANATOMY", ruler=True),
            _span(doc, "breast", "ANATOMY", ruler=True), _span(doc, "left", "LATERALITY", ruler=True),
            _span(doc, "CT", "MODALITY", nth=1), _span(doc, "chest", "ANATOMY", ruler=True)]
    out = _fix(rules_nlp, doc, ents)
    assert ("CHEST", "ANATOMY") in out           # title: kept
    assert ("chest", "ANATOMY") in out           # next to a modality: an exam mention (§7.6)
    assert ("breast", "ANATOMY") not in out      # a finding location
    assert ("left", "LATERALITY") not in out


def test_ner_context_span_is_not_dropped(rules_nlp):
    text = "CT CHEST\nFINDINGS: Mass in the left breast."
    doc = _doc(rules_nlp, text)
    out = _fix(rules_nlp, doc, [_span(doc, "breast", "ANATOMY")])  # no pattern id: the trained NER
    assert out == [("breast", "ANATOMY")]


def test_finding_units_and_protocols_dropped(rules_nlp):
    text = "CTA chest PE protocol\nTECHNIQUE: 11.2 mCi F-18 FDG IV.\nFINDINGS: Acute PE. MCI noted."
    doc = _doc(rules_nlp, text)
    ents = [_span(doc, "PE", "FINDING", ruler=True), _span(doc, "mCi", "FINDING", ruler=True),
            _span(doc, "PE", "FINDING", ruler=True, nth=1), _span(doc, "MCI", "FINDING", ruler=True)]
    out = _fix(rules_nlp, doc, ents)
    assert out == [("PE", "FINDING"), ("MCI", "FINDING")]
    assert doc.ents[0].start_char == text.index("Acute PE") + 6


def test_views_guidance_procedure_boundaries(rules_nlp):
    text = ("Technique: Bilateral CC and MLO views. Single AP upright view. Under CT guidance, a biopsy was "
            "performed. Biopsy clip in place. No IV contrast administered.")
    doc = _doc(rules_nlp, text)
    ents = [_span(doc, "CC and MLO", "VIEWS"), _span(doc, "Single AP", "VIEWS"),
            _span(doc, "Under CT guidance", "GUIDANCE", ruler=True), _span(doc, "biopsy", "PROCEDURE"),
            _span(doc, "Biopsy", "PROCEDURE"), _span(doc, "No IV contrast", "CONTRAST")]
    out = _fix(rules_nlp, doc, ents)
    assert out == [("CC and MLO views", "VIEWS"), ("Single AP upright view", "VIEWS"), ("CT guidance", "GUIDANCE"),
                   ("biopsy", "PROCEDURE"), ("No IV contrast", "CONTRAST")]  # §7.12: no verb after "No IV contrast"


def test_finding_span_trimmed_in_pipeline(rules_nlp):
    text = "XR RIBS\nIMPRESSION: Possible nondisplaced right 8th rib fracture."
    doc = _doc(rules_nlp, text)
    out = _fix(rules_nlp, doc, [_span(doc, "nondisplaced right 8th rib fracture", "FINDING")])
    assert out == [("rib fracture", "FINDING")]


def test_ruler_pattern_filters():
    assert not ruler_pattern_ok("ANATOMY", "effusion")       # a finding word, never an exam object
    assert not ruler_pattern_ok("FINDING", "BI-RADS 3")      # assessment category (exclusion file, prefix)
    assert not ruler_pattern_ok("PROCEDURE", "localization")
    assert ruler_pattern_ok("PROCEDURE", "wire localization")
    assert ruler_pattern_ok("ANATOMY", "chest")
    pats = {(p["label"], p["pattern"]) for p in entity_patterns() if isinstance(p["pattern"], str)}
    assert ("ANATOMY", "chest") in pats
    assert ("ANATOMY", "ascites") not in pats
    assert not any(lab == "FINDING" and pat.startswith("bi-rads") for lab, pat in pats)


def test_normalizer_filter_trusts_ner_laterality(rules_nlp):
    text = "TECHNIQUE: none.\nFINDINGS: Bilateral CC and MLO views were reviewed. Left upper lobe nodule."
    doc = _doc(rules_nlp, text)
    doc.ents = [_span(doc, "Bilateral", "LATERALITY"), _span(doc, "Left", "LATERALITY", ruler=True)]
    rules_nlp.get_pipe("radcoder_normalizer")._filter(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [("Bilateral", "LATERALITY")]


def test_ner_fragment_completed_by_lexicon_term(rules_nlp):
    text = "CLINICAL HISTORY: Right lateral chest wall pain after a fall. Known pneumothorax."
    doc = _doc(rules_nlp, text)
    # "wall pain" (trained NER, not a known term) lies inside the lexicon term "chest wall pain";
    # "pneumothorax" is a known term and stays as it is
    out = _fix(rules_nlp, doc, [_span(doc, "wall pain", "FINDING"), _span(doc, "pneumothorax", "FINDING")])
    assert out == [("chest wall pain", "FINDING"), ("pneumothorax", "FINDING")]
    assert doc.ents[0].ent_id_.startswith("finding:")


@pytest.mark.parametrize("text,expected", [
    ("hemodynamically significant stenosis", "stenosis"),      # §2.1/§7.9 descriptors out
    ("irregular mass", "mass"),
    ("biopsy-proven adenocarcinoma", "adenocarcinoma"),
    ("suspicious calcs", "calcs"),
])
def test_trim_finding_descriptors(text, expected):
    words = text.split()
    i, j = trim_finding(words)
    assert " ".join(words[i:j]) == expected


def test_trim_finding_volume_after_size_and_participle():
    assert trim_finding(["volume", "ascites"], prev="large") == (1, 2)      # "large volume ascites"
    assert trim_finding(["volume", "loss"], prev="generalized") == (0, 2)   # "volume loss" is the finding
    words = ["circumferential", "Schatzki", "ring", "narrowing"]
    i, j = trim_finding(words, next_word="the")                          # "... narrowing the lumen"
    assert words[i:j] == ["Schatzki", "ring"]


@pytest.mark.parametrize("words,noise", [
    (["PSV", "342"], True), (["0.771"], True), (["between"], True), (["Peripheral"], True),
    (["Urology", "referral"], True), (["paired", "brachial", "veins"], True), (['"'], True),
    (["CKD", "stage", "3"], False), (["Type", "2", "diabetes"], False), (["pneumonia"], False),
])
def test_finding_noise(words, noise):
    from radcoder.components.spanfix import finding_is_noise
    assert finding_is_noise(words) is noise


def test_edges_views_merge_contrast_and_relabel(rules_nlp):
    text = ("XR CHEST 2 VIEWS (PA AND LATERAL)\nTECHNIQUE: AP and cephalic tilt views. MRCP sequences. "
            "Mass without internal vascularity.")
    doc = _doc(rules_nlp, text)
    ents = [_span(doc, "PA AND LATERAL)", "VIEWS"), _span(doc, "AP and cephalic", "VIEWS"),
            _span(doc, "tilt views", "VIEWS"), _span(doc, "MRCP", "PROCEDURE"),
            _span(doc, "without internal vascularity", "CONTRAST")]
    out = _fix(rules_nlp, doc, ents)
    assert ("PA AND LATERAL", "VIEWS") in out                  # §1: no punctuation at the edge
    assert ("AP and cephalic tilt views", "VIEWS") in out      # adjacent VIEWS spans are one list
    assert ("MRCP", "MODALITY") in out                         # the lexicon says MODALITY
    assert not any(lab == "CONTRAST" for _, lab in out)        # names no contrast


def test_a_complete_views_span_is_not_merged_with_the_next(rules_nlp):
    # a count ("2V") or "... views" is complete: the real-text gold keeps "2V" and "FRONTAL/LATERAL" apart
    text = "XR CHEST 2V FRONTAL/LATERAL\nTECHNIQUE: PA and lateral views obtained."
    doc = _doc(rules_nlp, text)
    ents = [_span(doc, "2V", "VIEWS"), _span(doc, "FRONTAL/LATERAL", "VIEWS")]
    out = _fix(rules_nlp, doc, ents)
    assert ("2V", "VIEWS") in out and ("FRONTAL/LATERAL", "VIEWS") in out


def test_recommended_procedure_and_contrast_injection_dropped(rules_nlp):
    text = ("CT CHEST\nTECHNIQUE: Images after intravenous injection of contrast.\n"
            "IMPRESSION: Mass. Biopsy is recommended.")
    doc = _doc(rules_nlp, text)
    ents = [_span(doc, "injection", "PROCEDURE"), _span(doc, "Biopsy", "PROCEDURE")]
    assert _fix(rules_nlp, doc, ents) == []


def test_views_prefix_and_anchor(rules_nlp):
    text = "MAMMO\nTECHNIQUE: Right CC views with additional magnification CC and ML views.\n" \
           "FINDINGS: Frontal and lateral views of the chest are clear."
    doc = _doc(rules_nlp, text)
    ents = [_span(doc, "CC and ML views", "VIEWS"), _span(doc, "Frontal and lateral views", "VIEWS"),
            _span(doc, "chest", "ANATOMY", ruler=True)]
    out = _fix(rules_nlp, doc, ents)
    assert ("magnification CC and ML views", "VIEWS") in out
    assert ("chest", "ANATOMY") in out                         # next to a VIEWS mention: an exam object


@pytest.mark.parametrize("text,expected", [
    ("palpable lump", "lump"),                               # a lexicon term led by a descriptor is no block
    ("scattered fibroglandular density", "fibroglandular density"),
    ("Former smoker", "smoker"),                             # §3: the historical cue stays out
    ("Abrupt occlusion", "occlusion"),
    ("viral pneumonia", "viral pneumonia"),                  # a code-changing modifier stays in
])
def test_trim_finding_descriptor_first_lexicon_terms(text, expected):
    words = text.split()
    i, j = trim_finding(words)
    assert " ".join(words[i:j]) == expected


def test_ruler_excludes_encounter_words_and_descriptor_first_terms():
    for lit in ("f/u", "preoperative", "febrile", "metastatic", "lymph nodes", "acute fracture", "assess for"):
        assert not (ruler_pattern_ok("FINDING", lit) and finding_pattern_ok(lit)), lit
    pats = {(p["label"], p["pattern"]) for p in entity_patterns() if isinstance(p["pattern"], str)}
    assert ("FINDING", "palpable lump") not in pats
    assert ("FINDING", "former smoker") not in pats


def test_acuity_and_displacement_words_that_define_the_head_are_taken_in(rules_nlp):
    """§2.1/§7.9/§7.22.6: an acuity or displacement word that changes the head's code is inside the span, and so
    is a graded displacement and the displacement of a fracture kind without an acuity axis; a symptom's acuity,
    an acuity word before a fracture kind and a side word stay out."""
    text = ("IMPRESSION: 1. Acute pulmonary emboli. 2. Nondisplaced extra-articular distal radius fracture. "
            "3. Minimally displaced fracture. 4. Acute dyspnea. 5. Displaced pathologic fracture. "
            "6. Nondisplaced right rib fracture. 7. Mildly displaced rib fracture. 8. Acute compression fracture.")
    doc = _doc(rules_nlp, text)
    ents = [_span(doc, "pulmonary emboli", "FINDING"), _span(doc, "distal radius fracture", "FINDING"),
            _span(doc, "fracture", "FINDING", nth=1), _span(doc, "dyspnea", "FINDING"),
            _span(doc, "pathologic fracture", "FINDING"), _span(doc, "rib fracture", "FINDING"),
            _span(doc, "displaced rib fracture", "FINDING", nth=0), _span(doc, "compression fracture", "FINDING")]
    out = [t for t, _ in _fix(rules_nlp, doc, ents)]
    assert out == ["Acute pulmonary emboli", "Nondisplaced extra-articular distal radius fracture",
                   "Minimally displaced fracture", "dyspnea", "Displaced pathologic fracture", "rib fracture",
                   "Mildly displaced rib fracture", "compression fracture"]


@pytest.mark.parametrize("text,expected", [
    ("L-sided weakness", "weakness"),                 # §7.10: the side is never inside a FINDING span
    ("R-sided facial droop", "facial droop"),
    ("subacute painless vision loss", "vision loss"),  # descriptors that do not change the code
    ("solitary metastasis", "metastasis"),
])
def test_trim_finding_sided_and_descriptors(text, expected):
    words = text.split()
    i, j = trim_finding(words)
    assert " ".join(words[i:j]) == expected


def test_fracture_descriptors_devices_teams_and_contractions_are_no_findings(rules_nlp):
    text = ("FINDINGS: Comminuted, depressed fracture of the lateral tibial plateau with articular depression. "
            "Catheterization with an 8 Fr feeding tube. A subtle fracture can't be excluded. "
            "Findings discussed with the stroke team. History of depression. CAD was applied.")
    doc = _doc(rules_nlp, text)
    ents = [_span(doc, "depressed", "FINDING", ruler=True), _span(doc, "depression", "FINDING", ruler=True),
            _span(doc, "feeding tube", "FINDING", ruler=True), _span(doc, "ca", "FINDING", ruler=True),
            _span(doc, "stroke", "FINDING", ruler=True), _span(doc, "depression", "FINDING", ruler=True, nth=1),
            _span(doc, "CAD", "FINDING", ruler=True)]
    out = _fix(rules_nlp, doc, ents)
    assert out == [("depression", "FINDING")]   # the mood disorder of the history stays


def test_uncertain_alone_is_no_finding(rules_nlp):
    doc = _doc(rules_nlp, "FINDINGS: T12 compression deformity of uncertain age.")
    out = _fix(rules_nlp, doc, [_span(doc, "compression deformity", "FINDING"), _span(doc, "uncertain", "FINDING")])
    assert out == [("compression deformity", "FINDING")]


def test_quadrant_exam_object_keeps_its_side(rules_nlp):
    text = "US ABDOMEN LIMITED (RIGHT UPPER QUADRANT)\nTECHNIQUE: Sonography of the left lower quadrant."
    doc = _doc(rules_nlp, text)
    ents = [_span(doc, "US", "MODALITY"), _span(doc, "RIGHT", "LATERALITY"),
            _span(doc, "Sonography", "MODALITY"), _span(doc, "left", "LATERALITY")]
    out = _fix(rules_nlp, doc, ents)
    assert ("RIGHT UPPER QUADRANT", "ANATOMY") in out and ("RIGHT", "LATERALITY") not in out
    assert ("left lower quadrant", "ANATOMY") in out


def test_tracer_injection_biopsy_site_and_later_exam_are_no_procedures(rules_nlp):
    text = ("TECHNIQUE: Images 60 minutes after injection. Pain improved after the injection. "
            "A clip was deployed at the biopsy site. Right hip injection for MR arthrography.")
    doc = _doc(rules_nlp, text)
    ents = [_span(doc, "injection", "PROCEDURE"), _span(doc, "injection", "PROCEDURE", nth=1),
            _span(doc, "biopsy", "PROCEDURE"), _span(doc, "injection", "PROCEDURE", nth=2),
            _span(doc, "arthrography", "PROCEDURE")]
    out = _fix(rules_nlp, doc, ents)
    assert out == [("injection", "PROCEDURE")]


def test_ruler_excludes_position_encounter_and_category_words():
    for lit in ("followup", "decubitus", "Bosniak 1", "lymph node", "distension", "cavity"):
        assert not ruler_pattern_ok("FINDING", lit), lit
    assert ruler_pattern_ok("FINDING", "abdominal distension")
    assert ruler_pattern_ok("ANATOMY", "RLQ")


def test_procedure_inside_an_ner_anatomy_span_is_split_out(rules_nlp):
    text = "US GUIDED PARACENTESIS\nEXAM: ULTRASOUND-GUIDED RANDOM RENAL BIOPSY, LEFT KIDNEY"
    doc = _doc(rules_nlp, text)
    ents = [_span(doc, "US", "MODALITY"), _span(doc, "GUIDED PARACENTESIS", "ANATOMY"),
            _span(doc, "ULTRASOUND-GUIDED", "GUIDANCE"), _span(doc, "RENAL BIOPSY", "ANATOMY"),
            _span(doc, "LEFT", "LATERALITY"), _span(doc, "KIDNEY", "ANATOMY")]
    out = _fix(rules_nlp, doc, ents)
    assert out == [("US GUIDED", "GUIDANCE"), ("PARACENTESIS", "PROCEDURE"), ("ULTRASOUND-GUIDED", "GUIDANCE"),
                   ("RENAL", "ANATOMY"), ("BIOPSY", "PROCEDURE"), ("LEFT", "LATERALITY"), ("KIDNEY", "ANATOMY")]
