"""Hands-free on "laptop speakers": the whole client against the local server, the speaker heard by the
microphone through the PipeWire echo room (tests/audio/test_aec_loopback.py's :class:`EchoRoom`).

The user (synthesized speech played into the microphone's sink) asks for a story; the assistant's
answer plays through the real output device and comes back into the real input device 30 ms later
at −3 dB, mixed with whatever the user says. The client runs as in the app: the controller, the
device port and the audio engine in ``speakers`` mode (echo cancellation on).

Trade-off on time: the scripted conversation is held to about 25 s of assistant speech through the
room by default (the whole suite must stay fast on 2 cores). ``PARLEY_ECHO_CONVERSATION_S=120`` runs
the real-time two-minute version: question, whole story, question, story… for that long, with the
same "no self-interruption" assertions over all of it.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest

from desktop_app.audio.engine import AudioEngine
from desktop_app.controller.controller import Controller
from desktop_app.controller.ports import DevicePort
from desktop_app.controller.states import Conn
from desktop_app.local_server.server import LocalServer
from desktop_app.realtime.session_config import SessionConfig, Transcription
from tests.audio.test_aec_loopback import EchoRoom
from tests.helpers.speech import read_wav, speech_wav
from tests.helpers.wait import wait_until

pytestmark = [pytest.mark.audio, pytest.mark.slow]
ECHO_S = float(os.environ.get("PARLEY_ECHO_CONVERSATION_S", "25"))


class Wire:
    """Every frame on the socket, parsed, with the time it passed."""

    def __init__(self) -> None:
        self.frames: list[tuple[float, str, dict]] = []

    def __call__(self, direction: str, text: str) -> None:
        self.frames.append((time.monotonic(), direction, json.loads(text)))

    def sent(self, kind: str) -> list[dict]:
        return [e for _, d, e in self.frames if d == "sent" and e.get("type") == kind]

    def received(self, kind: str) -> list[dict]:
        return [e for _, d, e in self.frames if d == "received" and e.get("type") == kind]


def say(room: EchoRoom, text: str) -> None:
    pcm, rate = read_wav(speech_wav(text, voice="shimmer"))
    room.talk(pcm.astype("float32") / 32768.0, rate)


def answer_item(ctl: Controller) -> str | None:
    entries = [e for e in ctl.transcript() if e.role == "assistant"]
    return entries[-1].item_id if entries else None


async def test_assistant_speaking_through_the_speakers_never_interrupts_itself_but_the_user_does(pipewire_session):
    async with LocalServer(port=0, asr="whisper", tts="auto", seed=3) as srv:
        await asyncio.to_thread(srv.pool.warm_up)
        with EchoRoom(pipewire_session, delay_ms=30.0, gain=0.7) as room:
            engine = AudioEngine(asyncio.get_running_loop(), audio_mode="speakers")
            assert engine.audio_mode == "speakers" and engine.aec_available
            wire = Wire()

            async def target():
                return srv.url, {}

            ctl = Controller(target=target, audio=DevicePort(engine), config=SessionConfig(transcription=Transcription()),
                             frame_observer=wire)
            flushes: list[float] = []
            real_flush = engine.queue.flush
            engine.queue.flush = lambda *a, **k: (flushes.append(time.monotonic()), real_flush(*a, **k))[1]
            await ctl.connect()
            onsets: list[bool] = []  # local onsets, each with whether the assistant was playing
            controller_onset = engine.on_near_end_onset
            assert controller_onset is not None  # the controller listens for the local onset

            def onset() -> None:
                onsets.append(engine.queue.is_playing)
                controller_onset()

            engine.on_near_end_onset = onset
            try:
                await wait_until(lambda: ctl.view.connection is Conn.CONNECTED, 10, "the session")
                # --- the scripted conversation: only the assistant talks once asked ---------------
                heard = 0.0  # seconds of assistant speech played into the room
                turn = 0
                while True:
                    turn += 1
                    before, previous = len(wire.received("response.done")), answer_item(ctl)
                    say(room, "Please tell me a story." if turn % 2 else "What is two plus three?")
                    await wait_until(lambda: engine.queue.is_playing and answer_item(ctl) != previous, 30,
                                     f"answer {turn} to start playing")
                    item = answer_item(ctl)
                    assert item is not None
                    start, limit = time.monotonic(), ECHO_S - heard
                    # the answer is over when the server says so and the speaker has played it all (the
                    # queue may run dry between sentences while the synthesizer catches up)
                    await wait_until(lambda: (len(wire.received("response.done")) > before and not engine.queue.is_playing)
                                     or time.monotonic() - start > limit, limit + 90, f"answer {turn} to play")
                    heard += engine.queue.report(item).played_ms / 1000
                    if heard >= ECHO_S or engine.queue.is_playing:
                        break  # enough (if still playing, the user will interrupt this answer below)
                assert heard >= 0.8 * ECHO_S
                # zero self-interruptions over all of it: the server's VAD heard one speech start per
                # question and nothing of the answers; no local onset, no flush, no truncate, no cancel
                assert len(wire.received("input_audio_buffer.speech_started")) == turn
                assert True not in onsets  # (a question right after an answer may fire one: not playing)
                assert flushes == [] and wire.sent("conversation.item.truncate") == []
                assert wire.sent("response.cancel") == []
                assert [e for e in ctl.transcript() if e.echo] == []
                # the reference was there for the microphone's frames (a starved speaker, with ASR and TTS
                # busy in this process on 2 cores, may leave a frame without one now and then)
                assert engine.echo.canceller is not None and engine.echo.canceller.far_late <= max(5, heard / 10)
                # --- the user interrupts mid-answer -------------------------------------------------
                if not engine.queue.is_playing:
                    say(room, "Please tell me a story.")
                    await wait_until(lambda: engine.queue.is_playing, 30, "the story to start")
                item = answer_item(ctl)
                assert item is not None
                await wait_until(lambda: engine.queue.report(item).played_ms > 3000, 15, "3 s of the story")
                say(room, "Wait, what is the capital of France?")
                await wait_until(lambda: bool(wire.sent("conversation.item.truncate")), 5, "the barge-in")
                await wait_until(lambda: not engine.queue.is_playing, 1, "playback to stop")
                truncate = wire.sent("conversation.item.truncate")[0]
                assert truncate["item_id"] == item
                report = engine.queue.report(item)
                assert abs(truncate["audio_end_ms"] - report.played_ms) <= 10  # what was really played
                await wait_until(lambda: any(e.role == "user" and "france" in e.text.lower()
                                             for e in ctl.transcript()), 20, "the question transcribed")
                # the local onset stopped playback before the server's VAD said the user had started
                started = [t for t, d, e in wire.frames if d == "received"
                           and e.get("type") == "input_audio_buffer.speech_started"]
                assert flushes and started and flushes[0] < started[turn] and onsets[-1] is True
                # let the server finish the turn (speech work still running in its pool at interpreter
                # exit aborts the process)
                answered = len(wire.received("response.done"))
                await wait_until(lambda: len(wire.received("response.done")) > answered and not engine.queue.is_playing,
                                 30, "the answer to the question")
            finally:
                await ctl.close()
                engine.stop()
