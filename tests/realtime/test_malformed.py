"""Malformed and unexpected input: the receive path never raises, emits a typed event, and leaves
the conversation, response and session state exactly as it was."""

from __future__ import annotations

import json
import logging

import pytest

from desktop_app.realtime.connection import RealtimeConnection
from desktop_app.realtime.errors import ProtocolError
from desktop_app.realtime.events import ConversationItemDeleted, ProtocolErrorEvent, UnknownEvent
from desktop_app.realtime.parse import parse_server_event
from desktop_app.realtime.response_events import OutputAudioTranscriptDelta

from . import frames as f

# (case, frame text, field named in the error or None)
MALFORMED = [
    ("not JSON", "{not json", None),
    ("truncated JSON", '{"type": "response.done", ', None),
    ("empty frame", "", None),
    ("JSON array", '[{"type": "error"}]', None),
    ("JSON string", '"session.created"', None),
    ("JSON null", "null", None),
    ("missing type", '{"event_id": "event_1", "item_id": "x"}', "type"),
    ("type not a string", '{"type": 7}', "type"),
    ("empty type", '{"type": ""}', "type"),
    ("event_id not a string", '{"type": "input_audio_buffer.cleared", "event_id": 5}', "event_id"),
    ("required field missing", '{"type": "conversation.item.deleted", "event_id": "e"}', "item_id"),
    ("required field null", '{"type": "conversation.item.deleted", "event_id": "e", "item_id": null}', "item_id"),
    ("string field is a number", '{"type": "conversation.item.deleted", "event_id": "e", "item_id": 12}', "item_id"),
    ("int field is a string", json.dumps({**f.speech_started("item_1"), "audio_start_ms": "10"}), "audio_start_ms"),
    ("int field is a bool", json.dumps({**f.speech_started("item_1"), "audio_start_ms": True}), "audio_start_ms"),
    ("int field is fractional", json.dumps({**f.speech_stopped("item_1"), "audio_end_ms": 10.5}), "audio_end_ms"),
    ("object field is a list", json.dumps({**f.response_done("resp_1"), "response": []}), "response"),
    ("array field is an object", json.dumps({**f.rate_limits(), "rate_limits": {}}), "rate_limits"),
    ("error not an object", '{"type": "error", "event_id": "e", "error": "boom"}', "error"),
    ("optional field wrong type", json.dumps({**f.committed("item_1"), "previous_item_id": 3}), "previous_item_id"),
]


def _busy_connection() -> RealtimeConnection:
    """A connection mid-conversation: two items, an active response, audio received."""
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), f.committed("item_U1"), f.item_added(f.user_audio_item("item_U1")),
           f.response_created("resp_1"), f.output_item_added("resp_1", f.assistant_item("item_A1")),
           f.item_added(f.assistant_item("item_A1"), "item_U1"), f.audio_delta("resp_1", "item_A1", 100))
    conn.events_received()
    conn.frames_to_send()
    return conn


def _state(conn: RealtimeConnection):
    return (conn.conversation.items, conn.active_response_id, conn.session, conn.usage,
            conn.received_ms("item_A1"), conn.voice_locked, conn.closed)


@pytest.mark.parametrize("name,text,field", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_frame_becomes_a_protocol_error_event_and_changes_nothing(name, text, field):
    conn = _busy_connection()
    before = _state(conn)
    conn.receive_message(text)
    events = conn.events_received()
    assert len(events) == 1 and isinstance(events[0], ProtocolErrorEvent)
    assert events[0].error.field == field
    assert events[0].classification.severity.value == "non_fatal"
    assert _state(conn) == before
    assert conn.frames_to_send() == []


@pytest.mark.parametrize("name,text,field", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_parser_raises_a_typed_protocol_error_for_the_same_frames(name, text, field):
    with pytest.raises(ProtocolError) as info:
        parse_server_event(text)
    assert info.value.field == field


def test_the_connection_keeps_working_after_malformed_frames():
    conn = _busy_connection()
    for _, text, _ in MALFORMED:
        conn.receive_message(text)
    f.feed(conn, f.transcript_delta("resp_1", "item_A1", "Still here"))
    assert conn.conversation.get("item_A1").transcript == "Still here"
    assert isinstance(conn.events_received()[-1], OutputAudioTranscriptDelta)


def test_binary_garbage_is_a_protocol_error_not_a_crash():
    conn = _busy_connection()
    conn.receive_message(b"\xff\xfe\x00garbage")
    assert isinstance(conn.events_received()[0], ProtocolErrorEvent)


def test_unknown_event_type_is_passed_on_unchanged_and_logged_once(caplog):
    conn = _busy_connection()
    before = _state(conn)
    raw = {"type": "response.hologram.delta", "event_id": "event_1", "delta": "?"}
    with caplog.at_level(logging.INFO, logger="parley.realtime"):
        conn.receive_message(json.dumps(raw))
        conn.receive_message(json.dumps(raw))
    events = conn.events_received()
    assert [type(e) for e in events] == [UnknownEvent, UnknownEvent]
    assert events[0].data == raw
    assert sum("response.hologram.delta" in r.getMessage() for r in caplog.records) == 1
    assert _state(conn) == before


def test_unknown_fields_are_kept_and_the_known_ones_still_apply(caplog):
    conn = _busy_connection()
    raw = {**f.ev("conversation.item.deleted", item_id="item_U1"), "reason": "user", "shard": 3}
    with caplog.at_level(logging.DEBUG, logger="parley.realtime"):
        conn2 = RealtimeConnection()  # a connection made with DEBUG on logs each unknown field once
        f.feed(conn2, f.session_created(), raw, raw)
    conn.receive_message(json.dumps(raw))
    event = conn.events_received()[0]
    assert isinstance(event, ConversationItemDeleted) and event.extra == {"reason": "user", "shard": 3}
    assert conn.conversation.ids == ("item_A1",)
    noted = [r.getMessage() for r in caplog.records if "unknown field" in r.getMessage()]
    assert len(noted) == 2 and any("'reason'" in m for m in noted)


def test_frames_after_close_are_ignored():
    conn = _busy_connection()
    conn.receive_closed(1006, "")
    conn.events_received()
    conn.receive_message(json.dumps(f.response_done("resp_1")))
    assert conn.events_received() == []


def test_a_cut_off_audio_frame_is_reported_without_its_base64(caplog):
    conn = _busy_connection()
    text = json.dumps(f.audio_delta("resp_1", "item_A1", 100))[:3000]  # cut mid-delta: not JSON
    with caplog.at_level(logging.WARNING, logger="parley.realtime"):
        conn.receive_message(text)
    event = conn.events_received()[0]
    assert isinstance(event, ProtocolErrorEvent)
    assert "AAAAAAAAAAAAAAAA" not in event.snippet and "b64 chars>" in event.snippet
    assert all("AAAAAAAAAAAAAAAA" not in r.getMessage() for r in caplog.records)
