"""Shared test helpers: run the normalizer on spans set by hand (no NER involved); the output record of a text."""


def normalize_with_spans(nlp, text, spans):
    """Sentences and sections from ``nlp``, then ``doc.ents`` = ``spans`` [(substring, label[, n])] (the n-th
    occurrence of the substring, default the first), then the normalizer; returns the Doc."""
    doc = nlp.make_doc(text)
    for name in ("radcoder_sentences", "radcoder_sectionizer"):
        doc = nlp.get_pipe(name)(doc)
    ents = []
    for sub, label, *nth in spans:
        i = -1
        for _ in range((nth or [1])[0]):
            i = text.index(sub, i + 1)
        ents.append(doc.char_span(i, i + len(sub), label=label))
    doc.ents = ents
    return nlp.get_pipe("radcoder_normalizer")(doc)


def record(nlp, text, setting="global"):
    """The output record of ``text`` run through ``nlp`` as a report of the given billing ``setting``."""
    import radcoder
    doc = nlp.make_doc(text)
    doc._.setting = setting
    return radcoder.to_record(nlp(doc), "t")


def icd(nlp, text, setting="global"):
    """The ICD-10-CM codes of ``text``'s record, in first-listed order."""
    return [c["code"] for c in record(nlp, text, setting)["icd10cm"]]


def cpt(nlp, text, setting="global"):
    """The (code, sorted modifiers) CPT lines of ``text``'s record, sorted."""
    return sorted((c["code"], tuple(sorted(c["modifiers"]))) for c in record(nlp, text, setting)["cpt"])


def assertion(nlp, text, target):
    """The assertion label of the first occurrence of ``target`` in ``text``."""
    import radcoder
    i = text.index(target)
    return radcoder.assert_spans(nlp, text, [(i, i + len(target))])[0]


def code_of(nlp, text, span, nth=1):
    """The ICD-10-CM code the normalizer gives the ``nth`` occurrence of ``span`` in ``text`` set as a FINDING."""
    doc = normalize_with_spans(nlp, text, [(span, "FINDING", nth)])
    return doc.ents[0]._.icd10cm
