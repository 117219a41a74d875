import pytest


@pytest.mark.parametrize("text,expected", [
    ("CT w/o contrast", ["CT", "w/o", "contrast"]),
    ("b/l knees s/p ORIF r/o PNA", ["b/l", "knees", "s/p", "ORIF", "r/o", "PNA"]),
    ("T2-weighted images", ["T2-weighted", "images"]),
    ("L4-L5 and C5-6", ["L4-L5", "and", "C5-6"]),
    ("3.2x1.5cm", ["3.2", "x", "1.5", "cm"]),
    ("3.2 x 1.5 cm", ["3.2", "x", "1.5", "cm"]),
    ("CHEST PA/lat", ["CHEST", "PA/lat"]),
    ("on 10/12/2025.", ["on", "10/12/2025", "."]),
    ("IMPRESSION:1. No", ["IMPRESSION", ":", "1", ".", "No"]),
    ("cough/fever", ["cough", "/", "fever"]),
    ("Followup U T I.", ["Followup", "U", "T", "I", "."]),
])
def test_tokenizer_radiology_forms(blank_nlp, text, expected):
    assert [t.text for t in blank_nlp(text)] == expected
