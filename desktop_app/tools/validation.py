"""Arguments from the model: parsed as strict JSON and validated against the tool's schema.

Nothing the model sends reaches a tool before it passed here. The schema is made strict once, when
the tool is registered (:func:`strict_schema`): objects refuse properties they do not declare
(``additionalProperties: false`` unless the declaration says otherwise), and every string and array
gets a size limit if it has none. The strict schema is also what the model is shown, so it knows
the limits. Parsing refuses duplicate keys (two values for one argument would be ambiguous), the
non-JSON constants ``NaN``/``Infinity``, and raw text over :data:`MAX_ARGUMENTS_CHARS`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError

from desktop_app.tools.spec import ToolError

MAX_ARGUMENTS_CHARS = 64_000
DEFAULT_MAX_STRING = 4_000
DEFAULT_MAX_ITEMS = 100
MAX_DEPTH = 8
_MESSAGE_LIMIT = 160


def strict_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` with closed objects and bounded strings/arrays; ValueError if invalid."""
    out = copy.deepcopy(dict(schema))
    _tighten(out)
    try:
        Draft202012Validator.check_schema(out)
    except SchemaError as exc:
        raise ValueError(f"invalid parameter schema: {exc.message}") from None
    return out


def _tighten(node: Any) -> None:
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "object" in kinds or "properties" in node:
        node.setdefault("additionalProperties", False)
        node.setdefault("properties", {})
    if "string" in kinds:
        node.setdefault("maxLength", DEFAULT_MAX_STRING)
    if "array" in kinds:
        node.setdefault("maxItems", DEFAULT_MAX_ITEMS)
    for key in ("properties", "patternProperties", "$defs", "definitions"):
        for child in (node.get(key) or {}).values():
            _tighten(child)
    for key in ("items", "additionalProperties", "not", "if", "then", "else", "contains"):
        _tighten(node.get(key))
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for child in node.get(key) or ():
            _tighten(child)


class ArgumentValidator:
    """Parses and validates one tool's arguments against its (already strict) schema."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = dict(schema)
        self._validator = Draft202012Validator(self.schema)

    def parse(self, raw: str) -> dict[str, Any]:
        """The arguments as a dict; :class:`ToolError` (kind ``invalid_arguments``) listing every problem."""
        arguments = parse_arguments(raw)
        problems = sorted(self._validator.iter_errors(arguments), key=lambda e: (list(e.absolute_path), e.message))
        if problems:
            details = [{"path": _path(e), "problem": _describe(e)} for e in problems[:10]]
            summary = "; ".join(f"{d['path']}: {d['problem']}" for d in details[:3])
            raise ToolError(f"The arguments do not match the tool's parameters ({summary}).",
                            kind="invalid_arguments", details=details)
        return arguments


def parse_arguments(raw: str) -> dict[str, Any]:
    """``raw`` as a JSON object (empty text means ``{}``); :class:`ToolError` if it is not one."""
    if not isinstance(raw, str):
        raise ToolError("The arguments must be a JSON string.", kind="invalid_arguments")
    if len(raw) > MAX_ARGUMENTS_CHARS:
        raise ToolError(f"The arguments are {len(raw):,} characters long; the limit is {MAX_ARGUMENTS_CHARS:,}.",
                        kind="invalid_arguments")
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except ToolError:
        raise
    except (ValueError, RecursionError) as exc:
        raise ToolError(f"The arguments are not valid JSON ({_clip(str(exc))}).", kind="invalid_arguments") from None
    if not isinstance(value, dict):
        raise ToolError(f"The arguments must be a JSON object, not {type(value).__name__}.", kind="invalid_arguments")
    if _depth(value) > MAX_DEPTH:
        raise ToolError(f"The arguments are nested more than {MAX_DEPTH} levels deep.", kind="invalid_arguments")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ToolError(f"The argument {_clip(key)!r} is given twice.", kind="invalid_arguments")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ToolError(f"{name} is not a JSON number.", kind="invalid_arguments")


def _depth(value: Any, level: int = 1) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()], default=level)
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value], default=level)
    return level


def _path(error: ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "(arguments)"


def _describe(error: ValidationError) -> str:
    """A short problem statement that never repeats a huge offending value."""
    validator = error.validator
    expected: Any = error.validator_value
    instance: Any = error.instance
    schema: Any = error.schema
    if validator == "required":
        missing = [name for name in expected if isinstance(instance, dict) and name not in instance]
        return f"missing required argument {', '.join(map(repr, missing))}"
    if validator == "additionalProperties":
        known = set(schema.get("properties") or {}) if isinstance(schema, dict) else set()
        extra = sorted(k for k in instance if k not in known) if isinstance(instance, dict) else []
        return f"unexpected argument {', '.join(repr(_clip(k, 40)) for k in extra)}"
    if validator == "type":
        return f"expected {expected}, got {_json_type(instance)}"
    if validator == "maxLength":
        return f"text of {len(instance):,} characters is longer than {expected:,}"
    if validator == "maxItems":
        return f"list of {len(instance):,} items is longer than {expected:,}"
    if validator == "enum":
        return f"must be one of {', '.join(map(json.dumps, expected))}"
    return _clip(error.message)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _clip(text: str, limit: int = _MESSAGE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
