import pytest

from radcoder.errors import RadcoderError
from radcoder.schema import (
    DiagnosisCode,
    Entity,
    ErrorInfo,
    Evidence,
    Flag,
    ProcedureLine,
    ReportResult,
    validate_record,
)

TEXT = "CHEST 2 VIEWS PA AND LAT\nINDICATION: cough\nIMPRESSION: No acute disease."


def _result():
    ev = (Evidence(0, 13, TEXT[0:13]),)
    return ReportResult(
        id="A17", model="radcoder_default 0.1.0",
        cpt=(ProcedureLine("71046", ("26",), 1, 0.98, ev),),
        icd10cm=(DiagnosisCode("R05.9", 1, 0.91, (Evidence(37, 42, "cough"),)),),
        entities=(Entity(37, 42, "FINDING", "cough", "present", "indication", "R05.9"),),
        flags=(Flag("views_missing", "msg"),))


def test_schema_round_trip():
    r = _result()
    d = r.to_dict()
    assert ReportResult.from_dict(d).to_dict() == d
    validate_record(d, TEXT)
    assert set(d) >= {"id", "model", "cpt", "hcpcs", "icd10cm", "entities", "flags", "error"}


def test_schema_rejects_bad_assertion():
    d = _result().to_dict()
    d["entities"][0]["assertion"] = "maybe"
    with pytest.raises(RadcoderError, match="E202"):
        validate_record(d)


def test_schema_rejects_offsets_not_matching_text():
    d = _result().to_dict()
    d["entities"][0]["text"] = "fever"
    with pytest.raises(RadcoderError):
        validate_record(d, TEXT)


def test_schema_rejects_undotted_and_bad_ranks():
    d = _result().to_dict()
    d["icd10cm"][0]["rank"] = 2
    with pytest.raises(RadcoderError, match="ranks"):
        validate_record(d)
    d = _result().to_dict()
    d["icd10cm"][0]["code"] = "R059"
    with pytest.raises(RadcoderError, match="dot"):
        validate_record(d)


def test_schema_error_record_has_empty_lists():
    r = ReportResult.failed("X1", "m", "E302", "[E302] Report X1: the text is empty.")
    d = r.to_dict()
    validate_record(d)
    assert d["error"]["code"] == "E302" and d["cpt"] == [] and d["entities"] == []
    d["cpt"] = [{"code": "71046", "modifiers": [], "units": 1, "score": 1.0, "evidence": []}]
    with pytest.raises(RadcoderError):
        validate_record(d)
    assert ErrorInfo("E1", "m").to_dict() == {"code": "E1", "message": "m"}
