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
