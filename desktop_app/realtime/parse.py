"""JSON text → typed server event. Pure and stateless; raises :class:`ProtocolError` on bad frames.

Rules (realtime-protocol.md §3.1):

* not JSON, not an object, no string ``type`` → :class:`ProtocolError`;
* a known ``type`` with a missing required field, or any modelled field of the wrong JSON type →
  :class:`ProtocolError` naming the field;
* an unknown ``type`` → :class:`UnknownEvent` (the caller logs it once per type);
* unknown fields → kept in the event's ``extra``.

The checks come from each event class's own annotations, so adding a field to an event class is
all it takes to parse it.
"""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any, Union, get_args, get_origin, get_type_hints

from . import response_events  # noqa: F401  (registers the response event classes)
from .errors import ProtocolError
from .events import EVENT_TYPES, ErrorInfo, ServerEvent, UnknownEvent
from .logfmt import elide_text, summarize

# (field name, JSON kind, required, None allowed)
_FieldSpec = tuple[str, type, bool, bool]
_SPECS: dict[type[ServerEvent], tuple[_FieldSpec, ...]] = {}
_SNIPPET = 200


def known_event_types() -> frozenset[str]:
    """Every server event ``type`` the core parses into its own class."""
    return frozenset(EVENT_TYPES)


def _spec(cls: type[ServerEvent]) -> tuple[_FieldSpec, ...]:
    # Computed lazily and cached: get_type_hints needs every module of the package loaded.
    spec = _SPECS.get(cls)
    if spec is None:
        hints = get_type_hints(cls)
        items = []
        for f in fields(cls):
            if f.name == "extra":
                continue
            kind = hints[f.name]
            optional = False
            if get_origin(kind) in (Union, types.UnionType):
                args = get_args(kind)
                optional = type(None) in args
                kind = next(a for a in args if a is not type(None))
            kind = get_origin(kind) or kind  # dict[str, Any] -> dict, list[...] -> list
            required = f.default is MISSING and f.default_factory is MISSING
            items.append((f.name, kind, required, optional))
        spec = _SPECS[cls] = tuple(items)
    return spec


def _check(value: Any, kind: type) -> Any:
    """The value converted to ``kind``, or raise TypeError. JSON numbers: bool is not an int."""
    if kind is ErrorInfo:
        if isinstance(value, dict):
            return ErrorInfo.from_dict(value)
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        # Some servers write whole numbers as 1840.0; accept those, refuse 18.5.
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif isinstance(value, kind):
        return value
    raise TypeError(kind.__name__)


def _load(data: str | bytes | dict[str, Any]) -> dict[str, Any]:
    if isinstance(data, dict):
        return data
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        text = data if isinstance(data, str) else repr(data[: _SNIPPET * 40])
        raise ProtocolError(f"not valid JSON ({exc.__class__.__name__}: {exc})",
                            snippet=elide_text(text[: _SNIPPET * 40])[:_SNIPPET]) from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"not a JSON object but {type(obj).__name__}", snippet=summarize(obj, _SNIPPET))
    return obj


def parse_server_event(data: str | bytes | dict[str, Any],
                       types: Mapping[str, type[ServerEvent]] | None = None) -> ServerEvent:
    """Parse one server frame (JSON text or an already-decoded dict) into its typed event.

    ``types`` is the dialect's table of event classes (default: the GA events; GPT-Live passes its own)."""
    obj = _load(data)
    type_name = obj.get("type")
    if not isinstance(type_name, str) or not type_name:
        raise ProtocolError("no string 'type'", field="type", snippet=summarize(obj, _SNIPPET))
    event_id = obj.get("event_id")
    if event_id is not None and not isinstance(event_id, str):
        raise ProtocolError("expected a string", event_type=type_name, field="event_id",
                            snippet=summarize(obj, _SNIPPET))
    cls = (EVENT_TYPES if types is None else types).get(type_name)
    if cls is None:
        return UnknownEvent(type=type_name, data=obj, event_id=event_id or "")
    kwargs: dict[str, Any] = {}
    for name, kind, required, optional in _spec(cls):
        if name == "event_id":
            continue
        if name not in obj or (obj[name] is None and not required):
            if required:
                raise ProtocolError("missing required field", event_type=type_name, field=name,
                                    snippet=summarize(obj, _SNIPPET))
            continue
        value = obj[name]
        if value is None and optional:
            kwargs[name] = None
            continue
        try:
            kwargs[name] = _check(value, kind)
        except TypeError:
            raise ProtocolError(
                f"expected {_json_kind(kind)}, got {_json_kind(type(value))}",
                event_type=type_name, field=name, snippet=summarize(obj, _SNIPPET),
            ) from None
    declared = {spec[0] for spec in _spec(cls)}
    extra = {k: v for k, v in obj.items() if k not in declared and k != "type"}
    return cls(event_id=event_id or "", extra=extra, **kwargs)


def _json_kind(kind: type) -> str:
    return {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object",
            list: "array", type(None): "null", ErrorInfo: "object"}.get(kind, kind.__name__)
