import re

import pytest

from radcoder.errors import Errors, RadcoderError, Warnings


def _members(cls):
    return [k for k in vars(cls) if re.fullmatch(r"[EW]\d{3}", k)]


def test_errors_render_with_code_prefix():
    for name in _members(Errors):
        assert getattr(Errors, name).startswith(f"[{name}] ")
    for name in _members(Warnings):
        assert getattr(Warnings, name).startswith(f"[{name}] ")


def test_errors_codes_unique_and_numbered():
    names = _members(Errors) + _members(Warnings)
    assert len(names) == len(set(names))
    assert len(names) > 20


def test_errors_input_messages_name_id_not_text():
    msg = Errors.E301.format(report_id="R-1", encoding="utf-8")
    assert "R-1" in msg and "utf-8" in msg
    for name in ("E301", "E302", "E303", "E304", "E306"):
        template = getattr(Errors, name)
        assert "{report_id}" in template and "{text" not in template


def test_errors_radcoder_error_carries_code():
    e = RadcoderError(Errors.E302.format(report_id="x"))
    assert e.code == "E302"
    with pytest.raises(RadcoderError):
        raise e
