"""The controller's behaviours that a transport could change, run over both transports.

The same script drives a WebSocket peer and a WebRTC call peer (:mod:`tests.controller.peer_webrtc`):
over WebRTC the microphone and the answer travel as Opus tracks, so audio amounts are compared within
two frames; everything else — turns, transcripts, barge-in and its truncation, push-to-talk,
reconnect and replay — must come out the same.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from desktop_app.controller.controller import Controller
from desktop_app.controller.states import Conn, Turn
from desktop_app.realtime.session_config import SessionConfig
from desktop_app.transport.webrtc_support import transport_factory
from tests.controller.peer import FakeAudio, ScriptedPeer
from tests.controller.peer_webrtc import ScriptedCallPeer, tone
from tests.controller.test_controller import A1, R1, U1, Session, assistant_answer, wait_for
from tests.realtime import frames as F

TRANSPORTS = ["websocket", "webrtc"]
FRAME = 20 * 48  # bytes of one 20 ms frame


def speak(audio: FakeAudio, ms: int) -> None:
    """``ms`` of a tone from the microphone, in 20 ms frames (Opus would flatten FakeAudio's DC)."""
    for _ in range(ms // 20):
        audio.on_frame(tone(FRAME))


def make_peer(transport: str) -> ScriptedPeer:
    return ScriptedCallPeer() if transport == "webrtc" else ScriptedPeer()


async def start(peer: ScriptedPeer, transport: str, config: SessionConfig | None = None, **kw: Any) -> Session:
    audio = FakeAudio()

    async def target() -> tuple[str, dict[str, str]]:
        return peer.url, {"Authorization": "Bearer sk-test-controller-key-0123456789"}

    ctl = Controller(target=target, audio=audio, config=config or SessionConfig(),
                     open_transport=transport_factory(transport), **kw)
    await ctl.connect()
    await peer.connected()
    s = Session(peer, ctl, audio)
    await peer.send(F.session_created())
    await s.accept_update()
    await wait_for(lambda: ctl.view.connection is Conn.CONNECTED)
    return s


async def answer_done(peer: ScriptedPeer, text: str, rid: str = R1, item: str = A1) -> None:
    done_item = F.assistant_item(item, "completed", transcript=text)
    await peer.send(F.audio_done(rid, item), F.transcript_done(rid, item, text), F.item_done(done_item),
                    F.output_item_done(rid, done_item), F.response_done(rid, output=[done_item]))


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_hands_free_turn_streams_the_mic_plays_the_answer_under_its_item_and_ends(transport: str) -> None:
    async with make_peer(transport) as peer:
        s = await start(peer, transport)
        ctl, audio = s.ctl, s.audio
        speak(audio, 400)
        if transport == "websocket":
            await peer.next("input_audio_buffer.append", skip=())
        else:  # the microphone is an audio track: it reaches the peer, and no append is ever sent
            await wait_for(lambda: peer.mic_frames >= 5, 10)
            assert "input_audio_buffer.append" not in [f["type"] for f in peer.all_frames]
        await peer.send(F.speech_started(U1), F.speech_stopped(U1), F.committed(U1),
                        F.item_added(F.user_audio_item(U1)), F.item_done(F.user_audio_item(U1)))
        await wait_for(lambda: ctl.view.turn is Turn.WAITING)
        await assistant_answer(peer, "Five.", 400)
        await answer_done(peer, "Five.")
        await peer.send(F.transcription_completed(U1, "What is two plus three?"))
        await wait_for(lambda: audio.enqueued.get(A1, 0) >= 400 * 48 - 2 * FRAME, 10)
        await asyncio.sleep(0.3) if transport == "webrtc" else None  # let the tail and `stopped` arrive
        assert abs(audio.enqueued[A1] - 400 * 48) <= (2 * FRAME if transport == "webrtc" else 0)
        assert audio.order == [A1]  # all of it under the assistant's item, nothing under another
        await wait_for(lambda: ctl.view.turn is Turn.ASSISTANT_SPEAKING)  # the next tick sees it playing
        audio.finish_playing()
        await asyncio.wait_for(ctl.idle.wait(), 5)
        assert ctl.view.turn is Turn.LISTENING
        assert [(e.role, e.text) for e in ctl.view.transcript] == [
            ("user", "What is two plus three?"), ("assistant", "Five.")]
        await ctl.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_barge_in_over_playback_truncates_at_the_played_position(transport: str) -> None:
    async with make_peer(transport) as peer:
        s = await start(peer, transport)
        ctl, audio = s.ctl, s.audio
        await assistant_answer(peer, "Once upon a time", 1500)
        await wait_for(lambda: audio.enqueued.get(A1, 0) >= 800 * 48, 10)  # over WebRTC it streams in real time
        audio.played[A1] = 700
        await peer.send(F.speech_started("item_U002"))
        truncate = await peer.next("conversation.item.truncate")
        assert (truncate["item_id"], truncate["audio_end_ms"]) == (A1, 700)
        assert audio.flushes == 1
        sent = [f["type"] for f in peer.all_frames]
        # the server's VAD cancels (and, over WebRTC, clears its own buffer): nothing else to send
        assert "response.cancel" not in sent and "output_audio_buffer.clear" not in sent
        before = audio.enqueued[A1]
        await asyncio.sleep(0.2)
        assert audio.enqueued[A1] - before <= (FRAME if transport == "webrtc" else 0)  # the rest is not played
        await ctl.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_push_to_talk_over_an_answer_cancels_clears_where_the_server_plays_then_truncates(transport: str) -> None:
    async with make_peer(transport) as peer:
        s = await start(peer, transport, SessionConfig(turn_detection=None))
        ctl, audio = s.ctl, s.audio
        await assistant_answer(peer, "A long story", 2000)
        await wait_for(lambda: audio.enqueued.get(A1, 0) >= 600 * 48 and ctl.connection.core.active_response_id == R1)
        audio.played[A1] = 450
        ctl.press_talk()
        await peer.next("input_audio_buffer.clear")
        await peer.next("response.cancel")
        if transport == "webrtc":  # the server plays the answer: it must stop too (§3.8)
            await peer.next("output_audio_buffer.clear")
        truncate = await peer.next("conversation.item.truncate")
        assert truncate["audio_end_ms"] == 450
        speak(audio, 300)  # over WebRTC this counts toward the commit guard although no append is sent
        ctl.release_talk()
        await peer.next("input_audio_buffer.commit")
        await peer.send(F.response_done(R1, "cancelled"))
        await peer.next("response.create")  # held until the cancelled answer was done
        await ctl.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_connection_lost_mid_conversation_reconnects_and_replays(transport: str) -> None:
    async with make_peer(transport) as peer:
        s = await start(peer, transport, max_retries=3)
        ctl = s.ctl
        ctl.connection.backoff = lambda tries: iter([0.05] * tries)
        await peer.send(F.item_added(F.user_audio_item(U1)), F.transcription_completed(U1, "Hello there"))
        await assistant_answer(peer, "Hi!", 200)
        await answer_done(peer, "Hi!")
        await wait_for(lambda: len(ctl.transcript()) == 2)
        await peer.drop()
        await wait_for(lambda: ctl.connection.last_close is not None, 15)
        assert ctl.connection.last_close.code == 1006
        await peer.connected(2)
        await peer.send(F.session_created())
        await s.accept_update()
        items = [(await peer.next("conversation.item.create"))["item"] for _ in range(2)]
        assert [i["role"] for i in items] == ["user", "assistant"]
        await wait_for(lambda: ctl.view.connection is Conn.CONNECTED)
        await ctl.close()
