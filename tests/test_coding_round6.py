"""Session-9 rules: 'resolved' before a finding, 'suggest' as an uncertainty verb, 'not yet on' a treatment."""

import pytest

import radcoder

pytest.importorskip("simple_icd_10_cm")


@pytest.fixture(scope="module")
def nlp(rules_nlp):
    return rules_nlp


def assertion(nlp, text, target):
    i = text.index(target)
    return radcoder.assert_spans(nlp, text, [(i, i + len(target))])[0]


# ---------------------------------------------------------------- assertion

@pytest.mark.parametrize("text,target,expected", [
    # 'resolved' before the finding negates it (within two tokens) ...
    ("IMPRESSION: Resolved ascites.", "ascites", "negated"),
    ("IMP: Resolved midline shift.", "midline shift", "negated"),
    ("Interval resolved right pneumothorax.", "pneumothorax", "negated"),
    ("Resolved left pleural effusion.", "pleural effusion", "negated"),
    # ... unless only partly resolved, and not a finding further on in the clause
    ("Partially resolved right pleural effusion.", "pleural effusion", "present"),
    ("Nearly resolved left effusion.", "effusion", "present"),
    ("Effusion has partially resolved.", "Effusion", "present"),
    ("The consolidation has not resolved.", "consolidation", "present"),
    ("Largely resolved hemorrhage with small residual.", "hemorrhage", "present"),
    ("Resolved L hydronephrosis with stent in place.", "stent", "present"),
    ("Ascites has resolved.", "Ascites", "negated"),
    # 'suggest' is an uncertainty verb; negated or inside 'no ... to suggest' it is not
    ("Monophasic tibial waveforms suggest additional infrapopliteal disease.", "infrapopliteal disease", "uncertain"),
    ("Findings suggest pneumonia.", "pneumonia", "uncertain"),
    ("Findings do not suggest pneumonia.", "pneumonia", "negated"),
    ("No CT findings to suggest pulmonary embolism.", "pulmonary embolism", "negated"),
    ("No infiltrates that would suggest active tuberculosis.", "tuberculosis", "negated"),
    # 'not yet on' a treatment
    ("Stage 5 chronic kidney disease, not yet on dialysis, referred for vein mapping.", "dialysis", "negated"),
    ("Stage 5 chronic kidney disease on dialysis.", "dialysis", "present"),
])
def test_resolved_suggest_and_not_yet_on(nlp, text, target, expected):
    assert assertion(nlp, text, target) == expected
