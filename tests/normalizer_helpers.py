"""Shared test helper: run the normalizer on spans set by hand (no NER involved)."""


def normalize_with_spans(nlp, text, spans):
    """Sentences and sections from ``nlp``, then ``doc.ents`` = ``spans`` [(substring, label)], then the
    normalizer; returns the Doc."""
    doc = nlp.make_doc(text)
    for name in ("radcoder_sentences", "radcoder_sectionizer"):
        doc = nlp.get_pipe(name)(doc)
    ents = []
    for sub, label in spans:
        i = text.index(sub)
        ents.append(doc.char_span(i, i + len(sub), label=label))
    doc.ents = ents
    return nlp.get_pipe("radcoder_normalizer")(doc)
