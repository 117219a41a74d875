import pytest

import radcoder
from radcoder.components.assertion import AssertionDetector


def _assert(nlp, text, terms):
    spans, pos = [], 0
    for t in terms:
        i = text.index(t, pos)
        spans.append((i, i + len(t)))
        pos = i + len(t)
    return radcoder.assert_spans(nlp, text, spans)


@pytest.mark.parametrize("text,terms,expected", [
    ("No pneumothorax, pleural effusion, or consolidation.", ["pneumothorax", "pleural effusion", "consolidation"],
     ["negated"] * 3),
    ("Lungs are clear of infiltrate.", ["infiltrate"], ["negated"]),
    ("Pneumonia has resolved.", ["Pneumonia"], ["negated"]),
    ("The nodule is no longer seen.", ["nodule"], ["negated"]),
    ("No evidence of fracture.", ["fracture"], ["negated"]),
    ("Without evidence of abscess.", ["abscess"], ["negated"]),
    ("Findings may represent atelectasis.", ["atelectasis"], ["uncertain"]),
    ("Cannot exclude pneumonia.", ["pneumonia"], ["uncertain"]),
    ("Atelectasis versus pneumonia.", ["Atelectasis", "pneumonia"], ["uncertain", "uncertain"]),
    ("Suspicious for malignancy.", ["malignancy"], ["uncertain"]),
    ("Active bleeding in the sigmoid. Differential for the source includes diverticular bleeding and angiodysplasia.",
     ["bleeding", "diverticular bleeding", "angiodysplasia"], ["present", "uncertain", "uncertain"]),
    ("Cough, r/o pneumonia.", ["Cough", "pneumonia"], ["present", "hypothetical"]),
    ("To evaluate for appendicitis.", ["appendicitis"], ["hypothetical"]),
    ("History of breast cancer.", ["breast cancer"], ["historical"]),
    ("Family history of breast cancer.", ["breast cancer"], ["family"]),
    ("No change in the nodule.", ["nodule"], ["present"]),
    ("No increase in size of the cyst.", ["cyst"], ["present"]),
    ("No effusion but there is pneumonia.", ["effusion", "pneumonia"], ["negated", "present"]),
    ("No hemorrhage; small infarct is present.", ["hemorrhage", "infarct"], ["negated", "present"]),
])
def test_assertion_cues(rules_nlp, text, terms, expected):
    assert _assert(rules_nlp, text, terms) == expected


def test_assertion_spans_by_someone_else_align_one_to_one(rules_nlp):
    text = "No pneumothorax. Possible effusion.\n\nEdema."
    labels = radcoder.assert_spans(rules_nlp, text, [(3, 15), (26, 34), (37, 42), (36, 37)])
    assert len(labels) == 4 and labels[:3] == ["negated", "uncertain", "present"]


def test_assertion_rules_round_trip(rules_nlp, tmp_path):
    a = rules_nlp.get_pipe("radcoder_assertion")
    a.to_disk(tmp_path)
    b = AssertionDetector(rules_nlp).from_disk(tmp_path)
    assert b.rules == a.rules and len(b.rules) > 200


def test_assertion_without_rules_warns_and_leaves_doc(rules_nlp):
    import radcoder.errors
    radcoder.errors._warned.clear()
    det = AssertionDetector(rules_nlp)
    doc = rules_nlp.make_doc("No effusion.")
    with pytest.warns(UserWarning, match="W001"):
        det(doc)


@pytest.mark.parametrize("text,terms,expected", [
    ("No focal consolidation or pulmonary edema.", ["focal consolidation", "pulmonary edema"], ["negated", "negated"]),
    ("Atelectasis or pneumonia in the left base.", ["Atelectasis", "pneumonia"], ["uncertain", "uncertain"]),
    ("Cardiomegaly and/or pericardial effusion.", ["Cardiomegaly", "pericardial effusion"], ["uncertain", "uncertain"]),
    ("Hydronephrosis, status post pyeloplasty.", ["Hydronephrosis", "pyeloplasty"], ["present", "present"]),
    ("History of breast cancer status post mastectomy.", ["breast cancer", "mastectomy"], ["historical", "present"]),
    ("Now with three day history of cough.", ["cough"], ["present"]),
    ("No history of malignancy.", ["malignancy"], ["negated"]),
    ("Healed rib fractures.", ["rib fractures"], ["historical"]),
    ("Five year old with cough.", ["cough"], ["present"]),
    ("Risks including infection and bleeding were discussed.", ["infection", "bleeding"], ["hypothetical", "hypothetical"]),
    ("Adenopathy cannot be completely excluded.", ["Adenopathy"], ["uncertain"]),
    ("Sclerotic margins and no bridging trabeculae, indicating nonunion.", ["nonunion"], ["present"]),
    # "negative" before a sign negates it; after a test it negates only that test; a negative screen was performed
    ("Gallstones. Negative sonographic Murphy sign.", ["Gallstones", "sonographic Murphy sign"], ["present", "negated"]),
    ("Snuffbox tenderness, radiographs negative.", ["Snuffbox tenderness"], ["present"]),
    ("IMPRESSION: Negative bilateral screening mammogram.", ["screening"], ["present"]),
    ("Indication: colon cancer, starting chemo.", ["colon cancer", "chemo"], ["present", "hypothetical"]),
    ("Acute appendicitis without perforation or abscess.", ["Acute appendicitis without perforation", "abscess"],
     ["present", "negated"]),
    ("Acute LLQ pain. Question left ovarian torsion.", ["LLQ pain", "ovarian torsion"], ["present", "hypothetical"]),
])
def test_assertion_radiology_constructions(rules_nlp, text, terms, expected):
    assert _assert(rules_nlp, text, terms) == expected


@pytest.mark.parametrize("text,terms,expected", [
    # post-cues: the treated condition before the treatment is historical (GUIDELINE 7.3)
    ("Rectal adenocarcinoma s/p low anterior resection.", ["Rectal adenocarcinoma", "low anterior resection"],
     ["historical", "present"]),
    ("Hx melanoma of the back excised 2019.", ["melanoma"], ["historical"]),
    ("Melanoma of the back, stage IIIB, excised 2024.", ["Melanoma"], ["historical"]),
    ("Laryngeal carcinoma, completed chemoradiation 11/2024.", ["Laryngeal carcinoma"], ["historical"]),
    ("Two urinary tract infections this year, now treated.", ["urinary tract infections"], ["historical"]),
    ("Completed chemoradiation for rectal cancer.", ["rectal cancer"], ["historical"]),
    ("Treated lymphoma.", ["lymphoma"], ["historical"]),
    ("Pneumonia being treated with antibiotics.", ["Pneumonia"], ["present"]),
    # "s/p" before a procedure: the procedure is a present status, the condition after it stays historical
    ("s/p cholecystectomy for cholecystitis.", ["cholecystectomy", "cholecystitis"], ["present", "historical"]),
    ("s/p EVAR for AAA.", ["EVAR", "AAA"], ["present", "historical"]),
    # a comma-separated condition before "s/p <non-curative procedure>" is untouched
    ("Neurogenic bladder, status post bladder augmentation.", ["Neurogenic bladder"], ["present"]),
    # a new clause about the current state ends the history scope
    ("History of breast cancer treated in 2021, now with blurred vision.", ["breast cancer", "blurred vision"],
     ["historical", "present"]),
    ("History of febrile UTI, known grade III reflux.", ["UTI", "grade III reflux"], ["historical", "present"]),
    ("No hydronephrosis in this patient with known reflux.", ["hydronephrosis", "reflux"], ["negated", "present"]),
    ("No abnormality at the site of the palpable lump.", ["abnormality", "lump"], ["negated", "present"]),
    ("Metastasis, given the history.", ["Metastasis"], ["present"]),
    ("Smoking history.", ["Smoking"], ["historical"]),
    # comparison exams called "prior" are not a history cue
    ("New lesions compared with prior, consistent with demyelination.", ["demyelination"], ["present"]),
    ("No prior fractures.", ["fractures"], ["negated"]),
    # reasons for an omitted step are present
    ("IV contrast was not administered due to acute kidney injury.", ["acute kidney injury"], ["present"]),
    ("Left side not imaged (mastectomy).", ["mastectomy"], ["present"]),
    # hypothetical
    ("Colorectal cancer screening.", ["Colorectal cancer"], ["hypothetical"]),
    ("Postmenopausal, screening.", ["Postmenopausal"], ["present"]),
    # the condition a negative screen looked for was not found ("Negative AAA screen"), as the authored gold reads it
    ("Negative AAA screen.", ["AAA"], ["negated"]),
    ("AAA screen.", ["AAA"], ["hypothetical"]),
    # what an exam protocol or an alert is named after was looked for, not found
    ("CT ANGIOGRAM CHEST, PE PROTOCOL", ["PE"], ["hypothetical"]),
    ("INDICATION: Code stroke. Left facial droop.", ["stroke", "facial droop"], ["hypothetical", "present"]),
    # a hedge naming what a finding can go with, and the contracted "can't be excluded"
    ("Meniscal chondrocalcinosis, which can be seen with CPPD.", ["chondrocalcinosis", "CPPD"],
     ["present", "uncertain"]),
    ("A subtle waist fracture can't be entirely excluded.", ["waist fracture"], ["uncertain"]),
    ("Mother w/ rheumatoid arthritis.", ["rheumatoid arthritis"], ["family"]),
    ("Abdominal aortic aneurysm on screen.", ["Abdominal aortic aneurysm"], ["present"]),
    ("Dense breasts, which may obscure small masses.", ["masses"], ["hypothetical"]),
    ("10-year probability: hip fracture 1.9%.", ["hip fracture"], ["hypothetical"]),
    ("Differentiate Graves disease from thyroiditis.", ["Graves disease", "thyroiditis"],
     ["hypothetical", "hypothetical"]),
    ("Chronic knee pain, eval OA.", ["knee pain", "OA"], ["present", "hypothetical"]),
    # present lesions of unknown nature
    ("Probably benign mass, likely fibroadenoma.", ["mass", "fibroadenoma"], ["present", "uncertain"]),
    ("Indeterminate 4 cm liver lesion.", ["liver lesion"], ["present"]),
    ("Probably not a fracture.", ["fracture"], ["uncertain"]),
    ("Mother died of ovarian cancer.", ["ovarian cancer"], ["family"]),
])
def test_assertion_historical_post_cues_and_scope(rules_nlp, text, terms, expected):
    assert _assert(rules_nlp, text, terms) == expected


@pytest.mark.parametrize("text,terms,expected", [
    ("No mammographic cause for breast pain.", ["breast pain"], ["present"]),          # pseudo-negation
    ("No mammographic correlate for the palpable lump.", ["lump"], ["present"]),
    ("Moderate hydronephrosis, cause not identified.", ["hydronephrosis"], ["present"]),
    ("Diverticulosis without CT signs of diverticulitis.", ["Diverticulosis", "diverticulitis"],
     ["present", "negated"]),
    ("Pain, fever, leukocytosis. r/o diverticulitis vs abscess.",                         # §7.5 stronger cue
     ["fever", "leukocytosis", "diverticulitis", "abscess"], ["present", "present", "hypothetical", "hypothetical"]),
    ("Hx: melanoma L heel s/p WLE 2024.", ["melanoma", "WLE"], ["historical", "present"]),  # §7.3
    ("knee pain s/p fall.", ["knee pain"], ["present"]),
    ("67-year-old female, former smoker.", ["former smoker"], ["historical"]),          # §7.1
])
def test_assertion_new_set_constructions(rules_nlp, text, terms, expected):
    assert _assert(rules_nlp, text, terms) == expected


@pytest.mark.parametrize("text,terms,expected", [
    ("Right basilar opacity, atelectasis versus pneumonia.", ["opacity", "atelectasis", "pneumonia"],
     ["present", "uncertain", "uncertain"]),                 # "versus" reaches back over its noun phrase only
    ("Patchy opacity at the right base may represent atelectasis versus pneumonia.",
     ["opacity", "atelectasis", "pneumonia"], ["present", "uncertain", "uncertain"]),
    ("Vomiting after every feed x 3 days, ? pyloric stenosis.", ["Vomiting"], ["present"]),
    ("Anechoic mass with no internal flow, c/w simple cyst.", ["flow", "simple cyst"], ["negated", "present"]),
    ("Laceration without active extravasation, consistent with splenic injury.",
     ["extravasation", "splenic injury"], ["negated", "present"]),
    ("Medulloblastoma is less likely.", ["Medulloblastoma"], ["uncertain"]),
    ("Last known well 55 minutes prior, with acute facial droop.", ["facial droop"], ["present"]),
    ("Two episodes of amaurosis fugax in the past week.", ["amaurosis fugax"], ["present"]),
    ("Former smoker, with a left upper lobe mass on PET/CT.", ["smoker", "mass"], ["historical", "present"]),
    ("Osteoporosis, treated with alendronate since then.", ["Osteoporosis", "alendronate"],
     ["historical", "present"]),
])
def test_assertion_new2_scope_constructions(rules_nlp, text, terms, expected):
    assert _assert(rules_nlp, text, terms) == expected


@pytest.mark.parametrize("text,terms,expected", [
    # post-position answers of template notes: "Label: no", "Label: none", "X neg", "X (-)"
    ("ROS:\nFever: no\nCough: yes\nDysuria: no", ["Fever", "Cough", "Dysuria"], ["negated", "present", "negated"]),
    ("Aortic valve: Trileaflet. Aortic stenosis: none.", ["Aortic stenosis"], ["negated"]),
    ("Visceral pleural invasion: absent.", ["Visceral pleural invasion"], ["negated"]),
    ("Hepatitis B surface antigen: negative.", ["Hepatitis B"], ["negated"]),
    ("Edema: 2+ bilaterally. Clubbing: absent.", ["Edema", "Clubbing"], ["present", "negated"]),
    ("Chest pain - no radiation to the arm.", ["Chest pain", "radiation"], ["present", "negated"]),
    ("Heme/Lymph: easy bruising: none. Endocrine: polyuria neg.", ["easy bruising", "polyuria"], ["negated", "negated"]),
    ("ROS: Fever (-), chills (-), cough (+), dyspnea (-).", ["Fever", "chills", "cough", "dyspnea"],
     ["negated", "negated", "present", "negated"]),
    ("Edema: none noted.", ["Edema"], ["negated"]),
    ("GI: (+) nausea, (-) vomiting, (-) diarrhea", ["nausea", "vomiting", "diarrhea"],
     ["present", "negated", "negated"]),
    ("ROS: Negative: fever, chills. Positive: cough.", ["fever", "chills", "cough"], ["negated", "negated", "present"]),
    ("Aortic dissection not suspected.", ["Aortic dissection"], ["negated"]),
    ("CTA at 09:20 was negative for PE.", ["PE"], ["negated"]),
    ("Pt presents w/ palpitations x1 day w/o syncope or presyncope.", ["palpitations", "syncope", "presyncope"],
     ["present", "negated", "negated"]),
    ("CT ABDOMEN W/O CONTRAST  HISTORY: CKD, flank pain.", ["CKD", "flank pain"], ["present", "present"]),
    ("No further episodes of arrhythmia were noted.", ["arrhythmia"], ["negated"]),
    ("Patient denies personal h/o blood clots.", ["blood clots"], ["negated"]),
    ("No personal or family history of bleeding disorders.", ["bleeding disorders"], ["negated"]),
])
def test_assertion_clinical_note_negation(rules_nlp, text, terms, expected):
    assert _assert(rules_nlp, text, terms) == expected


@pytest.mark.parametrize("text,terms,expected", [
    # uncertainty
    ("May have early dementia.", ["dementia"], ["uncertain"]),
    ("Osteomyelitis is concerning on MRI.", ["Osteomyelitis"], ["uncertain"]),
    ("The appearance is concerning for metastatic disease, given the history.", ["metastatic disease"], ["uncertain"]),
    ("Seizure could not be excluded.", ["Seizure"], ["uncertain"]),
    ("Pulmonary embolism has not been ruled out.", ["Pulmonary embolism"], ["uncertain"]),
    ("Appendicitis not ruled out.", ["Appendicitis"], ["uncertain"]),
    ("Patient was ruled out for MI.", ["MI"], ["negated"]),
    ("Not certain whether the syncope was cardiac.", ["syncope"], ["uncertain"]),
    ("Suggestive of but not diagnostic of lymphoma.", ["lymphoma"], ["uncertain"]),
    ("Suspicious for melanoma; differential also includes dysplastic nevus.", ["melanoma", "dysplastic nevus"],
     ["uncertain", "uncertain"]),
    # hypothetical: instructions and as-needed indications
    ("Call your doctor for fever greater than 101 F, worsening redness or drainage.", ["fever", "redness", "drainage"],
     ["hypothetical"] * 3),
    ("Acetaminophen 650 mg q6h prn pain; ondansetron PRN nausea.", ["pain", "nausea"], ["hypothetical"] * 2),
    ("Watch for hypoglycemia.", ["hypoglycemia"], ["hypothetical"]),
    ("Seek immediate care for chest pain, fainting, or bleeding.", ["chest pain", "fainting", "bleeding"],
     ["hypothetical"] * 3),
    ("You may experience mild nausea after the procedure.", ["nausea"], ["hypothetical"]),
    ("Unlikely to be cardiac in origin; GERD favored.", ["GERD"], ["uncertain"]),
    ("Pt here for eval of rash.", ["rash"], ["present"]),
    # scope ends at a reason or a presenting clause
    ("Will evaluate for sleep apnea given daytime somnolence.", ["sleep apnea", "daytime somnolence"],
     ["hypothetical", "present"]),
    ("At risk for falls due to impulsivity.", ["falls", "impulsivity"], ["hypothetical", "present"]),
    ("AKI, likely due to dehydration.", ["AKI", "dehydration"], ["present", "uncertain"]),
    ("History of myocardial infarction who presented with syncope.", ["myocardial infarction", "syncope"],
     ["historical", "present"]),
    # duration joined to "history" (§7.4), comparison exams, childhood
    ("He reports a three-day history of productive cough.", ["productive cough"], ["present"]),
    ("Compared with the prior study, no significant change in aortic stenosis.", ["aortic stenosis"], ["present"]),
    ("Anxiety; asthma as a child, none since age 12.", ["Anxiety", "asthma"], ["present", "historical"]),
])
def test_assertion_clinical_note_uncertain_hypothetical_scope(rules_nlp, text, terms, expected):
    assert _assert(rules_nlp, text, terms) == expected


@pytest.mark.parametrize("text,terms,expected", [
    ("Family History: positive for alcoholism (father) and depression (mother). Negative for suicide.",
     ["alcoholism", "depression", "suicide"], ["family", "family", "negated"]),
    ("Hypertension (mother, father).", ["Hypertension"], ["family"]),
    ("Two maternal aunts with breast cancer.", ["breast cancer"], ["family"]),
    ("Family hx significant for early CAD.", ["CAD"], ["family"]),
    ("Mother died of MI at age 60; father alive with HTN.", ["MI", "HTN"], ["family", "family"]),
    ("The patient's brother was recently diagnosed with prostate cancer. The patient has no urinary symptoms.",
     ["prostate cancer", "urinary symptoms"], ["family", "negated"]),
    # a header cue governs the lines under it, up to the next header or a blank line
    ("FAMILY HISTORY:\nMother - type 2 diabetes, hypertension\nFather - deceased, colon cancer at 64\n"
     "SOCIAL HISTORY:\nSmoker with chronic cough.", ["type 2 diabetes", "hypertension", "colon cancer", "chronic cough"],
     ["family", "family", "family", "present"]),
    ("Family History:\nMother: breast cancer\n\nPhysical exam: murmur", ["breast cancer", "murmur"],
     ["family", "present"]),
    ("FAMILY HISTORY: Mother with diabetes. Patient with hypertension.", ["diabetes", "hypertension"],
     ["family", "present"]),
    ("Active Problems: Asthma; GERD.\nResolved Problems: Pneumonia (2021); ankle fracture (2019).",
     ["Asthma", "GERD", "Pneumonia", "ankle fracture"], ["present", "present", "historical", "historical"]),
    ("Resolved Problems:\n- Pneumonia 2020\n- Hyponatremia\nActive Problems:\n- COPD",
     ["Pneumonia", "Hyponatremia", "COPD"], ["historical", "historical", "present"]),
    # a "PMH:" header does not make a chronic condition historical
    ("PMH:\nHTN\nBPH", ["HTN", "BPH"], ["present", "present"]),
])
def test_assertion_clinical_note_family_and_header_blocks(rules_nlp, text, terms, expected):
    assert _assert(rules_nlp, text, terms) == expected


@pytest.mark.parametrize("text,terms,expected", [
    ("IMP: Mesenteric adenitis possible. If symptoms persist, consider CT.", ["Mesenteric adenitis"], ["uncertain"]),
    ("No pneumonia. Atelectasis likely, right base.", ["pneumonia", "Atelectasis"], ["negated", "uncertain"]),
    # the cue still reads forward when something follows it
    ("Possible small effusion.", ["effusion"], ["uncertain"]),
    ("Likely atelectasis. Nodule is stable.", ["atelectasis", "Nodule"], ["uncertain", "present"]),
])
def test_assertion_trailing_uncertainty_cue_points_back(rules_nlp, text, terms, expected):
    assert _assert(rules_nlp, text, terms) == expected
