"""Which fields each GA client event may carry, and the real service's error for any that do not fit.

The server walks every parsed client event through a small tree of specs (objects with known fields,
strings, bounded numbers, enums, tagged unions). The first problem found becomes one
:class:`Problem` — ``code``, ``message``, ``param`` — in the shapes of realtime-protocol.md §4.2:

* a field nobody declared → ``unknown_parameter`` "Unknown parameter: 'session.foo'."
* a required field absent → ``missing_required_parameter``
* a JSON type mismatch → ``invalid_type``
* a value outside an enum → ``invalid_value`` "Invalid value: 'x'. Supported values are: …"
* a number out of range → ``integer_below_min_value`` / ``decimal_above_max_value`` …

The tree mirrors the ``openai`` SDK's GA client models (the tests compare the two), but the app never
imports the SDK: this module is the server's own statement of the protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation failure, ready to become an ``error`` event."""

    code: str | None
    message: str
    param: str | None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _type_problem(path: str, expected: str, value: Any) -> Problem:
    return Problem(
        "invalid_type",
        f"Invalid type for '{path}': expected {expected}, but got {_kind(value)} instead.",
        path,
    )


def _quote_list(values: list[Any]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def invalid_value(path: str, value: Any, allowed: list[Any] | tuple[Any, ...]) -> Problem:
    """The ``invalid_value`` problem listing the supported values."""
    return Problem("invalid_value", f"Invalid value: '{value}'. Supported values are: {_quote_list(list(allowed))}.", path)


class Spec:
    """A node of the schema tree."""

    expected = "a value"

    def check(self, value: Any, path: str) -> Problem | None:  # pragma: no cover - abstract
        raise NotImplementedError


class Str(Spec):
    """Any string."""

    expected = "a string"

    def check(self, value: Any, path: str) -> Problem | None:
        return None if isinstance(value, str) else _type_problem(path, self.expected, value)


class Bool(Spec):
    """``true`` or ``false``."""

    expected = "a boolean"

    def check(self, value: Any, path: str) -> Problem | None:
        return None if isinstance(value, bool) else _type_problem(path, self.expected, value)


class Num(Spec):
    """An integer (``integer=True``) or a decimal within optional bounds."""

    def __init__(self, lo: float | None = None, hi: float | None = None, *, integer: bool = False) -> None:
        self.lo, self.hi, self.integer = lo, hi, integer
        self.expected = "an integer" if integer else "a decimal"

    def check(self, value: Any, path: str) -> Problem | None:
        ok_type = isinstance(value, int) if self.integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok_type:
            return _type_problem(path, self.expected, value)
        word = "integer" if self.integer else "decimal"
        if self.lo is not None and value < self.lo:
            return Problem(
                f"{word}_below_min_value",
                f"Invalid '{path}': {word} below minimum value. Expected a value >= {_num(self.lo)}, "
                f"but got {_num(value)} instead.",
                path,
            )
        if self.hi is not None and value > self.hi:
            return Problem(
                f"{word}_above_max_value",
                f"Invalid '{path}': {word} above maximum value. Expected a value <= {_num(self.hi)}, "
                f"but got {_num(value)} instead.",
                path,
            )
        return None


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and not isinstance(x, float) else repr(x)


class Enum(Spec):
    """A string (or int) from a fixed set."""

    def __init__(self, *values: Any) -> None:
        self.values = values
        self.expected = "a string" if all(isinstance(v, str) for v in values) else "a value"

    def check(self, value: Any, path: str) -> Problem | None:
        if self.expected == "a string" and not isinstance(value, str):
            return _type_problem(path, self.expected, value)
        return None if value in self.values else invalid_value(path, value, self.values)


class Free(Spec):
    """Any JSON object (tool parameter schemas, metadata, prompt variables)."""

    expected = "an object"

    def check(self, value: Any, path: str) -> Problem | None:
        return None if isinstance(value, dict) else _type_problem(path, self.expected, value)


class Opt(Spec):
    """``null`` or ``inner``."""

    def __init__(self, inner: Spec) -> None:
        self.inner = inner
        self.expected = inner.expected

    def check(self, value: Any, path: str) -> Problem | None:
        return None if value is None else self.inner.check(value, path)


class Either(Spec):
    """The first of several specs whose JSON type matches decides (e.g. ``int | "inf"``)."""

    def __init__(self, *options: Spec, expected: str) -> None:
        self.options = options
        self.expected = expected

    def check(self, value: Any, path: str) -> Problem | None:
        problems = [o.check(value, path) for o in self.options]
        if any(p is None for p in problems):
            return None
        typed = [p for p in problems if p is not None and p.code != "invalid_type"]
        return typed[0] if typed else _type_problem(path, self.expected, value)


class Arr(Spec):
    """A JSON array of ``item`` (optionally with a least and a most number of items)."""

    def __init__(self, item: Spec, *, min_items: int = 0, max_items: int | None = None) -> None:
        self.item, self.min_items, self.max_items = item, min_items, max_items
        self.expected = f"an array of {'objects' if isinstance(item, (Obj, Tagged)) else 'values'}"

    def check(self, value: Any, path: str) -> Problem | None:
        if not isinstance(value, list):
            return _type_problem(path, self.expected, value)
        if len(value) < self.min_items:
            return Problem("array_below_min_length", f"Invalid '{path}': empty array. Expected an array with "
                           f"minimum length {self.min_items}, but got an empty array instead.", path)
        if self.max_items is not None and len(value) > self.max_items:
            return Problem("array_above_max_length", f"Invalid '{path}': array too long. Expected an array with "
                           f"maximum length {self.max_items}, but got an array with length {len(value)} instead.", path)
        for i, element in enumerate(value):
            problem = self.item.check(element, f"{path}[{i}]")
            if problem:
                return problem
        return None


class Obj(Spec):
    """A JSON object with exactly the declared fields; ``required`` ones must be present."""

    expected = "an object"

    def __init__(self, fields: dict[str, Spec], required: tuple[str, ...] = ()) -> None:
        self.fields, self.required = fields, required

    def check(self, value: Any, path: str) -> Problem | None:
        if not isinstance(value, dict):
            return _type_problem(path, self.expected, value)
        for key in value:
            if key not in self.fields:
                return Problem("unknown_parameter", f"Unknown parameter: '{_join(path, key)}'.", _join(path, key))
        for key in self.required:
            if key not in value:
                return Problem(
                    "missing_required_parameter", f"Missing required parameter: '{_join(path, key)}'.", _join(path, key)
                )
        for key, spec in self.fields.items():
            if key in value:
                problem = spec.check(value[key], _join(path, key))
                if problem:
                    return problem
        return None


class Tagged(Spec):
    """Objects told apart by one string field (``type``, ``role``); each tag has its own spec (an
    :class:`Obj`, or another :class:`Tagged`, as a message is told apart by ``role``)."""

    expected = "an object"

    def __init__(self, key: str, variants: dict[str, Spec], *, default: str | None = None) -> None:
        self.key, self.variants, self.default = key, variants, default

    def check(self, value: Any, path: str) -> Problem | None:
        if not isinstance(value, dict):
            return _type_problem(path, self.expected, value)
        tag = value.get(self.key, self.default)
        if tag is None:
            return Problem(
                "missing_required_parameter", f"Missing required parameter: '{_join(path, self.key)}'.", _join(path, self.key)
            )
        if tag not in self.variants:
            return invalid_value(_join(path, self.key), tag, list(self.variants))
        return self.variants[tag].check(value, path)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
