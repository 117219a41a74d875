"""Behaviour tests of exam frames -> CPT/HCPCS lines, modifiers and flags (rules-only pipeline)."""

import pytest

import radcoder
from radcoder.pipeline import build_pipeline


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def run(nlp, text, setting="global"):
    d = nlp.make_doc(text)
    d._.setting = setting
    return radcoder.to_record(nlp(d), "t")


def lines(rec):
    return sorted((c["code"], tuple(sorted(c["modifiers"])), c["units"]) for c in rec["cpt"])


def flags(rec):
    return {f["code"] for f in rec["flags"]}


def test_chest_two_views(nlp):
    rec = run(nlp, "EXAM: XR CHEST PA AND LATERAL\nINDICATION: Cough.\nFINDINGS: Lungs clear.\nIMPRESSION: Normal.")
    assert lines(rec) == [("71046", (), 1)]
    assert rec["frames"][0]["views"] == 2


def test_view_names_counted(nlp):
    rec = run(nlp, "EXAM: XR RIGHT ANKLE\nINDICATION: Injury.\nTECHNIQUE: AP, mortise and lateral views.\n"
                   "FINDINGS: No fracture.")
    assert rec["frames"][0]["views"] == 3
    assert lines(rec) == [("73610", ("RT",), 1)]


def test_ct_abdomen_pelvis_without_and_with(nlp):
    rec = run(nlp, "EXAM: CT ABDOMEN AND PELVIS WITHOUT AND WITH CONTRAST\nINDICATION: Hematuria.\n"
                   "FINDINGS: Normal.")
    assert rec["frames"][0]["region"] == "abdomen_pelvis"
    assert [c["code"] for c in rec["cpt"]] == ["74178"]


def test_oral_contrast_only_is_without(nlp):
    rec = run(nlp, "EXAM: CT ABDOMEN AND PELVIS\nINDICATION: Pain.\nTECHNIQUE: Oral contrast only. No IV contrast.\n"
                   "FINDINGS: Normal.")
    assert [c["code"] for c in rec["cpt"]] == ["74176"]


def test_contrast_ordered_not_given(nlp):
    rec = run(nlp, "EXAM: CT HEAD WITH CONTRAST\nINDICATION: Headache.\nTECHNIQUE: Contrast was not administered "
                   "because of allergy.\nFINDINGS: Normal.")
    assert [c["code"] for c in rec["cpt"]] == ["70450"]
    assert "header_body_discrepancy" in flags(rec)


def test_before_and_after_is_without_with(nlp):
    rec = run(nlp, "EXAM: CT HEAD WITH CONTRAST\nINDICATION: Metastases.\nTECHNIQUE: Axial images before and after "
                   "75 mL Omnipaque 350 IV.\nFINDINGS: Normal.")
    assert rec["frames"][0]["contrast"] == "without_with"
    assert [c["code"] for c in rec["cpt"]] == ["70470"]


def test_contrast_supply_per_ml(nlp):
    rec = run(nlp, "EXAM: CT CHEST WITH CONTRAST\nINDICATION: Mass.\nTECHNIQUE: Axial CT after 75 mL Omnipaque 350 IV."
                   "\nFINDINGS: Normal.")
    assert [(h["code"], h["units"]) for h in rec["hcpcs"]] == [("Q9967", 75)]
    rec = run(nlp, "EXAM: CT CHEST WITH CONTRAST\nINDICATION: Mass.\nTECHNIQUE: Axial CT after 75 mL Omnipaque 350 IV."
                   "\nFINDINGS: Normal.", setting="professional")
    assert rec["hcpcs"] == []


def test_bilateral_knees_two_lines(nlp):
    rec = run(nlp, "EXAM: XR BILATERAL KNEES 2 VIEWS\nINDICATION: Knee pain.\nFINDINGS: Mild osteoarthritis.")
    assert lines(rec) == [("73560", ("LT",), 1), ("73560", ("RT",), 1)]


def test_professional_setting_adds_26(nlp):
    rec = run(nlp, "EXAM: XR CHEST PA AND LATERAL\nINDICATION: Cough.\nFINDINGS: Clear.", setting="professional")
    assert lines(rec) == [("71046", ("26",), 1)]


def test_left_knee_mri(nlp):
    rec = run(nlp, "EXAM: MRI LEFT KNEE WITHOUT CONTRAST\nINDICATION: Knee pain.\nFINDINGS: Meniscal tear.")
    assert lines(rec) == [("73721", ("LT",), 1)]


def test_missing_laterality_flag(nlp):
    rec = run(nlp, "KNEE 2 VIEWS\nIndication: Knee pain.\nFindings: No fracture.")
    assert "missing_laterality" in flags(rec)
    assert lines(rec) == [("73560", (), 1)]


def test_two_exams_in_title(nlp):
    rec = run(nlp, "Left hand 3 views and left wrist 3 views\nIndication: Fall.\nFindings: No fracture.")
    assert lines(rec) == [("73110", ("LT",), 1), ("73130", ("LT",), 1)]


def test_screening_mammogram_with_tomosynthesis(nlp):
    rec = run(nlp, "EXAM: BILATERAL SCREENING MAMMOGRAM WITH TOMOSYNTHESIS\nINDICATION: Annual screening.\n"
                   "FINDINGS: No suspicious mass.\nIMPRESSION: BI-RADS 1.")
    codes = [c["code"] for c in rec["cpt"]]
    assert "77067" in codes and "77063" in codes


def test_us_abdomen_complete_missing_organs(nlp):
    rec = run(nlp, "EXAM: US ABDOMEN COMPLETE\nINDICATION: Abdominal pain.\nFINDINGS: The liver is normal. "
                   "The gallbladder is normal.\nIMPRESSION: Normal.")
    assert [c["code"] for c in rec["cpt"]] == ["76705"] or "76700" in [c["code"] for c in rec["cpt"]]
    assert "ultrasound_completeness_unsupported" in flags(rec)


def test_repeat_same_day_76(nlp):
    rec = run(nlp, "CT chest w/o contrast - repeat\nHx: Pneumothorax.\nFindings: Small pneumothorax.")
    assert lines(rec) == [("71250", ("76",), 1)]


def test_comparison_exam_is_not_a_frame(nlp):
    rec = run(nlp, "EXAM: XR CHEST PA AND LATERAL\nINDICATION: Cough.\nCOMPARISON: CT abdomen 01/2024.\n"
                   "FINDINGS: Clear.")
    assert [c["code"] for c in rec["cpt"]] == ["71046"]
    assert len(rec["frames"]) == 1
