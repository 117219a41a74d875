"""Lexicon coverage for unseen reports (no span memory): long-term drug therapy (Z79.-) by generic and brand name,
genetic carriers, signs and lab abnormalities, site-aware generic imaging findings (context codes and gates),
Index corrections, and the guard that keeps the ICD-10-CM title search from coding a finding with an external-cause
or poisoning code."""
import pytest

from normalizer_helpers import normalize_with_spans as _doc
from radcoder.components.normalizer import FALLBACK_EXCLUDED, fallback_code


def _code(nlp, text, span):
    normz = nlp.get_pipe("radcoder_normalizer")
    saved, normz.memory = normz.memory, {}
    try:
        return [e._.icd10cm for e in _doc(nlp, text, [(span, "FINDING")]).ents if e.label_ == "FINDING"][0]
    finally:
        normz.memory = saved


@pytest.mark.parametrize("text,span,code", [
    # long-term (current) drug therapy: generic and brand names, without "on ..."
    ("HISTORY: Atrial fibrillation on apixaban.", "apixaban", "Z79.01"),
    ("HISTORY: Mechanical valve, takes Coumadin.", "Coumadin", "Z79.01"),
    ("HISTORY: Fall. Anticoagulation for DVT.", "Anticoagulation", "Z79.01"),
    ("HISTORY: Xarelto for atrial fibrillation.", "Xarelto", "Z79.01"),
    ("HISTORY: Coronary stent, on Plavix.", "Plavix", "Z79.02"),
    ("HISTORY: Takes daily aspirin.", "daily aspirin", "Z79.82"),
    ("HISTORY: Type 2 diabetes on insulin.", "insulin", "Z79.4"),
    ("HISTORY: Diabetes, metformin.", "metformin", "Z79.84"),
    ("HISTORY: Diabetes treated with Ozempic.", "Ozempic", "Z79.85"),
    ("HISTORY: Polymyalgia rheumatica on prednisone.", "prednisone", "Z79.52"),
    ("HISTORY: Asthma, inhaled corticosteroids.", "inhaled corticosteroids", "Z79.51"),
    ("HISTORY: Breast cancer on tamoxifen.", "tamoxifen", "Z79.810"),
    ("HISTORY: Breast cancer, letrozole since 2023.", "letrozole", "Z79.811"),
    ("HISTORY: Prostate cancer on androgen deprivation therapy.", "androgen deprivation therapy", "Z79.818"),
    ("HISTORY: Prostate cancer, Lupron.", "Lupron", "Z79.818"),
    ("HISTORY: Headache. Oral contraceptives.", "Oral contraceptives", "Z79.3"),
    ("HISTORY: Postmenopausal, on HRT.", "HRT", "Z79.890"),
    ("HISTORY: Crohn disease on Humira.", "Humira", "Z79.620"),
    ("HISTORY: Renal transplant on tacrolimus.", "tacrolimus", "Z79.621"),
    ("HISTORY: Lupus nephritis, mycophenolate.", "mycophenolate", "Z79.624"),
    ("HISTORY: Rheumatoid arthritis on methotrexate.", "methotrexate", "Z79.631"),
    # past cancer treatment
    ("HISTORY: Colon cancer, completed chemo in 2022.", "chemo", "Z92.21"),
    ("HISTORY: Breast cancer treated with lumpectomy and XRT.", "XRT", "Z92.3"),
    # genetic susceptibility (Index: Susceptibility, genetic, neoplasm, breast Z15.01)
    ("INDICATION: High-risk screening, BRCA2 mutation carrier.", "BRCA2 mutation carrier", "Z15.01"),
    # signs, symptoms and lab abnormalities
    ("INDICATION: Colon cancer surveillance, rising CEA.", "rising CEA", "R97.0"),
    ("INDICATION: Rising creatinine.", "Rising creatinine", "R79.89"),
    ("INDICATION: Dyspnea, elevated D-dimer.", "elevated D-dimer", "R79.89"),
    ("INDICATION: Fatigue and wt loss.", "wt loss", "R63.4"),
    ("INDICATION: Palpitations, suppressed TSH.", "suppressed TSH", "R94.6"),
    ("INDICATION: Headache, elevated opening pressure on LP.", "elevated opening pressure", "R83.8"),
    ("INDICATION: Confusion and agitation.", "agitation", "R45.1"),
    ("INDICATION: Intermittent retching.", "retching", "R11.10"),
    ("INDICATION: Asymptomatic carotid bruit.", "carotid bruit", "R09.89"),
    ("INDICATION: Fall, unable to bear weight.", "unable to bear weight", "R26.89"),
    ("INDICATION: Resistant hypertension on four agents.", "Resistant hypertension", "I1A.0"),
    ("FINDINGS: Right concha bullosa.", "concha bullosa", "J34.89"),
    ("EXAM: PELVIC ULTRASOUND\nINDICATION: Infertility.", "Infertility", "N97.9"),
    ("EXAM: SCROTAL ULTRASOUND\nINDICATION: Infertility, evaluate for varicocele.", "Infertility", "N46.9"),
    ("EXAM: XR LEFT WRIST\nINDICATION: FOOSH.", "FOOSH", "W19.XXXA"),
    ("INDICATION: Right testicular lump.", "testicular lump", "N50.89"),
    ("IMPRESSION: Reduced gallbladder ejection fraction of 18%.", "Reduced gallbladder ejection fraction", "R94.8"),
    # Index corrections
    ("FINDINGS: Active demyelination in the periventricular white matter.", "demyelination", "G37.9"),
    ("FINDINGS: Restricted diffusion in the left insula.", "Restricted diffusion", "R90.89"),
    ("INDICATION: Hypertension, evaluate for fibromuscular dysplasia.", "fibromuscular dysplasia", "I77.3"),
    ("INDICATION: Left sensorineural hearing loss.", "sensorineural hearing loss", "H90.42"),
    ("IMPRESSION: Diffuse large B-cell lymphoma.", "Diffuse large B-cell lymphoma", "C83.30"),
    ("FINDINGS: Large stool burden.", "stool burden", "R19.8"),
    ("FINDINGS: Diffuse subcutaneous edema of the flank.", "subcutaneous edema", "R60.0"),
    ("IMPRESSION: Mesenteric mass.", "Mesenteric mass", "R19.00"),
    ("INDICATION: Medical renal disease.", "Medical renal disease", "N28.9"),
    ("FINDINGS: Small subchorionic hemorrhage.", "subchorionic hemorrhage", "O20.8"),
    ("HISTORY: Esophageal cancer status post esophagectomy.", "esophagectomy", "Z90.49"),
    ("HISTORY: Melanoma, wide local excision 2023.", "wide local excision", "Z98.890"),
    ("FINDINGS: Aortoiliac calcification.", "Aortoiliac calcification", "I70.0"),
])
def test_new_terms(rules_nlp, text, span, code):
    assert _code(rules_nlp, text, span) == code


@pytest.mark.parametrize("text,exam,span,code", [
    # the exam (ANATOMY, LATERALITY spans of the exam title) names the joint and side of a bare joint symptom
    ("EXAM: XR LEFT HAND 3V\nHISTORY: Hand pain and morning stiffness.", ("LEFT", "HAND"), "morning stiffness", "M25.642"),
    ("EXAM: MRI RIGHT KNEE WITHOUT CONTRAST\nHISTORY: Twisting injury with swelling and instability.", ("RIGHT", "KNEE"),
     "instability", "M25.361"),
    ("EXAM: MRI RIGHT KNEE\nIMPRESSION: Complex tear of the posterior horn of the medial meniscus.", ("RIGHT", "KNEE"),
     "Complex tear", "S83.231A"),
    ("EXAM: MRI LEFT KNEE\nIMPRESSION: Complex tear of the lateral meniscus.", ("LEFT", "KNEE"), "Complex tear",
     "S83.272A"),
])
def test_joint_terms_take_the_exam(rules_nlp, text, exam, span, code):
    normz = rules_nlp.get_pipe("radcoder_normalizer")
    saved, normz.memory = normz.memory, {}
    try:
        doc = _doc(rules_nlp, text, [(exam[0], "LATERALITY"), (exam[1], "ANATOMY"), (span, "FINDING")])
    finally:
        normz.memory = saved
    assert [e._.icd10cm for e in doc.ents if e.label_ == "FINDING"] == [code]


@pytest.mark.parametrize("text,span,code", [
    # fat stranding / wall thickening / filling defect / echogenicity: the organ of the sentence
    ("FINDINGS: Sigmoid diverticulosis with pericolic fat stranding.", "pericolic fat stranding", "R93.3"),
    ("FINDINGS: The appendix is dilated with periappendiceal fat stranding.", "fat stranding", "R93.3"),
    ("FINDINGS: Left perinephric stranding.", "perinephric stranding", "R93.422"),
    ("FINDINGS: Peripancreatic stranding.", "Peripancreatic stranding", "R93.5"),
    ("FINDINGS: Surrounding fat stranding extending to the masseter, compatible with cellulitis.", "fat stranding", None),
    ("FINDINGS: Focal wall thickening of the mid sigmoid colon.", "wall thickening", "R93.3"),
    ("FINDINGS: Mild diffuse bladder wall thickening and a wall thickening of the bladder dome.", "wall thickening",
     "N32.89"),
    ("FINDINGS: 8 mm enhancing filling defect in the left renal pelvis.", "filling defect", "R93.41"),
    ("FINDINGS: 7 mm filling defect in the distal common bile duct.", "filling defect", "R93.2"),
    ("FINDINGS: Filling defects in the right lower lobe pulmonary arteries.", "Filling defects", "I26.99"),
    ("FINDINGS: Uterus: normal triangular cavity without filling defect.", "filling defect", None),
    ("FINDINGS: Liver with diffusely increased echogenicity.", "increased echogenicity", "R93.2"),
    ("FINDINGS: Dilated small bowel loops with a transition zone in the right lower quadrant.", "transition zone",
     "R93.3"),
    ("EXAM: MRI PROSTATE\nFINDINGS: The transition zone is enlarged.", "transition zone", None),
    # nuclear medicine: by organ, only in a nuclear-medicine report
    ("EXAM: THREE-PHASE BONE SCAN\nFINDINGS: Focally increased activity at the left great toe.", "increased activity",
     "R93.7"),
    ("EXAM: GI BLEEDING SCAN\nFINDINGS: Abnormal tracer activity in the sigmoid colon.", "Abnormal tracer activity",
     "R93.3"),
    ("INDICATION: Knee pain with increased activity.", "increased activity", None),
    # newborn, pregnancy and trauma reports
    ("EXAM: CHEST 1 VIEW\nHISTORY: Preterm newborn with respiratory distress.", "respiratory distress", "P22.9"),
    ("HISTORY: Preterm newborn. IMPRESSION: Respiratory distress syndrome.", "Respiratory distress syndrome", "P22.0"),
    ("INDICATION: Vaginal bleeding. FINDINGS: Single intrauterine pregnancy with a yolk sac.", "Vaginal bleeding",
     "O20.9"),
    ("INDICATION: Postmenopausal vaginal bleeding.", "vaginal bleeding", "N93.9"),
    ("INDICATION: MVC with rib fractures. FINDINGS: Small right hemothorax.", "hemothorax", "S27.1XXA"),
    ("INDICATION: Fall from ladder. FINDINGS: Acute left subdural hematoma.", "subdural hematoma", "S06.5XAA"),
    # ingested foreign body: the organ named in its sentence
    ("IMPRESSION: Coin in the stomach.", "Coin", "T18.2XXA"),
    ("INDICATION: Swallowed a quarter. FINDINGS: Metallic foreign body in the stomach.", "foreign body", "T18.2XXA"),
    # a rising PSA after prostatectomy is R97.21, else R97.20
    ("INDICATION: Prostate cancer s/p radical prostatectomy, rising PSA.", "rising PSA", "R97.21"),
    ("INDICATION: Rising PSA. Family history of prostate cancer.", "Rising PSA", "R97.20"),
])
def test_site_aware_terms(rules_nlp, text, span, code):
    assert _code(rules_nlp, text, span) == code


def test_signs_integral_to_the_diagnosis():
    from radcoder.lexicons import concepts_by_code
    assert "R19.8" in concepts_by_code()["K59.00"].integral_symptoms
    assert "M25.649" in concepts_by_code()["M19.049"].integral_symptoms


@pytest.mark.parametrize("code", ["Y93.9", "Y99.8", "W19.XXXA", "X50.0XXA", "V89.2XXA", "T38.4X6A", "T39.016A",
                                  "T45.516A", "T50.905A", "T51.0X1A", "T65.91XA"])
def test_fallback_excludes(code):
    assert FALLBACK_EXCLUDED.match(code)


@pytest.mark.parametrize("code", ["T18.9XXA", "T81.4XXA", "T79.7XXA", "R93.7", "Z79.3", "S27.0XXA", "E88.13"])
def test_fallback_allows(code):
    assert not FALLBACK_EXCLUDED.match(code)


def test_fallback_code_skips_excluded_hits():
    # ranked hits: excluded codes are passed over, the cut-off still holds
    assert fallback_code([("Y93.9", 0.67), ("Y99.8", 0.67), ("R93.89", 0.61)], 0.6) == "R93.89"
    assert fallback_code([("T38.4X6A", 0.8), ("T38.4X1A", 0.8)], 0.6) is None
    assert fallback_code([("Y93.9", 0.67), ("R93.89", 0.5)], 0.6) is None
    assert fallback_code([("R58", 1.0)], 1.0) == "R58"
    assert fallback_code([], 0.6) is None


@pytest.mark.parametrize("text,span", [
    # an unknown span the title search would code with an activity or poisoning code stays uncoded
    ("FINDINGS: Increased activity level.", "Increased activity level"),
    ("HISTORY: Uses oral contraceptive agents daily.", "oral contraceptive agents daily"),
])
def test_fallback_guard_in_pipeline(rules_nlp, text, span):
    code = _code(rules_nlp, text, span)
    assert code is None or not FALLBACK_EXCLUDED.match(code)
