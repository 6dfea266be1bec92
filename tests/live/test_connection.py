"""The GPT-Live core as tables: frames in, frames and shared events out, every frame SDK-valid both ways."""

from __future__ import annotations

import json

import pytest

from desktop_app.live.connection import LIVE_TRAITS, LiveConnection
from desktop_app.live.context import NO_CLIENT_TASKS
from desktop_app.live.turns import REPLY_SILENCE_MS, USER_GIVE_UP_MS, USER_PAUSE_MS
from desktop_app.realtime.classify import Severity
from desktop_app.realtime.errors import LockedFieldError, UnsupportedCommand
from desktop_app.realtime.events import (ConnectionClosed, ConversationItemAdded, ErrorEvent, InputAudioCommitted,
                                         InputTranscriptionCompleted, ProtocolErrorEvent, SessionCreated,
                                         SpeechStarted, UnknownEvent)
from desktop_app.realtime.response_events import ResponseCreated, ResponseDone
from desktop_app.realtime.session_config import AudioFormat, ServerVad, SessionConfig
from tests.live import frames as F
from tests.live.oracle import SDK_VERSION, sdk_version

TOOL = {"type": "function", "name": "get_time", "description": "The local time.",
        "parameters": {"type": "object", "properties": {}}}
CONFIG = SessionConfig(model="gpt-live-1", instructions="Be brief.", voice="cedar", turn_detection=ServerVad())
SILENCE_20MS = b"\x00" * 960


def test_the_oracle_is_the_pinned_sdk():
    assert sdk_version().startswith(SDK_VERSION + ".")


def started(config: SessionConfig = CONFIG) -> LiveConnection:
    conn = LiveConnection()
    conn.update_session(config)
    start = F.sent(conn)[0]
    F.feed(conn, F.started(client_event_id=start["event_id"], model=config.model))
    conn.events_received()
    return conn


def types(events) -> list[str]:
    return [type(e).__name__ for e in events]


def shared(events) -> list[str]:
    """The shared-vocabulary events only (the Live events passed on after them are left out)."""
    return [type(e).__name__ for e in events if not type(e).__module__.startswith("desktop_app.live")]


def speak(conn: LiveConnection, ms: int) -> list:
    for _ in range(ms // 20):
        conn.append_audio(SILENCE_20MS)
    return conn.events_received()


# --- starting ---------------------------------------------------------------------------------------

def test_session_start_goes_first_and_carries_the_whole_session():
    conn = LiveConnection()
    assert conn.session is None and not conn.voice_locked
    conn.update_session(replace_tools(CONFIG, TOOL))
    [start] = F.sent(conn)
    assert start["type"] == "session.start"
    session = start["session"]
    assert session["model"] == "gpt-live-1" and session["instructions"] == "Be brief."
    assert session["audio"] == {"format": {"type": "audio/pcm", "rate": 24000}, "output": {"voice": "cedar"}}
    responses = session["delegation"]["responses"]
    assert session["delegation"]["type"] == "responses" and responses["tools"] == [TOOL]
    assert responses["model"] and responses["tool_choice"] == "auto"
    assert "turn_detection" not in json.dumps(start)  # no Live meaning: never sent


def replace_tools(config: SessionConfig, *tools: dict) -> SessionConfig:
    from dataclasses import replace
    return replace(config, tools=tuple(tools))


def test_without_tools_the_session_keeps_client_delegation_and_g711_has_its_rate():
    conn = LiveConnection()
    conn.update_session(SessionConfig(model="gpt-live-1.1", input_format=AudioFormat("audio/pcmu", None),
                                      output_format=AudioFormat("audio/pcmu", None)))
    [start] = F.sent(conn)
    assert "delegation" not in start["session"] and "instructions" not in start["session"]
    assert start["session"]["audio"]["format"] == {"type": "audio/pcmu", "rate": 8000}


def test_session_started_becomes_session_created_and_fixes_the_voice():
    conn = LiveConnection()
    conn.update_session(CONFIG)
    F.sent(conn)
    F.feed(conn, F.started(**{"audio": {"format": {"type": "audio/pcm", "rate": 24000}, "output": {"voice": "cedar"}}}))
    events = conn.events_received()
    assert types(events) == ["SessionCreated", "LiveSessionStarted"]
    assert isinstance(events[0], SessionCreated) and events[0].session["id"] == "live_abc123"
    assert conn.session is not None and conn.session.voice == "cedar" and conn.session.turn_detection is None
    assert conn.voice_locked
    with pytest.raises(LockedFieldError):
        conn.update_session(replace_voice(CONFIG, "marin"))


def replace_voice(config: SessionConfig, voice: str) -> SessionConfig:
    from dataclasses import replace
    return replace(config, voice=voice)


# --- a spoken turn ------------------------------------------------------------------------------------

def test_a_spoken_turn_becomes_a_user_item_then_a_reply_item_with_audio_and_transcripts():
    conn = started()
    assert speak(conn, 1000) == []
    F.feed(conn, F.said(" What's the", 1000, 1300), F.said(" time?", 1300, 1600))
    events = conn.events_received()
    assert shared(events) == ["SpeechStarted", "ConversationItemAdded", "InputTranscriptionDelta",
                              "InputTranscriptionDelta"]
    user_id = events[0].item_id
    assert isinstance(events[0], SpeechStarted) and events[0].audio_start_ms == 1000
    # Silence between replies is not queued.
    F.feed(conn, F.audio(F.silence_b64(100)))
    assert conn.events_received() == []
    assert shared(speak(conn, int(USER_PAUSE_MS))) == ["SpeechStopped"]
    F.feed(conn, F.audio(F.voice_b64(100)), F.says(" It is", 2400, 2600))
    events = conn.events_received()
    assert shared(events) == ["InputTranscriptionCompleted", "ResponseCreated", "OutputItemAdded",
                              "ConversationItemAdded", "ContentPartAdded", "OutputAudioDelta",
                              "OutputAudioTranscriptDelta"]
    assert isinstance(events[0], InputTranscriptionCompleted) and events[0].transcript == "What's the time?"
    reply = next(e for e in events if isinstance(e, ResponseCreated)).response_id
    assert conn.active_response_id == reply and conn.response_pending
    # A short pause inside the reply is heard as it was; a long one is not queued; the reply ends after a second.
    F.feed(conn, F.audio(F.silence_b64(300)), F.audio(F.voice_b64(100)), F.says(" noon.", 2600, 2800))
    assert shared(conn.events_received()) == ["OutputAudioDelta", "OutputAudioDelta", "OutputAudioTranscriptDelta"]
    F.feed(conn, *[F.audio(F.silence_b64(100)) for _ in range(int(REPLY_SILENCE_MS) // 100)])
    events = conn.events_received()
    assert shared(events) == ["OutputAudioDelta"] * 4 + ["OutputAudioDone", "OutputAudioTranscriptDone",
                                                          "OutputItemDone", "ConversationItemDone", "ResponseDone"]
    done = events[-1]
    assert isinstance(done, ResponseDone) and done.response_id == reply and done.status == "completed"
    assert not conn.response_pending and conn.active_response_id is None
    items = conn.conversation.items
    assert [(i.role, i.display_text) for i in items] == [("user", "What's the time?"), ("assistant", "It is noon.")]
    assert items[0].id == user_id and items[0].transcript_final and items[1].done
    assert conn.received_ms(items[1].id) == 100 + 300 + 100 + 400  # voice, pause, voice, kept tail


def test_more_words_after_a_pause_reopen_the_same_user_turn():
    conn = started()
    F.feed(conn, F.said(" Wait", 0, 200))
    first = conn.events_received()[0]
    assert shared(speak(conn, int(USER_PAUSE_MS))) == ["SpeechStopped"]
    F.feed(conn, F.said(" a moment", 1000, 1400))
    events = conn.events_received()
    assert shared(events) == ["SpeechStarted", "InputTranscriptionDelta"]
    assert events[0].item_id == first.item_id
    assert [i.display_text for i in conn.conversation.items] == ["Wait a moment"]


def test_a_turn_nobody_answers_is_committed_after_the_give_up_time():
    conn = started()
    F.feed(conn, F.said(" Hmm", 0, 300))
    conn.events_received()
    events = speak(conn, int(USER_GIVE_UP_MS))
    assert shared(events) == ["SpeechStopped", "InputTranscriptionCompleted", "InputAudioCommitted"]
    assert isinstance(events[-1], InputAudioCommitted)


def test_a_reply_whose_track_stops_is_ended_by_the_session_clock():
    conn = started()
    F.feed(conn, F.audio(F.voice_b64(100)))
    conn.events_received()
    events = speak(conn, 2000)
    assert shared(events)[-1] == "ResponseDone"


def test_the_user_talking_over_a_reply_opens_a_user_turn_while_the_reply_goes_on():
    conn = started()
    F.feed(conn, F.audio(F.voice_b64(100)), F.said(" Stop", 100, 300), F.audio(F.voice_b64(100)))
    events = conn.events_received()
    assert shared(events)[-4:] == ["SpeechStarted", "ConversationItemAdded", "InputTranscriptionDelta",
                                   "OutputAudioDelta"]
    assert conn.response_pending  # the model decides when it stops; nothing is cancelled or truncated
    assert conn.frames_to_send() == []


@pytest.mark.parametrize("after_reply_ms,given_up", [(int(USER_GIVE_UP_MS) - 100, False), (int(USER_GIVE_UP_MS), True)])
def test_words_said_over_a_reply_wait_for_their_answer_from_the_end_of_that_reply(after_reply_ms, given_up):
    """The answer to an interruption can only start once the model stopped talking over it: the give-up time
    counts from there, not from the words (which may be seconds older), or the turn ends before its answer."""
    conn = started()
    F.feed(conn, F.audio(F.voice_b64(100)), F.said(" What time is it?", 100, 900))
    for _ in range(40):  # the model talks on over the user for 4 s of session time
        F.feed(conn, F.audio(F.voice_b64(100)))
        speak(conn, 100)
    F.feed(conn, *[F.audio(F.silence_b64(100)) for _ in range(int(REPLY_SILENCE_MS) // 100)])
    assert shared(conn.events_received())[-1] == "ResponseDone"
    events = shared(speak(conn, after_reply_ms))
    assert ("InputAudioCommitted" in events) is given_up, events


# --- typed text, instructions, tools mid-session ----------------------------------------------------

def test_typed_text_is_an_appended_instruction_and_a_user_item():
    conn = started()
    conn.send_text("What is two plus three?")
    [frame] = F.sent(conn)
    assert frame["type"] == "session.instructions.append" and frame["delegation_id"] is None
    assert "What is two plus three?" in frame["content"]
    [added] = conn.events_received()
    assert isinstance(added, ConversationItemAdded)
    assert [(i.role, i.display_text) for i in conn.conversation.items] == [("user", "What is two plus three?")]


def test_changed_instructions_are_appended_and_realtime_only_changes_send_nothing():
    from dataclasses import replace
    conn = started()
    assert conn.update_session(replace(CONFIG, turn_detection=ServerVad(threshold=0.9))) is None
    assert conn.update_session(replace(CONFIG, speed=1.3)) is None
    event_id = conn.update_session(replace(CONFIG, instructions="Answer like a pirate."))
    [frame] = F.sent(conn)
    assert frame["event_id"] == event_id and frame["type"] == "session.instructions.append"
    assert frame["content"].endswith("Answer like a pirate.") and frame["delegation_id"] is None
    F.feed(conn, F.ev("session.instructions.appended", start_ms=0, end_ms=0, client_event_id=event_id))
    assert types(conn.events_received()) == ["InstructionsAppended"]


def test_tools_change_within_the_delegation_type_and_wait_for_the_next_session_across_types():
    from dataclasses import replace
    conn = started(replace_tools(CONFIG, TOOL))
    other = dict(TOOL, name="add_numbers")
    conn.update_session(replace_tools(CONFIG, TOOL, other))
    [frame] = F.sent(conn)
    assert frame["type"] == "session.update"
    assert [t["name"] for t in frame["session"]["delegation"]["responses"]["tools"]] == ["get_time", "add_numbers"]
    assert conn.update_session(replace(CONFIG, tools=())) is None  # responses → client: not mid-session
    assert F.sent(conn) == []


# --- delegation ---------------------------------------------------------------------------------------

def delegated_call(conn: LiveConnection, *calls: tuple[str, str]) -> list:
    F.feed(conn, F.ev("session.delegation.created", offset_ms=1500,
                      delegation={"id": "item_d1", "type": "delegation", "target": "responses", "response_id": "resp_b1"}),
           F.nested("item_d1", {"type": "response.created", "sequence_number": 0,
                                "response": F.backend_response("resp_b1")}))
    for n, (call_id, name) in enumerate(calls):
        F.feed(conn, F.nested("item_d1", {"type": "response.output_item.done", "sequence_number": n + 1,
                                          "output_index": n, "item": F.function_call(call_id, name, "{}", f"fc_{n}")}))
    F.feed(conn, F.nested("item_d1", {"type": "response.completed", "sequence_number": 9,
                                      "response": F.backend_response("resp_b1", "completed", F.USAGE)}))
    return conn.events_received()


def test_a_delegated_call_is_a_response_with_a_function_call_for_the_tool_slot():
    conn = started(replace_tools(CONFIG, TOOL))
    events = delegated_call(conn, ("call_1", "get_time"))
    assert shared(events) == ["ResponseCreated", "OutputItemDone", "ConversationItemAdded", "ResponseDone"]
    done = next(e for e in events if isinstance(e, ResponseDone))
    assert done.status == "completed" and [c["call_id"] for c in done.response["output"]] == ["call_1"]
    assert done.response["output"][0]["name"] == "get_time"
    assert conn.response_pending  # the backend waits for the output
    conn.send_function_output("call_1", '{"time": "12:00"}', respond=False)
    conn.create_response()
    frames = F.sent(conn)
    assert [f["type"] for f in frames] == ["response.item.create", "response.create"]
    assert frames[0]["item"] == {"type": "function_call_output", "call_id": "call_1", "output": '{"time": "12:00"}'}
    with pytest.raises(UnsupportedCommand):
        conn.create_response()  # nothing left to continue
    assert conn.usage.input_text == 120 and conn.usage.output_text == 30 and conn.usage.responses == 1
    tool = [e for e in conn.conversation.items if e.type.startswith("function_call")]
    assert [(i.type, i.call_id) for i in tool] == [("function_call", "call_1"), ("function_call_output", "call_1")]


def test_a_partial_batch_is_never_continued_and_usage_counts_once():
    conn = started(replace_tools(CONFIG, TOOL))
    delegated_call(conn, ("call_1", "get_time"), ("call_2", "get_time"))
    conn.send_function_output("call_1", "{}", respond=True)
    assert [f["type"] for f in F.sent(conn)] == ["response.item.create"]
    conn.send_function_output("call_2", "{}", respond=True)
    assert [f["type"] for f in F.sent(conn)] == ["response.item.create", "response.create"]
    F.feed(conn, F.nested("item_d1", {"type": "response.completed", "sequence_number": 10,
                                      "response": F.backend_response("resp_b1", "completed", F.USAGE)}))
    assert conn.usage.responses == 1


def test_a_client_delegation_is_answered_with_commentary():
    conn = started()
    F.feed(conn, F.ev("session.delegation.created", offset_ms=900,
                      delegation={"id": "item_c1", "type": "delegation", "target": "client"}))
    [frame] = F.sent(conn)
    assert frame["type"] == "session.commentary.append" and frame["delegation_id"] == "item_c1"
    assert frame["content"] == NO_CLIENT_TASKS


# --- usage, errors, closing ---------------------------------------------------------------------------

def test_usage_is_the_latest_cumulative_seconds_priced_per_second():
    conn = started()
    F.feed(conn, F.ev("session.usage.updated", usage={"seconds": 12}),
           F.ev("session.usage.updated", usage={"seconds": 27}, context_window={"usage_ratio": 0.1}))
    assert conn.usage.live_seconds == 27
    assert conn.cost() == pytest.approx(27 * 0.05 / 60)


@pytest.mark.parametrize("reason, severity, words", [
    ("close_requested", Severity.NORMAL, "closed"),
    ("expired", Severity.RECYCLE, "time limit"),
    ("content", Severity.NON_FATAL, "safety"),
    ("remote_hangup", Severity.NON_FATAL, "other side"),
    ("connection_lost", Severity.RETRYABLE, "reconnecting"),
])
def test_session_closed_reasons_become_plain_words_and_a_verdict(reason, severity, words):
    conn = started()
    F.feed(conn, F.ev("session.closed", reason=reason, usage={"seconds": 61}, session=F.snapshot()))
    conn.receive_closed(1000, "")
    events = conn.events_received()
    close = events[-1]
    assert isinstance(close, ConnectionClosed) and close.classification.severity is severity
    assert words in close.classification.user_message
    assert conn.usage.live_seconds == 61 and conn.closed_reason == reason


def test_a_socket_closing_without_session_closed_is_judged_by_its_code():
    conn = started()
    conn.receive_closed(1006, "")
    [close] = conn.events_received()
    assert isinstance(close, ConnectionClosed) and close.classification.severity is Severity.RETRYABLE


def test_closing_sends_session_close_once_and_nothing_before_the_start():
    assert LiveConnection().close_session() is False
    conn = started()
    assert conn.close_session() and conn.close_session()
    assert [f["type"] for f in F.sent(conn)] == ["session.close"]


def test_an_error_names_the_command_that_caused_it():
    conn = started()
    conn.send_text("hello")
    frame = F.sent(conn)[0]
    F.feed(conn, F.ev("error", error={"type": "invalid_request_error", "code": "context_injection_incomplete",
                                      "message": "The appended context was not placed.",
                                      "client_event_id": frame["event_id"]}))
    events = conn.events_received()
    error = next(e for e in events if isinstance(e, ErrorEvent))
    assert error.error.event_id == frame["event_id"] and error.error.code == "context_injection_incomplete"


def test_malformed_and_unknown_frames_never_break_the_session():
    conn = started()
    conn.receive_message("{not json")
    conn.receive_message(json.dumps({"type": "session.input_transcript.delta", "delta": 3}))
    conn.receive_message(json.dumps({"type": "session.output_audio.delta", "delta": "!!!"}))
    conn.receive_message(json.dumps({"type": "decision.created", "event_id": "e"}))
    events = conn.events_received()
    assert types(events) == ["ProtocolErrorEvent", "ProtocolErrorEvent", "ProtocolErrorEvent", "UnknownEvent"]
    assert isinstance(events[-1], UnknownEvent) and isinstance(events[0], ProtocolErrorEvent)


@pytest.mark.parametrize("command", [
    lambda c: c.commit_audio(), lambda c: c.clear_audio(), lambda c: c.cancel_response(),
    lambda c: c.truncate("item_1", 100), lambda c: c.create_item({"type": "message"}), lambda c: c.delete_item("x"),
    lambda c: c.create_response(),
])
def test_commands_without_a_live_meaning_raise_unsupported(command):
    conn = started()
    with pytest.raises(UnsupportedCommand):
        command(conn)
    assert conn.frames_to_send() == []


def test_the_traits_say_what_differs():
    assert not (LIVE_TRAITS.turn_detection or LIVE_TRAITS.input_buffer or LIVE_TRAITS.responses
                or LIVE_TRAITS.truncation or LIVE_TRAITS.item_deletion or LIVE_TRAITS.images)
    assert LIVE_TRAITS.continuous_input and LIVE_TRAITS.billed_per_second and LIVE_TRAITS.text_messages
    assert "instructions" in LIVE_TRAITS.live_fields and "voice" not in LIVE_TRAITS.live_fields


def test_every_event_a_turn_produces_is_shared_vocabulary_or_a_live_event_passed_on():
    conn = started()
    F.feed(conn, F.said(" Hi", 0, 200), F.audio(F.voice_b64(100)), F.says(" Hello", 0, 200))
    modules = {type(event).__module__ for event in conn.events_received()}
    assert modules == {"desktop_app.realtime.events", "desktop_app.realtime.response_events",
                       "desktop_app.live.events"}


def test_turns_after_a_delegated_call_come_after_it_in_the_conversation():
    conn = started(replace_tools(CONFIG, TOOL))
    F.feed(conn, F.said(" What time is it?", 0, 500), F.audio(F.voice_b64(100)), F.says(" One moment.", 500, 700))
    delegated_call(conn, ("call_1", "get_time"))
    conn.send_function_output("call_1", "{}", respond=True)
    F.feed(conn, F.said(" Thanks", 900, 1100))
    kinds = [(i.type, i.role) for i in conn.conversation.items]
    assert kinds == [("message", "user"), ("message", "assistant"), ("function_call", None),
                     ("function_call_output", None), ("message", "user")]
