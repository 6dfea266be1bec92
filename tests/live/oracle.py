"""The independent oracle for GPT-Live frames: the ``openai`` SDK's own ``openai.types.live`` unions.

Same method as :mod:`tests.realtime.oracle` (the SDK's unions rebuilt as real discriminated unions, so a
wrong ``type`` is ``union_tag_invalid`` and a missing field is reported against that one event), for
Live's client events (``ClientEvent``), its primary-WebSocket server events (``ServerEvent``) and the
Responses streaming events nested in ``response.event`` (``ResponseStreamEvent``). Client frames may
carry no field the SDK does not declare (the service answers ``unknown_parameter``).

The SDK version is pinned by the dev extra (``openai==3.63.*``); :data:`SDK_VERSION` is checked by
the tests, so a different SDK fails loudly rather than validating against other shapes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel, TypeAdapter

from tests.realtime.oracle import UnknownFieldsError, ValidationError, _strict, _type_names, unknown_fields

__all__ = ["SDK_VERSION", "UnknownFieldsError", "ValidationError", "validate_live_client_event",
           "validate_live_server_event", "validate_nested_response_event", "live_client_event_types"]

SDK_VERSION = "3.63"


@lru_cache(maxsize=None)
def _adapters() -> tuple[TypeAdapter, TypeAdapter, TypeAdapter]:
    from openai.types.live import ClientEvent, ServerEvent
    from openai.types.responses import ResponseStreamEvent

    return _strict(ClientEvent), _strict(ServerEvent), _strict(ResponseStreamEvent)


def sdk_version() -> str:
    import openai

    return openai.__version__


def validate_live_client_event(event: dict[str, Any]) -> BaseModel:
    """Validate one Live client event; ``UnknownFieldsError`` for a field the SDK does not declare."""
    model = _adapters()[0].validate_python(event)
    extra = unknown_fields(model)
    if extra:
        raise UnknownFieldsError(extra)
    return model


def validate_live_server_event(event: dict[str, Any]) -> BaseModel:
    """Validate one Live server event (and a ``response.event``'s nested Responses event)."""
    model = _adapters()[1].validate_python(event)
    if event.get("type") == "response.event":
        validate_nested_response_event(event["event"])
    return model


def validate_nested_response_event(event: dict[str, Any]) -> BaseModel:
    """A Responses streaming event as nested in ``response.event``."""
    return _adapters()[2].validate_python(event)


@lru_cache(maxsize=None)
def live_client_event_types() -> frozenset[str]:
    from openai.types.live import ClientEvent

    return _type_names(ClientEvent)


@lru_cache(maxsize=None)
def live_server_event_types() -> frozenset[str]:
    from openai.types.live import ServerEvent

    return _type_names(ServerEvent)
