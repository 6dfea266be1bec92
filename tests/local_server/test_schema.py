"""The server's own schema of client events against the ``openai`` SDK's GA client models.

The app may not import the SDK, so ``client_events.py`` states the protocol itself; these tests keep
it honest: the same event types, the same field names at every depth, and the SDK accepting every
event the server's schema accepts in the worked examples (and the server refusing what the SDK does).
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from desktop_app.local_server.client_events import CLIENT_EVENTS
from desktop_app.local_server.schema import Arr, Either, Obj, Opt, Tagged
from tests.realtime.oracle import client_event_types, validate_client_event


def sdk_paths(annotation: Any, path: str = "", depth: int = 0) -> set[str]:
    """Every declared field path under an SDK annotation (list items do not add to the path)."""
    if depth > 8:
        return set()
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return sdk_paths(get_args(annotation)[0], path, depth)
    if origin in (Union, types.UnionType) or origin in (list, typing.List):
        return set().union(*(sdk_paths(a, path, depth) for a in get_args(annotation)))
    if origin is Literal or not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return set()
    found: set[str] = set()
    for name, field in annotation.model_fields.items():
        found.add(path + name)
        found |= sdk_paths(field.annotation, f"{path}{name}.", depth + 1)
    return found


def our_paths(spec: Any, path: str = "") -> set[str]:
    if isinstance(spec, Obj):
        found: set[str] = set()
        for name, inner in spec.fields.items():
            found.add(path + name)
            found |= our_paths(inner, f"{path}{name}.")
        return found
    if isinstance(spec, Tagged):
        return set().union(*(our_paths(v, path) for v in spec.variants.values()))
    if isinstance(spec, Either):
        return set().union(*(our_paths(o, path) for o in spec.options))
    if isinstance(spec, (Opt,)):
        return our_paths(spec.inner, path)
    if isinstance(spec, Arr):
        return our_paths(spec.item, path)
    return set()


def sdk_event_models() -> dict[str, type[BaseModel]]:
    from openai.types.realtime import RealtimeClientEvent

    members = get_args(get_args(RealtimeClientEvent)[0])
    return {get_args(m.model_fields["type"].annotation)[0]: m for m in members}


# Fields the server treats as free JSON where the SDK spells out a model (MCP tool errors and filters
# the local server never acts on).
FREE_IN_OURS = ("item.error.", "response.input.error.")


def test_the_server_accepts_exactly_the_sdk_client_event_types():
    assert set(CLIENT_EVENTS) == set(client_event_types())


@pytest.mark.parametrize("event_type", sorted(CLIENT_EVENTS))
def test_every_field_name_matches_the_sdk_at_every_depth(event_type):
    sdk = {p for p in sdk_paths(sdk_event_models()[event_type]) if not p.startswith(FREE_IN_OURS)}
    ours = our_paths(CLIENT_EVENTS[event_type])
    assert sorted(sdk - ours) == [], "fields the SDK declares but the server would call unknown"
    assert sorted(ours - sdk) == [], "fields the server accepts but the SDK does not declare"


WORKED_EXAMPLES = [  # realtime-protocol.md §2.9
    {"type": "session.update", "event_id": "cli_001", "session": {
        "type": "realtime", "output_modalities": ["audio"], "instructions": "You are a concise desktop voice assistant.",
        "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}, "noise_reduction": {"type": "near_field"},
                            "transcription": {"model": "gpt-4o-mini-transcribe", "language": "en"},
                            "turn_detection": {"type": "server_vad", "threshold": 0.55, "prefix_padding_ms": 300,
                                               "silence_duration_ms": 600, "create_response": True,
                                               "interrupt_response": True}},
                  "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin", "speed": 1.0}},
        "tools": [{"type": "function", "name": "get_local_time", "description": "Current local time.",
                   "parameters": {"type": "object", "properties": {}, "required": []}}],
        "tool_choice": "auto", "max_output_tokens": "inf"}},
    {"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}}},
    {"type": "session.update", "session": {"type": "realtime", "audio": {"input": {
        "turn_detection": {"type": "semantic_vad", "eagerness": "low"}}}}},
    {"type": "input_audio_buffer.append", "audio": "AAAA"},
    {"type": "input_audio_buffer.commit", "event_id": "cli_commit_7"},
    {"type": "conversation.item.create", "item": {"type": "message", "role": "user",
                                                  "content": [{"type": "input_text", "text": "What time is it?"}]}},
    {"type": "response.create"},
    {"type": "response.create", "response": {"output_modalities": ["text"], "instructions": "Answer in one line."}},
    {"type": "conversation.item.create", "item": {"type": "function_call_output", "call_id": "call_Ab12Cd34Ef56Gh78",
                                                  "output": "{\"time\": \"14:05\"}"}},
    {"type": "response.cancel"},
    {"type": "conversation.item.truncate", "item_id": "item_XyZ", "content_index": 0, "audio_end_ms": 1840},
    {"type": "input_audio_buffer.clear"},
    {"type": "output_audio_buffer.clear"},
    {"type": "response.create", "response": {"conversation": "none", "metadata": {"k": "v"}, "input": []}},
]


@pytest.mark.parametrize("event", WORKED_EXAMPLES, ids=lambda e: e["type"])
def test_worked_examples_pass_both_the_server_schema_and_the_sdk(event):
    assert CLIENT_EVENTS[event["type"]].check(event, "") is None
    validate_client_event(event)


def test_item_references_in_response_input_are_accepted_though_the_sdk_types_lack_them():
    # §3.6 H: "input can supply a custom context ([] = empty, item_reference entries allowed)".
    event = {"type": "response.create", "response": {"conversation": "none", "input": [
        {"type": "item_reference", "id": "item_1"}]}}
    assert CLIENT_EVENTS["response.create"].check(event, "") is None


@pytest.mark.parametrize("event", [
    {"type": "session.update", "session": {"instructions": "no type"}},
    {"type": "conversation.item.truncate", "item_id": "x", "content_index": 0},
    {"type": "input_audio_buffer.append"},
    {"type": "response.cancel", "response_id": 5},
], ids=["no session.type", "no audio_end_ms", "no audio", "id not a string"])
def test_what_the_sdk_refuses_the_server_refuses_too(event):
    with pytest.raises(Exception):
        validate_client_event(event)
    assert CLIENT_EVENTS[event["type"]].check(event, "") is not None
