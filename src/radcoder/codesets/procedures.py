"""Procedure code tables: CPT (radiology subset), HCPCS Level II, modifiers, body regions, NCCI pairs.

The tables live in ``radcoder/resources/codesets/`` (see ``SOURCES.md`` there for the schema,
sources and licence notes). They are read through :mod:`importlib.resources`, validated once and
cached, so every ``load_*`` call after the first returns the same immutable object.

CPT descriptors are AMA copyright. The shipped CPT table holds code numbers, structured attributes
and *radcoder's own* short descriptions. A user with an AMA licence can pass a TSV file of
``CODE<TAB>DESCRIPTOR`` lines to :func:`load_cpt`; :attr:`CptCode.description` then returns the
licensed text.

Allowed-modifier rules (:meth:`CptTable.allowed_modifiers`)
-----------------------------------------------------------
Every active CPT code allows the general set ``52 53 59 XE XP XS XU 76 77 GA GZ GY GX KX GC``.
On top of that:

* ``26``/``TC`` when the PC/TC indicator is 1 (diagnostic test with a professional/technical split);
* ``RT``/``LT`` when ``laterality == "unilateral"``;
* ``50`` when the code is unilateral, its bilateral indicator is 1 or 3, and no code in the same
  family is itself bilateral (so 77065, 77046, 93971 or 73502 never get 50: the bilateral code
  of the family is the right choice);
* ``FA F1-F9`` for finger codes, ``TA T1-T9`` for toe codes, both for small-joint codes;
* ``PI``/``PS`` for PET codes except cardiac PET;
* ``FX``/``FY`` for X-ray based studies (XR, FLUORO, MAMMO, DBT, DEXA) with a technical component;
  ``CT`` for CT/CTA and CT guidance with a technical component;
* ``GG``/``GH`` for diagnostic mammography and diagnostic tomosynthesis;
* ``33`` for screening codes (``subtype == "screening"``);
* ``51``, ``73``, ``74`` for image-guided procedures (modality ``IR``; no ``51`` on add-on codes).

Modifiers whose status is not ``active`` (the rescinded Medicare AUC modifiers) are left out unless
``include_inactive=True``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import Errors, ResourceError, Warnings, warn_once

__all__ = [
    "ANY_REGION_DISTANCE",
    "CODESET_VERSION",
    "CptCode",
    "CptTable",
    "HcpcsCode",
    "HcpcsTable",
    "Modifier",
    "ModifierTable",
    "NcciEdit",
    "NcciTable",
    "Region",
    "RegionTable",
    "allowed_modifiers",
    "clear_caches",
    "load_cpt",
    "load_hcpcs",
    "load_modifiers",
    "load_ncci",
    "load_regions",
]

#: Version label of the radcoder-authored tables (also stated in SOURCES.md).
CODESET_VERSION = "radcoder-authored 2026.1"
CPT_RELEASE = "CPT 2026 code numbers"

#: :meth:`RegionTable.distance` for codes whose region is ``any`` (guidance, FNA, follow-up studies).
ANY_REGION_DISTANCE = 10

CPT_FILE = "cpt_radiology.jsonl"
HCPCS_FILE = "hcpcs_radiology.jsonl"
MODIFIER_FILE = "modifiers.jsonl"
REGION_FILE = "regions.jsonl"
NCCI_FILE = "ncci_pairs.tsv"

# ----------------------------------------------------------------------------- vocabularies
MODALITIES = frozenset({"XR", "CT", "CTA", "MR", "MRA", "US", "DUPLEX", "MAMMO", "DBT", "DEXA", "NM", "PET",
                        "FLUORO", "IR", "GUIDANCE"})
CONTRASTS = frozenset({"without", "with", "without_with", "na"})
EXTENTS = frozenset({"complete", "limited"})
LATERALITIES = frozenset({"unilateral", "bilateral", "na"})
BILATERAL_INDICATORS = frozenset({0, 1, 2, 3, 9})
PCTC_INDICATORS = frozenset(range(10))
GUIDANCES = frozenset({"US", "CT", "MR", "FLUORO", "STEREO", "MAMMO", "ANY"})
HCPCS_KINDS = frozenset({"contrast", "radiopharmaceutical", "drug", "addon", "transport", "other"})
HCPCS_STATUSES = frozenset({"active", "deleted"})
MODIFIER_KINDS = frozenset({"laterality", "component", "reduced", "repeat", "distinct", "payment", "anatomic",
                            "other"})
MODIFIER_STATUSES = frozenset({"active", "inactive", "deleted"})
PAYERS = frozenset({"medicare", "commercial"})
NCCI_INDICATORS = frozenset({0, 1, 9})

_CPT_RE = re.compile(r"^\d{4}[0-9A-Z]$")
_HCPCS_RE = re.compile(r"^[A-V]\d{4}$")
_MODIFIER_RE = re.compile(r"^[0-9A-Z]{2}$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")

_GENERAL_MODIFIERS = frozenset({"52", "53", "59", "XE", "XP", "XS", "XU", "76", "77", "GA", "GZ", "GY", "GX",
                                "KX", "GC"})
_FINGER_MODIFIERS = frozenset({"FA"} | {f"F{i}" for i in range(1, 10)})
_TOE_MODIFIERS = frozenset({"TA"} | {f"T{i}" for i in range(1, 10)})
_XRAY_MODALITIES = frozenset({"XR", "FLUORO", "MAMMO", "DBT", "DEXA"})
_TECHNICAL_PCTC = frozenset({1, 3, 4})
_PORTABLE_PATIENT_MODIFIERS = frozenset({"UN", "UP", "UQ", "UR", "US"})


class _Frozen:
    """Blocks attribute assignment after ``__init__`` (tables are shared, cached objects)."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; cannot delete {name!r}")


# ----------------------------------------------------------------------------- records
@dataclass(frozen=True, slots=True)
class CptCode:
    """One CPT code with radcoder's own short text and structured attributes."""

    code: str
    short: str
    modality: str
    region: str
    contrast: str
    views: int | None
    views_min: int | None
    extent: str | None
    laterality: str
    bilateral_indicator: int
    pctc: int
    addon: bool
    addon_parents: tuple[str, ...]
    guidance: str | None
    family: str
    subtype: str | None
    mue: int
    notes: str
    licensed_descriptor: str | None = field(default=None, repr=False, compare=False)

    @property
    def description(self) -> str:
        """The licensed AMA descriptor when one was loaded, else radcoder's short text."""
        return self.licensed_descriptor or self.short


@dataclass(frozen=True, slots=True)
class HcpcsCode:
    code: str
    short: str
    kind: str
    unit: str
    applies_to: tuple[str, ...]
    addon_parents: tuple[str, ...]
    status: str

    @property
    def description(self) -> str:
        return self.short

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class Modifier:
    modifier: str
    short: str
    kind: str
    applies_to: str
    when: str
    payers: tuple[str, ...]
    status: str

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class Region:
    region: str
    synonyms: tuple[str, ...]
    parent: str | None
    paired: bool


@dataclass(frozen=True, slots=True)
class NcciEdit:
    column1: str
    column2: str
    modifier_indicator: int
    rationale: str

    @property
    def bypassable(self) -> bool:
        """True when a distinct-service modifier (59/XE/XP/XS/XU) may bypass the edit."""
        return self.modifier_indicator == 1

    @property
    def pair(self) -> frozenset[str]:
        return frozenset((self.column1, self.column2))


# ----------------------------------------------------------------------------- reading and checks
def _resource(name: str):
    return resources.files("radcoder").joinpath("resources", "codesets", name)


def _read_text(name: str) -> tuple[str, str]:
    res = _resource(name)
    if not res.is_file():
        raise ResourceError(Errors.E001.format(path=res))
    return str(res), res.read_text(encoding="utf-8")


def _iter_jsonl(name: str) -> Iterator[tuple[str, int, dict]]:
    from ..datafiles import parse_jsonl
    path, text = _read_text(name)
    for i, obj in parse_jsonl(text, path):
        yield path, i, obj


def _check_keys(obj: dict, keys: tuple[str, ...], path: str, line: int) -> None:
    unknown = sorted(set(obj) - set(keys))
    if unknown:
        raise ResourceError(Errors.E101.format(path=path, line=line, keys=unknown, allowed=list(keys)))
    missing = [k for k in keys if k not in obj]
    if missing:
        raise ResourceError(Errors.E102.format(path=path, line=line, keys=missing))


def _bad(path: str, line: int, key: str, value: Any, allowed: Any) -> ResourceError:
    if isinstance(allowed, (set, frozenset)):
        allowed = sorted(allowed, key=str)
    return ResourceError(Errors.E103.format(path=path, line=line, key=key, value=value, allowed=allowed))


def _fail(path: str, line: int, detail: str) -> ResourceError:
    return ResourceError(f"Code table {path}, line {line}: {detail}")


def _enum(obj: dict, key: str, allowed: Iterable, path: str, line: int, nullable: bool = False) -> Any:
    v = obj[key]
    if v is None and nullable:
        return None
    # bool is an int subclass: keep True/False out of integer enums
    if isinstance(v, bool) or v not in allowed:
        raise _bad(path, line, key, v, set(allowed) | ({None} if nullable else set()))
    return v


def _text(obj: dict, key: str, path: str, line: int, *, empty_ok: bool = False, nullable: bool = False):
    v = obj[key]
    if v is None and nullable:
        return None
    if not isinstance(v, str) or (not empty_ok and not v.strip()):
        raise _bad(path, line, key, v, "a non-empty string" + (" or null" if nullable else ""))
    return v


def _int(obj: dict, key: str, path: str, line: int, *, minimum: int, nullable: bool = False):
    v = obj[key]
    if v is None and nullable:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise _bad(path, line, key, v, f"an integer >= {minimum}" + (" or null" if nullable else ""))
    return v


def _str_list(obj: dict, key: str, path: str, line: int, pattern: re.Pattern | None = None) -> tuple[str, ...]:
    v = obj[key]
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise _bad(path, line, key, v, "a list of non-empty strings")
    if pattern is not None:
        for x in v:
            if not pattern.match(x):
                raise _bad(path, line, key, x, f"strings matching {pattern.pattern}")
    if len(set(v)) != len(v):
        raise _bad(path, line, key, v, "a list without repeated items")
    return tuple(v)


def _name(obj: dict, key: str, path: str, line: int, nullable: bool = False):
    v = obj[key]
    if v is None and nullable:
        return None
    if not isinstance(v, str) or not _NAME_RE.match(v):
        raise _bad(path, line, key, v, "a lower_snake_case name")
    return v


# ----------------------------------------------------------------------------- regions
class RegionTable(_Frozen):
    """Controlled vocabulary of body regions used by the CPT table.

    Synonyms may be shared by several regions (``"orbit"`` names the XR region ``orbit``, the CT region
    ``orbit_sella_ear`` and the MR region ``orbit_face_neck``): :meth:`lookup` returns every match and
    the coder keeps the one that has a code for the modality at hand.
    """

    __slots__ = ("_by_term", "_rows", "source", "version")

    def __init__(self, rows: Mapping[str, Region], by_term: Mapping[str, tuple[str, ...]], version: str,
                 source: str):
        object.__setattr__(self, "_rows", MappingProxyType(dict(rows)))
        object.__setattr__(self, "_by_term", MappingProxyType(dict(by_term)))
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "source", source)

    def get(self, region: str) -> Region | None:
        return self._rows.get(region)

    def __contains__(self, region: object) -> bool:
        return region in self._rows

    def __iter__(self) -> Iterator[Region]:
        return iter(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)

    def lookup(self, term: str) -> tuple[Region, ...]:
        """Regions whose name or synonyms match ``term`` (case- and space-insensitive).

        The region named by the term comes first, then the others in file order. The file is ordered
        so that a first-wins index over (name, *synonyms) also maps every region name to itself.
        """
        key = " ".join(term.lower().split())
        return tuple(self._rows[r] for r in self._by_term.get(key, ()))

    def distance(self, code_region: str, region: str) -> int | None:
        """How well a code defined for ``code_region`` fits an exam of ``region`` (lower is better).

        0: same region; 1: ``region``'s name is a synonym of ``code_region`` (a CPT grouping that names
        it, such as ``orbit`` -> ``orbit_sella_ear`` or ``temporal_bone`` -> ``brain``); k + 1:
        ``code_region`` is the k-th ancestor of ``region`` (``femur`` -> ``lower_extremity`` is 2,
        ``knee`` -> ``lower_extremity`` is 3); :data:`ANY_REGION_DISTANCE` for codes whose region is
        ``any``; None: not covered.
        """
        if code_region == region:
            return 0
        best: int | None = None
        if code_region in self._by_term.get(region.replace("_", " "), ()):
            best = 1
        else:
            anc = self.ancestors(region)
            if code_region in anc:
                best = anc.index(code_region) + 2
        if best is None and code_region == "any" and "any" in self._rows:
            best = ANY_REGION_DISTANCE
        return best

    def ancestors(self, region: str) -> tuple[str, ...]:
        """Parent, grandparent, ... of ``region`` (empty for a root or an unknown region)."""
        out: list[str] = []
        row = self._rows.get(region)
        while row is not None and row.parent is not None:
            out.append(row.parent)
            row = self._rows.get(row.parent)
        return tuple(out)

    def children(self, region: str) -> tuple[str, ...]:
        return tuple(r.region for r in self._rows.values() if r.parent == region)


def _build_regions() -> RegionTable:
    keys = ("region", "synonyms", "parent", "paired")
    rows: dict[str, Region] = {}
    lines: dict[str, int] = {}
    path = ""
    for path, i, obj in _iter_jsonl(REGION_FILE):
        _check_keys(obj, keys, path, i)
        name = _name(obj, "region", path, i)
        syn = _str_list(obj, "synonyms", path, i)
        for s in syn:
            if s != s.strip().lower() or "  " in s:
                raise _bad(path, i, "synonyms", s, "lower-case, trimmed strings")
        parent = _name(obj, "parent", path, i, nullable=True)
        paired = obj["paired"]
        if not isinstance(paired, bool):
            raise _bad(path, i, "paired", paired, [True, False])
        if name in rows:
            raise _fail(path, i, f"duplicate region {name!r} (first defined on line {lines[name]}). "
                                 "Merge the two lines.")
        rows[name] = Region(name, syn, parent, paired)
        lines[name] = i
    for name, row in rows.items():
        if row.parent is not None and row.parent not in rows:
            raise _fail(path, lines[name], f"parent {row.parent!r} of region {name!r} is not defined. "
                                           "Add that region or fix the parent.")
        seen = {name}
        p = row.parent
        while p is not None:
            if p in seen:
                raise _fail(path, lines[name], f"region {name!r} has a parent cycle through {p!r}.")
            seen.add(p)
            p = rows[p].parent
    by_term: dict[str, list[str]] = {}
    for name, row in rows.items():
        for t in (*row.synonyms, name, name.replace("_", " ")):
            lst = by_term.setdefault(t, [])
            if name not in lst:
                lst.append(name)
    for name in rows:  # the region named by a term first
        for t in (name, name.replace("_", " ")):
            lst = by_term[t]
            lst.remove(name)
            lst.insert(0, name)
    return RegionTable(rows, {k: tuple(v) for k, v in by_term.items()}, CODESET_VERSION, path)


@functools.lru_cache(maxsize=1)
def load_regions() -> RegionTable:
    """The region vocabulary (cached)."""
    return _build_regions()


# ----------------------------------------------------------------------------- modifiers
class ModifierTable(_Frozen):
    __slots__ = ("_rows", "source", "version")

    def __init__(self, rows: Mapping[str, Modifier], version: str, source: str):
        object.__setattr__(self, "_rows", MappingProxyType(dict(rows)))
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "source", source)

    def get(self, modifier: str) -> Modifier | None:
        return self._rows.get(modifier.strip().upper())

    def __contains__(self, modifier: object) -> bool:
        return isinstance(modifier, str) and modifier.strip().upper() in self._rows

    def __iter__(self) -> Iterator[Modifier]:
        return iter(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)

    def find(self, **criteria: Any) -> tuple[Modifier, ...]:
        return _find(self._rows.values(), Modifier, criteria)

    def active(self) -> frozenset[str]:
        return frozenset(m.modifier for m in self._rows.values() if m.active)


@functools.lru_cache(maxsize=1)
def load_modifiers() -> ModifierTable:
    """The modifier table (cached)."""
    keys = ("modifier", "short", "kind", "applies_to", "when", "payers", "status")
    rows: dict[str, Modifier] = {}
    lines: dict[str, int] = {}
    path = ""
    for path, i, obj in _iter_jsonl(MODIFIER_FILE):
        _check_keys(obj, keys, path, i)
        mod = obj["modifier"]
        if not isinstance(mod, str) or not _MODIFIER_RE.match(mod):
            raise _bad(path, i, "modifier", mod, "two upper-case letters/digits")
        payers = _str_list(obj, "payers", path, i)
        if not payers or not set(payers) <= PAYERS:
            raise _bad(path, i, "payers", list(payers), PAYERS)
        if mod in rows:
            raise _fail(path, i, f"duplicate modifier {mod!r} (first on line {lines[mod]}). Remove one line.")
        rows[mod] = Modifier(
            modifier=mod,
            short=_text(obj, "short", path, i),
            kind=_enum(obj, "kind", MODIFIER_KINDS, path, i),
            applies_to=_text(obj, "applies_to", path, i),
            when=_text(obj, "when", path, i),
            payers=payers,
            status=_enum(obj, "status", MODIFIER_STATUSES, path, i),
        )
        lines[mod] = i
    return ModifierTable(rows, CODESET_VERSION, path)


# ----------------------------------------------------------------------------- CPT
def _find(rows: Iterable, cls: type, criteria: Mapping[str, Any]) -> tuple:
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(criteria) - names)
    if unknown:
        raise TypeError(f"unknown attribute(s) {unknown} for {cls.__name__}; allowed: {sorted(names)}")
    tests = []
    for key, want in criteria.items():
        if isinstance(want, (set, frozenset, list, tuple)):
            tests.append((key, frozenset(want), True))
        else:
            tests.append((key, want, False))
    out = []
    for row in rows:
        for key, want, many in tests:
            have = getattr(row, key)
            if isinstance(have, tuple):  # tuple fields (addon_parents, applies_to ...): containment
                ok = bool(want & set(have)) if many else want in have
            else:
                ok = have in want if many else have == want
            if not ok:
                break
        else:
            out.append(row)
    return tuple(out)


class CptTable(_Frozen):
    """The radiology CPT table. Iteration is in code order."""

    __slots__ = ("_allowed", "_families", "_rows", "descriptor_source", "source", "version")

    def __init__(self, rows: Mapping[str, CptCode], version: str, source: str,
                 descriptor_source: str | None = None):
        rows = dict(sorted(rows.items()))
        families: dict[str, list[CptCode]] = {}
        for row in rows.values():
            families.setdefault(row.family, []).append(row)
        fam = {k: tuple(v) for k, v in families.items()}
        object.__setattr__(self, "_rows", MappingProxyType(rows))
        object.__setattr__(self, "_families", MappingProxyType(fam))
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "descriptor_source", descriptor_source)
        known = load_modifiers()
        allowed = {c: _cpt_modifiers(row, fam[row.family]) & frozenset(m.modifier for m in known)
                   for c, row in rows.items()}
        object.__setattr__(self, "_allowed", MappingProxyType(allowed))

    def get(self, code: str) -> CptCode | None:
        return self._rows.get(code.strip().upper()) if isinstance(code, str) else None

    def __getitem__(self, code: str) -> CptCode:
        row = self.get(code)
        if row is None:
            raise KeyError(f"{code!r} is not in the radcoder CPT table ({CPT_FILE})")
        return row

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.strip().upper() in self._rows

    def __iter__(self) -> Iterator[CptCode]:
        return iter(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._rows)

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(sorted(self._families))

    @property
    def licensed(self) -> bool:
        return self.descriptor_source is not None

    def by_family(self, family: str) -> tuple[CptCode, ...]:
        """Mutually exclusive alternatives sharing ``family`` (empty tuple when unknown)."""
        return self._families.get(family, ())

    def find(self, **criteria: Any) -> tuple[CptCode, ...]:
        """Codes whose attributes equal the given values.

        A list/tuple/set value means "any of these"; for tuple attributes (``addon_parents``) the value
        must be contained in the row's tuple. ``None`` matches null. Unknown attribute names raise
        ``TypeError``. Example: ``find(modality="CT", region="abdomen_pelvis", contrast="with")``.
        """
        return _find(self._rows.values(), CptCode, criteria)

    def addons_for(self, code: str) -> tuple[CptCode, ...]:
        """Add-on codes that list ``code`` as a primary."""
        return self.find(addon=True, addon_parents=code.strip().upper())

    def allowed_modifiers(self, code: str, *, include_inactive: bool = False) -> frozenset[str]:
        """Modifiers that may be appended to ``code`` (rules in the module docstring)."""
        row = self[code]
        allowed = self._allowed[row.code]
        if include_inactive:
            return allowed | _inactive_advanced_imaging(row)
        active = load_modifiers().active()
        return allowed & active


def _cpt_modifiers(row: CptCode, family: tuple[CptCode, ...]) -> frozenset[str]:
    s = set(_GENERAL_MODIFIERS)
    if row.pctc == 1:
        s |= {"26", "TC"}
    if row.laterality == "unilateral":
        s |= {"RT", "LT"}
        if row.bilateral_indicator in (1, 3) and not any(f.laterality == "bilateral" for f in family):
            s.add("50")
    if row.region == "finger":
        s |= _FINGER_MODIFIERS
    elif row.region == "toe":
        s |= _TOE_MODIFIERS
    elif row.region == "small_joint":
        s |= _FINGER_MODIFIERS | _TOE_MODIFIERS
    if row.modality == "PET" and row.region != "heart":
        s |= {"PI", "PS"}
    if row.pctc in _TECHNICAL_PCTC:
        if row.modality in _XRAY_MODALITIES:
            s |= {"FX", "FY"}
        if row.modality in ("CT", "CTA") or (row.modality == "GUIDANCE" and row.guidance == "CT"):
            s.add("CT")
    if row.modality in ("MAMMO", "DBT") and row.subtype == "diagnostic":
        s |= {"GG", "GH"}
    if row.subtype == "screening":
        s.add("33")
    if row.modality == "IR":
        s |= {"73", "74"}
        if not row.addon:
            s.add("51")
    return frozenset(s)


def _inactive_advanced_imaging(row: CptCode) -> frozenset[str]:
    if row.modality in ("CT", "CTA", "MR", "MRA", "NM", "PET"):
        return frozenset({"ME", "MF", "MG", "MH", "QQ"})
    return frozenset()


def _build_cpt() -> CptTable:
    keys = tuple(f.name for f in fields(CptCode) if f.name != "licensed_descriptor")
    regions = load_regions()
    rows: dict[str, CptCode] = {}
    lines: dict[str, int] = {}
    path = ""
    for path, i, obj in _iter_jsonl(CPT_FILE):
        _check_keys(obj, keys, path, i)
        code = obj["code"]
        if not isinstance(code, str) or not _CPT_RE.match(code):
            raise _bad(path, i, "code", code, "a 5-character CPT code (4 digits then a digit or letter)")
        if code in rows:
            raise _fail(path, i, f"duplicate code {code} (first on line {lines[code]}). Keep one line.")
        region = obj["region"]
        if region not in regions:
            raise _bad(path, i, "region", region, f"a region defined in {REGION_FILE}")
        addon = obj["addon"]
        if not isinstance(addon, bool):
            raise _bad(path, i, "addon", addon, [True, False])
        row = CptCode(
            code=code,
            short=_text(obj, "short", path, i),
            modality=_enum(obj, "modality", MODALITIES, path, i),
            region=region,
            contrast=_enum(obj, "contrast", CONTRASTS, path, i),
            views=_int(obj, "views", path, i, minimum=1, nullable=True),
            views_min=_int(obj, "views_min", path, i, minimum=1, nullable=True),
            extent=_enum(obj, "extent", EXTENTS, path, i, nullable=True),
            laterality=_enum(obj, "laterality", LATERALITIES, path, i),
            bilateral_indicator=_enum(obj, "bilateral_indicator", BILATERAL_INDICATORS, path, i),
            pctc=_enum(obj, "pctc", PCTC_INDICATORS, path, i),
            addon=addon,
            addon_parents=_str_list(obj, "addon_parents", path, i, _CPT_RE),
            guidance=_enum(obj, "guidance", GUIDANCES, path, i, nullable=True),
            family=_name(obj, "family", path, i),
            subtype=_name(obj, "subtype", path, i, nullable=True),
            mue=_int(obj, "mue", path, i, minimum=1),
            notes=_text(obj, "notes", path, i, empty_ok=True),
        )
        if row.views is not None and row.views_min is not None:
            raise _fail(path, i, f"{code}: set either views (exact count) or views_min (lower bound), not both.")
        if row.addon != bool(row.addon_parents):
            raise _fail(path, i, f"{code}: add-on codes need addon_parents and other codes must have none "
                                 f"(addon={row.addon}, addon_parents={list(row.addon_parents)}).")
        if (row.laterality == "bilateral") != (row.bilateral_indicator == 2):
            raise _fail(path, i, f"{code}: laterality 'bilateral' and bilateral_indicator 2 go together "
                                 f"(got {row.laterality!r}, {row.bilateral_indicator}).")
        if row.modality == "GUIDANCE" and row.guidance is None:
            raise _fail(path, i, f"{code}: GUIDANCE codes must name the guidance modality.")
        rows[code] = row
        lines[code] = i
    for code, row in rows.items():
        for parent in row.addon_parents:
            if parent not in rows:
                raise _fail(path, lines[code], f"{code}: add-on parent {parent} is not in the table. "
                                               "Add the parent code or remove it from addon_parents.")
            if parent == code:
                raise _fail(path, lines[code], f"{code}: an add-on code cannot be its own parent.")
    return CptTable(rows, f"{CODESET_VERSION} ({CPT_RELEASE}, radcoder descriptions)", path)


@functools.lru_cache(maxsize=1)
def _load_cpt_base() -> CptTable:
    return _build_cpt()


def _read_licensed(path: Path, base: CptTable) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ResourceError(f"Licensed CPT descriptor file {path}: not UTF-8 ({e.reason} at byte {e.start}). "
                            "Re-save the file as UTF-8 text.") from None
    out: dict[str, str] = {}
    first_line: dict[str, int] = {}
    header_seen = False
    for i, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) != 2:
            raise ResourceError(Errors.E105.format(path=path, line=i, n=len(parts))
                                + " Use exactly one TAB between the code and the descriptor.")
        code, desc = parts[0].strip().upper(), parts[1].strip()
        if not header_seen and not out and code == "CODE":
            header_seen = True
            continue
        if not _CPT_RE.match(code):
            raise ResourceError(f"Licensed CPT descriptor file {path}, line {i}: {parts[0]!r} is not a CPT code "
                                "(4 digits then a digit or letter). Fix or remove the line.")
        if not desc:
            raise ResourceError(f"Licensed CPT descriptor file {path}, line {i}: code {code} has an empty "
                                "descriptor. Fill it in or remove the line.")
        if code in out:
            raise ResourceError(f"Licensed CPT descriptor file {path}, line {i}: code {code} repeats line "
                                f"{first_line[code]}. Keep one line per code.")
        out[code] = desc
        first_line[code] = i
    if not out:
        raise ResourceError(f"Licensed CPT descriptor file {path} has no descriptors. Expected lines of "
                            "'CODE<TAB>DESCRIPTOR'.")
    return {c: d for c, d in out.items() if c in base}


@functools.lru_cache(maxsize=8)
def _load_cpt_licensed(path: str, mtime_ns: int, size: int) -> CptTable:
    base = _load_cpt_base()
    p = Path(path)
    descs = _read_licensed(p, base)
    rows = {}
    for row in base:
        d = descs.get(row.code)
        rows[row.code] = row if d is None else _replace_descriptor(row, d)
    warn_once(Warnings.W002.format(path=p))
    return CptTable(rows, f"{base.version}; descriptors from {p.name}", base.source, descriptor_source=str(p))


def _replace_descriptor(row: CptCode, descriptor: str) -> CptCode:
    values = {f.name: getattr(row, f.name) for f in fields(CptCode)}
    values["licensed_descriptor"] = descriptor
    return CptCode(**values)


def load_cpt(licensed_descriptors: str | Path | None = None) -> CptTable:
    """The CPT table (cached).

    ``licensed_descriptors``: optional path to a UTF-8 TSV of ``CODE<TAB>DESCRIPTOR`` lines from an
    AMA-licensed source (blank lines, ``#`` comments and a ``code<TAB>descriptor`` header are
    skipped; codes not in radcoder's table are ignored). A malformed file raises
    :class:`radcoder.errors.ResourceError` (a ``ValueError``) naming the file and line.
    """
    if licensed_descriptors is None:
        return _load_cpt_base()
    p = Path(licensed_descriptors).expanduser().resolve()
    if not p.is_file():
        raise ResourceError(Errors.E001.format(path=p))
    st = p.stat()
    return _load_cpt_licensed(str(p), st.st_mtime_ns, st.st_size)


# ----------------------------------------------------------------------------- HCPCS
class HcpcsTable(_Frozen):
    __slots__ = ("_rows", "source", "version")

    def __init__(self, rows: Mapping[str, HcpcsCode], version: str, source: str):
        object.__setattr__(self, "_rows", MappingProxyType(dict(sorted(rows.items()))))
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "source", source)

    def get(self, code: str) -> HcpcsCode | None:
        return self._rows.get(code.strip().upper()) if isinstance(code, str) else None

    def __getitem__(self, code: str) -> HcpcsCode:
        row = self.get(code)
        if row is None:
            raise KeyError(f"{code!r} is not in the radcoder HCPCS table ({HCPCS_FILE})")
        return row

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.strip().upper() in self._rows

    def __iter__(self) -> Iterator[HcpcsCode]:
        return iter(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)

    def find(self, **criteria: Any) -> tuple[HcpcsCode, ...]:
        return _find(self._rows.values(), HcpcsCode, criteria)

    def allowed_modifiers(self, code: str, *, include_inactive: bool = False) -> frozenset[str]:
        """Contrast, radiopharmaceutical and drug codes: JW, JZ and the payment set; G0279: 26/TC plus the diagnostic-mammo set;
        portable X-ray transport: GA/GY/GZ (R0075 also UN-US). Deleted codes allow nothing."""
        row = self[code]
        if not row.active:
            return frozenset()
        if row.kind in ("contrast", "radiopharmaceutical", "drug"):
            s = {"JW", "JZ", "GA", "GZ", "GY", "KX"}
        elif row.kind == "addon":
            s = {"26", "TC", "52", "59", "XE", "XP", "XS", "XU", "76", "77", "GA", "GZ", "GY", "GG", "GH"}
        elif row.kind == "transport":
            s = {"GA", "GZ", "GY"} | (_PORTABLE_PATIENT_MODIFIERS if row.code == "R0075" else set())
        else:
            s = set(_GENERAL_MODIFIERS)
        mods = load_modifiers()
        pool = {m.modifier for m in mods} if include_inactive else mods.active()
        return frozenset(s) & pool


@functools.lru_cache(maxsize=1)
def load_hcpcs() -> HcpcsTable:
    """The HCPCS Level II radiology table (cached)."""
    keys = ("code", "short", "kind", "unit", "applies_to", "addon_parents", "status")
    cpt = _load_cpt_base()
    rows: dict[str, HcpcsCode] = {}
    lines: dict[str, int] = {}
    path = ""
    for path, i, obj in _iter_jsonl(HCPCS_FILE):
        _check_keys(obj, keys, path, i)
        code = obj["code"]
        if not isinstance(code, str) or not _HCPCS_RE.match(code):
            raise _bad(path, i, "code", code, "a HCPCS Level II code (letter A-V then 4 digits)")
        if code in rows:
            raise _fail(path, i, f"duplicate code {code} (first on line {lines[code]}). Keep one line.")
        applies = _str_list(obj, "applies_to", path, i)
        for a in applies:
            if a not in MODALITIES:
                raise _bad(path, i, "applies_to", a, MODALITIES)
        row = HcpcsCode(
            code=code,
            short=_text(obj, "short", path, i),
            kind=_enum(obj, "kind", HCPCS_KINDS, path, i),
            unit=_text(obj, "unit", path, i),
            applies_to=applies,
            addon_parents=_str_list(obj, "addon_parents", path, i),
            status=_enum(obj, "status", HCPCS_STATUSES, path, i),
        )
        if (row.kind == "addon") != bool(row.addon_parents):
            raise _fail(path, i, f"{code}: kind 'addon' needs addon_parents and other kinds must have none.")
        rows[code] = row
        lines[code] = i
    for code, row in rows.items():
        for parent in row.addon_parents:
            if parent not in rows and parent not in cpt:
                raise _fail(path, lines[code], f"{code}: add-on parent {parent} is in neither {HCPCS_FILE} nor "
                                               f"{CPT_FILE}. Add it or remove it from addon_parents.")
    return HcpcsTable(rows, CODESET_VERSION, path)


# ----------------------------------------------------------------------------- NCCI
class NcciTable(_Frozen):
    """Authored procedure-to-procedure edits; lookups work in either order."""

    __slots__ = ("_by_code", "_by_pair", "_edits", "source", "version")

    def __init__(self, edits: tuple[NcciEdit, ...], version: str, source: str):
        by_pair = {e.pair: e for e in edits}
        by_code: dict[str, list[NcciEdit]] = {}
        for e in edits:
            by_code.setdefault(e.column1, []).append(e)
            by_code.setdefault(e.column2, []).append(e)
        object.__setattr__(self, "_edits", tuple(edits))
        object.__setattr__(self, "_by_pair", MappingProxyType(by_pair))
        object.__setattr__(self, "_by_code", MappingProxyType({k: tuple(v) for k, v in by_code.items()}))
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "source", source)

    def conflict(self, a: str, b: str) -> NcciEdit | None:
        """The edit between ``a`` and ``b`` (either order), or None."""
        return self._by_pair.get(frozenset((a.strip().upper(), b.strip().upper())))

    def edits_for(self, code: str) -> tuple[NcciEdit, ...]:
        return self._by_code.get(code.strip().upper(), ())

    def __contains__(self, pair: object) -> bool:
        if isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(x, str) for x in pair):
            return self.conflict(pair[0], pair[1]) is not None
        return False

    def __iter__(self) -> Iterator[NcciEdit]:
        return iter(self._edits)

    def __len__(self) -> int:
        return len(self._edits)


@functools.lru_cache(maxsize=1)
def load_ncci() -> NcciTable:
    """The authored NCCI pair table (cached). Every code must be in the CPT or HCPCS table."""
    path, text = _read_text(NCCI_FILE)
    cpt, hcpcs = _load_cpt_base(), load_hcpcs()
    header = ["column1", "column2", "modifier_indicator", "rationale"]
    edits: list[NcciEdit] = []
    first: dict[frozenset, int] = {}
    header_seen = False
    for i, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = raw.split("\t")
        if not header_seen:
            if parts != header:
                raise _fail(path, i, f"expected the header line {'<TAB>'.join(header)}.")
            header_seen = True
            continue
        if len(parts) != 4:
            raise _fail(path, i, f"expected 4 TAB-separated fields ({', '.join(header)}); got {len(parts)}.")
        c1, c2, mi, why = (p.strip() for p in parts)
        for key, c in (("column1", c1), ("column2", c2)):
            if c not in cpt and c not in hcpcs:
                raise _bad(path, i, key, c, f"a code in {CPT_FILE} or {HCPCS_FILE}")
        if c1 == c2:
            raise _fail(path, i, f"column1 and column2 are the same code {c1}.")
        if not mi.isdigit() or int(mi) not in NCCI_INDICATORS:
            raise _bad(path, i, "modifier_indicator", mi, sorted(NCCI_INDICATORS))
        if not why:
            raise _fail(path, i, "rationale is empty; say in one line why the pair conflicts.")
        pair = frozenset((c1, c2))
        if pair in first:
            raise _fail(path, i, f"pair {c1}/{c2} repeats line {first[pair]} (order does not matter).")
        first[pair] = i
        edits.append(NcciEdit(c1, c2, int(mi), why))
    if not header_seen:
        raise _fail(path, 1, "file is empty; expected a header line and edits.")
    return NcciTable(tuple(edits), CODESET_VERSION, path)


# ----------------------------------------------------------------------------- helpers
def allowed_modifiers(code: str, *, include_inactive: bool = False) -> frozenset[str]:
    """Allowed modifiers for a CPT or HCPCS code (KeyError when the code is in neither table)."""
    cpt = load_cpt()
    if code in cpt:
        return cpt.allowed_modifiers(code, include_inactive=include_inactive)
    return load_hcpcs().allowed_modifiers(code, include_inactive=include_inactive)


def clear_caches() -> None:
    """Forget every loaded table (for tests, or after editing the resource files)."""
    for fn in (load_regions, load_modifiers, _load_cpt_base, _load_cpt_licensed, load_hcpcs, load_ncci):
        fn.cache_clear()
