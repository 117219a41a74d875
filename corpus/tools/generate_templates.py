#!/usr/bin/env python
"""Deterministic template generator for extra TRAINING radiology reports (radcoder corpus).

Each report is composed from small markup pieces; the script computes every span offset itself and
builds the document gold (frames, CPT lines with modifiers, HCPCS, ordered ICD-10-CM codes, flags and
hard-case tags) following corpus/GUIDELINE.md.

    .venv/bin/python corpus/tools/generate_templates.py --n 260 --seed 13 --out corpus/authored/templates.jsonl

Markup used in the template strings below::

    {M:CT}  MODALITY   {A:chest} ANATOMY   {L:left} LATERALITY   {C:without contrast} CONTRAST
    {V:2 views} VIEWS  {G:ultrasound guidance} GUIDANCE   {P:biopsy} PROCEDURE
    {F:pneumonia|p|J18.9} FINDING with assertion (p present, n negated, u uncertain, h historical,
    y hypothetical, f family) and an optional ICD-10-CM code.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODESETS = ROOT / "src" / "radcoder" / "resources" / "codesets"

LABELS = {"M": "MODALITY", "A": "ANATOMY", "L": "LATERALITY", "C": "CONTRAST", "V": "VIEWS", "G": "GUIDANCE",
          "P": "PROCEDURE", "F": "FINDING"}
ASSERT = {"p": "present", "n": "negated", "u": "uncertain", "h": "historical", "y": "hypothetical", "f": "family"}
TAGS = ("bilateral", "without_and_with_contrast", "contrast_not_given", "oral_contrast_only", "reduced_service",
        "repeat_service", "negated_finding", "uncertain_finding", "normal_study", "incidental_finding", "screening",
        "history_of_cancer", "follow_up_known_disease", "missing_laterality", "missing_indication",
        "header_body_discrepancy", "multiple_procedures", "guided_procedure", "family_history", "hypothetical_finding")
MARK = re.compile(r"\{([A-Z]):([^{}|]*)(?:\|([a-z])\|([^{}]*))?\}")


# ============================================================================ markup -> text + spans
def parse(markup: str) -> list[tuple]:
    """Split markup into segments (text, label|None, assertion|None, code|None)."""
    out, pos = [], 0
    for m in MARK.finditer(markup):
        if m.start() > pos:
            out.append((markup[pos:m.start()], None, None, None))
        lab = LABELS[m.group(1)]
        a = ASSERT[m.group(3)] if m.group(3) else None
        out.append((m.group(2), lab, a, (m.group(4) or None) if lab == "FINDING" else None))
        pos = m.end()
    if pos < len(markup):
        out.append((markup[pos:], None, None, None))
    return out


def cap(markup: str) -> str:
    """Upper-case the first letter of a markup sentence (also when it starts inside a span)."""
    if markup.startswith("{"):
        i = markup.index(":") + 1
        return markup[:i] + markup[i:i + 1].upper() + markup[i + 1:]
    return markup[:1].upper() + markup[1:]


def strip_marks(markup: str) -> str:
    return "".join(s[0] for s in parse(markup))


class Builder:
    """Appends text section by section and records spans with their offsets."""

    def __init__(self):
        self.parts: list[str] = []
        self.n = 0
        self.spans: list[dict] = []
        self.section = "exam"

    def text(self, s: str):
        self.parts.append(s)
        self.n += len(s)

    def add(self, markup: str, upper: bool = False):
        for txt, lab, a, code in parse(markup):
            if upper:
                txt = txt.upper()
            if lab is not None:
                sp = {"start": self.n, "end": self.n + len(txt), "text": txt, "label": lab, "section": self.section}
                if lab == "FINDING":
                    sp["assertion"] = a
                    sp["icd10cm"] = code
                self.spans.append(sp)
            self.text(txt)

    def result(self) -> str:
        return "".join(self.parts)


# ============================================================================ code tables
def load_cpt() -> dict:
    rows = {}
    with open(CODESETS / "cpt_radiology.jsonl", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                rows[d["code"]] = d
    return rows


def load_regions() -> set:
    with open(CODESETS / "regions.jsonl", encoding="utf-8") as f:
        return {json.loads(x)["region"] for x in f if x.strip()}


def load_hcpcs() -> set:
    with open(CODESETS / "hcpcs_radiology.jsonl", encoding="utf-8") as f:
        return {json.loads(x)["code"] for x in f if x.strip()}


def icd_ok(code: str) -> bool:
    import simple_icd_10_cm as cm
    return cm.is_valid_item(code) and cm.is_leaf(code)


# Laterality-coded ICD-10-CM: dict side -> code, where side in right/left/bilateral/None.
def lat(r, l, b, u):
    return {"right": r, "left": l, "bilateral": b, None: u}


def code_for(code, side):
    """Resolve a (possibly side-dependent) code to a tuple of document codes."""
    if code is None:
        return ()
    if isinstance(code, dict):
        c = code.get(side, code[None])
        return tuple(c) if isinstance(c, (tuple, list)) else (c,)
    return (code,)


# ---------------------------------------------------------------------------- findings by domain
# dx: (name, code, location text or "", abbreviation or None)
# sym: (name, code, abbreviation or None)
DOMAINS = {
    "chest": {
        "sym": [("cough", "R05.9", None), ("fever", "R50.9", None), ("shortness of breath", "R06.02", "SOB"),
                ("chest pain", "R07.9", "CP"), ("hemoptysis", "R04.2", None), ("wheezing", "R06.2", None)],
        "dx": [("pneumonia", "J18.9", "in the right lower lobe", "PNA"), ("pleural effusion", "J90", "on the left", None),
               ("pulmonary edema", "J81.0", "", None), ("cardiomegaly", "I51.7", "", None),
               ("atelectasis", "J98.11", "at the left base", None), ("pneumothorax", "J93.9", "on the right", "PTX")],
        "neg": [("pneumothorax", "J93.9"), ("pleural effusion", "J90"), ("focal consolidation", "R91.8"),
                ("pulmonary edema", "J81.0")],
        "normal": ["The lungs are clear.", "Heart size is normal.", "Mediastinal contours are unremarkable.",
                   "Osseous structures are intact."],
        "inc": [("hiatal hernia", "K44.9"), ("aortic atherosclerosis", "I70.0"), ("degenerative changes", "M47.814")],
        "known": [("pneumonia", "J18.9"), ("pleural effusion", "J90"), ("pulmonary nodule", "R91.1")],
        "hyp": [("pneumonia", "J18.9"), ("pneumothorax", "J93.9"), ("pleural effusion", "J90")],
    },
    "chest_ct": {
        "sym": [("cough", "R05.9", None), ("shortness of breath", "R06.02", "SOB"), ("hemoptysis", "R04.2", None),
                ("chest pain", "R07.9", "CP"), ("weight loss", "R63.4", None)],
        "dx": [("pulmonary nodule", "R91.1", "in the right upper lobe", None), ("emphysema", "J43.9", "", None),
               ("pneumonia", "J18.9", "in the left lower lobe", None), ("pleural effusion", "J90", "on the right", None),
               ("mediastinal lymphadenopathy", "R59.0", "", None)],
        "neg": [("pleural effusion", "J90"), ("pneumothorax", "J93.9"), ("mediastinal lymphadenopathy", "R59.0"),
                ("pulmonary nodule", "R91.1")],
        "normal": ["The central airways are patent.", "Heart size is normal.", "No pericardial fluid is present.",
                   "The visualized upper abdomen is unremarkable."],
        "inc": [("hiatal hernia", "K44.9"), ("aortic atherosclerosis", "I70.0"), ("hepatic steatosis", "K76.0"),
                ("thyroid nodule", "E04.1")],
        "known": [("pulmonary nodule", "R91.1"), ("sarcoidosis", "D86.0")],
        "hyp": [("pulmonary nodule", "R91.1"), ("pneumonia", "J18.9"), ("interstitial lung disease", "J84.9")],
    },
    "pe": {
        "sym": [("shortness of breath", "R06.02", "SOB"), ("chest pain", "R07.9", "CP"), ("tachycardia", "R00.0", None),
                ("hypoxia", "R09.02", None)],
        "dx": [("pulmonary embolism", "I26.99", "in the right lower lobe segmental arteries", "PE")],
        "neg": [("pulmonary embolism", "I26.99"), ("aortic dissection", "I71.00"), ("pleural effusion", "J90")],
        "normal": ["The pulmonary arteries are well opacified.", "Heart size is normal.", "The lungs are clear."],
        "inc": [("hiatal hernia", "K44.9"), ("aortic atherosclerosis", "I70.0"), ("pulmonary nodule", "R91.1")],
        "known": [("pulmonary embolism", "I26.99")],
        "hyp": [("pulmonary embolism", "I26.99"), ("aortic dissection", "I71.00")],
    },
    "abdomen": {
        "sym": [("abdominal pain", "R10.9", "abd pain"), ("right lower quadrant pain", "R10.31", "RLQ pain"),
                ("left lower quadrant pain", "R10.32", "LLQ pain"), ("nausea", "R11.0", None),
                ("vomiting", "R11.10", None), ("abdominal distension", "R14.0", None)],
        "dx": [("acute appendicitis", "K35.80", "", None), ("diverticulitis", "K57.32", "of the sigmoid colon", None),
               ("small bowel obstruction", "K56.609", "", "SBO"), ("hydronephrosis", "N13.30", "on the left", None),
               ("renal calculus", "N20.0", "in the left kidney", None)],
        "neg": [("free air", None), ("hydronephrosis", "N13.30"), ("bowel obstruction", "K56.609"),
                ("ascites", "R18.8"), ("abscess", None)],
        "normal": ["The liver, spleen and pancreas are unremarkable.", "The adrenal glands are normal.",
                   "The bladder is decompressed.", "Bowel loops are normal in caliber."],
        "inc": [("renal cyst", "N28.1"), ("hepatic steatosis", "K76.0"), ("umbilical hernia", "K42.9"),
                ("colonic diverticulosis", "K57.30"), ("adrenal nodule", "E27.8")],
        "known": [("diverticulitis", "K57.32"), ("renal calculus", "N20.0"), ("hepatic steatosis", "K76.0")],
        "hyp": [("appendicitis", "K35.80"), ("diverticulitis", "K57.32"), ("bowel obstruction", "K56.609")],
    },
    "abdomen_xr": {
        "sym": [("abdominal pain", "R10.9", "abd pain"), ("constipation", "K59.00", None), ("vomiting", "R11.10", None),
                ("abdominal distension", "R14.0", None)],
        "dx": [("small bowel obstruction", "K56.609", "", "SBO"), ("constipation", "K59.00", "", None),
               ("ileus", "K56.7", "", None)],
        "neg": [("free air", None), ("bowel obstruction", "K56.609"), ("pneumatosis", None)],
        "normal": ["The bowel gas pattern is nonobstructive.", "Visualized osseous structures are unremarkable."],
        "inc": [("pelvic phleboliths", "I87.8"), ("degenerative changes", "M47.816")],
        "known": [("small bowel obstruction", "K56.609")],
        "hyp": [("bowel obstruction", "K56.609"), ("free air", None)],
    },
    "ruq": {
        "sym": [("right upper quadrant pain", "R10.11", "RUQ pain"), ("nausea", "R11.0", None),
                ("elevated liver enzymes", "R74.01", "elevated LFTs"), ("abdominal pain", "R10.9", "abd pain")],
        "dx": [("cholelithiasis", "K80.20", "", None), ("hepatic steatosis", "K76.0", "", None),
               ("choledocholithiasis", "K80.50", "", None)],
        "neg": [("gallbladder wall thickening", None), ("pericholecystic fluid", None), ("biliary dilatation", None),
                ("ascites", "R18.8")],
        "normal": ["The liver is normal in echotexture.", "The common bile duct measures 4 mm.",
                   "The pancreas is partially obscured by bowel gas.", "The spleen measures 10 cm."],
        "inc": [("renal cyst", "N28.1"), ("splenomegaly", "R16.1")],
        "known": [("cholelithiasis", "K80.20"), ("hepatic steatosis", "K76.0")],
        "hyp": [("cholecystitis", "K81.0"), ("cholelithiasis", "K80.20")],
    },
    "kidney": {
        "sym": [("hematuria", "R31.9", None), ("acute kidney injury", "N17.9", "AKI"),
                ("urinary tract infection", "N39.0", "UTI"), ("flank pain", "R10.9", None)],
        "dx": [("hydronephrosis", "N13.30", "on the right", None), ("renal calculus", "N20.0", "in the right kidney", None),
               ("renal cyst", "N28.1", "in the left upper pole", None)],
        "neg": [("hydronephrosis", "N13.30"), ("renal calculus", "N20.0"), ("solid renal mass", None)],
        "normal": ["The right kidney measures 11.2 cm.", "The left kidney measures 11.0 cm.",
                   "Corticomedullary differentiation is preserved.", "The bladder is normally distended."],
        "inc": [("renal cyst", "N28.1"), ("hepatic steatosis", "K76.0")],
        "known": [("renal cyst", "N28.1"), ("hydronephrosis", "N13.30")],
        "hyp": [("hydronephrosis", "N13.30"), ("obstruction", "N13.9")],
    },
    "pelvis": {
        "sym": [("pelvic pain", "R10.20", None), ("abnormal uterine bleeding", "N93.9", "AUB"),
                ("lower abdominal pain", "R10.30", None)],
        "dx": [("uterine fibroid", "D25.9", "", None), ("ovarian cyst", "N83.209", "in the right ovary", None),
               ("endometrial polyp", "N84.0", "", None)],
        "neg": [("adnexal mass", None), ("free fluid", None), ("ovarian torsion", None)],
        "normal": ["The uterus is anteverted and normal in size.", "The endometrium measures 6 mm.",
                   "Both ovaries are visualized with normal follicles."],
        "inc": [("nabothian cyst", "N88.8")],
        "known": [("uterine fibroid", "D25.9"), ("ovarian cyst", "N83.209")],
        "hyp": [("ovarian torsion", "N83.519"), ("ovarian cyst", "N83.209")],
    },
    "neuro": {
        "sym": [("headache", "R51.9", "HA"), ("dizziness", "R42", None), ("syncope", "R55", None),
                ("altered mental status", "R41.82", "AMS"), ("right-sided weakness", "R53.1", None),
                ("seizure", "R56.9", None)],
        "dx": [("acute infarct", "I63.9", "in the left MCA territory", None),
               ("intracranial hemorrhage", "I62.9", "in the right basal ganglia", "ICH"),
               ("meningioma", "D32.9", "along the left frontal convexity", None)],
        "neg": [("intracranial hemorrhage", "I62.9"), ("acute infarct", "I63.9"), ("mass effect", None),
                ("hydrocephalus", "G91.9"), ("midline shift", None)],
        "normal": ["The ventricles are normal in size.", "Gray-white differentiation is preserved.",
                   "The basal cisterns are patent.", "The calvarium is intact."],
        "inc": [("sinusitis", "J32.9"), ("small vessel ischemic changes", "I67.82"), ("cerebral atrophy", "G31.9")],
        "known": [("meningioma", "D32.9"), ("brain metastases", "C79.31")],
        "hyp": [("stroke", "I63.9"), ("intracranial hemorrhage", "I62.9"), ("mass", None)],
    },
    "neurovascular": {
        "sym": [("dizziness", "R42", None), ("syncope", "R55", None), ("carotid bruit", "R09.89", None),
                ("amaurosis fugax", "G45.3", None), ("headache", "R51.9", "HA")],
        "dx": [("carotid stenosis", lat("I65.21", "I65.22", "I65.23", "I65.29"), "", None),
               ("aneurysm", "I67.1", "of the anterior communicating artery", None)],
        "neg": [("hemodynamically significant stenosis", None), ("dissection", None), ("aneurysm", "I67.1"),
                ("large vessel occlusion", None)],
        "normal": ["Antegrade flow is present in both vertebral arteries.", "The intracranial arteries are patent.",
                   "The vertebral arteries are codominant."],
        "inc": [("thyroid nodule", "E04.1"), ("aortic atherosclerosis", "I70.0")],
        "known": [("carotid stenosis", lat("I65.21", "I65.22", "I65.23", "I65.29")), ("aneurysm", "I67.1")],
        "hyp": [("carotid stenosis", lat("I65.21", "I65.22", "I65.23", "I65.29")), ("dissection", None)],
    },
    "cspine": {
        "sym": [("neck pain", "M54.2", None), ("cervical radiculopathy", "M54.12", None), ("numbness", "R20.2", None)],
        "dx": [("spondylosis", "M47.812", "at C5-C6 and C6-C7", None),
               ("disc herniation", "M50.20", "at C5-C6", None), ("spinal stenosis", "M48.02", "at C4-C5", None)],
        "neg": [("fracture", "S12.9XXA"), ("prevertebral soft tissue swelling", None), ("subluxation", None)],
        "normal": ["Vertebral body heights are maintained.", "Alignment is normal.",
                   "The craniocervical junction is unremarkable."],
        "inc": [("thyroid nodule", "E04.1")],
        "known": [("disc herniation", "M50.20"), ("spondylosis", "M47.812")],
        "hyp": [("fracture", "S12.9XXA"), ("disc herniation", "M50.20")],
    },
    "lspine": {
        "sym": [("low back pain", "M54.50", "LBP"), ("lumbar radiculopathy", "M54.16", None),
                ("sciatica", lat("M54.31", "M54.32", ("M54.31", "M54.32"), "M54.30"), None)],
        "dx": [("disc herniation", "M51.26", "at L4-L5", None), ("spinal stenosis", "M48.061", "at L3-L4", None),
               ("spondylosis", "M47.816", "throughout the lumbar spine", None),
               ("compression fracture", "M48.56XA", "of L1", None)],
        "neg": [("fracture", "S32.009A"), ("spondylolisthesis", "M43.16"), ("nerve root compression", None)],
        "normal": ["Vertebral body heights are maintained.", "Alignment is normal.", "The conus terminates at L1."],
        "inc": [("renal cyst", "N28.1"), ("aortic atherosclerosis", "I70.0")],
        "known": [("disc herniation", "M51.26"), ("spinal stenosis", "M48.061")],
        "hyp": [("disc herniation", "M51.26"), ("fracture", "S32.009A")],
    },
    "venous": {
        "sym": [("leg swelling", "R60.0", None), ("calf pain", lat("M79.661", "M79.662", ("M79.661", "M79.662"), "M79.669"), None)],
        "dx": [("deep venous thrombosis", lat("I82.401", "I82.402", "I82.403", "I82.409"), "in the popliteal vein", "DVT")],
        "neg": [("deep venous thrombosis", lat("I82.401", "I82.402", "I82.403", "I82.409")), ("thrombus", None)],
        "normal": ["The common femoral, femoral and popliteal veins are fully compressible.",
                   "Normal phasic flow and augmentation are present.", "The calf veins are patent."],
        "inc": [("popliteal cyst", lat("M71.21", "M71.22", ("M71.21", "M71.22"), "M71.20"))],
        "known": [("deep venous thrombosis", lat("I82.401", "I82.402", "I82.403", "I82.409"))],
        "hyp": [("deep venous thrombosis", lat("I82.401", "I82.402", "I82.403", "I82.409")), ("DVT", lat("I82.401", "I82.402", "I82.403", "I82.409"))],
    },
    "breast": {
        "sym": [("palpable lump", lat("N63.10", "N63.20", ("N63.10", "N63.20"), "N63.0"), None),
                ("breast pain", "N64.4", None), ("nipple discharge", "N64.52", None)],
        "dx": [("mass", lat("N63.10", "N63.20", ("N63.10", "N63.20"), "N63.0"), "at 10 o'clock", None),
               ("simple cyst", lat("N60.01", "N60.02", ("N60.01", "N60.02"), "N60.09"), "at 2 o'clock", None),
               ("fibroadenoma", lat("D24.1", "D24.2", ("D24.1", "D24.2"), "D24.9"), "at 6 o'clock", None)],
        "neg": [("mass", lat("N63.10", "N63.20", ("N63.10", "N63.20"), "N63.0")), ("architectural distortion", "R92.8"),
                ("suspicious calcifications", "R92.1"), ("axillary adenopathy", "R59.0")],
        "normal": ["The skin and nipples are unremarkable.", "No significant change from the prior examination."],
        "inc": [("benign calcifications", "R92.1")],
        "known": [("simple cyst", lat("N60.01", "N60.02", ("N60.01", "N60.02"), "N60.09")),
                  ("fibroadenoma", lat("D24.1", "D24.2", ("D24.1", "D24.2"), "D24.9"))],
        "hyp": [("malignancy", "C50.919"), ("mass", lat("N63.10", "N63.20", ("N63.10", "N63.20"), "N63.0"))],
    },
    "thyroid": {
        "sym": [("neck mass", "R22.1", None), ("neck swelling", "R22.1", None), ("hyperthyroidism", "E05.90", None)],
        "dx": [("thyroid nodule", "E04.1", "in the right lobe", None), ("multinodular goiter", "E04.2", "", None)],
        "neg": [("cervical lymphadenopathy", "R59.0"), ("suspicious nodule", None)],
        "normal": ["The thyroid gland is normal in size.", "The isthmus measures 3 mm.", "Vascularity is normal."],
        "inc": [("cervical lymphadenopathy", "R59.0")],
        "known": [("thyroid nodule", "E04.1"), ("multinodular goiter", "E04.2")],
        "hyp": [("thyroid nodule", "E04.1"), ("thyroiditis", "E06.9")],
    },
    "scrotum": {
        "sym": [("scrotal pain", "N50.82", None), ("scrotal swelling", "N50.89", None)],
        "dx": [("hydrocele", "N43.3", "on the right", None), ("varicocele", "I86.1", "on the left", None),
               ("epididymitis", "N45.1", "on the left", None)],
        "neg": [("testicular torsion", "N44.00"), ("intratesticular mass", None)],
        "normal": ["Both testes are normal in size and echotexture.", "Arterial and venous flow are symmetric."],
        "inc": [("epididymal cyst", "N50.3")],
        "known": [("hydrocele", "N43.3")],
        "hyp": [("testicular torsion", "N44.00"), ("epididymitis", "N45.1")],
    },
    "aorta": {
        "sym": [("abdominal pain", "R10.9", "abd pain"), ("pulsatile abdominal mass", "R19.00", None)],
        "dx": [("abdominal aortic aneurysm", "I71.40", "measuring 3.6 cm", "AAA")],
        "neg": [("abdominal aortic aneurysm", "I71.40"), ("dissection", None)],
        "normal": ["The abdominal aorta measures 1.9 cm in maximal diameter.", "The iliac arteries are normal in caliber."],
        "inc": [("renal cyst", "N28.1")],
        "known": [("abdominal aortic aneurysm", "I71.40")],
        "hyp": [("aneurysm", "I71.40")],
    },
    "dexa": {
        "sym": [("postmenopausal", "Z78.0", None), ("long-term steroid use", "Z79.52", None)],
        "dx": [("osteopenia", "M85.80", "", None), ("osteoporosis", "M81.0", "", None)],
        "neg": [("osteoporosis", "M81.0")],
        "normal": ["Lumbar spine L1-L4 T-score -0.6.", "Left femoral neck T-score -0.8.", "Total hip T-score -0.4."],
        "inc": [],
        "known": [("osteopenia", "M85.80"), ("osteoporosis", "M81.0")],
        "hyp": [("osteoporosis", "M81.0")],
    },
    "bone_nm": {
        "sym": [("bone pain", "M89.9", None), ("back pain", "M54.9", None)],
        "dx": [("osseous metastases", "C79.51", "in the spine and pelvis", None)],
        "neg": [("osseous metastatic disease", "C79.51"), ("fracture", None)],
        "normal": ["Physiologic renal and bladder activity.", "Symmetric uptake throughout the axial skeleton."],
        "inc": [("degenerative changes", "M19.90")],
        "known": [("prostate cancer", "C61"), ("breast cancer", "C50.919")],
        "hyp": [("osseous metastases", "C79.51")],
    },
    "hida": {
        "sym": [("right upper quadrant pain", "R10.11", "RUQ pain"), ("nausea", "R11.0", None)],
        "dx": [("acute cholecystitis", "K81.0", "", None), ("biliary dyskinesia", "K82.8", "", None)],
        "neg": [("acute cholecystitis", "K81.0"), ("cystic duct obstruction", None)],
        "normal": ["Prompt homogeneous hepatic uptake.", "Small bowel activity by 40 minutes.",
                   "Gallbladder filling by 30 minutes."],
        "inc": [],
        "known": [("cholelithiasis", "K80.20")],
        "hyp": [("acute cholecystitis", "K81.0")],
    },
    "vq": {
        "sym": [("shortness of breath", "R06.02", "SOB"), ("chest pain", "R07.9", "CP"), ("hypoxia", "R09.02", None)],
        "dx": [("pulmonary embolism", "I26.99", "", "PE")],
        "neg": [("pulmonary embolism", "I26.99"), ("perfusion defect", None)],
        "normal": ["Ventilation images show homogeneous distribution.", "Perfusion is matched throughout both lungs."],
        "inc": [],
        "known": [("pulmonary embolism", "I26.99")],
        "hyp": [("pulmonary embolism", "I26.99")],
    },
    "cardiac_nm": {
        "sym": [("chest pain", "R07.9", "CP"), ("exertional dyspnea", "R06.09", None)],
        "dx": [("ischemia", "I25.9", "in the inferior wall", None), ("infarction", "I25.2", "of the inferior wall", None)],
        "neg": [("ischemia", "I25.9"), ("infarction", "I25.2")],
        "normal": ["Left ventricular ejection fraction is 61%.", "Wall motion is normal.", "TID ratio 1.01."],
        "inc": [],
        "known": [("coronary artery disease", "I25.10")],
        "hyp": [("ischemia", "I25.9")],
    },
    "pet": {
        "sym": [("weight loss", "R63.4", None)],
        "dx": [("nodal metastases", "C77.1", "in the mediastinum", None), ("osseous metastases", "C79.51", "in the sacrum", None)],
        "neg": [("distant metastatic disease", "C79.9"), ("hypermetabolic lymphadenopathy", None)],
        "normal": ["Physiologic activity in the brain, myocardium and urinary tract.", "Marrow uptake is homogeneous."],
        "inc": [("thyroid nodule", "E04.1"), ("colonic diverticulosis", "K57.30")],
        "known": [("lung cancer", "C34.90"), ("non-Hodgkin lymphoma", "C85.90"), ("melanoma", "C43.9")],
        "hyp": [("metastatic disease", "C79.9")],
    },
    "esophagus": {
        "sym": [("dysphagia", "R13.10", None), ("heartburn", "R12", None), ("epigastric pain", "R10.13", None)],
        "dx": [("hiatal hernia", "K44.9", "", None), ("esophageal stricture", "K22.2", "", None),
               ("gastroesophageal reflux", "K21.9", "", "GER"), ("gastric ulcer", "K25.9", "", None)],
        "neg": [("stricture", "K22.2"), ("filling defect", None), ("mass", None)],
        "normal": ["Esophageal motility is normal.", "The stomach and duodenal bulb distend normally."],
        "inc": [("hiatal hernia", "K44.9")],
        "known": [("esophageal stricture", "K22.2")],
        "hyp": [("stricture", "K22.2"), ("peptic ulcer", "K27.9")],
    },
    "colon": {
        "sym": [("constipation", "K59.00", None), ("change in bowel habits", "R19.4", None)],
        "dx": [("diverticulosis", "K57.30", "of the sigmoid colon", None)],
        "neg": [("stricture", None), ("mass", None), ("filling defect", None)],
        "normal": ["The colon is well distended to the cecum.", "Reflux into the terminal ileum is noted."],
        "inc": [],
        "known": [("diverticulosis", "K57.30")],
        "hyp": [("stricture", None), ("mass", None)],
    },
    "vcug": {
        "sym": [("urinary tract infection", "N39.0", "UTI"), ("hydronephrosis", "N13.30", None)],
        "dx": [("vesicoureteral reflux", "N13.70", "on the left", "VUR")],
        "neg": [("vesicoureteral reflux", "N13.70"), ("diverticulum", "N32.3")],
        "normal": ["The bladder is smooth walled.", "The urethra is normal during voiding."],
        "inc": [],
        "known": [("vesicoureteral reflux", "N13.70")],
        "hyp": [("vesicoureteral reflux", "N13.70")],
    },
}

# MSK joints: pain, OA, fracture codes by side; MR-specific lesion.
MSK = {
    "knee": dict(pain=lat("M25.561", "M25.562", ("M25.561", "M25.562"), "M25.569"),
                 oa=("osteoarthritis", lat("M17.11", "M17.12", "M17.0", "M17.10")),
                 fx=("patellar fracture", lat("S82.001A", "S82.002A", ("S82.001A", "S82.002A"), "S82.009A")),
                 mr=("meniscal tear", lat("S83.241A", "S83.242A", ("S83.241A", "S83.242A"), "S83.249A")),
                 eff=("joint effusion", lat("M25.461", "M25.462", ("M25.461", "M25.462"), "M25.469"))),
    "shoulder": dict(pain=lat("M25.511", "M25.512", ("M25.511", "M25.512"), "M25.519"),
                     oa=("osteoarthritis", lat("M19.011", "M19.012", ("M19.011", "M19.012"), "M19.019")),
                     fx=("proximal humerus fracture", lat("S42.201A", "S42.202A", ("S42.201A", "S42.202A"), "S42.209A")),
                     mr=("rotator cuff tear", lat("M75.101", "M75.102", ("M75.101", "M75.102"), "M75.100")),
                     eff=("joint effusion", lat("M25.411", "M25.412", ("M25.411", "M25.412"), "M25.419"))),
    "wrist": dict(pain=lat("M25.531", "M25.532", ("M25.531", "M25.532"), "M25.539"),
                  oa=("osteoarthritis", lat("M19.031", "M19.032", ("M19.031", "M19.032"), "M19.039")),
                  fx=("distal radius fracture", lat("S52.501A", "S52.502A", ("S52.501A", "S52.502A"), "S52.509A"))),
    "hand": dict(pain=lat("M79.641", "M79.642", ("M79.641", "M79.642"), "M79.643"),
                 oa=("osteoarthritis", lat("M19.041", "M19.042", ("M19.041", "M19.042"), "M19.049")),
                 fx=("fracture", lat("S62.91XA", "S62.92XA", ("S62.91XA", "S62.92XA"), "S62.90XA"))),
    "ankle": dict(pain=lat("M25.571", "M25.572", ("M25.571", "M25.572"), "M25.579"),
                  oa=("osteoarthritis", lat("M19.071", "M19.072", ("M19.071", "M19.072"), "M19.079")),
                  fx=("ankle fracture", lat("S82.891A", "S82.892A", ("S82.891A", "S82.892A"), "S82.899A"))),
    "foot": dict(pain=lat("M79.671", "M79.672", ("M79.671", "M79.672"), "M79.673"),
                 oa=("osteoarthritis", lat("M19.071", "M19.072", ("M19.071", "M19.072"), "M19.079")),
                 fx=("fifth metatarsal fracture", lat("S92.351A", "S92.352A", ("S92.351A", "S92.352A"), "S92.353A"))),
    "hip": dict(pain=lat("M25.551", "M25.552", ("M25.551", "M25.552"), "M25.559"),
                oa=("osteoarthritis", lat("M16.11", "M16.12", "M16.0", "M16.10")),
                fx=("femoral neck fracture", lat("S72.001A", "S72.002A", ("S72.001A", "S72.002A"), "S72.009A"))),
    "elbow": dict(pain=lat("M25.521", "M25.522", ("M25.521", "M25.522"), "M25.529"),
                  oa=("osteoarthritis", lat("M19.021", "M19.022", ("M19.021", "M19.022"), "M19.029")),
                  fx=("radial head fracture", lat("S52.121A", "S52.122A", ("S52.121A", "S52.122A"), "S52.123A"))),
}


def msk_domain(joint: str, mr: bool) -> dict:
    j = MSK[joint]
    pain = (f"{joint} pain", j["pain"], None)
    dx = [(j["oa"][0], j["oa"][1], "", "OA"),
          (j["fx"][0], j["fx"][1], "", None)]
    if mr and "mr" in j:
        dx = [(j["mr"][0], j["mr"][1], "", None)] + dx[:1]
    neg = [("fracture", None), ("dislocation", None)]
    if "eff" in j:
        neg.append((j["eff"][0], j["eff"][1]))
    return {
        "sym": [pain, ("swelling", None, None)] if False else [pain],
        "dx": dx,
        "neg": neg,
        "normal": ["Alignment is anatomic.", "Bone mineralization is normal.", "The soft tissues are unremarkable."],
        "inc": [("osteopenia", "M85.80")] if not mr else ([("popliteal cyst", lat("M71.21", "M71.22", ("M71.21", "M71.22"), "M71.20"))] if joint == "knee" else []),
        "known": [(j["oa"][0], j["oa"][1]), (j["fx"][0], j["fx"][1])],
        "hyp": [(j["fx"][0], j["fx"][1])] + ([(j["mr"][0], j["mr"][1])] if mr and "mr" in j else []),
    }


for _j in MSK:
    DOMAINS["msk_" + _j] = msk_domain(_j, False)
    DOMAINS["mskmr_" + _j] = msk_domain(_j, True)

# Cancers: name, active code, personal-history Z85 code, family-history Z80 code, domains where plausible.
CANCERS = [("breast cancer", "C50.919", "Z85.3", "Z80.3"), ("colon cancer", "C18.9", "Z85.038", "Z80.0"),
           ("lung cancer", "C34.90", "Z85.118", "Z80.1"), ("prostate cancer", "C61", "Z85.46", "Z80.42"),
           ("melanoma", "C43.9", "Z85.820", "Z80.8"), ("renal cell carcinoma", "C64.9", "Z85.528", "Z80.51")]
FAMILY_OTHER = {"dexa": ("osteoporosis", "M81.0", "Z82.62"), "neuro": ("stroke", "I63.9", "Z82.3"),
                "neurovascular": ("stroke", "I63.9", "Z82.3"), "aorta": ("abdominal aortic aneurysm", "I71.40", "Z82.49")}


# ============================================================================ exam table
def X(key, group, mod, region, domain, anat, kind, codes, mods=None, paired=False, **kw):
    """One exam type. kind: xr (codes by view count) | ctmr (codes by contrast) | us (codes by extent)
    | fixed (one code list) | ir (guided procedure)."""
    e = dict(key=key, group=group, modality=mod, region=region, domain=domain, anat=anat, kind=kind, codes=codes,
             mods=mods or ["{M:%s}" % mod], paired=paired)
    e.update(kw)
    return e


XRM = ["{M:XR}", "{M:X-ray}", "{M:Radiograph}"]
EXAMS = [
    # ---------------------------------------------------------------- XR
    X("xr_chest", "XR", "XR", "chest", "chest", ["{A:chest}"], "xr", {1: "71045", 2: "71046", 3: "71047"},
      mods=XRM + ["{M:CXR}"], weight=5, repeat=True),
    X("xr_abd", "XR", "XR", "abdomen", "abdomen_xr", ["{A:abdomen}"], "xr", {1: "74018", 2: "74019", 3: "74021"},
      mods=XRM, weight=1.2),
    X("xr_cspine", "XR", "XR", "cervical_spine", "cspine", ["{A:cervical spine}", "{A:c-spine}"], "xr",
      {2: "72040", 3: "72040", 4: "72050"}, mods=XRM, weight=1),
    X("xr_lspine", "XR", "XR", "lumbar_spine", "lspine", ["{A:lumbar spine}", "{A:l-spine}"], "xr",
      {2: "72100", 3: "72100", 4: "72110"}, mods=XRM, weight=1.2),
    X("xr_knee", "XR", "XR", "knee", "msk_knee", ["{A:knee}"], "xr", {2: "73560", 3: "73562", 4: "73564"},
      mods=XRM, paired=True, weight=2, repeat=True),
    X("xr_shoulder", "XR", "XR", "shoulder", "msk_shoulder", ["{A:shoulder}"], "xr", {1: "73020", 2: "73030", 3: "73030"},
      mods=XRM, paired=True, weight=1.3, repeat=True),
    X("xr_wrist", "XR", "XR", "wrist", "msk_wrist", ["{A:wrist}"], "xr", {2: "73100", 3: "73110"}, mods=XRM,
      paired=True, weight=1.2, repeat=True),
    X("xr_hand", "XR", "XR", "hand", "msk_hand", ["{A:hand}"], "xr", {2: "73120", 3: "73130"}, mods=XRM, paired=True,
      weight=1),
    X("xr_ankle", "XR", "XR", "ankle", "msk_ankle", ["{A:ankle}"], "xr", {2: "73600", 3: "73610"}, mods=XRM,
      paired=True, weight=1.3),
    X("xr_foot", "XR", "XR", "foot", "msk_foot", ["{A:foot}"], "xr", {2: "73620", 3: "73630"}, mods=XRM, paired=True,
      weight=1),
    X("xr_hip", "XR", "XR", "hip", "msk_hip", ["{A:hip}"], "xr", {1: "73501", 2: "73502", 3: "73502"}, mods=XRM,
      paired=True, bilateral_codes={2: "73521", 3: "73522"}, weight=1.2),
    X("xr_elbow", "XR", "XR", "elbow", "msk_elbow", ["{A:elbow}"], "xr", {2: "73070", 3: "73080"}, mods=XRM,
      paired=True, weight=0.8),
    # ---------------------------------------------------------------- CT / CTA
    X("ct_head", "CT", "CT", "head", "neuro", ["{A:head}", "{A:brain}"], "ctmr",
      {"without": "70450", "with": "70460", "without_with": "70470"}, weight=3, prefer="without", repeat=True),
    X("ct_chest", "CT", "CT", "chest", "chest_ct", ["{A:chest}"], "ctmr",
      {"without": "71250", "with": "71260", "without_with": "71270"}, weight=3),
    X("ct_abdpel", "CT", "CT", "abdomen_pelvis", "abdomen",
      ["{A:abdomen} and {A:pelvis}", "{A:abdomen/pelvis}", "{A:abd/pelvis}"], "ctmr",
      {"without": "74176", "with": "74177", "without_with": "74178"}, weight=6, oral=True, prefer="with"),
    X("ct_abd", "CT", "CT", "abdomen", "abdomen", ["{A:abdomen}"], "ctmr",
      {"without": "74150", "with": "74160", "without_with": "74170"}, weight=1.5, oral=True),
    X("ct_cspine", "CT", "CT", "cervical_spine", "cspine", ["{A:cervical spine}", "{A:c-spine}"], "ctmr",
      {"without": "72125", "with": "72126", "without_with": "72127"}, weight=1, prefer="without"),
    X("ct_lspine", "CT", "CT", "lumbar_spine", "lspine", ["{A:lumbar spine}"], "ctmr",
      {"without": "72131", "with": "72132", "without_with": "72133"}, weight=0.7, prefer="without"),
    X("ct_sinus", "CT", "CT", "sinus", "neuro", ["{A:sinuses}", "{A:paranasal sinuses}"], "ctmr",
      {"without": "70486", "with": "70487", "without_with": "70488"}, weight=0.6, prefer="without"),
    X("ct_ankle", "CT", "CT", "ankle", "msk_ankle", ["{A:ankle}"], "ctmr",
      {"without": "73700", "with": "73701", "without_with": "73702"}, paired=True, weight=0.7, prefer="without"),
    X("ct_ldct", "CT", "CT", "chest", "chest_ct", ["{A:chest}"], "fixed", ["71271"], weight=1.2, screening="lung",
      fixed_contrast="without"),
    X("cta_chest", "CT", "CTA", "chest", "pe", ["{A:chest}"], "ctmr", {"with": "71275"}, weight=1.6, mods=["{M:CTA}"]),
    X("cta_head", "CT", "CTA", "head", "neurovascular", ["{A:head}"], "ctmr", {"with": "70496"}, weight=0.8,
      mods=["{M:CTA}"]),
    X("cta_neck", "CT", "CTA", "neck", "neurovascular", ["{A:neck}"], "ctmr", {"with": "70498"}, weight=0.8,
      mods=["{M:CTA}"]),
    # ---------------------------------------------------------------- MR / MRA
    X("mr_brain", "MR", "MR", "brain", "neuro", ["{A:brain}"], "ctmr",
      {"without": "70551", "with": "70552", "without_with": "70553"}, mods=["{M:MRI}", "{M:MR}"], weight=3),
    X("mr_lspine", "MR", "MR", "lumbar_spine", "lspine", ["{A:lumbar spine}", "{A:l-spine}"], "ctmr",
      {"without": "72148", "with": "72149", "without_with": "72158"}, mods=["{M:MRI}", "{M:MR}"], weight=2.5,
      prefer="without"),
    X("mr_cspine", "MR", "MR", "cervical_spine", "cspine", ["{A:cervical spine}", "{A:c-spine}"], "ctmr",
      {"without": "72141", "with": "72142", "without_with": "72156"}, mods=["{M:MRI}", "{M:MR}"], weight=1.2,
      prefer="without"),
    X("mr_knee", "MR", "MR", "knee", "mskmr_knee", ["{A:knee}"], "ctmr",
      {"without": "73721", "with": "73722", "without_with": "73723"}, mods=["{M:MRI}", "{M:MR}"], paired=True,
      weight=2, prefer="without"),
    X("mr_shoulder", "MR", "MR", "shoulder", "mskmr_shoulder", ["{A:shoulder}"], "ctmr",
      {"without": "73221", "with": "73222", "without_with": "73223"}, mods=["{M:MRI}", "{M:MR}"], paired=True,
      weight=1.5, prefer="without"),
    X("mr_abd", "MR", "MR", "abdomen", "abdomen", ["{A:abdomen}"], "ctmr",
      {"without": "74181", "with": "74182", "without_with": "74183"}, mods=["{M:MRI}", "{M:MR}"], weight=0.8,
      prefer="without_with"),
    X("mr_breast", "MR", "MR", "breast", "breast", ["{A:breast}"], "ctmr",
      {"without": "77046", "without_with": "77048"}, mods=["{M:MRI}", "{M:MR}"], paired=True,
      bilateral_codes={"without": "77047", "without_with": "77049"}, weight=0.6, prefer="without_with"),
    X("mra_head", "MR", "MRA", "head", "neurovascular", ["{A:head}", "{A:circle of Willis}"], "ctmr",
      {"without": "70544", "with": "70545", "without_with": "70546"}, mods=["{M:MRA}"], weight=0.8, prefer="without"),
    X("mra_neck", "MR", "MRA", "neck", "neurovascular", ["{A:neck}"], "ctmr",
      {"without": "70547", "with": "70548", "without_with": "70549"}, mods=["{M:MRA}"], weight=0.6),
    # ---------------------------------------------------------------- US / DUPLEX
    X("us_abd", "US", "US", "abdomen", "ruq", ["{A:abdomen}"], "us", {"complete": "76700", "limited": "76705"},
      mods=["{M:US}", "{M:Ultrasound}"], weight=2.5, repeat=True),
    X("us_renal", "US", "US", "kidney", "kidney", ["{A:renal}", "{A:kidneys}"], "us",
      {"complete": "76770", "limited": "76775"}, mods=["{M:US}", "{M:Ultrasound}"], weight=1.5),
    X("us_pelvis", "US", "US", "pelvis", "pelvis", ["{A:pelvis}"], "us", {"complete": "76856", "limited": "76857"},
      mods=["{M:US}", "{M:Ultrasound}"], weight=1.3, female=True),
    X("us_thyroid", "US", "US", "thyroid", "thyroid", ["{A:thyroid}"], "us", {None: "76536"},
      mods=["{M:US}", "{M:Ultrasound}"], weight=1),
    X("us_scrotum", "US", "US", "scrotum", "scrotum", ["{A:scrotum}", "{A:scrotal}"], "us", {None: "76870"},
      mods=["{M:US}", "{M:Ultrasound}"], weight=0.6, male=True),
    X("us_breast", "US", "US", "breast", "breast", ["{A:breast}"], "us", {"complete": "76641", "limited": "76642"},
      mods=["{M:US}", "{M:Ultrasound}"], paired=True, weight=1, female=True),
    X("us_aaa", "US", "US", "abdominal_aorta", "aorta", ["{A:abdominal aorta}"], "us", {None: "76706"},
      mods=["{M:US}", "{M:Ultrasound}"], weight=0.6, screening="aaa"),
    X("dup_le", "US", "DUPLEX", "lower_extremity_veins", "venous", ["{A:lower extremity veins}", "{A:lower extremity venous}"],
      "us", {"complete": "93971", "limited": "93971"}, mods=["{M:duplex}", "{M:Doppler}"], paired=True,
      bilateral_codes={"complete": "93970"}, weight=2.2, extent_default="complete"),
    X("dup_carotid", "US", "DUPLEX", "carotid", "neurovascular", ["{A:carotid}"], "us",
      {"complete": "93880", "limited": "93882"}, mods=["{M:duplex}", "{M:Doppler}"], weight=1.2,
      extent_default="complete", inherent_bilateral=True),
    # ---------------------------------------------------------------- MAMMO / DBT
    X("mammo_screen", "MAMMO", "MAMMO", "breast", "breast", ["{A:breast}"], "mammo", ["77067"], weight=2,
      screening="mammo", female=True),
    X("mammo_dx", "MAMMO", "MAMMO", "breast", "breast", ["{A:breast}"], "mammo", ["77065"], paired=True,
      bilateral_codes=["77066"], weight=1.5, female=True),
    # ---------------------------------------------------------------- NM / PET
    X("nm_bone", "NM", "NM", "whole_body", "bone_nm", [], "fixed", ["78306"], weight=1, hcpcs=[("A9503", 1)]),
    X("nm_hida", "NM", "NM", "hepatobiliary", "hida", [], "fixed", ["78226"], weight=0.8, hcpcs=[("A9537", 1)]),
    X("nm_vq", "NM", "NM", "lung", "vq", [], "fixed", ["78582"], weight=0.7, hcpcs=[("A9567", 1), ("A9540", 1)]),
    X("nm_mpi", "NM", "NM", "heart", "cardiac_nm", [], "fixed", ["78452"], weight=0.7,
      hcpcs=[("A9500", 2), ("J2785", 4)]),
    X("pet", "NM", "PET", "skull_base_to_mid_thigh", "pet", [], "fixed", ["78815"], weight=1.3, hcpcs=[("A9552", 1)],
      fixed_contrast="without"),
    # ---------------------------------------------------------------- DEXA
    X("dexa", "DEXA", "DEXA", "axial_skeleton", "dexa", [], "fixed", ["77080"], weight=1, screening="dexa", female=True),
    # ---------------------------------------------------------------- FLUORO
    X("fl_esoph", "FLUORO", "FLUORO", "esophagus", "esophagus", [], "fixed", ["74220"], weight=1),
    X("fl_ugi", "FLUORO", "FLUORO", "upper_gi", "esophagus", [], "fixed", ["74240"], weight=0.8),
    X("fl_be", "FLUORO", "FLUORO", "colon", "colon", [], "fixed", ["74270"], weight=0.6),
    X("fl_vcug", "FLUORO", "FLUORO", "bladder", "vcug", [], "fixed", ["51600", "74455"], weight=0.6, child=True),
    X("fl_arthro_sh", "FLUORO", "FLUORO", "shoulder", "msk_shoulder", [], "ir", ["23350", "73040"], paired=True,
      weight=1.2, guidance="FLUORO", proc="arthro_shoulder"),
    X("fl_arthro_hip", "FLUORO", "FLUORO", "hip", "msk_hip", [], "ir", ["27093", "73525"], paired=True, weight=0.8,
      guidance="FLUORO", proc="arthro_hip"),
    # ---------------------------------------------------------------- IR
    X("ir_para", "IR", "IR", "peritoneum", None, [], "ir", ["49083"], guidance="US", proc="para", weight=1),
    X("ir_thora", "IR", "IR", "pleura", None, [], "ir", ["32555"], guidance="US", proc="thora", paired=True, weight=1),
    X("ir_thyroid", "IR", "IR", "thyroid", None, [], "ir", ["10005"], guidance="US", proc="thyroid_fna", weight=1),
    X("ir_breast", "IR", "IR", "breast", None, [], "ir", ["19083"], guidance="US", proc="breast_bx", paired=True,
      weight=1, female=True),
    X("ir_lung", "IR", "IR", "lung", None, [], "ir", ["32408"], guidance="CT", proc="lung_bx", weight=1),
    X("ir_knee", "IR", "IR", "knee", None, [], "ir", ["20611"], guidance="US", proc="knee_inj", paired=True, weight=1,
      hcpcs=[("J3301", 4)]),
    X("ir_lp", "IR", "IR", "lumbar_spine", None, [], "ir", ["62328"], guidance="FLUORO", proc="lp", weight=0.8),
    X("ir_liver", "IR", "IR", "liver", None, [], "ir", ["47000", "76942"], guidance="US", proc="liver_bx", weight=0.8),
    X("ir_picc", "IR", "IR", "central_venous_access", None, [], "ir", ["36573"], guidance="US", proc="picc", weight=0.8),
]
EXAM_BY_KEY = {e["key"]: e for e in EXAMS}
COMPANION = {"ct_chest": "ct_abdpel", "ct_abdpel": "ct_chest", "xr_chest": "xr_abd", "mr_brain": "mra_head",
             "cta_head": "cta_neck", "cta_neck": "cta_head", "us_abd": "us_pelvis", "xr_knee": None}

GROUP_WEIGHTS = [("XR", 0.34), ("CT", 0.20), ("US", 0.15), ("MR", 0.12), ("MAMMO", 0.06), ("NM", 0.04),
                 ("DEXA", 0.02), ("FLUORO", 0.02), ("IR", 0.05)]

# IR / guided procedure scripts: title variants, technique, indication, impression, ICD.
# {side} placeholders are filled with a LATERALITY span (or nothing when laterality is missing).
PROCS = {
    "para": dict(
        titles=["{G:ULTRASOUND-GUIDED} {P:PARACENTESIS}", "{G:US-guided} diagnostic and therapeutic {P:paracentesis}"],
        ind=["{F:cirrhosis|p|K74.60} with tense {F:ascites|p|R18.8}.", "Known {F:cirrhosis|p|K74.60}, recurrent {F:ascites|p|R18.8}."],
        icd=["K74.60", "R18.8"],
        tech=["After informed consent and time-out, the left lower quadrant was prepped and draped. Under {G:ultrasound guidance}, a 5 Fr catheter was advanced into the {A:peritoneal cavity} and {n} mL of straw-colored fluid was removed. Samples were sent for cell count and culture."],
        imp=["Technically successful {G:ultrasound-guided} {P:paracentesis} with removal of {n} mL.",
             "Uncomplicated {G:US-guided} {P:paracentesis}, {n} mL removed."],
        post="No {F:hematoma|n|} at the puncture site."),
    "thora": dict(
        titles=["{G:ULTRASOUND-GUIDED} {side}{P:THORACENTESIS}", "{side}{P:thoracentesis} with {G:ultrasound guidance}"],
        ind=["{F:pleural effusion|p|J90} with {F:shortness of breath|p|R06.02}.", "Symptomatic {F:pleural effusion|p|J90}."],
        icd=["J90"],
        tech=["After informed consent and time-out, the patient was seated and the {sidel}{A:posterior chest} was prepped. Under {G:ultrasound guidance}, a 6 Fr catheter was advanced into the {A:pleural space} and {n} mL of fluid was removed."],
        imp=["Successful {G:ultrasound-guided} {sidel}{P:thoracentesis}, {n} mL removed.",
             "Technically successful {P:thoracentesis} with {G:ultrasound guidance}."],
        post="Post-procedure imaging shows no {F:pneumothorax|n|J95.811}."),
    "thyroid_fna": dict(
        titles=["{G:ULTRASOUND-GUIDED} {P:FINE NEEDLE ASPIRATION}, {A:THYROID}", "{G:US-guided} {A:thyroid} {P:FNA}"],
        ind=["1.8 cm {F:thyroid nodule|p|E04.1} in the right lobe, TI-RADS 4.", "Enlarging {F:thyroid nodule|p|E04.1}."],
        icd=["E04.1"],
        tech=["After informed consent and time-out, the neck was prepped. Under {G:ultrasound guidance}, four passes were made into the right {A:thyroid} nodule with 25-gauge needles. Specimens were sent to cytology."],
        imp=["Successful {G:ultrasound-guided} {P:fine needle aspiration} of the right {A:thyroid} nodule.",
             "{G:US-guided} {P:FNA} of the {A:thyroid} nodule, 4 passes."],
        post="No {F:hematoma|n|} was seen after the procedure."),
    "breast_bx": dict(
        titles=["{G:ULTRASOUND-GUIDED} {P:CORE BIOPSY}, {side}{A:BREAST}", "{G:US-guided} {side}{A:breast} {P:core needle biopsy}"],
        ind=["{F:mass|p|BREASTMASS} at 10 o'clock, BI-RADS 4.", "Suspicious {F:mass|p|BREASTMASS} on diagnostic ultrasound."],
        icd=["BREASTMASS"],
        tech=["After informed consent and time-out, the {sidel}{A:breast} was prepped and anesthetized. Under {G:ultrasound guidance}, five 14-gauge core samples were obtained. A clip was placed and imaged."],
        imp=["Successful {G:ultrasound-guided} {P:core biopsy} of the {sidel}{A:breast} mass with clip placement. Pathology pending.",
             "{G:US-guided} {P:biopsy} of the {sidel}{A:breast} mass. Pathology pending."],
        post="No {F:hematoma|n|} on post-procedure images."),
    "lung_bx": dict(
        titles=["{G:CT-GUIDED} {A:LUNG} {P:BIOPSY}", "{G:CT-guided} {P:core needle biopsy}, {A:lung}"],
        ind=["2.4 cm {F:lung mass|p|R91.8} in the right upper lobe.", "Enlarging {F:pulmonary nodule|p|R91.1} in the right upper lobe."],
        icd=["LUNGIND"],
        tech=["After informed consent and time-out, the patient was placed prone. Under {G:CT guidance}, a 19-gauge coaxial needle was advanced into the right upper lobe {A:lung} lesion and three 20-gauge core samples were obtained."],
        imp=["Successful {G:CT-guided} {P:biopsy} of the right upper lobe {A:lung} lesion.",
             "{G:CT-guided} {P:core needle biopsy} of the {A:lung} lesion, 3 samples."],
        post="Small {F:pneumothorax|p|J95.811} that did not require treatment."),
    "knee_inj": dict(
        titles=["{G:ULTRASOUND-GUIDED} {side}{A:KNEE} {P:INJECTION}", "{G:US-guided} {P:injection}, {side}{A:knee}"],
        ind=["{F:osteoarthritis|p|KNEEOA} with persistent pain.", "Symptomatic {F:osteoarthritis|p|KNEEOA}."],
        icd=["KNEEOA"],
        tech=["After informed consent and time-out, the {sidel}{A:knee} was prepped. Under {G:ultrasound guidance}, a 22-gauge needle was placed in the suprapatellar recess and 40 mg triamcinolone with 4 mL lidocaine was injected."],
        imp=["Successful {G:ultrasound-guided} {sidel}{A:knee} {P:injection}.",
             "{G:US-guided} {P:injection} of the {sidel}{A:knee} with 40 mg triamcinolone."],
        post=None),
    "lp": dict(
        titles=["{G:FLUOROSCOPY-GUIDED} {P:LUMBAR PUNCTURE}", "{P:Lumbar puncture} under {G:fluoroscopic guidance}"],
        ind=["{F:headache|p|R51.9}, evaluate for {F:idiopathic intracranial hypertension|y|G93.2}.",
             "Chronic {F:headache|p|R51.9}. R/o {F:meningitis|y|G03.9}."],
        icd=["R51.9"],
        tech=["After informed consent and time-out, the patient was placed prone. Under {G:fluoroscopic guidance}, a 20-gauge spinal needle was advanced into the thecal sac at L3-L4 and 12 mL of clear CSF was collected."],
        imp=["Successful {G:fluoroscopically guided} {P:lumbar puncture} at L3-L4.",
             "Technically successful {P:lumbar puncture} under {G:fluoroscopic guidance}."],
        post=None),
    "liver_bx": dict(
        titles=["{G:ULTRASOUND-GUIDED} {A:LIVER} {P:BIOPSY}", "{G:US-guided} random {A:liver} {P:biopsy}"],
        ind=["Persistently {F:elevated liver enzymes|p|R74.01}.", "{F:Elevated liver enzymes|p|R74.01} of unclear cause."],
        icd=["R74.01"],
        tech=["After informed consent and time-out, the right upper quadrant was prepped. Under {G:ultrasound guidance}, two 18-gauge core samples were obtained from the right lobe of the {A:liver}."],
        imp=["Successful {G:ultrasound-guided} {P:biopsy} of the {A:liver}.",
             "{G:US-guided} {A:liver} {P:biopsy}, 2 cores."],
        post="No {F:hematoma|n|} after the procedure."),
    "picc": dict(
        titles=["{P:PICC PLACEMENT}", "{G:Ultrasound-guided} {P:PICC placement}"],
        ind=["{F:osteomyelitis|p|M86.9} requiring {F:long-term IV antibiotics|p|Z79.2}.",
             "Needs {F:long-term IV antibiotics|p|Z79.2} for {F:osteomyelitis|p|M86.9}."],
        icd=["M86.9", "Z79.2"],
        tech=["After informed consent and time-out, the right arm was prepped. Under {G:ultrasound guidance}, the right basilic vein was accessed and a 5 Fr double-lumen PICC was advanced with the tip at the cavoatrial junction under {G:fluoroscopic guidance}."],
        imp=["Successful {P:PICC placement} via the right basilic vein, ready for use.",
             "{G:Ultrasound-guided} {P:PICC placement}; tip at the cavoatrial junction."],
        post=None),
    "arthro_shoulder": dict(
        titles=["{side}{A:SHOULDER} {P:ARTHROGRAM}", "{G:FLUOROSCOPY-GUIDED} {side}{A:shoulder} {P:arthrogram}"],
        ind=["{F:shoulder pain|p|SHPAIN}, evaluate for {F:labral tear|y|S43.439A}.",
             "{F:Shoulder pain|p|SHPAIN}, r/o {F:labral tear|y|S43.439A}. MR arthrogram to follow."],
        icd=["SHPAIN"],
        tech=["After informed consent and time-out, the {sidel}{A:shoulder} was prepped. Under {G:fluoroscopic guidance}, a 22-gauge needle was placed into the glenohumeral joint and 12 mL of dilute {C:gadolinium} mixed with {C:Omnipaque 300} was injected."],
        imp=["Successful {G:fluoroscopically guided} {sidel}{A:shoulder} {P:arthrogram} injection for MR arthrography."],
        post=None),
    "arthro_hip": dict(
        titles=["{side}{A:HIP} {P:ARTHROGRAM}", "{G:FLUOROSCOPY-GUIDED} {side}{A:hip} {P:arthrogram}"],
        ind=["{F:hip pain|p|HIPPAIN}, evaluate for {F:labral tear|y|S73.199A}."],
        icd=["HIPPAIN"],
        tech=["After informed consent and time-out, the {sidel}{A:hip} was prepped. Under {G:fluoroscopic guidance}, a 22-gauge spinal needle was placed into the joint and 10 mL of dilute {C:gadolinium} with {C:Omnipaque 300} was injected."],
        imp=["Successful {G:fluoroscopically guided} {sidel}{A:hip} {P:arthrogram} injection."],
        post=None),
}
PROC_SIDE_CODES = {
    "BREASTMASS": lat("N63.10", "N63.20", ("N63.10", "N63.20"), "N63.0"),
    "KNEEOA": lat("M17.11", "M17.12", "M17.0", "M17.10"),
    "SHPAIN": lat("M25.511", "M25.512", ("M25.511", "M25.512"), "M25.519"),
    "HIPPAIN": lat("M25.551", "M25.552", ("M25.551", "M25.552"), "M25.559"),
}


# ============================================================================ phrase banks
PRES_FIND = ["There is {f} {loc}.", "{F} is present {loc}.", "{F} is noted {loc}.", "Findings {loc} consistent with {f}."]
PRES_IMP = ["{F} noted.", "Findings consistent with {f}.", "{F} {loc}.", "Compatible with {f}."]
NEG = ["No {f}.", "No evidence of {f}.", "Negative for {f}.", "There is no {f}."]
NEG2 = ["No {f} or {g}.", "No evidence of {f} or {g}.", "Negative for {f} and {g}."]
UNC_FIND = ["Possible {f} {loc}.", "Findings {loc} suspicious for {f}.", "Questionable {f} {loc}.",
            "Subtle abnormality {loc} may represent {f}."]
UNC_IMP = ["{F} cannot be excluded.", "Possible {f}.", "Probable {f}.", "Findings concerning for {f}.",
           "Cannot exclude {f}."]
HYP = ["Evaluate for {f}.", "Rule out {f}.", "Assess for {f}.", "r/o {f}", "eval for {f}"]
HIST = ["History of {f}.", "Hx of {f}.", "h/o {f}", "Prior {f}, treated."]
FAM = ["Family history of {f}.", "Mother with {f}.", "FHx {f}", "Sister with {f}.", "Father with {f}."]
KNOWN = ["Follow-up of known {f}.", "Known {f}, follow-up.", "f/u known {f}"]
STABLE = ["Stable {f} {loc}.", "Unchanged {f} {loc}.", "{F} is again seen {loc}, without change."]
NORMAL_IMP = ["No acute abnormality.", "Normal examination.", "Negative study.", "No acute findings."]
TYPOS = {"unremarkable": "unremarakble", "normal": "normla", "preserved": "perserved", "intact": "intcat",
         "maintained": "maintaned", "visualized": "visualised", "clear": "claer", "patent": "patnet"}
AGES = ["34", "41", "47", "52", "58", "63", "67", "71", "76", "82"]


def fm(name, a, code):
    return "{F:%s|%s|%s}" % (name, a, code or "")


def fill(tmpl, f, loc="", g=None):
    s = tmpl.replace("{F}", cap(f)).replace("{f}", f).replace("{g}", g or "").replace("{loc}", loc)
    s = re.sub(r" +", " ", s).replace(" .", ".").replace(" ,", ",")
    return cap(s) if not s.startswith("r/o") and not s.startswith("eval") and not s.startswith("h/o") \
        and not s.startswith("f/u") else s


# ============================================================================ report composition
class Doc:
    def __init__(self):
        self.title = ""
        self.ind: list[str] = []
        self.tech: list[str] = []
        self.comp = "None."
        self.find: list[str] = []
        self.imp: list[str] = []
        self.icd = {"screen": [], "main": [], "sym": [], "hx": [], "other": [], "inc": [], "fam": []}
        self.flags: list[str] = []
        self.tags: set = set()
        self.tech_needed = False

    def code(self, bucket, codes):
        for c in codes:
            if c and c not in self.icd[bucket]:
                self.icd[bucket].append(c)

    def icd_list(self):
        d = self.icd
        first = d["main"] if d["main"] else d["sym"]
        if not first and not d["screen"] and d["hx"]:
            first = ["Z08"]
        out = []
        for c in d["screen"] + first + d["hx"] + d["other"] + d["inc"] + d["fam"]:
            if c not in out:
                out.append(c)
        return out


def side_markup(side, upper=False, rng=None, terse=False):
    if side is None:
        return ""
    w = {"right": "right", "left": "left", "bilateral": "bilateral"}[side]
    if terse and side == "bilateral" and rng and rng.random() < 0.5:
        w = "b/l"
    if upper:
        w = w.upper()
    return "{L:%s} " % w


def fcode(code, side):
    cs = code_for(code, side)
    return cs


def compose(exam, plan, rng) -> Doc:
    d = Doc()
    feats = plan["feats"]
    side = plan["side"]
    style = plan["style"]
    terse = style == "terse"
    dom = DOMAINS.get(exam["domain"]) if exam["domain"] else None
    fside = side if side in ("right", "left") else (None if "missing_laterality" in feats else rng.choice(["right", "left"]))
    # ------------------------------------------------------------------ indication
    sex = "F" if exam.get("female") else ("M" if exam.get("male") else rng.choice("MF"))
    age = rng.choice(AGES) if not exam.get("child") else rng.choice(["3", "5", "7"])
    outcome = plan["outcome"]
    main_dx = None
    if exam["kind"] == "ir":
        return compose_ir(exam, plan, rng, d, side, sex, age)
    syms = []
    if "missing_indication" not in feats:
        if exam["key"] in ("pet", "nm_bone"):
            kn = rng.choice(dom["known"]) if exam["key"] == "pet" else rng.choice(dom["known"])
            if exam["key"] == "pet" and plan.get("pet_mod") == "PI":
                s0 = "Initial staging of newly diagnosed {f}."
            elif exam["key"] == "pet":
                s0 = "Restaging of {f} after chemotherapy."
            else:
                s0 = rng.choice(["Staging of {f}.", "Known {f}, evaluate for osseous metastases."])
            if "evaluate for" in s0:
                s0 = "Known {f}. Evaluate for " + fm("osseous metastases", "y", "C79.51") + "."
            d.ind.append(fill(s0, fm(kn[0], "p", kn[1])))
            d.code("main", [kn[1]])
        elif exam.get("screening"):
            scr = {"mammo": ("screening", "Z12.31"), "dexa": ("screening", "Z13.820"), "lung": ("screening", "Z12.2"),
                   "aaa": ("screening", "Z13.6")}[exam["screening"]]
            who = f"{age} yo {sex}" if terse else f"{age}-year-old {'woman' if sex == 'F' else 'man'}"
            d.ind.append(f"{who}, annual {fm(scr[0], 'p', scr[1])}." if exam["screening"] != "aaa"
                         else f"{who}, {fm(scr[0], 'p', scr[1])} for abdominal aortic aneurysm.")
            d.code("screen", [scr[1]])
            if exam["screening"] in ("lung", "aaa"):
                d.ind.append(rng.choice(["30 pack-year history of {F:smoking|h|Z87.891}, quit 2016.",
                                         "Former smoker with a history of {F:tobacco use|h|Z87.891}."]))
                d.code("other", ["Z87.891"])
            if exam["screening"] == "dexa":
                d.ind.append(f"{fm('Postmenopausal', 'p', 'Z78.0')}.")
                d.code("other", ["Z78.0"])
        else:
            k = 1 if rng.random() < 0.5 else 2
            cand = list(dom["sym"])
            rng.shuffle(cand)
            syms = cand[:k]
            parts = []
            for name, code, abbr in syms:
                nm = abbr if (terse and abbr and rng.random() < 0.6) else name
                if exam["paired"] and side in ("right", "left") and name.endswith(" pain") and rng.random() < 0.5:
                    nm = f"{side} {fm(nm, 'p', fcode(code, fside)[0] if fcode(code, fside) else '')}"
                    parts.append(nm)
                else:
                    cs = fcode(code, side if side else fside)
                    parts.append(fm(nm, "p", cs[0] if cs else ""))
                d.code("other" if exam["domain"] == "dexa" else "sym", fcode(code, side if side else fside))
            if terse:
                d.ind.append(", ".join(parts))
            else:
                who = rng.choice([f"{age} yo {sex} with ", f"{age}-year-old {'woman' if sex == 'F' else 'man'} with ", ""])
                s = " and ".join(parts) if len(parts) == 2 else parts[0]
                d.ind.append(cap(who + s + rng.choice([".", " x 3 days.", " for 2 weeks."])))
        if "follow_up_known_disease" in feats:
            kn = rng.choice(dom["known"])
            cs = fcode(kn[1], fside)
            if exam["domain"].startswith("msk") and cs and cs[0].startswith("S") and cs[0].endswith("A"):
                cs = tuple(c[:-1] + "D" for c in cs)
            main_dx = (kn[0], cs)
            d.ind.append(fill(rng.choice(KNOWN), fm(kn[0], "p", cs[0] if cs else "")))
        if "hypothetical_finding" in feats and dom["hyp"]:
            hy = rng.choice(dom["hyp"])
            cs = fcode(hy[1], fside)
            d.ind.append(fill(rng.choice(HYP), fm(hy[0], "y", cs[0] if cs else "")))
        if "history_of_cancer" in feats:
            ca = plan["cancer"]
            d.ind.append(fill(rng.choice(HIST), fm(ca[0], "h", ca[1])))
            d.code("hx", [ca[2]])
        if "family_history" in feats:
            fam = plan["family"]
            d.ind.append(fill(rng.choice(FAM), fm(fam[0], "f", fam[1])))
            d.code("fam", [fam[2]])
    else:
        d.ind.append(rng.choice(["None provided.", "Not provided.", "No clinical history given."]))
        d.flags.append("missing_indication")
    if "repeat_service" in feats:
        d.ind.append(rng.choice(["Repeat examination, same date, requested by the clinical team for reassessment.",
                                 "Repeat same-day study after the earlier examination today."]))
    # ------------------------------------------------------------------ findings
    loc_dx = None
    if outcome in ("dx", "uncertain") and main_dx is None:
        dx = rng.choice(dom["dx"])
        cs = fcode(dx[1], fside)
        loc = dx[2]
        if isinstance(dx[1], dict) and fside and side not in ("right", "left") and "missing_laterality" not in feats:
            loc = (loc + f" on the {fside}").strip()
        loc_dx = (dx[0], cs, loc, dx[3])
    if outcome == "dx":
        name, cs, loc, abbr = loc_dx
        d.find.append(fill(rng.choice(PRES_FIND), fm(name, "p", cs[0] if cs else ""), loc))
        d.imp.append(fill(rng.choice(PRES_IMP), fm(name, "p", cs[0] if cs else ""), loc))
        d.code("main", cs)
    elif outcome == "uncertain":
        name, cs, loc, abbr = loc_dx
        d.find.append(fill(rng.choice(UNC_FIND), fm(name, "u", cs[0] if cs else ""), loc))
        d.imp.append(fill(rng.choice(UNC_IMP), fm(name, "u", cs[0] if cs else "")))
        d.tags.add("uncertain_finding")
    if main_dx is not None:
        name, cs = main_dx
        d.find.append(fill(rng.choice(STABLE), fm(name, "p", cs[0] if cs else ""), ""))
        d.imp.append(fill(rng.choice(["Stable {f}.", "Known {f}, unchanged.", "{F}, stable."]), fm(name, "p", cs[0] if cs else "")))
        d.code("main", cs)
    main_names = {loc_dx[0] if loc_dx else None, main_dx[0] if main_dx else None}
    negs = [n for n in dom["neg"] if n[0] not in main_names]
    rng.shuffle(negs)
    if negs and (outcome == "normal" or rng.random() < 0.8):
        if len(negs) >= 2 and rng.random() < 0.5:
            a, b = negs[0], negs[1]
            ca, cb = fcode(a[1], fside), fcode(b[1], fside)
            d.find.append(fill(rng.choice(NEG2), fm(a[0], "n", ca[0] if ca else ""), "", fm(b[0], "n", cb[0] if cb else "")))
        else:
            a = negs[0]
            ca = fcode(a[1], fside)
            d.find.append(fill(rng.choice(NEG), fm(a[0], "n", ca[0] if ca else "")))
    normals = list(dom["normal"])
    rng.shuffle(normals)
    if exam["domain"] == "dexa" and outcome != "normal":
        normals = ["Lowest T-score %s at the left femoral neck." % ("-2.7" if loc_dx and loc_dx[0] == "osteoporosis" else "-1.8")]
    for s in normals[:rng.randint(1, 3)]:
        if plan.get("typo") and rng.random() < 0.5:
            for w, t in TYPOS.items():
                if w in s:
                    s = s.replace(w, t, 1)
                    plan["typo"] = False
                    break
        d.find.append(s)
    if "incidental_finding" in feats and dom["inc"]:
        inc = rng.choice(dom["inc"])
        cs = fcode(inc[1], fside)
        d.find.append(fill(rng.choice(["Incidental {f}.", "Incidentally noted {f}.", "There is {f}, incidental."]),
                           fm(inc[0], "p", cs[0] if cs else "")))
        if rng.random() < 0.6:
            d.imp.append(fill("Incidental {f}.", fm(inc[0], "p", cs[0] if cs else "")))
        d.code("inc", cs)
    if outcome == "normal":
        if negs and rng.random() < 0.5:
            a = negs[0]
            ca = fcode(a[1], fside)
            d.imp.append(fill(rng.choice(NORMAL_IMP[:1] + ["No {f}.", "No evidence of {f}."]), fm(a[0], "n", ca[0] if ca else "")) if False
                         else fill(rng.choice(["No {f}.", "No evidence of {f}."]), fm(a[0], "n", ca[0] if ca else "")))
        else:
            d.imp.insert(0, rng.choice(NORMAL_IMP))
    if not d.imp:
        d.imp.append(rng.choice(NORMAL_IMP))
    return d


def compose_ir(exam, plan, rng, d, side, sex, age):
    feats = plan["feats"]
    pr = PROCS[exam["proc"]]
    fside = side if side in ("right", "left") else None

    def sub(s, upper=False):
        for key, codes in PROC_SIDE_CODES.items():
            if key in s:
                s = s.replace(key, code_for(codes, fside)[0])
        s = s.replace("{side}", side_markup(side, upper=upper)).replace("{sidel}", side_markup(side))
        return s.replace("{n}", str(rng.choice([900, 1200, 2500, 3800])))
    d.title = sub(rng.choice(pr["titles"]))
    if "missing_indication" in feats:
        d.ind.append("Not provided.")
        d.flags.append("missing_indication")
    else:
        ind = sub(rng.choice(pr["ind"]))
        d.ind.append(cap(ind))
        for txt, lab, a, code in parse(ind):
            if lab == "FINDING" and a == "present" and code and code != "R06.02":
                d.code("main", [code])
        if "history_of_cancer" in feats:
            ca = plan["cancer"]
            d.ind.append(fill(rng.choice(HIST), fm(ca[0], "h", ca[1])))
            d.code("hx", [ca[2]])
        if "family_history" in feats:
            fam = plan["family"]
            d.ind.append(fill(rng.choice(FAM), fm(fam[0], "f", fam[1])))
            d.code("fam", [fam[2]])
    d.tech.append(sub(rng.choice(pr["tech"])))
    d.tech_needed = True
    if pr.get("post"):
        d.find.append(sub(pr["post"]))
        for txt, lab, a, code in parse(pr["post"]):
            if lab == "FINDING" and a == "present" and code:
                d.code("inc", [code])
    d.find.append(rng.choice(["The patient tolerated the procedure well.", "There were no immediate complications.",
                              "Estimated blood loss minimal."]))
    d.imp.append(sub(rng.choice(pr["imp"])))
    return d


# ============================================================================ exam text, frames and codes
PLURAL = {"knee": "knees", "hip": "hips", "shoulder": "shoulders", "wrist": "wrists", "hand": "hands", "ankle": "ankles",
          "foot": "feet", "elbow": "elbows", "breast": "breasts", "lower extremity veins": "lower extremity veins",
          "lower extremity venous": "lower extremity venous"}
NUMW = {1: "one", 2: "two", 3: "three", 4: "four"}
CON_TITLE = {"without": ["{C:without contrast}", "{C:w/o contrast}", "{C:WITHOUT IV CONTRAST}", "{C:non-contrast}"],
             "with": ["{C:with contrast}", "{C:with IV contrast}", "{C:w/ contrast}"],
             "without_with": ["{C:without and with contrast}", "{C:with and without contrast}", "{C:w/wo contrast}",
                              "{C:without and with IV contrast}"]}
FIXED_TEXT = {
    "nm_bone": (["{M:BONE SCAN}, {A:WHOLE BODY}", "{M:Nuclear medicine} {M:bone scan}, {A:whole body}"],
                ["{n} mCi Tc-99m MDP IV; {A:whole body} planar images at 3 hours."]),
    "nm_hida": (["{A:HEPATOBILIARY} {M:SCINTIGRAPHY}", "{M:Nuclear medicine} {A:hepatobiliary} scan"],
                ["5.2 mCi Tc-99m mebrofenin IV with dynamic imaging for 60 minutes."]),
    "nm_vq": (["{A:LUNG} VENTILATION AND PERFUSION {M:SCINTIGRAPHY}", "{M:Nuclear medicine} {A:lung} ventilation/perfusion scan"],
              ["Ventilation with 30 mCi Tc-99m DTPA aerosol followed by perfusion with 4.1 mCi Tc-99m MAA IV, 8 views each."]),
    "nm_mpi": (["{A:MYOCARDIAL} PERFUSION {M:SPECT}, REST AND REGADENOSON STRESS", "{A:Myocardial} perfusion {M:SPECT}"],
               ["Rest: 10 mCi Tc-99m sestamibi IV. Stress: regadenoson 0.4 mg IV followed by 30 mCi Tc-99m sestamibi with gated {M:SPECT}."]),
    "pet": (["{M:PET/CT} {A:SKULL BASE TO MID-THIGH}", "{M:PET/CT}, {A:skull base to mid-thigh}"],
            ["{n} mCi F-18 FDG IV; fasting glucose 96 mg/dL. {C:Non-contrast} {M:CT} for attenuation correction and localization."]),
    "dexa": (["{M:DXA} {M:BONE DENSITY}, {A:AXIAL SKELETON}", "{M:DEXA} {A:HIP/SPINE}"],
             ["{M:Dual-energy x-ray absorptiometry} of the {A:lumbar spine} and {A:hips}."]),
    "fl_esoph": (["{M:ESOPHAGRAM}, {C:SINGLE CONTRAST}", "{M:Esophagram}"],
                 ["Thin {C:barium} was ingested in the upright and prone positions under {M:fluoroscopy}. Fluoroscopy time 1.8 min."]),
    "fl_ugi": (["{A:UPPER GI} SERIES, {C:SINGLE CONTRAST}", "{A:Upper GI} series"],
               ["After a scout image, thin {C:barium} was ingested under {M:fluoroscopy} with spot images of the stomach and duodenum."]),
    "fl_be": (["{C:SINGLE-CONTRAST} {C:BARIUM} ENEMA", "{C:Barium} enema, {C:single contrast}"],
              ["{C:Barium} was instilled via rectal tube under {M:fluoroscopy} with overhead images."]),
    "fl_vcug": (["{M:VOIDING CYSTOURETHROGRAM} ({M:VCUG})", "{M:VCUG}"],
                ["{P:Urethral catheterization} was performed with an 8 Fr feeding tube and {C:Cysto-Conray II} was instilled by gravity under {M:fluoroscopy}."]),
    "ct_ldct": (["{M:CT} {A:CHEST} LOW DOSE, LUNG CANCER {F:SCREENING|p|Z12.2}", "Low-dose {M:CT} {A:chest} for lung cancer {F:screening|p|Z12.2}"],
                ["Low-dose axial {M:CT} images of the {A:chest} were obtained {C:without contrast}."]),
}


def modifiers(code, side, setting, extra=()):
    row = CPT[code]
    mods = []
    if row["pctc"] == 1 and setting == "professional":
        mods.append("26")
    elif row["pctc"] == 1 and setting == "technical":
        mods.append("TC")
    if side in ("right", "left") and row["laterality"] == "unilateral":
        mods.append("RT" if side == "right" else "LT")
    mods.extend(extra)
    return mods


def cpt_lines(code, side, setting, extra=()):
    row = CPT[code]
    if side == "bilateral" and row["laterality"] == "unilateral":
        if row["bilateral_indicator"] == 3:
            return [{"code": code, "modifiers": modifiers(code, "right", setting, extra), "units": 1},
                    {"code": code, "modifiers": modifiers(code, "left", setting, extra), "units": 1}]
        if row["bilateral_indicator"] == 1:
            return [{"code": code, "modifiers": modifiers(code, None, setting, ("50",) + tuple(extra)), "units": 1}]
    return [{"code": code, "modifiers": modifiers(code, side, setting, extra), "units": 1}]


def frame(mod, region, side, contrast="na", views=None, extent=None, guidance=None):
    return {"modality": mod, "region": region, "laterality": side, "contrast": contrast, "views": views,
            "extent": extent, "guidance": guidance}


def anat_for(exam, side, rng):
    a = rng.choice(exam["anat"]) if exam["anat"] else ""
    if side == "bilateral":
        m = MARK.search(a)
        if m and m.group(2) in PLURAL:
            a = "{A:%s}" % PLURAL[m.group(2)]
    return a


def exam_block(exam, plan, rng, d, setting, first=True):
    """Adds title pieces and technique for one exam; returns (title markup, frames, cpt lines, hcpcs lines)."""
    feats = plan["feats"]
    side = plan["side"] if first else None
    terse = plan["style"] == "terse"
    kind = exam["kind"]
    extra = []
    if first and "reduced_service" in feats:
        extra.append("52")
    if first and "repeat_service" in feats:
        extra.append(plan["repeat_mod"])
    mod = rng.choice(exam["mods"]) if exam["mods"] else ""
    anat = anat_for(exam, side, rng)
    latm = side_markup(side, rng=rng, terse=terse)
    frames, cpt, hcpcs = [], [], []
    if kind == "xr":
        n = plan["views"] if first else min(exam["codes"])
        hn = plan.get("hdr_views", n) if first else n
        if "CXR" in mod:
            base = "{M:CXR}"
        else:
            base = rng.choice([f"{mod} {latm}{anat}", f"{latm}{anat}", f"{mod} {latm}{anat},"])
        if exam["key"] == "xr_chest" and hn == 2:
            vq = rng.choice(["{V:PA and lateral}", "{V:PA/lat}", "{V:2 views}", "{V:two views}"])
        elif hn == 1:
            vq = rng.choice(["{V:single view}", "{V:1 view}", "{V:AP} portable"])
        else:
            vq = rng.choice(["{V:%d views}" % hn, "{V:%s views}" % NUMW[hn]])
        title = f"{base} {vq}"
        tv = {1: "Single AP view", 2: "PA and lateral views" if exam["key"] == "xr_chest" else rng.choice(["AP and lateral views", "Frontal and lateral views"]),
              3: "AP, lateral and oblique views", 4: "AP, lateral and both oblique views"}[n]
        tanat = anat if anat else "{A:chest}"
        d.tech.append("{V:%s} of the %s%s." % (tv, side_markup(side), tanat.replace("{A:", "{A:").lower() if False else tanat))
        if hn != n:
            d.tech[-1] = d.tech[-1][:-1] + rng.choice([", only %s obtained." % ("one view" if n == 1 else "%s views" % NUMW[n]),
                                                       ". Only these were obtained."])
            d.tech_needed = True
        bc = exam.get("bilateral_codes") or {}
        if side == "bilateral" and n in bc:
            cpt += cpt_lines(bc[n], None, setting, extra)
        else:
            cpt += cpt_lines(exam["codes"][n], side, setting, extra)
        frames.append(frame("XR", exam["region"], side, "na", n))
    elif kind == "ctmr":
        con = plan["contrast"] if first else plan.get("contrast_companion", plan["contrast"])
        if con not in exam["codes"]:
            con = next(iter(exam["codes"]))
        hcon = plan.get("hdr_contrast", con) if first else con
        ct = exam["modality"] in ("CT", "CTA")
        cphr = rng.choice(CON_TITLE[hcon]) if hcon in CON_TITLE and (hcon != "with" or exam["modality"] not in ("CTA",) or rng.random() < 0.5) else ""
        if plan.get("title_no_contrast") and first:
            cphr = ""
        if cphr.startswith("{C:non-contrast}"):
            title = f"{cphr} {mod} {latm}{anat}"
        else:
            title = f"{mod} {latm}{anat} {cphr}".strip()
        tanat = anat
        if ct:
            intro = "Axial {M:CT} images of the %s%s were obtained" % (side_markup(side), tanat)
        else:
            intro = "Multiplanar multisequence {M:MRI} of the %s%s was performed" % (side_markup(side), tanat)
        agent, ml = ("{C:Omnipaque 350}", rng.choice([75, 80, 100])) if ct else (rng.choice(["{C:MultiHance}", "{C:ProHance}"]), rng.choice([10, 15, 18]))
        if first and "contrast_not_given" in feats:
            why = rng.choice(["{F:contrast allergy|p|Z91.041}", "{F:chronic kidney disease|p|N18.9}"])
            d.tech.append("%s {C:without contrast}. {C:IV contrast} was ordered but not given due to %s." % (intro, why))
            d.code("other", [parse(why)[0][3]])
            d.tech_needed = True
        elif first and "oral_contrast_only" in feats:
            d.tech.append("%s with {C:oral contrast} only; {C:no IV contrast} was given." % intro)
            d.tech_needed = True
        elif con == "without":
            d.tech.append("%s {C:without contrast}." % intro)
        elif con == "with":
            if rng.random() < 0.4:
                d.tech.append("%s following the administration of {C:intravenous contrast}." % intro)
            else:
                d.tech.append("%s after intravenous administration of %d mL %s." % (intro, ml, agent))
                hcpcs.append({"code": "Q9967" if ct else ("A9577" if "Multi" in agent else "A9576"), "units": ml})
        else:
            d.tech.append("%s before and after intravenous administration of %d mL %s." % (intro, ml, agent))
            hcpcs.append({"code": "Q9967" if ct else ("A9577" if "Multi" in agent else "A9576"), "units": ml})
        if first and "reduced_service" in feats:
            d.tech.append("The examination was terminated early due to patient motion; only sagittal images were obtained. {V:Limited} examination.")
            d.tech_needed = True
        bc = exam.get("bilateral_codes") or {}
        if side == "bilateral" and con in bc:
            cpt += cpt_lines(bc[con], None, setting, extra)
        else:
            cpt += cpt_lines(exam["codes"][con], side, setting, extra)
        frames.append(frame(exam["modality"], exam["region"], side, con, None,
                            "limited" if first and "reduced_service" in feats else None))
    elif kind == "us":
        ext = plan.get("extent") if first else ("complete" if "complete" in exam["codes"] else None)
        if ext not in exam["codes"]:
            ext = "complete" if "complete" in exam["codes"] else None
        hext = plan.get("hdr_extent", ext) if first else ext
        eq = (" {V:%s}" % hext) if hext and (hext != exam.get("extent_default") or rng.random() < 0.4) else ""
        if exam["modality"] == "DUPLEX":
            title = rng.choice([f"{latm}{anat} {mod}{eq}", f"{mod} {latm}{anat}{eq}"])
            d.tech.append("Compression and {M:Doppler} evaluation of the %s%s was performed." % (side_markup(side), anat))
        else:
            title = rng.choice([f"{mod} {latm}{anat}{eq}", f"{mod} {anat}, {latm}{eq.strip()}" if side else f"{mod} {anat}{eq}"]).rstrip(", ")
            d.tech.append("Grayscale and color {M:Doppler} images of the %s%s were obtained." % (side_markup(side), anat))
        if hext != ext:
            d.tech.append("Only the liver and gallbladder were evaluated; {V:limited} examination.")
            d.tech_needed = True
        bc = exam.get("bilateral_codes") or {}
        if side == "bilateral" and ext in bc:
            cpt += cpt_lines(bc[ext], None, setting, extra)
        else:
            cpt += cpt_lines(exam["codes"][ext], side, setting, extra)
        fl = "bilateral" if exam.get("inherent_bilateral") else side
        frames.append(frame(exam["modality"], exam["region"], fl, "na", None, ext))
    elif kind == "mammo":
        dbt = plan.get("dbt")
        if exam.get("screening"):
            s = side if "reduced_service" in feats else "bilateral"
            lm = side_markup(s, upper=False)
            title = rng.choice([f"{{F:SCREENING|p|Z12.31}} {{M:MAMMOGRAM}}, {lm}".rstrip(", "),
                                f"{lm}{{F:screening|p|Z12.31}} {{M:mammogram}}"])
            code, dcode = "77067", "77063"
        else:
            s = side
            lm = side_markup(s)
            title = rng.choice([f"DIAGNOSTIC {{M:MAMMOGRAM}}, {lm}".rstrip(", "), f"{lm}diagnostic {{M:mammogram}}"])
            code = "77066" if s == "bilateral" else "77065"
            dcode = "77062" if s == "bilateral" else "77061"
        if dbt:
            title += rng.choice([" WITH {M:TOMOSYNTHESIS}", " with {M:tomosynthesis}"])
        d.tech.append("%s{V:CC and MLO} views%s." % (side_markup(s).replace("{L:b", "{L:B").replace("{L:r", "{L:R").replace("{L:l", "{L:L"),
                                                  " with {M:tomosynthesis}" if dbt else ""))
        cpt += cpt_lines(code, None if CPT[code]["laterality"] == "bilateral" else s, setting, extra)
        frames.append(frame("MAMMO", "breast", s, "na", 2))
        if dbt:
            cpt += cpt_lines(dcode, None if CPT[dcode]["laterality"] == "bilateral" else s, setting)
            frames.append(frame("DBT", "breast", s, "na", 2))
    else:  # fixed
        titles, techs = FIXED_TEXT[exam["key"]]
        title = rng.choice(titles)
        d.tech.append(rng.choice(techs).replace("{n}", str(rng.choice([10, 12, 14, 22, 25]))))
        d.tech_needed = exam["group"] in ("NM", "FLUORO")
        if first and "reduced_service" in feats:
            d.tech.append("The examination was terminated early because the patient could not tolerate further contrast. {V:Limited} examination.")
            d.tech_needed = True
        codes = exam["codes"]
        for i, c in enumerate(codes):
            ex = list(extra) if i == len(codes) - 1 else []
            if exam["modality"] == "PET":
                ex.append(plan["pet_mod"])
            cpt += cpt_lines(c, None, setting, ex)
        con = exam.get("fixed_contrast") or ("with" if exam["group"] == "FLUORO" else "na")
        frames.append(frame(exam["modality"], exam["region"], None, con, None,
                            "limited" if first and "reduced_service" in feats and exam["group"] == "FLUORO" else None))
        for code, units in exam.get("hcpcs", []):
            hcpcs.append({"code": code, "units": units})
    return title, frames, cpt, hcpcs


CPT = load_cpt()


# ============================================================================ planning
STYLES = [("templated", 0.4), ("terse", 0.25), ("dictated", 0.2), ("inline", 0.15)]
TARGET = 18  # per-tag target for n=260 (scaled with n)


def wchoice(rng, pairs):
    r = rng.random() * sum(w for _, w in pairs)
    for v, w in pairs:
        r -= w
        if r <= 0:
            return v
    return pairs[-1][0]


def group_schedule(n, rng):
    raw = [(g, w * n) for g, w in GROUP_WEIGHTS]
    counts = {g: int(x) for g, x in raw}
    rest = n - sum(counts.values())
    for g, x in sorted(raw, key=lambda t: -(t[1] - int(t[1])))[:rest]:
        counts[g] += 1
    sched = [g for g, c in counts.items() for _ in range(c)]
    rng.shuffle(sched)
    return sched


def make_plan(exam, rng, counts, i, n):
    feats = set()
    target = TARGET * n / 260.0
    need = lambda tag: counts[tag] < target * (i + 1) / n + 0.5  # noqa: E731

    def want(tag, base):
        return rng.random() < (0.7 if need(tag) else base)

    kind, paired = exam["kind"], exam["paired"]
    dom = DOMAINS.get(exam["domain"]) if exam["domain"] else None
    plan = {"feats": feats, "style": wchoice(rng, STYLES),
            "setting": wchoice(rng, [("global", 0.6), ("professional", 0.3), ("technical", 0.1)]),
            "payer": rng.choice(["medicare", "commercial"]), "typo": rng.random() < 0.12}
    # laterality
    side = None
    if paired:
        if kind not in ("ir",) and exam["key"] != "mammo_screen" and want("bilateral", 0.12):
            side = "bilateral"
            feats.add("bilateral")
        elif want("missing_laterality", 0.05):
            feats.add("missing_laterality")
        else:
            side = rng.choice(["right", "left"])
    plan["side"] = side
    # exam-specific options
    if kind == "xr":
        vs = sorted(exam["codes"])
        plan["views"] = rng.choice(vs)
        if plan["views"] + 1 <= 4 and want("header_body_discrepancy", 0.03):
            feats.add("header_body_discrepancy")
            plan["hdr_views"] = plan["views"] + 1
    if kind == "ctmr":
        cs = list(exam["codes"])
        con = exam.get("prefer") if exam.get("prefer") in cs and rng.random() < 0.5 else rng.choice(cs)
        if exam.get("oral") and rng.random() < (1.0 if need("oral_contrast_only") else 0.5):
            con = "without"
            feats.add("oral_contrast_only")
            plan["title_no_contrast"] = True
        elif "without_with" in cs and want("without_and_with_contrast", 0.1):
            con = "without_with"
        elif "without" in cs and len(cs) > 1 and want("contrast_not_given", 0.05):
            con = "without"
            feats.add("contrast_not_given")
            if want("header_body_discrepancy", 0.3):
                feats.add("header_body_discrepancy")
                plan["hdr_contrast"] = "with" if "with" in cs else "without_with"
            else:
                plan["title_no_contrast"] = True
        plan["contrast"] = con
        if exam["group"] == "MR" and want("reduced_service", 0.05):
            feats.add("reduced_service")
    if kind == "us":
        ext = exam.get("extent_default") or rng.choice(["complete", "limited"])
        plan["extent"] = ext if ext in exam["codes"] else None
        if exam["key"] == "us_abd" and want("header_body_discrepancy", 0.2):
            feats.add("header_body_discrepancy")
            plan["extent"], plan["hdr_extent"] = "limited", "complete"
    if kind == "mammo":
        plan["dbt"] = rng.random() < 0.4
        if exam.get("screening") and want("reduced_service", 0.1):
            feats.add("reduced_service")
            feats.add("history_of_cancer")
            plan["side"] = side = rng.choice(["right", "left"])
        elif exam.get("screening"):
            feats.add("bilateral")
            plan["side"] = "bilateral"
    if kind == "fixed" and exam["group"] == "FLUORO" and want("reduced_service", 0.1):
        feats.add("reduced_service")
    if exam.get("repeat") and "reduced_service" not in feats and want("repeat_service", 0.05):
        feats.add("repeat_service")
        plan["repeat_mod"] = rng.choice(["76", "76", "77"])
    if COMPANION.get(exam["key"]) and want("multiple_procedures", 0.1):
        feats.add("multiple_procedures")
    if kind == "ir":
        feats.add("guided_procedure")
    if exam.get("screening"):
        feats.add("screening")
    if exam["key"] == "pet":
        plan["pet_mod"] = rng.choice(["PI", "PS"])
    # content
    special = exam["key"] in ("pet", "nm_bone")
    if want("missing_indication", 0.04) and not exam.get("screening") and "history_of_cancer" not in feats \
            and not special and "repeat_service" not in feats:
        feats.add("missing_indication")
    has_ind = "missing_indication" not in feats
    if has_ind and not special and dom and dom["known"] and not exam.get("screening") and kind != "ir" \
            and want("follow_up_known_disease", 0.08):
        feats.add("follow_up_known_disease")
    if has_ind and kind != "ir" and dom and dom["hyp"] and not exam.get("screening") and want("hypothetical_finding", 0.15):
        feats.add("hypothetical_finding")
    if has_ind and "history_of_cancer" not in feats and want("history_of_cancer", 0.08):
        feats.add("history_of_cancer")
    if has_ind and want("family_history", 0.06):
        feats.add("family_history")
    if kind != "ir" and dom and dom["inc"] and want("incidental_finding", 0.12):
        feats.add("incidental_finding")
    # outcome
    if kind == "ir":
        plan["outcome"] = "ir"
    elif "follow_up_known_disease" in feats:
        plan["outcome"] = "followup"
    elif "incidental_finding" not in feats and want("normal_study", 0.2):
        plan["outcome"] = "normal"
    elif want("uncertain_finding", 0.15):
        plan["outcome"] = "uncertain"
    else:
        plan["outcome"] = "dx"
    # cancers / family
    pref = {"breast": "breast cancer", "chest": "lung cancer", "chest_ct": "lung cancer", "abdomen": "colon cancer",
            "colon": "colon cancer", "bone_nm": "prostate cancer", "kidney": "renal cell carcinoma"}.get(exam["domain"])
    ca = [c for c in CANCERS if c[0] == pref] if pref and rng.random() < 0.6 else CANCERS
    if exam.get("female"):
        ca = [c for c in ca if c[0] != "prostate cancer"]
    c = rng.choice(ca)
    if exam["key"] == "mammo_screen" or (kind == "ir" and exam["proc"] == "breast_bx"):
        c = CANCERS[0]
    plan["cancer"] = (c[0], c[1], c[2])
    if exam["domain"] in FAMILY_OTHER and rng.random() < 0.6:
        plan["family"] = FAMILY_OTHER[exam["domain"]]
    else:
        c2 = rng.choice(CANCERS[:4])
        if exam["domain"] == "breast" or exam["key"] == "mammo_screen":
            c2 = CANCERS[0]
        plan["family"] = (c2[0], c2[1], c2[3])
    return plan


# ============================================================================ rendering
def render(exam, plan, d, rng):
    b = Builder()
    style = plan["style"]
    upper_title = style in ("templated", "dictated") and rng.random() < 0.75 or style == "terse" and rng.random() < 0.5
    imp_num = len(d.imp) > 1 and rng.random() < 0.6
    ind_hdr = rng.choice(["INDICATION", "CLINICAL HISTORY", "HISTORY", "REASON FOR EXAM", "CLINICAL INFORMATION"])
    imp_hdr = rng.choice(["IMPRESSION", "IMPRESSION", "CONCLUSION"])

    def sent(lst, sep=" "):
        return sep.join(x if x.rstrip().endswith((".", ":", "?")) else x + "." for x in lst)

    def imp_block(lead):
        if imp_num:
            b.text(lead.rstrip() + "\n")
            for k, s in enumerate(d.imp):
                if k:
                    b.text("\n")
                b.text(f"{k + 1}. ")
                b.add(s)
        else:
            b.text(lead)
            b.add(sent(d.imp))

    if style == "templated":
        b.text(rng.choice(["EXAM: ", "EXAMINATION: ", ""]))
        b.add(d.title, upper=upper_title)
        b.section = "indication"
        b.text(f"\n{ind_hdr}: ")
        b.add(sent(d.ind))
        b.section = "technique"
        b.text("\nTECHNIQUE: ")
        b.add(sent(d.tech))
        b.section = "comparison"
        b.text("\nCOMPARISON: ")
        b.add(d.comp)
        b.section = "findings"
        b.text("\nFINDINGS: ")
        b.add(sent(d.find))
        b.section = "impression"
        imp_block(f"\n{imp_hdr}: ")
    elif style == "dictated":
        b.add(d.title, upper=upper_title)
        b.section = "indication"
        b.text("\n\n" + rng.choice(["Clinical history", "History", "Indication", "Reason for exam"]) + ": ")
        b.add(sent(d.ind))
        b.section = "technique"
        b.text("\n\nTechnique: ")
        b.add(sent(d.tech))
        b.section = "comparison"
        b.text("\n\nComparison: ")
        b.add(d.comp)
        b.section = "findings"
        b.text("\n\nFindings: ")
        b.add(sent(d.find))
        b.section = "impression"
        imp_block("\n\n" + rng.choice(["Impression", "Conclusion"]) + ": ")
    elif style == "terse":
        b.add(d.title, upper=upper_title)
        b.section = "indication"
        b.text("\n" + rng.choice(["Hx", "History", "Reason"]) + ": ")
        b.add("; ".join(s[:-1] if s.endswith(".") else s for s in d.ind))
        if d.tech_needed:
            b.section = "technique"
            b.text("\nTechnique: ")
            b.add(sent(d.tech))
        b.section = "findings"
        b.text("\nFindings: ")
        b.add(sent(d.find))
        b.section = "impression"
        imp_block("\n" + rng.choice(["IMP", "Impression", "IMPRESSION"]) + ": ")
    else:  # inline
        b.text("EXAM: ")
        b.add(d.title)
        b.text(". ")
        b.section = "indication"
        b.text(rng.choice(["HISTORY", "INDICATION"]) + ": ")
        b.add(sent(d.ind))
        b.section = "technique"
        b.text(" TECHNIQUE: ")
        b.add(sent(d.tech))
        b.section = "findings"
        b.text(" FINDINGS: ")
        b.add(sent(d.find))
        b.section = "impression"
        b.text(" IMPRESSION: ")
        b.add(sent(d.imp))
    return b


# ============================================================================ record assembly
COMP_MOD = {"XR": "{M:radiograph}", "CT": "{M:CT}", "CTA": "{M:CTA}", "MR": "{M:MRI}", "MRA": "{M:MRA}",
            "US": "{M:ultrasound}", "DUPLEX": "{M:duplex}", "MAMMO": "{M:mammogram}", "NM": "study",
            "PET": "{M:PET/CT}", "DEXA": "{M:DXA}", "FLUORO": "study", "IR": "imaging"}
PUNCT = set(" \t\n.,;:!?()[]\"'-/")


def build_record(idx, exam, plan, rng) -> dict:
    feats = plan["feats"]
    setting = plan["setting"]
    d = compose(exam, plan, rng)
    frames, cpt, hcpcs = [], [], []
    if exam["kind"] == "ir":
        side = plan["side"]
        for c in exam["codes"]:
            cpt += cpt_lines(c, side, setting)
        frames.append(frame(exam["modality"], exam["region"], side,
                            "with" if exam["proc"].startswith("arthro") else "na", None, None, exam["guidance"]))
        hcpcs = [{"code": c, "units": u} for c, u in exam.get("hcpcs", [])]
    else:
        title, frames, cpt, hcpcs = exam_block(exam, plan, rng, d, setting)
        if "multiple_procedures" in feats:
            comp = EXAM_BY_KEY[COMPANION[exam["key"]]]
            t2, f2, c2, _ = exam_block(comp, plan, rng, d, setting, first=False)
            title = title.rstrip(",") + rng.choice(["; ", " AND ", " and "]) + t2
            frames += f2
            cpt += c2
            d.find.append(rng.choice(DOMAINS[comp["domain"]]["normal"]))
        d.title = title.rstrip(",").strip()
    # mammography extras
    if exam["kind"] == "mammo":
        if exam.get("screening") and "reduced_service" in feats:
            other = "left" if plan["side"] == "right" else "right"
            z = "Z90.12" if other == "left" else "Z90.11"
            d.ind.append("s/p %s %s. Remaining breast only." % (other, fm("mastectomy", "p", z)))
            d.code("other", [z])
        d.imp.append({"normal": "BI-RADS 1: Negative.", "uncertain": "BI-RADS 0: Incomplete, additional imaging needed.",
                      "dx": "BI-RADS 2: Benign.", "followup": "BI-RADS 2: Benign."}[plan["outcome"]])
    if exam["key"] == "ct_ldct":
        d.imp.append("Lung-RADS 1." if plan["outcome"] == "normal" else "Lung-RADS 2.")
    if "repeat_service" in feats and plan.get("repeat_mod") == "77":
        d.ind.append("The earlier study today was interpreted by another radiologist.")
    # comparison
    if "repeat_service" in feats:
        d.comp = "Same-day examination at 08:40."
    elif "follow_up_known_disease" in feats or rng.random() < 0.35:
        cm = COMP_MOD.get(exam["modality"], "study")
        d.comp = rng.choice(["Prior %s 03/14/2025." % cm, "%s dated 11/02/2024." % cap(cm), "06/2025."])
    else:
        d.comp = rng.choice(["None.", "None available.", "No prior studies."])
    if "missing_laterality" in feats:
        d.flags.append("missing_laterality")
    if "header_body_discrepancy" in feats:
        d.flags.append("header_body_discrepancy")
        if exam["kind"] == "us":
            d.flags.append("ultrasound_completeness_unsupported")
    b = render(exam, plan, d, rng)
    text = b.result()
    spans = b.spans
    for sp in spans:
        if sp["label"] != "FINDING":
            continue
        if not sp["icd10cm"]:
            sp.pop("icd10cm")
    spans = [{k: sp[k] for k in ("start", "end", "text", "label", "assertion", "section", "icd10cm") if k in sp}
             for sp in spans]
    # tags
    tags = set(t for t in feats if t in TAGS)
    asrt = {s.get("assertion") for s in spans}
    for a, t in (("negated", "negated_finding"), ("uncertain", "uncertain_finding"),
                 ("hypothetical", "hypothetical_finding"), ("family", "family_history")):
        if a in asrt:
            tags.add(t)
        else:
            tags.discard(t)
    if plan["outcome"] == "normal" and "incidental_finding" not in feats:
        tags.add("normal_study")
    if any(f["contrast"] == "without_with" for f in frames):
        tags.add("without_and_with_contrast")
    if any(f["laterality"] == "bilateral" for f in frames) and (exam["paired"] or exam["kind"] == "mammo"):
        tags.add("bilateral")
    modality = exam["modality"]
    if exam["kind"] == "mammo" and plan.get("dbt"):
        modality = "DBT"
    return {"id": "T-%04d" % idx, "origin": "template", "style": plan["style"], "modality": modality,
            "setting": setting, "payer": plan["payer"], "tags": [t for t in TAGS if t in tags], "text": text,
            # GUIDELINE §7.23.4: supplies (contrast, radiopharmaceuticals, drugs) are billed on the technical/global
            # claim, never on a professional-component read
            "spans": spans, "frames": frames, "cpt": cpt, "hcpcs": [] if setting == "professional" else hcpcs,
            "icd10cm": d.icd_list(),
            "flags": d.flags}


def check_record(rec, regions=None, hcpcs_codes=None, check_icd=True) -> list[str]:
    """Internal consistency checks (offsets, boundaries, codes)."""
    probs = []
    text = rec["text"]
    last = -1
    for s in rec["spans"]:
        if text[s["start"]:s["end"]] != s["text"]:
            probs.append(f"{rec['id']}: offset mismatch {s}")
        if not s["text"] or s["text"][0] in PUNCT or s["text"][-1] in PUNCT:
            probs.append(f"{rec['id']}: bad boundary {s['text']!r}")
        if s["start"] < last:
            probs.append(f"{rec['id']}: overlap {s}")
        last = s["end"]
        if check_icd and s["label"] == "FINDING" and s.get("icd10cm") and not icd_ok(s["icd10cm"]):
            probs.append(f"{rec['id']}: span ICD {s['icd10cm']} not billable")
    for c in rec["icd10cm"]:
        if check_icd and not icd_ok(c):
            probs.append(f"{rec['id']}: ICD {c} not billable")
        src = [s for s in rec["spans"] if s.get("icd10cm") == c]
        if src and all(s["assertion"] in ("negated", "uncertain", "hypothetical") for s in src):
            probs.append(f"{rec['id']}: ICD {c} only from negated/uncertain/hypothetical")
    for line in rec["cpt"]:
        if line["code"] not in CPT:
            probs.append(f"{rec['id']}: CPT {line['code']} unknown")
    if regions is not None:
        for f in rec["frames"]:
            if f["region"] not in regions:
                probs.append(f"{rec['id']}: region {f['region']} unknown")
    if hcpcs_codes is not None:
        for h in rec["hcpcs"]:
            if h["code"] not in hcpcs_codes:
                probs.append(f"{rec['id']}: HCPCS {h['code']} unknown")
    return probs


def generate(n: int = 260, seed: int = 13) -> list[dict]:
    rng = random.Random(seed)
    sched = group_schedule(n, rng)
    counts = Counter()
    recs = []
    for i, g in enumerate(sched):
        exams = [e for e in EXAMS if e["group"] == g]
        exam = wchoice(rng, [(e, e.get("weight", 1)) for e in exams])
        plan = make_plan(exam, rng, counts, i, n)
        rec = build_record(i + 1, exam, plan, rng)
        counts.update(rec["tags"])
        recs.append(rec)
    return recs


def write_jsonl(recs, out):
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def summary(recs) -> dict:
    return {"modality": Counter(r["modality"] for r in recs),
            "tags": Counter(t for r in recs for t in r["tags"]),
            "labels": Counter(s["label"] for r in recs for s in r["spans"]),
            "assertions": Counter(s["assertion"] for r in recs for s in r["spans"] if s["label"] == "FINDING")}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=260)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", default=str(ROOT / "corpus" / "authored" / "templates.jsonl"))
    ap.add_argument("--no-check", action="store_true", help="skip the ICD/offset self-checks")
    ap.add_argument("--modalities", default="", help="comma-separated report modalities to keep (default: all)")
    ap.add_argument("--max-per-modality", type=int, default=0, help="keep at most this many per modality (0: all)")
    ap.add_argument("--id-prefix", default="T-", help="id prefix of the kept reports (keep ids unique per file)")
    args = ap.parse_args(argv)
    recs = generate(args.n, args.seed)
    if args.modalities:
        keep = set(args.modalities.split(","))
        per: dict = {}
        kept = []
        for r in recs:
            if r["modality"] in keep and (not args.max_per_modality or per.get(r["modality"], 0) < args.max_per_modality):
                per[r["modality"]] = per.get(r["modality"], 0) + 1
                kept.append(r)
        recs = kept
    if args.id_prefix != "T-":
        for r in recs:
            r["id"] = args.id_prefix + r["id"][2:]
    if not args.no_check:
        regions, hc = load_regions(), load_hcpcs()
        probs = [p for r in recs for p in check_record(r, regions, hc)]
        if probs:
            raise SystemExit("self-check failed:\n" + "\n".join(probs[:40]))
    write_jsonl(recs, args.out)
    for k, v in summary(recs).items():
        print(k, dict(sorted(v.items(), key=lambda t: -t[1])))


if __name__ == "__main__":
    main()
