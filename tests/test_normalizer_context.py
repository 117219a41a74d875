"""Context gates and context codes of the finding lexicon in the normalizer (findings.jsonl 'context',
'context_codes'), and the one-word ICD search cut-off."""
import pytest

from radcoder.components.normalizer import SINGLE_WORD_MIN_SEARCH_SCORE, context_rules
from normalizer_helpers import normalize_with_spans as _doc




def _codes(doc):
    return [(e.text, e._.icd10cm) for e in doc.ents if e.label_ == "FINDING"]


def test_rules_load():
    rules = context_rules()
    assert rules["cad"][0] and rules["pneumothorax"][1]


@pytest.mark.parametrize("text,span,code", [
    # CAD: computer-aided detection in a mammogram; coronary artery disease elsewhere
    ("EXAM: SCREENING MAMMOGRAM WITH TOMOSYNTHESIS\nTECHNIQUE: CC and MLO views. CAD was applied.", "CAD", None),
    ("INDICATION: Chest pain. History of CAD and hypertension.", "CAD", "I25.10"),
    # TOF: time-of-flight MRA sequence; tetralogy of Fallot in a cardiac history
    ("TECHNIQUE: 3D TOF MRA of the head without contrast.", "TOF", None),
    ("INDICATION: 14-year-old with repaired TOF, assess RV size.", "TOF", "Q21.3"),
    # NOF in a DXA report: National Osteoporosis Foundation
    ("EXAM: DXA BONE DENSITY\nIMPRESSION: FRAX probabilities are below the NOF treatment thresholds.", "NOF", None),
    ("FINDINGS: Eccentric lucent cortical lesion in the distal femoral metaphysis, typical of an NOF.", "NOF", "M85.00"),
    # volume loss is atelectasis only in the lung
    ("FINDINGS: Moderate generalized volume loss with hippocampal atrophy.", "volume loss", None),
    ("FINDINGS: Left lower lobe volume loss with elevation of the hemidiaphragm.", "volume loss", "J98.11"),
    ("FINDINGS: Opening pressure measured in the lateral decubitus position.", "decubitus", None),
    ("FINDINGS: Calcaneal body fracture, joint depression type.", "depression", None),
    ("INDICATION: Code stroke. Left-sided weakness.", "stroke", None),
    ("EXAM: CT ANGIOGRAPHY CHEST (PE PROTOCOL)", "PE", None),
    ("FINDINGS: Acute segmental and subsegmental emboli in the RLL.", "emboli", "I26.99"),
    ("FINDINGS: Filling defects in the right lower lobe pulmonary arteries.", "Filling defects", "I26.99"),
    ("FINDINGS: Normal LV cavity size and wall motion.", "cavity", None),
    ("FINDINGS: Central T2-hyperintense scar in the liver lesion.", "scar", None),
    ("FINDINGS: Linear scarring in the right upper lobe.", "scarring", "J98.4"),
    # a gate with "specialize": nearby words still name a more specific concept
    ("FINDINGS: Cortical scarring of the upper pole of the left kidney.", "scarring", "N28.89"),
])
def test_context_gate(rules_nlp, text, span, code):
    assert _codes(_doc(rules_nlp, text, [(span, "FINDING")])) == [(span, code)]


def test_single_word_search_needs_full_title(rules_nlp):
    assert SINGLE_WORD_MIN_SEARCH_SCORE == 1.0
    for text, span in [("FINDINGS: Opening pressure is elevated.", "elevated"),
                       ("FINDINGS: Mild thickening of the fascia.", "thickening"),
                       ("FINDINGS: The epididymis is enlarged.", "enlarged")]:
        assert _codes(_doc(rules_nlp, text, [(span, "FINDING")])) == [(span, None)]


def test_sinus_obstruction(rules_nlp):
    text = "FINDINGS: Opacification of the left maxillary sinus with obstruction of the left ostiomeatal unit."
    assert _codes(_doc(rules_nlp, text, [("obstruction", "FINDING")])) == [("obstruction", "J34.89")]


@pytest.mark.parametrize("text,spans,code", [
    # a pneumothorax in a biopsy report is postprocedural, also where the sentence does not say so
    ("PROCEDURE: CT-guided core needle biopsy, right upper lobe nodule.\nFINDINGS: Small pneumothorax, stable.",
     [("biopsy", "PROCEDURE"), ("pneumothorax", "FINDING")], "J95.811"),
    ("FINDINGS: Post-procedure CT shows a trace pneumothorax.\nIMPRESSION: Trace pneumothorax, stable.",
     [("pneumothorax", "FINDING", 2)], "J95.811"),
    # trauma: traumatic pneumothorax
    ("HISTORY: Fall with left rib fractures.\nFINDINGS: Small left pneumothorax.", [("pneumothorax", "FINDING")],
     "S27.0XXA"),
    ("FINDINGS: Small left apical pneumothorax.", [("pneumothorax", "FINDING")], "J93.9"),
    # a negated mention in a trauma report stays J93.9 (skip_negated); in a procedure report it does not
    ("HISTORY: Fall with left rib fractures.\nFINDINGS: No pneumothorax.", [("pneumothorax", "FINDING")], "J93.9"),
    ("HISTORY: Post-procedure film after thoracentesis.\nFINDINGS: No pneumothorax.", [("pneumothorax", "FINDING")],
     "J95.811"),
    # pleural effusion in heart failure
    ("INDICATION: CHF exacerbation.\nFINDINGS: Moderate right pleural effusion.", [("pleural effusion", "FINDING")],
     "J91.8"),
    ("INDICATION: Cough.\nFINDINGS: Moderate right pleural effusion.", [("pleural effusion", "FINDING")], "J90"),
    # CKD stage and the place of a fall next to the span
    ("INDICATION: CKD stage 4, rising creatinine.", [("CKD", "FINDING")], "N18.4"),
    ("INDICATION: CKD, rising creatinine.", [("CKD", "FINDING")], "N18.9"),
    ("HISTORY: 41M fell 8 ft from ladder, right ankle pain.", [("fell", "FINDING")], "W11.XXXA"),
])
def test_context_codes(rules_nlp, text, spans, code):
    codes = _codes(_doc(rules_nlp, text, spans))
    assert codes[-1][1] == code, codes


def test_screening_takes_the_exam(rules_nlp):
    text = "EXAM: BILATERAL WHOLE BREAST ULTRASOUND (SCREENING)\nINDICATION: Supplemental screening. Dense breasts."
    doc = _doc(rules_nlp, text, [("BREAST", "ANATOMY"), ("ULTRASOUND", "MODALITY"), ("screening", "FINDING")])
    assert _codes(doc) == [("screening", "Z12.39")]


def test_context_code_harmonized_across_mentions(rules_nlp):
    text = "INDICATION: CKD stage 4, no IV contrast.\nFINDINGS: Bilateral renal atrophy, consistent with known CKD."
    doc = _doc(rules_nlp, text, [("CKD", "FINDING"), ("CKD", "FINDING", 2)])
    assert _codes(doc) == [("CKD", "N18.4"), ("CKD", "N18.4")]


def test_exam_words_in_a_findings_sentence_are_kept_when_it_names_views(rules_nlp):
    """ANATOMY outside the exam sections is an exam mention only next to an anchor (modality, procedure,
    guidance or, here, a views phrase): "Two views of the abdomen ..." keeps "abdomen"."""
    from spacy.tokens import Span
    text = "INDICATION: Pain.\nFINDINGS: Two views of the abdomen were obtained.\nThe abdomen is soft."
    doc = rules_nlp.make_doc(text)
    for name in ("radcoder_sentences", "radcoder_sectionizer"):
        doc = rules_nlp.get_pipe(name)(doc)

    def span(word, label, k=0):
        i = -1
        for _ in range(k + 1):
            i = text.index(word, i + 1)
        return doc.char_span(i, i + len(word), label=label)
    doc.ents = [span("Two views", "VIEWS"), span("abdomen", "ANATOMY"), span("abdomen", "ANATOMY", 1)]
    rules_nlp.get_pipe("radcoder_normalizer")._filter(doc)
    kept = [(e.label_, e.start_char) for e in doc.ents]
    assert ("ANATOMY", text.index("abdomen")) in kept
    assert ("ANATOMY", text.index("abdomen", text.index("abdomen") + 1)) not in kept
