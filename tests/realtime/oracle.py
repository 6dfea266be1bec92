"""An independent oracle for event shapes: the ``openai`` SDK's own GA event unions.

``realtime/`` and the local server describe the same protocol; validating against the SDK's pydantic
models breaks that symmetry (architecture.md §2). The SDK's unions carry its own discriminator
metadata, which pydantic ignores, so they are rebuilt here as real discriminated unions
(realtime-protocol.md §6.2 ``strict()``): a wrong ``type`` is ``union_tag_invalid`` and a missing
field is reported against that one event class.

Other test packages may import it::

    from tests.realtime.oracle import validate_client_event, validate_server_event
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Union, get_args

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

__all__ = [
    "UnknownFieldsError",
    "ValidationError",
    "client_event_types",
    "server_event_types",
    "validate_client_event",
    "validate_server_event",
]


def _members(alias: Any) -> tuple[type[BaseModel], ...]:
    # alias is Annotated[Union[...], PropertyInfo(discriminator="type")]
    return get_args(get_args(alias)[0])


def _strict(alias: Any) -> TypeAdapter:
    members = _members(alias)
    return TypeAdapter(Annotated[Union[members], Field(discriminator="type")])  # type: ignore[valid-type]


def _type_names(alias: Any) -> frozenset[str]:
    return frozenset(get_args(m.model_fields["type"].annotation)[0] for m in _members(alias))


@lru_cache(maxsize=None)
def _adapters() -> tuple[TypeAdapter, TypeAdapter]:
    from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent

    return _strict(RealtimeClientEvent), _strict(RealtimeServerEvent)


class UnknownFieldsError(ValueError):
    """Fields the SDK models do not declare (``extra="allow"`` lets them through validation).

    The real server answers those with ``unknown_parameter`` (§6.2 caveats), so a client event that
    carries one is a bug even though pydantic accepts it.
    """

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        super().__init__("unknown fields: " + ", ".join(paths))


def unknown_fields(model: Any, path: str = "") -> list[str]:
    """Dotted paths of every field in a validated SDK model that its class does not declare."""
    found: list[str] = []
    if isinstance(model, BaseModel):
        for key in (model.model_extra or {}):
            found.append(f"{path}{key}")
        for name in type(model).model_fields:
            found += unknown_fields(getattr(model, name), f"{path}{name}.")
    elif isinstance(model, (list, tuple)):
        for i, value in enumerate(model):
            found += unknown_fields(value, f"{path.rstrip('.')}[{i}].")
    return found


def validate_client_event(event: dict[str, Any], *, allow_unknown_fields: bool = False) -> BaseModel:
    """Validate one GA client event dict; returns the SDK model.

    Raises ``ValidationError`` for a wrong shape and :class:`UnknownFieldsError` for a field the
    SDK does not declare (the server would reject it) unless ``allow_unknown_fields``.
    """
    model = _adapters()[0].validate_python(event)
    if not allow_unknown_fields:
        extra = unknown_fields(model)
        if extra:
            raise UnknownFieldsError(extra)
    return model


def validate_server_event(event: dict[str, Any]) -> BaseModel:
    """Validate one GA server event dict; returns the SDK model, raises ``ValidationError``.

    Unknown fields are allowed: the real server adds some (``obfuscation``) and clients must
    ignore them (§3.1).
    """
    return _adapters()[1].validate_python(event)


@lru_cache(maxsize=None)
def client_event_types() -> frozenset[str]:
    """Every ``type`` in the SDK's GA client-event union (11 in openai 3.57)."""
    from openai.types.realtime import RealtimeClientEvent

    return _type_names(RealtimeClientEvent)


@lru_cache(maxsize=None)
def server_event_types() -> frozenset[str]:
    """Every ``type`` in the SDK's GA server-event union (46 in openai 3.57)."""
    from openai.types.realtime import RealtimeServerEvent

    return _type_names(RealtimeServerEvent)
