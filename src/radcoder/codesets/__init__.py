"""Code sets used by radcoder: ICD-10-CM and the procedure tables (CPT, HCPCS, modifiers, regions, NCCI)."""

from .icd10cm import Icd10cm, load_icd10cm, normalize
from .procedures import (
    CptCode,
    CptTable,
    HcpcsCode,
    HcpcsTable,
    Modifier,
    ModifierTable,
    NcciEdit,
    NcciTable,
    Region,
    RegionTable,
    load_cpt,
    load_hcpcs,
    load_modifiers,
    load_ncci,
    load_regions,
)

__all__ = [
    "CptCode",
    "CptTable",
    "HcpcsCode",
    "HcpcsTable",
    "Icd10cm",
    "Modifier",
    "ModifierTable",
    "NcciEdit",
    "NcciTable",
    "Region",
    "RegionTable",
    "load_cpt",
    "load_hcpcs",
    "load_icd10cm",
    "load_modifiers",
    "load_ncci",
    "load_regions",
    "normalize",
]
