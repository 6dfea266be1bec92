"""The controller against a scripted peer: turns, barge-in, push-to-talk, live changes, faults.

The peer validates every client frame with the SDK's strict union, so a malformed command fails here.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from desktop_app.controller.controller import Controller
from desktop_app.controller.states import Conn, Turn
from desktop_app.realtime.session_config import SessionConfig
from desktop_app.transport.webrtc_support import transport_factory
from tests.controller.peer import EchoAwareAudio, FakeAudio, ScriptedPeer
from tests.helpers.wait import wait_until
from tests.realtime import frames as F

R1, U1, A1 = "resp_001", "item_U001", "item_A001"
#: The tests marked with it run over a WebSocket and over a WebRTC call (issue #21): what they check is
#: carried by events alone. The rest check the microphone's appends or the client's own truncation,
#: which WebRTC replaces with media tracks and the server's playback; tests/controller/test_transports.py
#: runs those behaviours over both transports.
BOTH = pytest.mark.parametrize("transport", ["websocket", "webrtc"])


def merged(base: dict[str, Any], diff: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in diff.items():
        out[key] = merged(base.get(key) or {}, value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


async def wait_for(predicate, timeout: float = 10.0) -> None:
    await wait_until(predicate, timeout)


class Session:
    """A connected controller + peer, with the server-side session kept in step."""

    def __init__(self, peer: ScriptedPeer, ctl: Controller, audio: FakeAudio) -> None:
        self.peer, self.ctl, self.audio = peer, ctl, audio
        self.session = F.session_obj()

    async def accept_update(self) -> dict:
        update = await self.peer.next("session.update")
        self.session = merged(self.session, update["session"])
        await self.peer.send(F.session_updated(self.session))
        return update


def make_peer(transport: str = "websocket") -> ScriptedPeer:
    """The scripted server for ``transport``: a WebSocket peer, or a call peer (events on the data
    channel, audio on Opus tracks)."""
    from tests.controller.peer_webrtc import ScriptedCallPeer

    return ScriptedCallPeer() if transport == "webrtc" else ScriptedPeer()


async def start(peer: ScriptedPeer, config: SessionConfig | None = None, audio: FakeAudio | None = None,
                transport: str = "websocket", **kw) -> Session:
    audio = audio or FakeAudio()
    if transport != "websocket":
        kw.setdefault("open_transport", transport_factory(transport))

    async def target():
        return peer.url, {"Authorization": "Bearer sk-test-controller-key-0123456789"}

    ctl = Controller(target=target, audio=audio, config=config or SessionConfig(), **kw)
    await ctl.connect()
    await peer.connected()
    s = Session(peer, ctl, audio)
    await peer.send(F.session_created())
    await s.accept_update()
    await wait_for(lambda: ctl.view.connection is Conn.CONNECTED)
    return s


async def assistant_answer(peer: ScriptedPeer, words: str, audio_ms: int, rid: str = R1, item: str = A1) -> None:
    await peer.send(
        F.response_created(rid), F.output_item_added(rid, F.assistant_item(item)),
        F.item_added(F.assistant_item(item)), F.part_added(rid, item),
        F.transcript_delta(rid, item, words), F.audio_delta(rid, item, audio_ms),
    )


async def answer_playing(peer: ScriptedPeer, words: str, audio_ms: int, config: SessionConfig | None = None,
                         transport: str = "websocket") -> tuple[Controller, EchoAwareAudio]:
    """A connected controller whose port says what the canceller heard, with an answer playing."""
    s = await start(peer, config, audio=EchoAwareAudio(), transport=transport)
    await assistant_answer(peer, words, audio_ms)
    await wait_for(lambda: s.audio.is_playing)
    return s.ctl, s.audio  # type: ignore[return-value]


async def test_hands_free_turn_streams_mic_plays_answer_and_returns_to_listening():
    async with ScriptedPeer() as peer:
        s = await start(peer)
        ctl, audio = s.ctl, s.audio
        assert ctl.view.turn is Turn.LISTENING and audio.started and audio.gate
        audio.speak(100)
        append = await peer.next("input_audio_buffer.append", skip=())
        assert len(append["audio"]) == 1280  # 20 ms of PCM16 24 kHz, base64
        await peer.send(F.speech_started(U1), F.speech_stopped(U1), F.committed(U1),
                        F.item_added(F.user_audio_item(U1)), F.item_done(F.user_audio_item(U1)))
        await wait_for(lambda: ctl.view.turn is Turn.WAITING)
        await assistant_answer(peer, "Five.", 400)
        await wait_for(lambda: audio.enqueued.get(A1) == 400 * 48)
        await wait_for(lambda: ctl.view.turn is Turn.ASSISTANT_SPEAKING)
        done_item = F.assistant_item(A1, "completed", transcript="Five.")
        await peer.send(F.audio_done(R1, A1), F.transcript_done(R1, A1, "Five."), F.item_done(done_item),
                        F.output_item_done(R1, done_item), F.response_done(R1, output=[done_item]),
                        F.transcription_completed(U1, "What is two plus three?"))
        await wait_for(lambda: any(e.text == "What is two plus three?" for e in ctl.view.transcript))
        assert ctl.view.turn is Turn.ASSISTANT_SPEAKING  # still playing locally
        audio.finish_playing()
        await asyncio.wait_for(ctl.idle.wait(), 5)
        assert ctl.view.turn is Turn.LISTENING
        assert [(e.role, e.text, e.final) for e in ctl.view.transcript] == [
            ("user", "What is two plus three?", True), ("assistant", "Five.", True)]
        # the response's usage; the transcription model's tokens are counted apart from it
        assert ctl.view.total_tokens == 320
        assert ctl.usage().transcription_input_tokens == 20
        assert ctl.view.cost_usd > 0
        await ctl.close()
        assert ctl.view.connection is Conn.CLOSED and not audio.started


async def test_barge_in_flushes_truncates_at_played_position_and_mutes_the_rest_of_the_answer():
    async with ScriptedPeer() as peer:
        s = await start(peer)
        ctl, audio = s.ctl, s.audio
        await assistant_answer(peer, "Once upon a time", 1500)
        await wait_for(lambda: audio.is_playing)
        audio.played[A1] = 700
        await peer.send(F.speech_started("item_U002"))
        truncate = await peer.next("conversation.item.truncate")
        assert (truncate["item_id"], truncate["audio_end_ms"], truncate["content_index"]) == (A1, 700, 0)
        assert audio.flushes == 1
        # server VAD with interrupt_response cancels by itself: the client must not send response.cancel
        await peer.send(F.audio_delta(R1, A1, 200))  # still in flight: must not be played
        await peer.send(F.ev("conversation.item.truncated", item_id=A1, content_index=0, audio_end_ms=700))
        await wait_for(lambda: any(e.truncated for e in ctl.view.transcript))
        assert audio.enqueued[A1] == 1500 * 48
        assert "response.cancel" not in peer.sent_types()
        assert ctl.view.turn is Turn.USER_SPEAKING
        await ctl.close()


async def test_push_to_talk_commits_and_asks_for_an_answer_and_drops_a_too_short_press():
    async with ScriptedPeer() as peer:
        s = await start(peer, SessionConfig(turn_detection=None))
        ctl, audio = s.ctl, s.audio
        assert ctl.view.turn is Turn.IDLE and not audio.gate
        audio.speak(200)  # button up: nothing is sent
        ctl.press_talk()
        assert audio.gate
        await peer.next("input_audio_buffer.clear")
        await wait_for(lambda: ctl.view.turn is Turn.USER_SPEAKING)  # held past a slip of the finger
        audio.speak(300)
        ctl.release_talk()
        await peer.next("input_audio_buffer.commit")
        await peer.next("response.create")
        assert ctl.view.turn is Turn.COMMITTING
        appends = [f for f in peer.all_frames if f["type"] == "input_audio_buffer.append"]
        assert len(appends) == 15  # exactly the 300 ms spoken while held
        ctl.press_talk()  # pressing again while the answer is pending interrupts it, once held (§3.6 F2)
        await peer.next("input_audio_buffer.clear")
        await peer.next("response.cancel")
        audio.speak(40)  # held long enough to be a turn, but less than the server's 100 ms
        ctl.release_talk()
        await peer.next("input_audio_buffer.clear")
        assert ctl.view.notice is not None and "too short" in ctl.view.notice.sentence
        await asyncio.sleep(0.1)
        assert peer.sent_types().count("input_audio_buffer.commit") == 1
        await ctl.close()


async def test_push_to_talk_press_while_the_assistant_speaks_cancels_and_truncates():
    async with ScriptedPeer() as peer:
        s = await start(peer, SessionConfig(turn_detection=None))
        ctl, audio = s.ctl, s.audio
        await assistant_answer(peer, "A long story", 2000)
        await wait_for(lambda: audio.is_playing and ctl.connection.core.active_response_id == R1)
        audio.played[A1] = 450
        ctl.press_talk()
        assert audio.pauses == [True]  # silent at once, nothing lost while the press may be a slip
        await peer.next("input_audio_buffer.clear")
        cancel = await peer.next("response.cancel")  # once held: cancel first (§3.6 F2), then cut
        assert cancel.get("response_id") == R1
        truncate = await peer.next("conversation.item.truncate")
        assert truncate["audio_end_ms"] == 450
        assert audio.flushes == 1 and audio.pauses == [True, False]
        await ctl.close()


async def test_a_push_to_talk_tap_is_a_slip_the_answer_goes_on_and_no_turn_is_left():
    """Issue #16 item 14: a 40 ms press neither cancels the answer nor leaves an empty turn."""
    async with ScriptedPeer() as peer:
        s = await start(peer, SessionConfig(turn_detection=None))
        ctl, audio = s.ctl, s.audio
        await assistant_answer(peer, "A long story", 2000)
        await wait_for(lambda: ctl.view.turn is Turn.ASSISTANT_SPEAKING)
        turn_before = ctl.view.turn
        ctl.press_talk()
        audio.speak(40)
        ctl.release_talk()
        assert audio.pauses == [True, False]  # paused at the press, resumed where it stopped
        await peer.next("input_audio_buffer.clear")  # the press's fresh buffer
        await peer.next("input_audio_buffer.clear")  # and what the slip appended, dropped
        await asyncio.sleep(0.3)  # past the press threshold: nothing more may follow
        assert audio.flushes == 0 and audio.is_playing
        sent = peer.sent_types()
        assert "response.cancel" not in sent and "conversation.item.truncate" not in sent
        assert "input_audio_buffer.commit" not in sent
        assert ctl.view.turn is turn_before and not ctl.view.user_speaking
        assert ctl.view.notice is None
        await ctl.close()


@BOTH
async def test_slider_moves_send_one_debounced_update_and_a_rejection_rolls_back(transport: str) -> None:
    async with make_peer(transport) as peer:
        s = await start(peer, transport=transport)
        ctl = s.ctl
        for value in (0.55, 0.6, 0.65):
            ctl.update_vad(threshold=value)
        assert ctl.view.vad.threshold == 0.65  # shown at once
        update = await s.accept_update()
        assert update["session"]["audio"]["input"]["turn_detection"]["threshold"] == 0.65
        await wait_for(lambda: ctl.effective_session.turn_detection.threshold == 0.65)
        await asyncio.sleep(0.5)
        assert peer.sent_types().count("session.update") == 2  # the initial one and exactly one more
        ctl.update_vad(silence_duration_ms=900)
        rejected = await peer.next("session.update")
        await peer.send(F.error("integer_above_max_value", "Invalid value for silence_duration_ms.",
                                caused_by=rejected["event_id"]))
        await wait_for(lambda: ctl.view.notice is not None)
        assert "refused the new settings" in ctl.view.notice.sentence
        assert ctl.view.vad.silence_duration_ms == 200  # back to the server's effective value
        await ctl.close()


@BOTH
async def test_voice_is_locked_after_assistant_audio(transport: str) -> None:
    async with make_peer(transport) as peer:
        s = await start(peer, transport=transport)
        ctl = s.ctl
        await assistant_answer(peer, "Hi", 100)
        await wait_for(lambda: ctl.view.voice_locked)  # the view tells the voice picker
        ctl.set_voice("cedar")
        assert ctl.view.voice == ctl.config.voice == "marin"
        assert "cannot change" in ctl.view.notice.sentence
        await asyncio.sleep(0.4)
        assert peer.sent_types().count("session.update") == 1
        await ctl.close()


@BOTH
async def test_invalid_key_close_3000_fails_once_without_retrying(transport: str) -> None:
    async with make_peer(transport) as peer:
        s = await start(peer, transport=transport)
        await peer.send(F.error("invalid_api_key", "Incorrect API key provided."))
        await peer.close(3000, "invalid_request_error.invalid_api_key")
        await asyncio.wait_for(s.ctl.closed_event.wait(), 5)
        assert s.ctl.view.connection is Conn.FAILED
        assert "API key" in s.ctl.view.notice.sentence
        await asyncio.sleep(0.7)
        assert peer.connections == 1


@BOTH
async def test_a_dropped_connection_reconnects_and_replays_the_conversation(transport: str) -> None:
    async with make_peer(transport) as peer:
        s = await start(peer, transport=transport)
        ctl = s.ctl
        await peer.send(F.item_added(F.user_text_item("item_T1", "Remember the word banana.")),
                        F.item_done(F.user_text_item("item_T1", "Remember the word banana.")))
        await wait_for(lambda: len(ctl.view.transcript) == 1)
        await peer.drop()
        await wait_for(lambda: ctl.view.connection is Conn.RECONNECTING)
        assert ctl.view.transcript[0].text == "Remember the word banana."
        await peer.connected(2)
        await peer.send(F.session_created())
        await peer.next("session.update")
        replay = await peer.next("conversation.item.create")
        assert replay["item"]["content"][0]["text"] == "Remember the word banana."
        await wait_for(lambda: ctl.view.connection is Conn.CONNECTED)
        assert [e.text for e in ctl.view.transcript] == ["Remember the word banana."]
        await ctl.close()


@BOTH
async def test_a_function_call_runs_the_tool_and_asks_for_the_spoken_result(transport: str) -> None:
    from desktop_app.tools import ToolBox, ToolRegistry, ToolSpec

    calls = []

    async def add(args, ctx):
        calls.append(dict(args))
        return {"sum": args["a"] + args["b"]}

    spec = ToolSpec(name="add", description="Add two integers", run=add, parameters={
        "type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]})
    async with make_peer(transport) as peer:
        s = await start(peer, transport=transport, tools=ToolBox(ToolRegistry([spec])))
        call = F.function_call_item("item_F1", "call_1", "add", '{"a":2,"b":3}', status="completed")
        await peer.send(F.response_created(R1), F.output_item_added(R1, call), F.item_added(call),
                        F.item_done(call), F.output_item_done(R1, call), F.response_done(R1, output=[call]))
        created = await peer.next("conversation.item.create")
        assert created["item"] == {"type": "function_call_output", "call_id": "call_1", "output": '{"sum": 5}'}
        await peer.next("response.create")
        assert calls == [{"a": 2, "b": 3}]
        await s.ctl.close()


@BOTH
async def test_a_server_clock_far_behind_ours_causes_no_refresh_storm(transport: str) -> None:
    import time

    async with make_peer(transport) as peer:
        # the peer's expires_at (late 2025) is long past on this computer's clock
        s = await start(peer, transport=transport)
        assert s.ctl.view.session_expires_at == pytest.approx(time.time() + 3600, abs=5)
        await asyncio.sleep(0.3)  # six ticks: none may recycle
        assert peer.connections == 1 and s.ctl.view.connection is Conn.CONNECTED
        assert "session.update" in peer.sent_types() and peer.sent_types().count("session.update") == 1
        await s.ctl.close()


@BOTH
async def test_speech_started_on_pure_echo_keeps_playing_and_resumes_a_cancelled_answer(transport: str) -> None:
    async with make_peer(transport) as peer:
        ctl, audio = await answer_playing(peer, "Once upon a time", 2000, transport=transport)
        audio.played[A1] = 900
        await peer.send(F.speech_started("item_E1"))
        await peer.send(F.response_done(R1, "cancelled", reason="turn_detected"))
        resumed = await peer.next("response.create")  # the answer goes on instead of dying on echo
        assert resumed["type"] == "response.create"
        assert audio.flushes == 0 and audio.is_playing
        assert "conversation.item.truncate" not in peer.sent_types()
        await ctl.close()


@BOTH
async def test_a_transcript_that_repeats_the_assistant_is_removed_as_echo(transport: str) -> None:
    async with make_peer(transport) as peer:
        ctl, audio = await answer_playing(peer, "Once upon a time in a small town by the sea", 3000, transport=transport)
        await peer.send(F.speech_started("item_E2"))  # during playback: the transcript will be judged
        done = F.assistant_item(A1, "completed", transcript="Once upon a time in a small town by the sea")
        await peer.send(F.item_done(done), F.response_done(R1))
        await peer.send(F.committed("item_E2", A1), F.item_added(F.user_audio_item("item_E2"), A1),
                        F.transcription_completed("item_E2", "in a small town by the sea"))
        deleted = await peer.next("conversation.item.delete")
        assert deleted["item_id"] == "item_E2"
        await peer.send(F.ev("conversation.item.deleted", item_id="item_E2"))
        await wait_for(lambda: [e.role for e in ctl.view.transcript] == ["assistant"])
        await ctl.close()


async def test_local_speech_onset_stops_playback_before_the_server_event():
    async with ScriptedPeer() as peer:
        ctl, audio = await answer_playing(peer, "Once upon a time", 2000)
        audio.played[A1] = 640
        audio.near_end = True
        audio.onset()  # the canceller's residual shows the user talking
        await peer.next("response.cancel")  # ahead of the server's VAD, so the client cancels
        truncate = await peer.next("conversation.item.truncate")
        assert truncate["audio_end_ms"] == 640 and audio.flushes == 1
        await peer.send(F.speech_started("item_U9"))  # arrives later: nothing more to stop
        await asyncio.sleep(0.1)
        assert audio.flushes == 1 and peer.sent_types().count("conversation.item.truncate") == 1
        assert ctl.view.turn is Turn.USER_SPEAKING
        await ctl.close()


async def test_starting_without_a_network_says_offline_and_offers_the_demo_without_retrying():
    from desktop_app.errors import ConnectionLost

    attempts = []

    async def target():
        attempts.append(1)
        return "ws://parley-test.invalid/v1/realtime", {}

    ctl = Controller(target=target, audio=FakeAudio(), config=SessionConfig())
    ctl.connection.offer_demo = True
    with pytest.raises(ConnectionLost):
        await ctl.connect()
    assert ctl.view.connection is Conn.FAILED
    assert "offline" in ctl.view.notice.sentence and ctl.view.notice.action == "demo"
    await asyncio.sleep(0.7)  # longer than the first backoff delay: no retry may start
    assert len(attempts) == 1
