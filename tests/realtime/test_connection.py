"""RealtimeConnection: the h11-style hand-over of frames and events, the response queue, truncation
decisions, session updates (held, confirmed, refused, locked) and log lines."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest

from desktop_app.realtime.connection import RealtimeConnection
from desktop_app.realtime.errors import ConfigValidationError, ConnectionClosedError, LockedFieldError
from desktop_app.realtime.events import ProtocolErrorEvent, SessionCreated
from desktop_app.realtime.response_events import ResponseDone
from desktop_app.realtime.session_config import ServerVad, SessionConfig

from . import frames as f
from .oracle import validate_client_event


def connected(**session_over) -> RealtimeConnection:
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(**session_over))
    conn.frames_to_send()
    conn.events_received()
    return conn


def sent(conn: RealtimeConnection) -> list[dict]:
    out = [json.loads(x) for x in conn.frames_to_send()]
    for event in out:
        validate_client_event(event)
    return out


# --- hand-over --------------------------------------------------------------------------------


def test_frames_and_events_are_handed_over_once_and_a_new_list_starts():
    conn = RealtimeConnection()
    f.feed(conn, f.session_created())
    conn.commit_audio()
    first_frames, first_events = conn.frames_to_send(), conn.events_received()
    assert len(first_frames) == 1 and [type(e) for e in first_events] == [SessionCreated]
    assert conn.frames_to_send() == [] and conn.events_received() == []
    first_frames.clear()  # the caller owns the handed-over list
    conn.clear_audio()
    assert len(conn.frames_to_send()) == 1


def test_client_actions_after_close_raise_a_typed_error_and_send_nothing():
    conn = connected()
    conn.receive_closed(1000, "")
    with pytest.raises(ConnectionClosedError) as info:
        conn.send_text("hello?")
    assert info.value.action == "create_item"
    assert conn.frames_to_send() == []


def test_a_bug_in_state_handling_is_reported_as_an_event_not_raised(monkeypatch):
    conn = connected()

    def broken(event):
        raise KeyError("boom")

    monkeypatch.setattr(conn.conversation, "apply", broken)
    conn.receive_message(json.dumps(f.response_done("resp_1")))
    events = conn.events_received()
    assert [type(e) for e in events] == [ResponseDone, ProtocolErrorEvent]
    assert "internal error" in str(events[1].error)


# --- the response queue ---------------------------------------------------------------------------


def test_second_create_is_queued_until_the_first_response_is_done():
    conn = connected()
    first = conn.create_response()
    second = conn.create_response(instructions="Then this.")
    assert [e["event_id"] for e in sent(conn)] == [first]
    assert conn.response_pending and [q["event_id"] for q in conn.queued_responses] == [second]
    f.feed(conn, f.response_created("resp_1"))
    assert sent(conn) == []
    f.feed(conn, f.response_done("resp_1"))
    released = sent(conn)
    assert [(e["event_id"], e["response"]["instructions"]) for e in released] == [(second, "Then this.")]
    assert conn.queued_responses == ()


def test_create_refused_as_already_active_is_requeued_and_sent_after_the_active_one():
    conn = connected()
    mine = conn.create_response()
    sent(conn)
    # Server VAD started its own response first; ours collided.
    f.feed(conn, f.response_created("resp_vad"),
           f.error("conversation_already_has_active_response", "Conversation already has an active response",
                   caused_by=mine))
    assert [q["event_id"] for q in conn.queued_responses] == [mine]
    assert sent(conn) == []
    f.feed(conn, f.response_done("resp_vad"))
    assert [e["event_id"] for e in sent(conn)] == [mine]


def test_a_create_refused_for_another_reason_frees_the_slot_for_the_next():
    conn = connected()
    bad = conn.create_response()
    nxt = conn.create_response()
    sent(conn)
    f.feed(conn, f.error("invalid_value", "Invalid value", caused_by=bad))
    assert [e["event_id"] for e in sent(conn)] == [nxt]


def test_out_of_band_create_is_never_queued_and_does_not_take_the_slot():
    conn = connected()
    f.feed(conn, f.response_created("resp_1"))
    oob = conn.create_response(conversation="none")
    assert [e["event_id"] for e in sent(conn)] == [oob]
    f.feed(conn, f.response_created("resp_oob", conversation_id=None),
           f.response_done("resp_oob", conversation_id=None))
    assert conn.active_response_id == "resp_1"


def test_cancel_names_the_active_response_and_drops_the_queue():
    conn = connected()
    f.feed(conn, f.response_created("resp_1"))
    conn.create_response()
    assert conn.cancel_response() is True
    assert [(e["type"], e.get("response_id")) for e in sent(conn)] == [("response.cancel", "resp_1")]
    assert conn.queued_responses == ()
    f.feed(conn, f.response_done("resp_1", "cancelled", reason="client_cancelled"))
    assert sent(conn) == [] and conn.active_response_id is None


def test_cancel_with_nothing_running_sends_nothing():
    conn = connected()
    assert conn.cancel_response() is False
    assert conn.frames_to_send() == []


def test_cancel_while_a_create_is_on_its_way_cancels_without_an_id():
    conn = connected()
    conn.create_response()
    sent(conn)
    assert conn.cancel_response() is True
    assert [(e["type"], "response_id" in e) for e in sent(conn)] == [("response.cancel", False)]


# --- truncation -------------------------------------------------------------------------------------


def _assistant_audio(conn: RealtimeConnection, ms: int, *, done: bool) -> None:
    f.feed(conn, f.response_created("resp_1"), f.output_item_added("resp_1", f.assistant_item("item_A")),
           f.item_added(f.assistant_item("item_A")), f.audio_delta("resp_1", "item_A", ms))
    if done:
        f.feed(conn, f.audio_done("resp_1", "item_A"), f.response_done("resp_1"))


@pytest.mark.parametrize("played,done,expected", [
    (300, True, 300),     # heard part of it: cut there
    (1000, True, None),   # heard all of it: nothing to cut
    (999, True, 999),     # 1 ms unheard is still cut: the model must not think it was said
    (1500, True, None),   # played more than received (clock skew): nothing to cut
    (0, True, 0),         # interrupted before any sound: cut everything
    (1000, False, 1000),  # heard all received, but more is coming: cut at what was heard
    (1500, False, 1000),  # never past what was received
])
def test_truncate_applies_min_played_received_and_skips_when_nothing_is_cut(played, done, expected):
    conn = connected()
    _assistant_audio(conn, 1000, done=done)
    assert conn.truncate("item_A", played) == expected
    frames = sent(conn)
    if expected is None:
        assert frames == []
    else:
        assert [(e["type"], e["audio_end_ms"]) for e in frames] == [("conversation.item.truncate", expected)]


def test_truncate_of_an_item_without_audio_sends_nothing():
    conn = connected()
    assert conn.truncate("item_unknown", 500) is None
    assert conn.frames_to_send() == []


def test_truncate_is_not_repeated_for_an_already_shorter_cut():
    conn = connected()
    _assistant_audio(conn, 1000, done=True)
    conn.truncate("item_A", 300)
    f.feed(conn, f.ev("conversation.item.truncated", item_id="item_A", content_index=0, audio_end_ms=300))
    sent(conn)
    assert conn.truncate("item_A", 400) is None
    assert conn.frames_to_send() == []


# --- session updates --------------------------------------------------------------------------------


def test_update_session_sends_only_the_diff_against_the_effective_session():
    conn = connected()
    effective = conn.session
    conn.update_session(dataclasses.replace(effective, instructions="Be brief."))
    assert [e["session"] for e in sent(conn)] == [{"type": "realtime", "instructions": "Be brief."}]


def test_one_turn_detection_change_sends_the_whole_turn_detection_object():
    """Issue #16 item 1: a server that replaces ``turn_detection`` must not reset the other sliders."""
    conn = connected()
    effective = conn.session
    wanted = dataclasses.replace(effective.turn_detection, threshold=0.8)
    conn.update_session(dataclasses.replace(effective, turn_detection=wanted))
    assert [e["session"] for e in sent(conn)] == [
        {"type": "realtime", "audio": {"input": {"turn_detection": wanted.to_dict()}}}]
    assert wanted.to_dict()["silence_duration_ms"] == effective.turn_detection.silence_duration_ms


def test_update_session_with_no_change_sends_nothing():
    conn = connected()
    assert conn.update_session(conn.session) is None
    assert conn.frames_to_send() == []


def test_refused_session_update_is_forgotten_and_the_next_diff_is_against_the_server():
    conn = connected()
    wanted = dataclasses.replace(conn.session, instructions="Be brief.")
    event_id = conn.update_session(wanted)
    sent(conn)
    assert conn.requested_session == wanted
    f.feed(conn, f.error("invalid_value", "bad", caused_by=event_id, param="session.instructions"))
    assert conn.requested_session == conn.session
    conn.update_session(wanted)
    assert [e["session"] for e in sent(conn)] == [{"type": "realtime", "instructions": "Be brief."}]


def test_invalid_config_is_refused_before_anything_is_sent():
    conn = connected()
    with pytest.raises(ConfigValidationError):
        conn.update_session(SessionConfig(speed=3.0))
    assert conn.frames_to_send() == []


def test_voice_change_after_assistant_audio_is_refused_locally():
    conn = connected()
    conn.update_session(dataclasses.replace(conn.session, voice="cedar"))  # before audio: fine
    assert len(sent(conn)) == 1
    f.feed(conn, f.response_created("resp_1"), f.audio_delta("resp_1", "item_A", 20))
    assert conn.voice_locked
    with pytest.raises(LockedFieldError) as info:
        conn.update_session(dataclasses.replace(conn.session, voice="ash"))
    assert "after the assistant has spoken" in info.value.user_message
    assert conn.frames_to_send() == []
    conn.update_session(dataclasses.replace(conn.session, voice="cedar", speed=1.2))  # same voice: fine
    assert [e["session"] for e in sent(conn)] == [{"type": "realtime", "audio": {"output": {"speed": 1.2}}}]


def test_voice_locks_on_an_audio_content_part_even_before_bytes_arrive():
    conn = connected()
    f.feed(conn, f.response_created("resp_1"), f.part_added("resp_1", "item_A", "audio"))
    assert conn.voice_locked
    text_only = connected()
    f.feed(text_only, f.response_created("resp_1"), f.part_added("resp_1", "item_A", "text"))
    assert not text_only.voice_locked


# --- logging ----------------------------------------------------------------------------------------


def test_log_lines_use_direction_prefixes_and_never_contain_base64_audio(caplog):
    with caplog.at_level(logging.DEBUG, logger="parley.realtime"):
        conn = RealtimeConnection()  # DEBUG is checked once, when the connection is made
        delta = f.audio_delta("resp_1", "item_A", 200)
        f.feed(conn, f.session_created(), f.response_created("resp_1"), delta)
        conn.append_audio(b"\x07" * 9600)
        conn.create_item({"type": "message", "role": "user",
                          "content": [{"type": "input_audio", "audio": f.pcm_b64(200)}]})
        conn.receive_message("{broken")
    lines = [r.getMessage() for r in caplog.records]
    assert all(r.name == "parley.realtime" for r in caplog.records)
    assert any(line.startswith("< response.created") for line in lines)
    # audio deltas come 20 a second: the ledger counts them, no record each (issue #23)
    assert not any(line.startswith("< response.output_audio.delta") for line in lines)
    assert conn.received_ms("item_A") == 200
    assert any(line.startswith("> ") and "conversation.item.create" in line for line in lines)
    assert any(line.startswith("= ") for line in lines)
    assert any(line.startswith("! ") for line in lines)
    blob = "\n".join(lines)
    assert delta["delta"][:64] not in blob and f.pcm_b64(200)[:64] not in blob
    assert "b64 chars>" in blob
