"""Tests for the procedure code tables and their loaders (radcoder.codesets.procedures)."""

from __future__ import annotations

import dataclasses
import json
import re
from importlib import resources

import pytest

from radcoder.codesets import procedures as P
from radcoder.errors import RadcoderError, ResourceError

CODESETS = resources.files("radcoder").joinpath("resources", "codesets")

CPT_KEYS = ["code", "short", "modality", "region", "contrast", "views", "views_min", "extent", "laterality",
            "bilateral_indicator", "pctc", "addon", "addon_parents", "guidance", "family", "subtype", "mue",
            "notes"]


def _jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in CODESETS.joinpath(name).read_text(encoding="utf-8").splitlines()
            if line.strip()]


@pytest.fixture(scope="module")
def cpt():
    return P.load_cpt()


@pytest.fixture(scope="module")
def hcpcs():
    return P.load_hcpcs()


@pytest.fixture(scope="module")
def ncci():
    return P.load_ncci()


@pytest.fixture(scope="module")
def regions():
    return P.load_regions()


# ----------------------------------------------------------------------------- file formats and counts
def test_cpt_file_format_and_count():
    rows = _jsonl(P.CPT_FILE)
    assert len(rows) >= 320
    for row in rows:
        assert list(row) == CPT_KEYS
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes))
    assert codes == sorted(codes)


def test_table_counts(cpt, hcpcs, ncci, regions):
    assert len(cpt) >= 300
    assert len(hcpcs) >= 40
    assert len(ncci) >= 40
    assert len(P.load_modifiers()) >= 30
    assert len(regions) >= 50


def test_cpt_enums(cpt):
    for c in cpt:
        assert re.fullmatch(r"\d{4}[0-9A-Z]", c.code)
        assert c.modality in P.MODALITIES
        assert c.contrast in P.CONTRASTS
        assert c.laterality in P.LATERALITIES
        assert c.extent in P.EXTENTS | {None}
        assert c.guidance in P.GUIDANCES | {None}
        assert c.bilateral_indicator in P.BILATERAL_INDICATORS
        assert c.pctc in P.PCTC_INDICATORS
        assert c.mue >= 1
        assert not (c.views is not None and c.views_min is not None)
        assert c.short and len(c.short) <= 100
        assert (c.laterality == "bilateral") == (c.bilateral_indicator == 2)
    modalities = {c.modality for c in cpt}
    assert modalities == P.MODALITIES  # every modality is represented


def test_every_region_used_is_defined(cpt, regions):
    used = {c.region for c in cpt}
    assert used <= {r.region for r in regions}
    for r in regions:
        assert r.parent is None or r.parent in regions
        for s in r.synonyms:
            assert s == s.strip().lower()


def test_addon_parents_exist(cpt, hcpcs):
    for c in cpt:
        assert c.addon == bool(c.addon_parents)
        for p in c.addon_parents:
            assert p in cpt
    assert cpt["76937"].addon and "36556" in cpt["76937"].addon_parents
    assert set(cpt["77063"].addon_parents) == {"77067"}
    g = hcpcs["G0279"]
    assert g.kind == "addon" and set(g.addon_parents) == {"77065", "77066"}
    assert all(p in cpt for p in g.addon_parents)


REQUIRED_CPT = """
71045 71046 71047 71048 74018 74019 74021 74022 70450 70460 70470 70486 70490 71250 71260 71270 71275
74150 74160 74170 74176 74177 74178 74174 74175 75635 75571 75574 74261 74262 74263 70551 70552 70553
70544 70547 72141 72148 72195 74181 73221 73721 77046 77047 77048 77049 76536 76604 76641 76642 76700
76705 76770 76775 76856 76857 76830 76870 76801 76802 76805 76810 76811 76812 76813 76814 76815 76816
76817 76881 76882 76942 76937 77065 77066 77067 77061 77062 77063 77080 77081 77085 77086 74220 74230
74240 74246 74250 74270 74280 74420 74425 74450 74455 74740 77001 77002 77003 78012 78013 78014 78300
78305 78306 78315 78451 78452 78453 78454 78580 78582 78597 78598 78226 78227 78707 78708 78709 78264
78803 78811 78812 78813 78814 78815 78816 78608 78609 10005 10006 10007 10008 10009 10010 10011 10012
10021 19081 19082 19083 19084 19085 19086 20206 32554 32555 32556 32557 32408 47000 49083 49180 49405
49406 49407 50200 50432 36556 36561 36569 36572 36573 77011 77012 77013 77014 77021 77022 93880 93882
93922 93923 93924 93925 93926 93930 93931 93970 93971 93975 93976 93978 93979 93990 62270 62272 62320
62321 62322 62323
""".split()  # noqa: SIM905


def test_brief_codes_present(cpt):
    missing = [c for c in REQUIRED_CPT if c not in cpt]
    assert not missing


def test_known_attributes(cpt):
    assert cpt["71046"].views == 2 and cpt["71046"].family == "xr_chest"
    assert cpt["71048"].views_min == 4 and cpt["71048"].views is None
    assert {c.code for c in cpt.by_family("ct_abdomen_pelvis")} == {"74176", "74177", "74178"}
    assert {c.code for c in cpt.by_family("xr_chest")} == {"71045", "71046", "71047", "71048"}
    assert cpt["74178"].contrast == "without_with"
    assert cpt["77066"].laterality == "bilateral" and cpt["77065"].laterality == "unilateral"
    assert cpt["77065"].subtype == "diagnostic" and cpt["77067"].subtype == "screening"
    assert cpt["76641"].laterality == "unilateral" and cpt["76641"].extent == "complete"
    assert cpt["73565"].laterality == "bilateral"
    assert cpt["77080"].subtype == "axial" and cpt["77081"].subtype == "appendicular"
    assert cpt["76942"].modality == "GUIDANCE" and cpt["76942"].guidance == "US"
    assert cpt["10009"].guidance == "CT" and cpt["10009"].pctc == 0
    assert cpt["71046"].pctc == 1 and cpt["73562"].bilateral_indicator == 3
    assert "G0279" not in cpt


def test_find(cpt):
    got = cpt.find(modality="CT", region="abdomen_pelvis", contrast="with")
    assert [c.code for c in got] == ["74177"]
    assert {c.code for c in cpt.find(modality=["MR", "MRA"], region="neck")} == {"70547", "70548", "70549"}
    assert {c.code for c in cpt.addons_for("77067")} == {"77063"}
    assert {c.code for c in cpt.find(addon=True, addon_parents="10005")} == {"10006"}
    assert cpt.find(modality="NOPE") == ()
    with pytest.raises(TypeError):
        cpt.find(colour="blue")
    assert cpt.by_family("no_such_family") == ()
    assert cpt.get("99999") is None and cpt.get(" 71046 ").code == "71046"
    assert "71046" in cpt and "00000" not in cpt and 71046 not in cpt


def test_regions_lookup(regions):
    assert "cervical_spine" in {r.region for r in regions.lookup("c-spine")}
    assert "abdomen_pelvis" in {r.region for r in regions.lookup("Abd/Pelvis")}
    assert "abdomen_pelvis" in {r.region for r in regions.lookup("a/p")}
    assert "abdomen" in {r.region for r in regions.lookup("abd")}
    assert {r.region for r in regions.lookup("orbit")} >= {"orbit", "orbit_sella_ear", "orbit_face_neck"}
    assert regions.lookup("cxr") == ()
    assert regions.get("knee").paired is True and regions.get("chest").paired is False
    assert regions.ancestors("shoulder")[:2] == ("upper_extremity_joint", "upper_extremity")
    assert "knee" in regions.children("lower_extremity_joint")


def test_region_file_order_maps_names_to_themselves():
    # a first-wins index over (name, *synonyms) in file order must map each region name to its own region
    idx: dict[str, str] = {}
    for row in _jsonl(P.REGION_FILE):
        for t in (row["region"].replace("_", " "), *row["synonyms"]):
            idx.setdefault(t, row["region"])
    assert all(idx[r["region"].replace("_", " ")] == r["region"] for r in _jsonl(P.REGION_FILE))


def test_region_distance(regions):
    d = regions.distance
    assert d("knee", "knee") == 0
    assert d("orbit_sella_ear", "orbit") == 1 and d("orbit_face_neck", "orbit") == 1
    assert d("lower_extremity_joint", "knee") == 1 and d("lower_extremity", "knee") == 3
    assert d("lower_extremity", "femur") == 2
    assert d("brain", "temporal_bone") == 1 and d("head", "brain") == 2
    assert d("soft_tissue_neck", "neck") == 1 and d("soft_tissue_neck", "thyroid") == 1
    assert d("any", "knee") == P.ANY_REGION_DISTANCE
    assert d("chest", "knee") is None


@pytest.mark.parametrize(
    "modality, term, expected",
    [
        ("MR", "knee", {"73721", "73722", "73723"}),
        ("CT", "knee", {"73700", "73701", "73702"}),
        ("CT", "orbits", {"70480", "70481", "70482"}),
        ("CT", "temporal bones", {"70480", "70481", "70482"}),
        ("MR", "iac", {"70551", "70552", "70553", "70554", "70555"}),  # fMRI is told apart by subtype
        ("MR", "pituitary", {"70551", "70552", "70553", "70554", "70555"}),
        ("MR", "orbits", {"70540", "70542", "70543"}),
        ("CT", "brain", {"70450", "70460", "70470"}),
        ("CT", "sinuses", {"70486", "70487", "70488"}),
        ("CT", "neck", {"70490", "70491", "70492"}),
        ("CTA", "neck", {"70498"}),
        ("US", "thyroid", {"76536"}),
        ("MR", "l-spine", {"72148", "72149", "72158"}),
        ("CT", "abd/pelvis", {"74176", "74177", "74178"}),
        ("US", "renal", {"76776"}),
        ("DEXA", "hip", {"77080", "77085"}),
        ("US", "knee", {"76881", "76882", "76883"}),
        ("DUPLEX", "dvt", {"93970", "93971"}),
    ],
)
def test_region_terms_reach_the_right_codes(cpt, regions, modality, term, expected):
    """The first region for a report term plus RegionTable.distance selects the code family."""
    region = regions.lookup(term)[0].region
    scored = [(regions.distance(c.region, region), c.code) for c in cpt.find(modality=modality)]
    scored = [(dist, code) for dist, code in scored if dist is not None]
    best = min(dist for dist, _ in scored)
    assert {code for dist, code in scored if dist == best} == expected


# ----------------------------------------------------------------------------- HCPCS and modifiers
def test_hcpcs_rows(hcpcs):
    rows = _jsonl(P.HCPCS_FILE)
    for row in rows:
        assert list(row) == ["code", "short", "kind", "unit", "applies_to", "addon_parents", "status"]
    for code in ("Q9965", "Q9966", "Q9967", "A9575", "A9577", "A9579", "A9585", "A9500", "A9503", "A9552",
                 "R0070", "R0075", "Q0092"):
        assert hcpcs[code].active
    assert hcpcs["Q9967"].kind == "contrast" and hcpcs["Q9967"].unit == "per ml"
    assert hcpcs["A9552"].kind == "radiopharmaceutical"
    for code in ("G0202", "G0204", "G0206"):
        assert hcpcs[code].status == "deleted"
    for h in hcpcs:
        assert h.kind in P.HCPCS_KINDS and h.status in P.HCPCS_STATUSES
        assert set(h.applies_to) <= P.MODALITIES


def test_modifier_rows():
    mods = P.load_modifiers()
    for m in ("26", "TC", "RT", "LT", "50", "52", "53", "59", "XE", "XP", "XS", "XU", "76", "77", "GA", "GZ",
              "GY", "PI", "PS", "73", "74", "FX", "FY", "CT", "JW", "JZ", "GG", "FA", "F9", "TA", "T9"):
        assert mods.get(m) is not None and mods.get(m).active, m
    for m in ("ME", "MF", "MG", "MH", "QQ"):
        assert mods.get(m).status == "inactive"
    for m in mods:
        assert m.kind in P.MODIFIER_KINDS and set(m.payers) <= P.PAYERS and m.payers
    assert mods.get("rt").modifier == "RT"
    assert {m.modifier for m in mods.find(kind="laterality")} == {"RT", "LT", "50"}


# ----------------------------------------------------------------------------- allowed modifiers
def test_allowed_modifiers_chest_and_knee(cpt):
    chest = cpt.allowed_modifiers("71046")
    assert {"26", "TC", "52", "59", "76", "77"} <= chest
    assert not chest & {"RT", "LT", "50", "PI", "PS", "CT"}
    knee = cpt.allowed_modifiers("73562")
    assert {"RT", "LT", "50", "26", "TC"} <= knee
    assert "CT" in cpt.allowed_modifiers("74177") and "FX" not in cpt.allowed_modifiers("74177")


def test_allowed_modifiers_special_cases(cpt):
    assert {"PI", "PS"} <= cpt.allowed_modifiers("78815")
    assert not {"PI", "PS"} & cpt.allowed_modifiers("78492")  # cardiac PET
    # unilateral code with a bilateral alternative in its family: sides yes, 50 no
    assert {"RT", "LT"} <= cpt.allowed_modifiers("77065") and "50" not in cpt.allowed_modifiers("77065")
    assert "50" not in cpt.allowed_modifiers("93971")
    assert not {"RT", "LT", "50"} & cpt.allowed_modifiers("77066")
    assert {"GG", "GH"} <= cpt.allowed_modifiers("77065") and "GG" not in cpt.allowed_modifiers("77067")
    assert "33" in cpt.allowed_modifiers("77067")
    assert {"FA", "F1"} <= cpt.allowed_modifiers("73140") and "TA" not in cpt.allowed_modifiers("73140")
    assert {"TA", "T1"} <= cpt.allowed_modifiers("73660")
    proc = cpt.allowed_modifiers("19083")
    assert {"51", "73", "74", "RT", "LT"} <= proc and not {"26", "TC"} & proc
    assert "51" not in cpt.allowed_modifiers("19084")  # add-on
    assert "CT" in cpt.allowed_modifiers("77012")
    # inactive AUC modifiers only on request
    assert "ME" not in cpt.allowed_modifiers("70551")
    assert "ME" in cpt.allowed_modifiers("70551", include_inactive=True)
    with pytest.raises(KeyError):
        cpt.allowed_modifiers("99999")


def test_allowed_modifiers_exist_in_modifier_table(cpt, hcpcs):
    mods = P.load_modifiers()
    for c in cpt:
        allowed = cpt.allowed_modifiers(c.code, include_inactive=True)
        assert {"52", "59", "76"} <= allowed
        assert all(m in mods for m in allowed)
    for h in hcpcs:
        assert all(m in mods for m in hcpcs.allowed_modifiers(h.code))


def test_allowed_modifiers_hcpcs(hcpcs):
    assert {"JW", "JZ"} <= hcpcs.allowed_modifiers("Q9967")
    assert hcpcs["J2785"].kind == "drug" and "JW" in hcpcs.allowed_modifiers("J2785")
    assert {"26", "TC"} <= hcpcs.allowed_modifiers("G0279")
    assert {"UN", "US"} <= hcpcs.allowed_modifiers("R0075") and "UN" not in hcpcs.allowed_modifiers("R0070")
    assert hcpcs.allowed_modifiers("G0202") == frozenset()
    assert P.allowed_modifiers("Q9967") == hcpcs.allowed_modifiers("Q9967")
    assert P.allowed_modifiers("71046") == P.load_cpt().allowed_modifiers("71046")


# ----------------------------------------------------------------------------- NCCI
def test_ncci_lookup_both_orders(ncci):
    e = ncci.conflict("76700", "76705")
    assert e is not None and e is ncci.conflict("76705", "76700")
    assert e.column1 == "76700" and e.modifier_indicator == 0 and not e.bypassable
    assert ncci.conflict("71045", "71046").bypassable
    assert ncci.conflict("10009", "77012") is not None
    assert ncci.conflict("70450", "73562") is None
    assert ("93971", "93970") in ncci
    assert any(x.column2 == "74176" for x in ncci.edits_for("74177"))


def test_ncci_file_format(cpt, hcpcs):
    lines = [x for x in CODESETS.joinpath(P.NCCI_FILE).read_text(encoding="utf-8").splitlines()
             if x and not x.startswith("#")]
    assert lines[0] == "column1\tcolumn2\tmodifier_indicator\trationale"
    pairs = set()
    for line in lines[1:]:
        c1, c2, mi, why = line.split("\t")
        assert (c1 in cpt or c1 in hcpcs) and (c2 in cpt or c2 in hcpcs)
        assert mi in {"0", "1", "9"} and why
        pairs.add(frozenset((c1, c2)))
    assert len(pairs) == len(lines) - 1


# ----------------------------------------------------------------------------- licensed descriptors
def test_licensed_descriptors_override(tmp_path, cpt):
    f = tmp_path / "cpt_licensed.tsv"
    f.write_text("# licensed file\ncode\tdescriptor\n71046\tLICENSED TEXT A\n\n74177\tLICENSED TEXT B\n"
                 "99213\tnot a radiology code\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="W002"):
        lic = P.load_cpt(f)
    assert lic["71046"].description == "LICENSED TEXT A"
    assert lic["71046"].short == cpt["71046"].short
    assert lic["73562"].description == cpt["73562"].short  # not in the file: our text
    assert "99213" not in lic
    assert cpt["71046"].description == cpt["71046"].short  # base table untouched
    assert lic.licensed and not cpt.licensed and f.name in lic.version
    assert P.load_cpt(str(f)) is lic  # cached per file
    assert lic.allowed_modifiers("73562") == cpt.allowed_modifiers("73562")


@pytest.mark.parametrize(
    "content, needle",
    [
        ("71046\tok\n71047 no tab here\n", "line 2"),
        ("71046\tok\n\n7104\ttoo short\n", "line 3"),
        ("71046\t   \n", "line 1"),
        ("71046\tA\n71046\tB\n", "line 2"),
        ("71046\tA\textra\n", "line 1"),
        ("# only a comment\n", "no descriptors"),
    ],
)
def test_licensed_descriptors_malformed(tmp_path, content, needle):
    f = tmp_path / "bad_descriptors.tsv"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(ResourceError) as ei:
        P.load_cpt(f)
    msg = str(ei.value)
    assert "bad_descriptors.tsv" in msg and needle in msg
    assert isinstance(ei.value, ValueError) and isinstance(ei.value, RadcoderError)


def test_licensed_descriptors_missing_file(tmp_path):
    with pytest.raises(ResourceError, match="not found"):
        P.load_cpt(tmp_path / "nope.tsv")


# ----------------------------------------------------------------------------- immutability and caching
def test_records_are_immutable(cpt, hcpcs, ncci, regions):
    row = cpt["71046"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.views = 3
    assert isinstance(row.addon_parents, tuple) and isinstance(cpt["76937"].addon_parents, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        hcpcs["Q9967"].status = "deleted"
    with pytest.raises(dataclasses.FrozenInstanceError):
        ncci.conflict("76700", "76705").modifier_indicator = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        regions.get("knee").paired = False
    with pytest.raises(dataclasses.FrozenInstanceError):
        P.load_modifiers().get("RT").status = "deleted"
    assert isinstance(regions.get("knee").synonyms, tuple)
    with pytest.raises(AttributeError):
        cpt.version = "mine"
    with pytest.raises(TypeError):
        cpt._rows["71046"] = None
    assert isinstance(cpt.by_family("xr_chest"), tuple)


def test_loads_are_cached():
    assert P.load_cpt() is P.load_cpt()
    assert P.load_cpt(None) is P.load_cpt()
    assert P.load_hcpcs() is P.load_hcpcs()
    assert P.load_modifiers() is P.load_modifiers()
    assert P.load_regions() is P.load_regions()
    assert P.load_ncci() is P.load_ncci()


def test_version_and_sources_doc(cpt):
    assert cpt.version.startswith(P.CODESET_VERSION)
    doc = CODESETS.joinpath("SOURCES.md").read_text(encoding="utf-8")
    assert P.CODESET_VERSION in doc
    for name in (P.CPT_FILE, P.HCPCS_FILE, P.MODIFIER_FILE, P.REGION_FILE, P.NCCI_FILE):
        assert name in doc


def test_reexported_from_package():
    import radcoder.codesets as cs

    assert cs.load_cpt is P.load_cpt and cs.CptCode is P.CptCode


# ----------------------------------------------------------------------------- validation at load
@pytest.fixture
def fake_resource(monkeypatch):
    """Replace one resource file's text; call the uncached builder to see the validation error."""
    real = P._read_text

    def install(name: str, text: str):
        def fake(n: str):
            return (f"fake/{n}", text) if n == name else real(n)

        monkeypatch.setattr(P, "_read_text", fake)

    return install


def _cpt_line(**over) -> str:
    row = json.loads(CODESETS.joinpath(P.CPT_FILE).read_text(encoding="utf-8").splitlines()[0])
    row.update(over)
    return json.dumps(row)


@pytest.mark.parametrize(
    "lines, needle",
    [
        ([_cpt_line(), _cpt_line(code="70031", colour="red")], "unknown key"),
        ([_cpt_line(modality="XRAY")], "modality"),
        ([_cpt_line(), _cpt_line()], "duplicate code"),
        ([_cpt_line(addon=True, addon_parents=["99999"])], "add-on parent 99999"),
        ([_cpt_line(region="elbow_of_the_moon")], "region"),
        ([_cpt_line(views=2, views_min=2)], "views"),
        (["{not json"], "not valid JSON"),
    ],
)
def test_cpt_validation_errors(fake_resource, lines, needle):
    fake_resource(P.CPT_FILE, "\n".join(lines) + "\n")
    with pytest.raises(ResourceError) as ei:
        P._build_cpt()
    msg = str(ei.value)
    assert "fake/cpt_radiology.jsonl" in msg and needle in msg
    assert f"line {len(lines)}" in msg


def test_hcpcs_validation_error(fake_resource):
    row = {"code": "G0279", "short": "x", "kind": "addon", "unit": "per study", "applies_to": ["DBT"],
           "addon_parents": ["12345"], "status": "active"}
    fake_resource(P.HCPCS_FILE, json.dumps(row) + "\n")
    with pytest.raises(ResourceError, match="line 1.*12345"):
        P.load_hcpcs.__wrapped__()


def test_ncci_validation_errors(fake_resource):
    head = "column1\tcolumn2\tmodifier_indicator\trationale\n"
    fake_resource(P.NCCI_FILE, head + "76700\t76705\t0\tx\n76705\t76700\t0\ty\n")
    with pytest.raises(ResourceError, match="line 3.*repeats line 2"):
        P.load_ncci.__wrapped__()
    fake_resource(P.NCCI_FILE, head + "76700\t99999\t0\tx\n")
    with pytest.raises(ResourceError, match="line 2.*99999"):
        P.load_ncci.__wrapped__()
    fake_resource(P.NCCI_FILE, head + "76700\t76705\t5\tx\n")
    with pytest.raises(ResourceError, match="modifier_indicator"):
        P.load_ncci.__wrapped__()


def test_region_validation_error(fake_resource):
    fake_resource(P.REGION_FILE, json.dumps({"region": "knee", "synonyms": ["knee"], "parent": "leg_zone",
                                             "paired": True}) + "\n")
    with pytest.raises(ResourceError, match="line 1.*leg_zone"):
        P._build_regions()
    fake_resource(P.REGION_FILE, json.dumps({"region": "knee", "synonyms": ["Knee"], "parent": None,
                                             "paired": True}) + "\n")
    with pytest.raises(ResourceError, match="synonyms"):
        P._build_regions()
