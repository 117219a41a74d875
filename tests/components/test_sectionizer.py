import pytest

from radcoder.components.sectionizer import Sectionizer
from radcoder.errors import ResourceError
from radcoder.extensions import section_at


def _sections(nlp, text):
    doc = nlp(text)
    return [(s.label_, s.text.split("\n")[0][:20]) for s in doc.spans["sections"]]


def test_sectionizer_headers(rules_nlp):
    text = ("CT HEAD WITHOUT CONTRAST\nREASON FOR EXAM: headache\nTechnique: axial images.\n"
            "COMPARISON: None.\nFINDINGS:\nNo hemorrhage.\nIMPRESSION\nNormal.\nConclusion - ok")
    labels = [s[0] for s in _sections(rules_nlp, text)]
    assert labels == ["exam", "indication", "technique", "comparison", "findings", "impression", "impression"]


def test_sectionizer_section_at_char(rules_nlp):
    text = "CLINICAL HISTORY: cough\nIMPRESSION: pneumonia"
    doc = rules_nlp(text)
    assert section_at(doc, text.index("cough")) == "indication"
    assert section_at(doc, text.index("pneumonia")) == "impression"


def test_sectionizer_lowercase_word_is_not_a_header(rules_nlp):
    doc = rules_nlp("No findings of note in the history of this patient.")
    assert [s.label_ for s in doc.spans["sections"]] == ["other"]


def test_sectionizer_rules_round_trip(rules_nlp, tmp_path):
    s = rules_nlp.get_pipe("radcoder_sectionizer")
    s.to_disk(tmp_path)
    s2 = Sectionizer(rules_nlp).from_disk(tmp_path)
    assert s2.rules == s.rules


def test_sectionizer_rejects_bad_rule(rules_nlp):
    s = Sectionizer(rules_nlp)
    with pytest.raises(ResourceError, match="E103"):
        s.initialize(rules=[{"literal": "FINDINGS", "section": "results"}])
    with pytest.raises(ResourceError, match="E101"):
        s.initialize(rules=[{"literal": "FINDINGS", "section": "findings", "colour": "red"}])


def _labels_at(nlp, text, words):
    doc = nlp(text)
    return [section_at(doc, text.index(w)) for w in words]


def test_sectionizer_abbreviated_headers(rules_nlp):
    text = "CT HEAD\nClinical info: headache\nFindings: No bleed.\nIMP: Normal.\nIMPR: ok\nFINDINGS/IMPRESSION: fine"
    assert _labels_at(rules_nlp, text, ["headache", "Normal", "ok", "fine"]) == [
        "indication", "impression", "impression", "impression"]


def test_sectionizer_unheaded_lines_after_one_line_header_are_findings(rules_nlp):
    # GUIDELINE 7.8: a one-line header ends at its line end; unheaded lines are findings
    text = ("CTA chest PE protocol\nReason: pleuritic pain\nContrast: Omnipaque 350, 75 mL IV\n"
            "Segmental emboli in the RLL. No infarct.\nSmall R pleural effusion.\nIMP: Acute PE.")
    assert _labels_at(rules_nlp, text, ["pleuritic", "Omnipaque", "emboli", "Small R", "Acute PE"]) == [
        "indication", "technique", "findings", "findings", "impression"]
    text = "CT ELBOW\nHx: fall, elbow pain\nRadial head fracture. Joint effusion.\nIMP: Fracture."
    assert _labels_at(rules_nlp, text, ["elbow pain", "Radial head"]) == ["indication", "findings"]


def test_sectionizer_unheaded_acquisition_line_is_technique(rules_nlp):
    text = ("LDCT lung screening\nHx: former smoker. Screening.\nNo IV contrast.\nLungs clear. No nodules.\n"
            "IMP: Lung-RADS 1.")
    assert _labels_at(rules_nlp, text, ["former", "No IV", "Lungs clear"]) == ["indication", "technique", "findings"]
    text = "XR FOOT\nHx: heel pain\nWeightbearing AP, oblique, lateral. Large plantar calcaneal enthesophyte."
    assert _labels_at(rules_nlp, text, ["Weightbearing"]) == ["findings"]


def test_sectionizer_header_with_body_on_next_lines_keeps_them(rules_nlp):
    text = "TECHNIQUE:\nAxial images.\nNo contrast.\nFINDINGS:\nNormal."
    assert _labels_at(rules_nlp, text, ["Axial", "No contrast"]) == ["technique", "technique"]


def test_sectionizer_procedure_narrative_is_technique(rules_nlp):
    # GUIDELINE 7.7
    text = ("US-GUIDED PARACENTESIS\nProcedure: Consent obtained. Ultrasound demonstrated a large volume of ascites.\n"
            "Impression: Successful paracentesis.")
    assert _labels_at(rules_nlp, text, ["ascites"]) == ["technique"]
    text = "PROCEDURE: CT-GUIDED CORE NEEDLE BIOPSY, RIGHT LUNG\nINDICATION: nodule"
    assert _labels_at(rules_nlp, text, ["CORE"]) == ["exam"]


def test_sectionizer_capitalized_title_is_exam(rules_nlp):
    text = "RT GREAT TOE 3V\nHx: stubbed toe"
    assert _labels_at(rules_nlp, text, ["GREAT"]) == ["exam"]
    assert _labels_at(rules_nlp, "MODIFIED BARIUM SWALLOW\nHISTORY: stroke", ["BARIUM"]) == ["exam"]


def test_sectionizer_inline_headers_after_sentence_end(rules_nlp):
    text = ("CT ABD/PELVIS W/ IV CONTRAST. INDICATION: LLQ pain, fever. TECHNIQUE: Axial images. "
            "FINDINGS: Inflamed sigmoid diverticula. IMPRESSION: 1. Acute diverticulitis. 2. Hepatic steatosis.")
    doc = rules_nlp(text)
    got = [(s.label_, s.text.split(":")[0]) for s in doc.spans["sections"]]
    assert [g[0] for g in got] == ["exam", "indication", "technique", "findings", "impression"]
    tok = next(t for t in doc if t.text == "steatosis")
    assert section_at(doc, tok.idx) == "impression"


def test_sectionizer_inline_header_needs_capitals_and_sentence_end(rules_nlp):
    # a lowercase header word after a period, or a header word mid-sentence, is not a header
    doc = rules_nlp("FINDINGS: The study shows no mass. findings: none. The prior impression: stable.")
    assert [s.label_ for s in doc.spans["sections"]] == ["findings"]


def test_sectionizer_unheaded_lines_under_title(rules_nlp):
    # §7.8: the indication line, the acquisition line and the findings lines under a title without headers
    text = ("CT SINUSES WITHOUT CONTRAST\nNo clinical history provided.\nAxial images with coronal reformats.\n"
            "Mucosal thickening of both maxillary sinuses.\nIMPRESSION: Chronic sinusitis.")
    assert [s[0] for s in _sections(rules_nlp, text)] == ["exam", "indication", "technique", "findings",
                                                          "impression"]
    text = "1. US-GUIDED RIGHT THORACENTESIS\n2. CHEST X-RAY, 1 VIEW\nIndication: effusion."
    assert [s[0] for s in _sections(rules_nlp, text)] == ["exam", "indication"]
    text = "BONE DENSITOMETRY (DXA)\n\n63-year-old woman with osteoporosis.\n\nImpression: Osteoporosis."
    assert [s[0] for s in _sections(rules_nlp, text)] == ["exam", "indication", "impression"]


def test_sectionizer_inline_header_after_double_space(rules_nlp):
    doc = rules_nlp("EXAM: XR ELBOW RT 3V  HISTORY: fall, elbow pain. FINDINGS: Effusion.")
    assert [s.label_ for s in doc.spans["sections"]] == ["exam", "indication", "findings"]
    doc = rules_nlp("FINDINGS: Mild effusion  history: none")   # lower case: no header
    assert [s.label_ for s in doc.spans["sections"]] == ["findings"]


@pytest.mark.parametrize("text, expected", [
    ("CT ABDOMEN PELVIS WITH IV CONTRAST INDICATION: pain. IMPRESSION: Appendicitis.",
     ["exam", "indication", "impression"]),
    ("RIGHT KNEE 3 VIEWS HISTORY: PAIN FINDINGS: NORMAL", ["exam", "indication", "findings"]),
    # the tail of a longer header is not a second header
    ("CLINICAL HISTORY: cough\nFINDINGS: normal", ["indication", "findings"]),
    # a lower-case word followed by a colon inside a sentence is not a header
    ("Reason for exam: pain. The history: none", ["indication"]),
])
def test_sectionizer_capitalized_label_on_the_title_line(rules_nlp, text, expected):
    assert [s[0] for s in _sections(rules_nlp, text)] == expected
