"""Client events: every builder and every connection action produces an event the SDK's strict GA
client union accepts, with no field the server would call unknown, and a unique event_id."""

from __future__ import annotations

import base64
import json

import pytest

from desktop_app.realtime import commands as c
from desktop_app.realtime.connection import RealtimeConnection
from desktop_app.realtime.session_config import SemanticVad, SessionConfig, Transcription

from . import frames
from .oracle import UnknownFieldsError, ValidationError, client_event_types, validate_client_event

TOOL = {"type": "function", "name": "get_local_time", "description": "Local time.",
        "parameters": {"type": "object", "properties": {}, "required": []}}

BUILT = {
    "session.update full": c.session_update(
        SessionConfig(instructions="Be brief.", transcription=Transcription(language="en"),
                      noise_reduction="near_field", tools=(TOOL,), tool_choice="auto").to_session_dict(),
        event_id="e1"),
    "session.update ptt": c.session_update({"type": "realtime", "audio": {"input": {"turn_detection": None}}},
                                           event_id="e2"),
    "append bytes": c.input_audio_append(b"\x01\x02" * 240, event_id="e3"),
    "append b64": c.input_audio_append("AAAA", event_id="e4"),
    "commit": c.input_audio_commit(event_id="e5"),
    "clear": c.input_audio_clear(event_id="e6"),
    "create user text": c.item_create(c.user_text_item("What time is it?"), event_id="e7"),
    "create system text at root": c.item_create(c.system_text_item("Be brief."), event_id="e8",
                                                previous_item_id="root"),
    "create assistant text": c.item_create(c.assistant_text_item("Earlier answer."), event_id="e9",
                                           previous_item_id="item_1"),
    "create function output": c.item_create(c.function_output_item("call_1", '{"time":"14:05"}'), event_id="e10"),
    "retrieve": c.item_retrieve("item_1", event_id="e11"),
    "truncate": c.item_truncate("item_1", 1840, event_id="e12"),
    "delete": c.item_delete("item_1", event_id="e13"),
    "response.create bare": c.response_create(event_id="e14"),
    "response.create overrides": c.response_create(
        c.response_params(conversation="none", output_modalities=["text"], instructions="One line.",
                          metadata={"purpose": "title"}, input=[c.user_text_item("Summarize")],
                          tools=[TOOL], tool_choice={"type": "function", "name": "get_local_time"},
                          max_output_tokens=200, voice="marin"),
        event_id="e15"),
    "response.cancel": c.response_cancel(event_id="e16"),
    "response.cancel by id": c.response_cancel("resp_1", event_id="e17"),
    "output_audio_buffer.clear": c.output_audio_clear(event_id="e18"),
}


@pytest.mark.parametrize("name", sorted(BUILT))
def test_built_client_event_validates_against_the_strict_sdk_union(name):
    event = BUILT[name]
    model = validate_client_event(event)
    assert model.type == event["type"]
    assert isinstance(event["event_id"], str) and event["event_id"]


def test_builders_cover_every_sdk_client_event_type():
    assert {e["type"] for e in BUILT.values()} == client_event_types() == set(c.CLIENT_EVENT_TYPES)


def test_append_encodes_raw_pcm_as_standard_base64():
    event = BUILT["append bytes"]
    assert base64.b64decode(event["audio"]) == b"\x01\x02" * 240


def test_oracle_rejects_a_beta_field_the_server_would_call_unknown():
    with pytest.raises(UnknownFieldsError) as info:
        validate_client_event({"type": "session.update", "session": {"type": "realtime", "voice": "alloy"}})
    assert info.value.paths == ["session.voice"]


def test_oracle_rejects_session_update_without_session_type():
    with pytest.raises(ValidationError):
        validate_client_event({"type": "session.update", "session": {"instructions": "x"}})


def test_event_ids_are_unique_across_many_events_and_between_connections():
    ids_a, ids_b = c.EventIds(), c.EventIds()
    seen = {ids_a() for _ in range(1000)} | {ids_b() for _ in range(1000)}
    assert len(seen) == 2000
    assert all(i.startswith("evt_") for i in seen)


def _connected() -> RealtimeConnection:
    conn = RealtimeConnection()
    frames.feed(conn, frames.session_created())
    return conn


ACTIONS = {
    "update_session": lambda n: n.update_session(SessionConfig(turn_detection=SemanticVad(eagerness="low"))),
    "append_audio": lambda n: n.append_audio(b"\x00" * 4800),
    "commit_audio": lambda n: n.commit_audio(),
    "clear_audio": lambda n: n.clear_audio(),
    "create_item": lambda n: n.create_item(c.user_text_item("hi"), previous_item_id="root"),
    "send_text": lambda n: n.send_text("hello"),
    "create_response": lambda n: n.create_response(instructions="Greet.", output_modalities=["audio"]),
    "create_response oob": lambda n: n.create_response(conversation="none", metadata={"k": "v"}),
    "send_function_output": lambda n: n.send_function_output("call_1", "{}"),
    "delete_item": lambda n: n.delete_item("item_1"),
    "retrieve_item": lambda n: n.retrieve_item("item_1"),
    "clear_output_audio": lambda n: n.clear_output_audio(),
}


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_connection_action_frames_validate_against_the_oracle(name):
    conn = _connected()
    conn.frames_to_send()
    ACTIONS[name](conn)
    sent = [json.loads(f) for f in conn.frames_to_send()]
    assert sent, "the action sent a frame"
    for event in sent:
        validate_client_event(event)


def test_all_frames_of_one_connection_have_distinct_event_ids():
    conn = _connected()
    for action in ACTIONS.values():
        action(conn)
    ids = [json.loads(f)["event_id"] for f in conn.frames_to_send()]
    assert len(ids) == len(set(ids)) >= len(ACTIONS)
