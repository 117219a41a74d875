"""Coded errors and warnings. Messages say what was received, what is allowed and what to do next.

They name a report by its id, never by its content.
"""

from __future__ import annotations

import warnings


class ErrorsWithCodes(type):
    def __getattribute__(self, code: str) -> str:
        msg = super().__getattribute__(code)
        if code.startswith("__"):
            return msg
        return f"[{code}] {msg}"


class Errors(metaclass=ErrorsWithCodes):
    # E0xx: configuration and resources
    E001 = "Resource file {path} was not found. Reinstall radcoder (`pip install -e .`) or pass an existing path."
    E002 = ("Model directory {path} does not exist or has no config.cfg. Pass the folder written by "
            "`nlp.to_disk()` or omit --model to use the shipped default model (models/radcoder_default).")
    E003 = "Unknown code system {system!r}. Allowed: {allowed}."
    # E1xx: rule and lexicon files
    E101 = "Rule file {path}, line {line}: unknown key(s) {keys}. Allowed keys: {allowed}."
    E102 = "Rule file {path}, line {line}: missing required key(s) {keys}."
    E103 = "Rule file {path}, line {line}: {key}={value!r} is not allowed. Allowed values: {allowed}."
    E104 = "Rule file {path}, line {line}: not valid JSON ({detail}). Fix the line or remove it."
    E105 = "Licensed CPT descriptor file {path}, line {line}: expected 'CODE<TAB>DESCRIPTOR'; got {n} field(s)."
    # E2xx: records and schema
    E201 = "Output record is invalid: {detail}. This is a bug in radcoder; please report it with the report id {report_id}."
    E202 = "Record field {field!r} has a bad value: {detail}."
    E203 = "Span ({start}, {end}) is outside the text of report {report_id} (length {length})."
    # E3xx: input (one report)
    E301 = ("Report {report_id}: could not decode as {encoding}. The report was recorded as an error and the "
            "batch continued; re-export it as UTF-8 or pass --encoding.")
    E302 = "Report {report_id}: the text is empty. Nothing to code; check the export that produced it."
    E303 = ("Report {report_id}: the text looks binary (NUL or control bytes). Export the report as plain "
            "text.")
    E304 = ("Report {report_id}: the text has {length} characters, over the limit of {limit}. Split the "
            "document or raise --max-chars.")
    E305 = ("Input line {line}: malformed row ({detail}). Each JSONL line must be an object with string "
            "fields 'id' and 'text'.")
    E306 = "Report {report_id}: the pipeline failed in component {component!r} ({exc_type}). Other reports were not affected."
    E307 = "Report {report_id}: 'setting' must be one of global, professional, technical; got {value!r}."
    E308 = "Report {report_id}: 'payer' must be one of medicare, commercial; got {value!r}."
    E309 = "Input line {line}: duplicate id {report_id}; the earlier record is kept and this one is an error."
    # E4xx: batch and I/O
    E401 = ("Input {path} has an unsupported format. Use a .jsonl file, a .csv or .parquet file with 'id' "
            "and 'text' columns, or a directory of .txt files.")
    E402 = "Input {path} does not exist."
    E403 = "Input {path} has no '{column}' column. Columns found: {columns}."
    E404 = "Reading .parquet needs pyarrow: pip install 'radcoder[data]'."
    # E5xx: evaluation and training
    E501 = "Gold and predicted lists differ in length ({n_gold} vs {n_pred}); align them by report id first."
    E502 = "Training data at {path} has no examples. Build it with `radcoder corpus build` first."
    E503 = "Shared data folder not found. Set RADCODER_SHARED_DATA to the folder holding cmc2007/ and openi/."


class Warnings(metaclass=ErrorsWithCodes):
    W001 = "Component {name!r} has no rules loaded; it will not change any document."
    W002 = "Licensed CPT descriptors loaded from {path}; descriptions in output now come from that file."


class RadcoderError(Exception):
    """Base class of radcoder errors; ``code`` is the Exxx identifier."""

    def __init__(self, message: str):
        super().__init__(message)
        self.code = message[1:5] if message.startswith("[E") else "E000"


class InputError(RadcoderError, ValueError):
    """A single report could not be read; the batch goes on."""


class ResourceError(RadcoderError, ValueError):
    """A rule, lexicon or code table is malformed or missing."""


_warned: set[str] = set()


def warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, stacklevel=3)
