import pytest

from radcoder.layout import cut_at_label, exam_title


@pytest.mark.parametrize("line, cut", [
    ("XR ELBOW RT 3V.  HISTORY: fall", "XR ELBOW RT 3V."),
    ("CT HEAD WO. Indication: headache. Findings: normal.", "CT HEAD WO."),
    ("RIGHT SHOULDER ARTHROGRAM INDICATION: pain", "RIGHT SHOULDER ARTHROGRAM"),
    ("US GUIDED BIOPSY; PROCEDURE: consent obtained", "US GUIDED BIOPSY;"),
    # a lower-case word with a colon after one space is not a label
    ("MRI brain with history: seizures", "MRI brain with history: seizures"),
])
def test_cut_at_label(line, cut):
    assert cut_at_label(line).rstrip() == cut


def test_exam_title_reads_the_first_line_and_labelled_exam_lines_only():
    text = "\nCLINICAL HISTORY: knee pain\nEXAM: XR KNEE LEFT 3 VIEWS  COMPARISON: none\nFINDINGS: exam is normal"
    assert exam_title(text) == "CLINICAL HISTORY: knee pain XR KNEE LEFT 3 VIEWS"  # a compound label is not split
    text2 = "CT CHEST\nPROCEDURE: CT-guided biopsy\nStudy: limited"
    assert exam_title(text2) == "CT CHEST"
    assert exam_title(text2, ("exam", "procedure", "study")) == "CT CHEST CT-guided biopsy limited"
    # a one-line report is cut after its exam statement
    assert exam_title("CT HEAD WITHOUT CONTRAST INDICATION: fall. IMPRESSION: no bleed.") == "CT HEAD WITHOUT CONTRAST"
    assert exam_title("") == ""
