import radcoder
from radcoder.components.sentences import split_sentences


def _sents(nlp, text):
    return [s.text.strip() for s in split_sentences(nlp(text)).sents]


def test_sentences_line_break_ends_sentence(blank_nlp):
    assert _sents(blank_nlp, "No hemorrhage.\n5 mm nodule") == ["No hemorrhage.", "5 mm nodule"]
    assert _sents(blank_nlp, "No hemorrhage\n5 mm nodule") == ["No hemorrhage", "5 mm nodule"]


def test_sentences_negation_does_not_cross_lines(rules_nlp):
    text = "No hemorrhage.\n5 mm nodule in the right lung."
    labels = radcoder.assert_spans(rules_nlp, text, [(3, 13), (20, 26)])
    assert labels == ["negated", "present"]


def test_sentences_headers_and_numbered_lists(blank_nlp):
    s = _sents(blank_nlp, "FINDINGS: Lungs clear.\nIMPRESSION: 1. No pneumonia. 2. Small effusion.")
    assert s == ["FINDINGS:", "Lungs clear.", "IMPRESSION:", "1. No pneumonia.", "2. Small effusion."]


def test_sentences_abbreviation_period_does_not_split(blank_nlp):
    assert len(_sents(blank_nlp, "Compared with Dr. smith's film.")) == 1


def test_sentences_lowercase_start_after_full_word(blank_nlp):
    # terse indications start sentences in lower case; abbreviations still do not split
    assert _sents(blank_nlp, "fever, leukocytosis. r/o abscess") == ["fever, leukocytosis.", "r/o abscess"]
    assert len(_sents(blank_nlp, "nodule measures approx. five mm")) == 1
    assert len(_sents(blank_nlp, "atelectasis vs. pneumonia")) == 1


def test_sentences_two_spaces_after_period_or_colon(blank_nlp):
    # typed reports put two spaces after a period; the extra space is its own token and must not hide the period
    s = _sents(blank_nlp, "CT ANGIOGRAPHY CHEST  CLINICAL INDICATION: r/o PE.  FINDINGS: Filling defects.  "
                          "No effusion.  IMPRESSION:  Acute emboli.")
    assert s == ["CT ANGIOGRAPHY CHEST", "CLINICAL INDICATION: r/o PE.", "FINDINGS: Filling defects.", "No effusion.",
                 "IMPRESSION:  Acute emboli."]   # as with one space, an inline header keeps its text
    assert _sents(blank_nlp, "INDICATION:  cough.") == ["INDICATION:", "cough."]
    assert len(_sents(blank_nlp, "atelectasis vs.  pneumonia")) == 1
    assert len(_sents(blank_nlp, "XR CHEST  PA AND LATERAL")) == 1   # no colon: not a header


def test_sentences_two_spaces_keep_assertion_scope(rules_nlp):
    text = "INDICATION: r/o PE.  FINDINGS: Filling defects. No pleural effusion.  IMPRESSION: Acute pulmonary emboli."
    spans = [(text.index(w), text.index(w) + len(w)) for w in ("PE", "Filling defects", "pleural effusion",
                                                                "pulmonary emboli")]
    assert radcoder.assert_spans(rules_nlp, text, spans) == ["hypothetical", "present", "negated", "present"]
