"""The event orderings A–H of realtime-protocol.md §3.6, replayed through the core as tables.

Each scenario is a list of steps: a dict is a server frame (validated by the SDK oracle, then fed to
the core), a callable is a client action. After the replay the test asserts exactly the
conversation (item order, roles, transcripts), the frames the core sent, the active response and
the usage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from desktop_app.realtime.connection import RealtimeConnection
from desktop_app.realtime.session_config import SessionConfig
from desktop_app.realtime.usage import Usage

from . import frames as f

R1, R2, R3 = "resp_1", "resp_2", "resp_3"
U1, U2, A1, A2, FC, FO, T1 = "item_U1", "item_U2", "item_A1", "item_A2", "item_FC", "item_FO", "item_T1"
CALL = "call_Ab12Cd34Ef56Gh78"
ONE = Usage.from_response(f.USAGE)
PTT = {"turn_detection": None}


def ptt_session() -> dict[str, Any]:
    session = f.session_obj()
    session["audio"]["input"]["turn_detection"] = None
    return session


def assistant_audio_ladder(rid: str, item: str, prev: str | None, words: list[str], ms_each: int = 200,
                           *, finish: bool = True) -> list[dict[str, Any]]:
    """The model side of §3.6 B from response.created to response.done (+ rate_limits)."""
    steps: list[dict[str, Any]] = [
        f.response_created(rid),
        f.output_item_added(rid, f.assistant_item(item)),
        f.item_added(f.assistant_item(item), prev),
        f.part_added(rid, item),
    ]
    for word in words:
        steps += [f.transcript_delta(rid, item, word), f.audio_delta(rid, item, ms_each)]
    if finish:
        text = "".join(words)
        final = f.assistant_item(item, "completed", transcript=text)
        steps += [
            f.audio_done(rid, item), f.transcript_done(rid, item, text), f.part_done(rid, item, words=text),
            f.item_done(final, prev), f.output_item_done(rid, final),
            f.response_done(rid, output=[final]), f.rate_limits(),
        ]
    return steps


@dataclass
class Expect:
    """What the core must hold after a scenario."""

    order: list[tuple[str, str | None]]                       # (item id, role or item type)
    words: dict[str, tuple[str, bool]] = field(default_factory=dict)  # id -> (display text, final)
    sent: list[str] = field(default_factory=list)             # client event types, in order
    active: str | None = None
    usage: Usage = Usage()
    queued: int = 0


@dataclass
class Scenario:
    name: str
    steps: Callable[[], list[Any]]
    expect: Expect
    config: SessionConfig | None = None


def run(scenario: Scenario) -> tuple[RealtimeConnection, list[dict[str, Any]]]:
    conn = RealtimeConnection()
    sent: list[dict[str, Any]] = []
    if scenario.config is not None:
        conn.update_session(scenario.config)
    for step in scenario.steps():
        if callable(step):
            step(conn)
        else:
            f.feed(conn, step)
        sent += [json.loads(x) for x in conn.frames_to_send()]
    return conn, sent


SCENARIOS = [
    Scenario(
        "A connect: held session.update goes out after session.created",
        lambda: [f.session_created(), f.session_updated(f.session_obj(
            audio={**f.session_obj()["audio"], "output": {"format": {"type": "audio/pcm", "rate": 24000},
                                                         "voice": "marin", "speed": 1.0}}))],
        Expect(order=[], sent=["session.update"]),
        config=SessionConfig(),
    ),
    Scenario(
        "B server-VAD audio turn with transcription arriving mid-response",
        lambda: [
            f.session_created(), f.speech_started(U1), f.speech_stopped(U1), f.committed(U1),
            f.item_added(f.user_audio_item(U1)), f.item_done(f.user_audio_item(U1)),
            *assistant_audio_ladder(R1, A1, U1, ["Hi ", "there!"])[:6],
            f.transcription_delta(U1, "Hello "), f.transcription_delta(U1, "there"),
            *assistant_audio_ladder(R1, A1, U1, ["Hi ", "there!"])[6:],
            f.transcription_completed(U1, "Hello there."),
        ],
        Expect(order=[(U1, "user"), (A1, "assistant")],
               words={U1: ("Hello there.", True), A1: ("Hi there!", True)},
               usage=ONE + Usage.from_transcription(f.transcription_completed(U1, "")["usage"])),
    ),
    Scenario(
        "C push-to-talk: append, commit, response.create before committed",
        lambda: [
            f.session_created(), f.session_updated(ptt_session()),
            lambda c: c.append_audio(b"\x00" * 48 * 120), lambda c: c.commit_audio(),
            lambda c: c.create_response(),
            f.committed(U1), f.item_added(f.user_audio_item(U1)), f.item_done(f.user_audio_item(U1)),
            *assistant_audio_ladder(R1, A1, U1, ["Sure."]),
        ],
        Expect(order=[(U1, "user"), (A1, "assistant")], words={U1: ("", False), A1: ("Sure.", True)},
               sent=["input_audio_buffer.append", "input_audio_buffer.commit", "response.create"], usage=ONE),
    ),
    Scenario(
        "D text turn in text mode",
        lambda: [
            f.session_created(), lambda c: c.send_text("What time is it?"),
            f.item_added(f.user_text_item(T1, "What time is it?")), f.item_done(f.user_text_item(T1, "What time is it?")),
            f.response_created(R1), f.output_item_added(R1, f.assistant_item(A1)), f.item_added(f.assistant_item(A1), T1),
            f.part_added(R1, A1, "text"), f.text_delta(R1, A1, "It is "), f.text_delta(R1, A1, "14:05."),
            f.text_done(R1, A1, "It is 14:05."), f.part_done(R1, A1, "text", "It is 14:05."),
            f.item_done(f.assistant_item(A1, "completed", text="It is 14:05."), T1),
            f.output_item_done(R1, f.assistant_item(A1, "completed", text="It is 14:05.")),
            f.response_done(R1, output=[f.assistant_item(A1, "completed", text="It is 14:05.")]), f.rate_limits(),
        ],
        Expect(order=[(T1, "user"), (A1, "assistant")],
               words={T1: ("What time is it?", False), A1: ("It is 14:05.", False)},
               sent=["conversation.item.create", "response.create"], usage=ONE),
    ),
    Scenario(
        "E function call, then a VAD response holds our response.create in the queue",
        lambda: [
            f.session_created(), f.response_created(R1),
            f.output_item_added(R1, f.function_call_item(FC, CALL, "get_local_time")),
            f.item_added(f.function_call_item(FC, CALL, "get_local_time")),
            f.args_delta(R1, FC, CALL, '{"tz":'), f.args_delta(R1, FC, CALL, '"UTC"}'),
            f.args_done(R1, FC, CALL, "get_local_time", '{"tz":"UTC"}'),
            f.item_done(f.function_call_item(FC, CALL, "get_local_time", '{"tz":"UTC"}', "completed")),
            f.output_item_done(R1, f.function_call_item(FC, CALL, "get_local_time", '{"tz":"UTC"}', "completed")),
            f.response_done(R1), f.rate_limits(),
            f.speech_started(U1), f.speech_stopped(U1), f.committed(U1, FC), f.response_created(R2),
            lambda c: c.send_function_output(CALL, '{"time":"14:05"}'),
            f.item_added(f.function_output_item(FO, CALL, '{"time":"14:05"}'), U1),
            f.item_done(f.function_output_item(FO, CALL, '{"time":"14:05"}'), U1),
        ],
        Expect(order=[(FC, "function_call"), (U1, "user"), (FO, "function_call_output")],
               sent=["conversation.item.create"], active=R2, usage=ONE, queued=1),
    ),
    Scenario(
        "F1 hands-free barge-in after the response finished: truncate to what was played",
        lambda: [
            f.session_created(), *assistant_audio_ladder(R1, A1, None, ["One ", "two ", "three."]),
            f.speech_started(U1), lambda c: c.truncate(A1, played_ms=250),
            f.ev("conversation.item.truncated", item_id=A1, content_index=0, audio_end_ms=250),
            f.speech_stopped(U1), f.committed(U1, A1),
        ],
        Expect(order=[(A1, "assistant"), (U1, "user")], words={A1: ("One two three.", True)},
               sent=["conversation.item.truncate"], usage=ONE),
    ),
    Scenario(
        "F1 barge-in while generating: server cancels with turn_detected",
        lambda: [
            f.session_created(), *assistant_audio_ladder(R1, A1, None, ["One ", "two "], finish=False),
            f.speech_started(U1), lambda c: c.truncate(A1, played_ms=300),
            f.ev("conversation.item.truncated", item_id=A1, content_index=0, audio_end_ms=300),
            f.audio_done(R1, A1), f.transcript_done(R1, A1, "One two "), f.part_done(R1, A1, words="One two "),
            f.output_item_done(R1, f.assistant_item(A1, "incomplete", transcript="One two ")),
            f.item_done(f.assistant_item(A1, "incomplete", transcript="One two ")),
            f.response_done(R1, "cancelled", reason="turn_detected"),
        ],
        Expect(order=[(A1, "assistant")], words={A1: ("One two ", True)},
               sent=["conversation.item.truncate"], usage=ONE),
    ),
    Scenario(
        "F2 push-to-talk barge-in: cancel, truncate, clear",
        lambda: [
            f.session_created(), f.session_updated(ptt_session()),
            *assistant_audio_ladder(R1, A1, None, ["Long ", "answer "], finish=False),
            lambda c: c.cancel_response(),
            f.response_done(R1, "cancelled", reason="client_cancelled"),
            lambda c: c.truncate(A1, played_ms=120), lambda c: c.clear_audio(),
            f.ev("conversation.item.truncated", item_id=A1, content_index=0, audio_end_ms=120),
            f.ev("input_audio_buffer.cleared"),
        ],
        Expect(order=[(A1, "assistant")], words={A1: ("Long answer ", False)},
               sent=["response.cancel", "conversation.item.truncate", "input_audio_buffer.clear"], usage=ONE),
    ),
    Scenario(
        "G idle timeout: silent user item, then a model prompt",
        lambda: [
            f.session_created(), *assistant_audio_ladder(R1, A1, None, ["Hello?"]),
            f.ev("input_audio_buffer.timeout_triggered", audio_start_ms=5000, audio_end_ms=11000, item_id=U1),
            f.committed(U1, A1), f.item_added(f.user_audio_item(U1), A1), f.item_done(f.user_audio_item(U1), A1),
            *assistant_audio_ladder(R2, A2, U1, ["Still there?"]),
        ],
        Expect(order=[(A1, "assistant"), (U1, "user"), (A2, "assistant")],
               words={A1: ("Hello?", True), A2: ("Still there?", True)}, usage=ONE + ONE),
    ),
    Scenario(
        "H out-of-band response runs beside the default one and never joins the conversation",
        lambda: [
            f.session_created(), *assistant_audio_ladder(R1, A1, None, ["Main "], finish=False),
            lambda c: c.create_response(conversation="none", output_modalities=["text"], metadata={"purpose": "title"}),
            f.response_created(R2, conversation_id=None, metadata={"purpose": "title"}),
            f.output_item_added(R2, f.assistant_item(A2)), f.part_added(R2, A2, "text"),
            f.text_delta(R2, A2, "Title"), f.text_done(R2, A2, "Title"),
            f.response_done(R2, conversation_id=None, output=[f.assistant_item(A2, "completed", text="Title")]),
        ],
        Expect(order=[(A1, "assistant")], words={A1: ("Main ", False)}, sent=["response.create"],
               active=R1, usage=ONE),
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_ordering_replay_leaves_exactly_the_expected_state(scenario):
    conn, sent = run(scenario)
    expect = scenario.expect
    assert [(i.id, i.role or i.type) for i in conn.conversation.items] == expect.order
    for item_id, (words, final) in expect.words.items():
        item = conn.conversation.get(item_id)
        assert (item.display_text, item.transcript_final) == (words, final), item_id
    assert [e["type"] for e in sent] == expect.sent
    assert conn.active_response_id == expect.active
    assert conn.usage == expect.usage
    assert len(conn.queued_responses) == expect.queued
    assert not any(type(e).__name__ == "ProtocolErrorEvent" for e in conn.events_received())


def test_A_session_reflects_the_servers_echo_and_the_request_is_confirmed():
    conn, sent = run(SCENARIOS[0])
    assert sent[0]["session"]["audio"]["output"]["voice"] == "marin"
    assert conn.session.voice == "marin"
    assert conn.requested_session == conn.session


def test_B_records_origins_audio_and_locks_the_voice():
    conn, _ = run(SCENARIOS[1])
    user, assistant = conn.conversation.items
    assert (user.origin, assistant.origin, assistant.response_id) == ("input_audio", "response", R1)
    assert user.has_audio and assistant.has_audio and assistant.status == "completed"
    assert conn.received_ms(A1) == 400
    assert conn.voice_locked


def test_C_push_to_talk_counts_appended_audio_until_the_commit():
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), f.session_updated(ptt_session()))
    conn.append_audio(b"\x00" * 48 * 60)
    assert (conn.appended_ms_since_commit, conn.can_commit) == (60, False)
    conn.append_audio(b"\x00" * 48 * 40)
    assert (conn.appended_ms_since_commit, conn.can_commit) == (100, True)
    conn.commit_audio()
    assert conn.appended_ms_since_commit == 0
    conn.append_audio(b"\x00" * 48 * 30)
    f.feed(conn, f.committed(U1))  # the server's late committed must not eat the next utterance
    assert conn.appended_ms_since_commit == 30


def test_E_queued_function_response_is_released_when_the_vad_response_is_done():
    conn, _ = run(SCENARIOS[4])
    queued_id = conn.queued_responses[0]["event_id"]
    f.feed(conn, f.response_done(R2))
    released = [json.loads(x) for x in conn.frames_to_send()]
    assert [(e["type"], e["event_id"]) for e in released] == [("response.create", queued_id)]
    assert conn.queued_responses == ()
    fc = conn.conversation.get(FC)
    assert (fc.call_id, fc.name, fc.arguments) == (CALL, "get_local_time", '{"tz":"UTC"}')


def test_F1_truncate_frame_cuts_at_played_ms_and_keeps_the_local_transcript():
    conn, sent = run(SCENARIOS[5])
    assert sent[0] == {"type": "conversation.item.truncate", "event_id": sent[0]["event_id"],
                       "item_id": A1, "content_index": 0, "audio_end_ms": 250}
    item = conn.conversation.get(A1)
    assert (item.truncated, item.audio_end_ms, item.transcript) == (True, 250, "One two three.")


def test_F2_cancel_names_the_active_response():
    _, sent = run(SCENARIOS[7])
    assert sent[0]["response_id"] == R1


def test_H_out_of_band_items_stay_detached_but_readable():
    conn, sent = run(SCENARIOS[9])
    assert sent[0]["response"]["conversation"] == "none"
    assert A2 not in conn.conversation.ids
    assert conn.conversation.get(A2).text == "Title"


def test_transcription_for_an_item_not_yet_added_is_kept_and_placed_when_it_arrives():
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), f.transcription_delta(U1, "Early"),
           f.item_added(f.user_audio_item(U1)), f.transcription_completed(U1, "Early words."))
    assert [(i.id, i.display_text, i.transcript_final) for i in conn.conversation.items] == [
        (U1, "Early words.", True)]


def test_whisper_single_delta_is_interim_until_completed():
    conn = RealtimeConnection()
    f.feed(conn, f.session_created(), f.committed(U1), f.transcription_delta(U1, "All at once."))
    item = conn.conversation.get(U1)
    assert (item.transcript, item.transcript_final) == ("All at once.", False)
