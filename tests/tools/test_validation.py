"""Arguments from the model: the schema validation table. Invalid calls are refused, with details."""

from __future__ import annotations

import json

import pytest

from desktop_app.tools.spec import ToolError
from desktop_app.tools.validation import (
    DEFAULT_MAX_ITEMS, DEFAULT_MAX_STRING, MAX_ARGUMENTS_CHARS, ArgumentValidator, strict_schema,
)

SCHEMA = strict_schema({
    "type": "object",
    "properties": {
        "city": {"type": "string", "maxLength": 40},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "units": {"type": "string", "enum": ["metric", "imperial"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "note": {"type": "string"},
        "where": {"type": "object", "properties": {"lat": {"type": "number"}}},
    },
    "required": ["city", "days"],
})
V = ArgumentValidator(SCHEMA)


def test_strict_schema_closes_objects_and_bounds_strings_and_arrays():
    assert SCHEMA["additionalProperties"] is False
    assert SCHEMA["properties"]["where"]["additionalProperties"] is False
    assert SCHEMA["properties"]["note"]["maxLength"] == DEFAULT_MAX_STRING
    assert SCHEMA["properties"]["city"]["maxLength"] == 40  # a declared limit is kept
    assert SCHEMA["properties"]["tags"]["maxItems"] == DEFAULT_MAX_ITEMS
    assert SCHEMA["properties"]["tags"]["items"]["maxLength"] == DEFAULT_MAX_STRING
    explicit = strict_schema({"type": "object", "properties": {}, "additionalProperties": True})
    assert explicit["additionalProperties"] is True  # the declaration may opt out, on purpose


def test_an_invalid_schema_is_refused_at_declaration():
    with pytest.raises(ValueError, match="invalid parameter schema"):
        strict_schema({"type": "object", "properties": {"x": {"type": "strng"}}})


VALID = [
    ('{"city": "Tokyo", "days": 3}', {"city": "Tokyo", "days": 3}),
    ('{"city": "Oslo", "days": 1, "units": "metric", "tags": ["a", "b"], "where": {"lat": 59.9}}',
     {"city": "Oslo", "days": 1, "units": "metric", "tags": ["a", "b"], "where": {"lat": 59.9}}),
    ('  {"city": "Köln", "days": 7}  ', {"city": "Köln", "days": 7}),
]


@pytest.mark.parametrize(("raw", "parsed"), VALID)
def test_valid_arguments_are_parsed(raw, parsed):
    assert V.parse(raw) == parsed


INVALID = [
    # (case, raw arguments, path named, words in the problem)
    ("missing", '{"city": "Tokyo"}', "(arguments)", "missing required argument 'days'"),
    ("missing, empty text", "", "(arguments)", "missing required argument 'city', 'days'"),
    ("extra", '{"city": "Tokyo", "days": 2, "shell": "rm -rf ~"}', "(arguments)", "unexpected argument 'shell'"),
    ("extra, nested", '{"city": "T", "days": 2, "where": {"lat": 1, "cmd": "x"}}', "where", "unexpected argument 'cmd'"),
    ("wrong type, string", '{"city": 42, "days": 2}', "city", "expected string, got number"),
    ("wrong type, integer", '{"city": "T", "days": "two"}', "days", "expected integer, got string"),
    ("wrong type, float for int", '{"city": "T", "days": 2.5}', "days", "expected integer"),
    ("wrong type, null", '{"city": null, "days": 2}', "city", "expected string, got null"),
    ("out of range", '{"city": "T", "days": 70}', "days", "maximum"),
    ("not in enum", '{"city": "T", "days": 2, "units": "kelvin"}', "units", 'must be one of "metric", "imperial"'),
    ("oversized string", json.dumps({"city": "x" * 41, "days": 2}), "city", "41 characters is longer than 40"),
    ("oversized default-bounded string", json.dumps({"city": "T", "days": 2, "note": "n" * (DEFAULT_MAX_STRING + 1)}),
     "note", "longer than"),
    ("oversized array", json.dumps({"city": "T", "days": 2, "tags": ["t"] * (DEFAULT_MAX_ITEMS + 1)}), "tags",
     f"{DEFAULT_MAX_ITEMS + 1} items is longer than"),
]


@pytest.mark.parametrize(("case", "raw", "path", "words"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_arguments_are_refused_with_the_path_and_the_problem(case, raw, path, words):
    with pytest.raises(ToolError) as caught:
        V.parse(raw)
    error = caught.value
    assert error.kind == "invalid_arguments"
    assert any(d["path"] == path and words in d["problem"] for d in error.details), error.details
    assert len(error.message) < 600  # never echoes a huge value back


MALFORMED = [
    ("not JSON", "{city: Tokyo}", "not valid JSON"),
    ("truncated JSON", '{"city": "Tok', "not valid JSON"),
    ("an array", '["Tokyo", 3]', "must be a JSON object, not list"),
    ("a string", '"Tokyo"', "must be a JSON object, not str"),
    ("duplicate keys", '{"city": "Tokyo", "days": 2, "city": "/etc"}', "given twice"),
    ("NaN", '{"city": "T", "days": NaN}', "NaN is not a JSON number"),
    ("Infinity", '{"city": "T", "days": Infinity}', "Infinity is not a JSON number"),
    ("too long", json.dumps({"city": "x" * MAX_ARGUMENTS_CHARS, "days": 1}), "characters long; the limit"),
    ("too deep", '{"city": "T", "days": 1, "where": ' + '{"a":' * 12 + "1" + "}" * 12 + "}", "nested more than"),
]


@pytest.mark.parametrize(("case", "raw", "words"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_arguments_are_refused_before_validation(case, raw, words):
    with pytest.raises(ToolError, match=words.replace("(", r"\(")) as caught:
        V.parse(raw)
    assert caught.value.kind == "invalid_arguments"
