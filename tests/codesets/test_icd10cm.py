"""Tests for the ICD-10-CM code set index (radcoder.codesets.icd10cm)."""

from __future__ import annotations

import subprocess
import sys
from types import MappingProxyType

import pytest

from radcoder.codesets import Icd10cm, load_icd10cm, normalize
from radcoder.codesets.icd10cm import UnknownCodeError, parse_code_refs, undotted


@pytest.fixture(scope="module")
def icd() -> Icd10cm:
    return load_icd10cm()


# --------------------------------------------------------------- normalisation
@pytest.mark.parametrize(
    "raw, expected",
    [
        ("r059", "R05.9"),
        ("R05.9", "R05.9"),
        (" R05.9 ", "R05.9"),
        ("s72001a", "S72.001A"),
        ("R05", "R05"),
        ("j18.", "J18"),
        ("J09-J18", "J09-J18"),
        ("10", "10"),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_undotted():
    assert undotted("r05.9") == "R059"
    assert undotted("S72.001A") == "S72001A"


def test_normalize_rejects_non_strings():
    with pytest.raises(TypeError):
        normalize(None)  # type: ignore[arg-type]


# ------------------------------------------------------------ valid / billable
@pytest.mark.parametrize("code", ["R05.9", "J18.9", "S72.001A", "N13.70", "J45.909", "S02.0XXA", "B99.9"])
def test_billable(icd, code):
    assert icd.is_valid(code)
    assert icd.is_billable(code)
    assert code in icd


@pytest.mark.parametrize("code", ["R05", "J18", "S72", "S72.001", "S72.00", "N13.7", "B99"])
def test_valid_but_not_billable(icd, code):
    assert icd.is_valid(code)
    assert not icd.is_billable(code)


@pytest.mark.parametrize("code", ["R05.0", "J18.99", "S72.001", "Z00.0", "XYZ", "", "R05.9A", "S72.001Z"])
def test_invalid_or_incomplete(icd, code):
    # R05.0 / J18.99 / S72.001Z do not exist; S72.001 exists but needs a 7th character
    assert not icd.is_billable(code)


@pytest.mark.parametrize("code", ["R05.0", "J18.99", "XYZ", "", "R05.9A", "S72.001Z", "A00-A10"])
def test_invalid(icd, code):
    assert not icd.is_valid(code)
    assert code not in icd


def test_non_string_inputs(icd):
    assert not icd.is_valid(None)  # type: ignore[arg-type]
    assert not icd.is_billable(123)  # type: ignore[arg-type]
    assert 123 not in icd


@pytest.mark.parametrize("code", ["r059", "R059", "r05.9", " R05.9\n"])
def test_dotted_and_undotted_forms(icd, code):
    assert icd.is_billable(code)
    assert icd.description(code) == "Cough, unspecified"


def test_chapters_and_blocks_are_valid_not_billable(icd):
    assert icd.is_valid("J09-J18") and icd.kind("J09-J18") == "block"
    assert icd.is_valid("10") and icd.kind("10") == "chapter"
    assert not icd.is_billable("J09-J18") and not icd.is_billable("10")


def test_kinds(icd):
    assert icd.kind("R05") == "category"
    assert icd.kind("R05.9") == "subcategory"
    assert icd.kind("S72.001A") == "extended subcategory"


def test_requires_7th(icd):
    assert icd.requires_7th("S72.001")
    assert icd.requires_7th("S72")
    assert not icd.requires_7th("S72.001A")
    assert not icd.requires_7th("R05.9")
    assert not icd.requires_7th("R05")


def test_billable_count(icd):
    assert 74_000 <= len(icd) <= 75_500
    assert len(list(icd.iter_billable())) == len(icd)
    assert all(icd.is_billable(c) for c in list(icd.iter_billable())[:2000])


# ---------------------------------------------------------------- descriptions
def test_descriptions(icd):
    assert icd.description("R05") == "Cough"
    assert icd.description("J18.9") == "Pneumonia, unspecified organism"
    assert icd.description("N13.70") == "Vesicoureteral-reflux, unspecified"


def test_description_of_7th_character_code(icd):
    # CMS long title: parent description + ", " + 7th-character meaning
    assert icd.description("S72.001A") == (
        "Fracture of unspecified part of neck of right femur, initial encounter for closed fracture"
    )
    assert icd.description("S02.0XXA") == "Fracture of vault of skull, initial encounter for closed fracture"
    assert icd.description("S72.001S").endswith(", sequela")


def test_description_of_invalid_code_raises_keyerror(icd):
    with pytest.raises(KeyError) as exc:
        icd.description("R05.0")
    msg = str(exc.value)
    assert "'R05.0'" in msg and "R05.9" in msg  # says what it got and what a code looks like
    with pytest.raises(UnknownCodeError):
        icd.description("not a code")
    with pytest.raises(UnknownCodeError, match="normalized to 'R99.9'"):
        icd.description("r999")


def test_inclusion_terms(icd):
    assert "Asthma NOS" in icd.inclusion_terms("J45.909")
    assert "Vesicoureteral-reflux NOS" in icd.inclusion_terms("N13.70")
    assert icd.inclusion_terms("R05.9") == ()
    assert isinstance(icd.inclusion_terms("J45.909"), tuple)


# ------------------------------------------------------------------- hierarchy
def test_parent_and_ancestors(icd):
    assert icd.parent("R05.9") == "R05"
    assert icd.parent("R05") == "R00-R09"
    assert icd.parent("R00-R09") == "18"
    assert icd.parent("18") is None
    assert icd.ancestors("J18.9") == ("J18", "J09-J18", "10")
    assert icd.ancestors("S72.001A") == ("S72.001", "S72.00", "S72.0", "S72", "S70-S79", "19")
    # placeholder X's are not codes: the 7th character hangs off S02.0
    assert icd.parent("S02.0XXA") == "S02.0"
    # a block holding a single same-named category is folded into the category
    assert icd.parent("B99") == "1"


def test_children_and_billable_descendants(icd):
    assert icd.children("R05") == ("R05.1", "R05.2", "R05.3", "R05.4", "R05.8", "R05.9")
    assert icd.children("R05.9") == ()
    assert icd.billable_descendants("R05") == icd.children("R05")
    assert icd.billable_descendants("R05.9") == ("R05.9",)
    kids = icd.children("S72.001")
    assert "S72.001A" in kids and len(kids) == 16
    assert icd.billable_descendants("S72.001") == kids


def test_lookup_of_invalid_code_in_hierarchy_raises(icd):
    for fn in (icd.parent, icd.ancestors, icd.children, icd.excludes1, icd.seven_chr_def):
        with pytest.raises(KeyError):
            fn("R05.0")


# ------------------------------------------------------------------- 7th chars
def test_seven_chr_def(icd):
    s72 = icd.seven_chr_def("S72")
    assert s72["A"] == "initial encounter for closed fracture"
    assert s72["S"] == "sequela"
    assert len(s72) == 16
    assert icd.seven_chr_def("S72.001") == s72  # inherited
    assert icd.seven_chr_def("R05.9") == {}


# -------------------------------------------------------------------- excludes
def test_excludes1_texts(icd):
    # R05 Cough: Excludes1 paroxysmal cough due to Bordetella pertussis (A37.0-),
    # smoker's cough (J41.0) -- inherited by R05.9
    notes = icd.excludes1("R05.9")
    assert "smoker's cough (J41.0)" in notes
    assert "paroxysmal cough due to Bordetella pertussis (A37.0-)" in notes
    assert "type 1 diabetes mellitus (E10.-)" in icd.excludes1("E11.9")


@pytest.mark.parametrize(
    "a, b",
    [
        ("R05.9", "J41.0"),  # R05 Excludes1 smoker's cough (J41.0)
        ("R05.1", "A37.00"),  # R05 Excludes1 ... Bordetella pertussis (A37.0-)
        ("E11.9", "E10.9"),  # E11 Excludes1 type 1 diabetes mellitus (E10.-)
        ("J18.9", "J84.9"),  # J18 Excludes1 interstitial pneumonia NOS (J84.9)
        ("J18.9", "J70.3"),  # J18 Excludes1 drug-induced interstitial lung disorder (J70.2-J70.4)
        ("G54.5", "E11.44"),  # G54.5 Excludes1 ... (E08-E13 with .44)
        ("S72.001A", "S78.011A"),  # S72 Excludes1 traumatic amputation of hip and thigh (S78.-)
    ],
)
def test_excludes1_conflict_real_pairs(icd, a, b):
    assert icd.excludes1_conflict(a, b)
    assert icd.excludes1_conflict(b, a)  # symmetric


@pytest.mark.parametrize(
    "a, b",
    [
        ("R05.9", "J18.9"),
        ("J18.9", "R91.8"),
        ("G54.5", "E11.9"),  # the note only names E08-E13 with .44
        ("E11.9", "E11.9"),
        ("J18.9", "J70.5"),  # just outside J70.2-J70.4
    ],
)
def test_excludes1_non_conflicts(icd, a, b):
    assert not icd.excludes1_conflict(a, b)


def test_parse_code_refs():
    assert parse_code_refs("pneumonia (J18.-)") == (("J18", "J18", None),)
    assert parse_code_refs("diabetes (E10-E13)") == (("E10", "E13", None),)
    assert parse_code_refs("appendicitis (K35.2-)") == (("K352", "K352", None),)
    assert parse_code_refs("inflammation of penis (N48.1, N48.2-)") == (
        ("N481", "N481", None),
        ("N482", "N482", None),
    )
    assert parse_code_refs("(E08-E13 with .51-.52)") == (("E08", "E13", ("sfx", "51", "52")),)
    assert parse_code_refs("(I69. with final characters -23)") == (("I69", "I69", ("end", "23")),)
    assert parse_code_refs("intestinal obstruction classifiable to K56.-") == (("K56", "K56", None),)
    assert parse_code_refs("disorders of:") == ()
    # an unevaluable qualifier drops the reference instead of over-matching
    assert parse_code_refs("diabetic acidosis - see categories E08-E10, E11, E13 with ketoacidosis") == ()


# ---------------------------------------------------------------------- search
def test_search_pneumonia(icd):
    hits = icd.search("pneumonia")
    codes = [c for c, _ in hits]
    assert "J18.9" in codes[:5]
    assert len(hits) == 10
    assert all(icd.is_billable(c) for c in codes)
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)
    assert icd.search("pneumonia") == hits  # deterministic


def test_search_misc(icd):
    assert icd.search("cough", limit=3)[0][0] == "R05.9"
    assert icd.search("Asthma")[0][0] == "J45.909"  # via the inclusion term "Asthma NOS"
    assert icd.search("") == []
    assert icd.search("pneumonia", limit=0) == []
    assert icd.search("zzzqqq") == []


# ------------------------------------------------------------- immutability etc.
def test_immutable(icd):
    with pytest.raises(AttributeError):
        icd.release = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        icd.new_attr = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        del icd.release
    with pytest.raises(TypeError):
        icd.seven_chr_def("S72")["A"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        icd._kind["R05.9"] = "chapter"  # type: ignore[index]
    with pytest.raises(AttributeError):
        icd.children("R05").append("R05.0")  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        icd.excludes1("R05.9").append("x")  # type: ignore[attr-defined]
    assert isinstance(icd.ancestors("R05.9"), tuple)
    assert isinstance(icd.seven_chr_def("S72"), MappingProxyType)
    with pytest.raises(TypeError):
        Icd10cm()


def test_load_is_cached(icd):
    assert load_icd10cm() is icd
    assert load_icd10cm() is load_icd10cm()


def test_release(icd):
    assert "ICD-10-CM April 2026 (FY2026)" in icd.release
    assert "simple-icd-10-cm 1.5" in icd.release


def test_load_does_not_import_simple_icd_10_cm():
    code = (
        "import sys, radcoder.codesets.icd10cm as m; m.load_icd10cm(); "
        "print('simple_icd_10_cm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------ cross-check with the package
def test_matches_simple_icd_10_cm(icd):
    """Our index agrees with simple_icd_10_cm (imported here only; ~2 s)."""
    s = pytest.importorskip("simple_icd_10_cm")
    all_codes = s.get_all_codes(True)
    assert {c for c in all_codes} == set(icd._kind)
    theirs = [c for c in all_codes if s.is_leaf(c) and s.is_category_or_subcategory(c)]
    assert list(dict.fromkeys(theirs)) == list(icd.iter_billable())
    for code in all_codes[::13]:
        if s.is_chapter_or_block(code) and icd.kind(code) == "category":
            continue  # folded single-category block (B99, C7A ...)
        assert icd.parent(code) == (s.get_parent(code) or None), code
        # the package appends 7th-character sub-notes with "/"; CMS long titles do not
        mine, theirs = icd.description(code), s.get_description(code)
        assert mine == theirs or theirs.startswith(mine + "/"), code
        if icd.kind(code) != "extended subcategory":
            assert icd.inclusion_terms(code) == tuple(s.get_inclusion_term(code)), code
