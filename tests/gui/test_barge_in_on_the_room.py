"""Issue #16 item 6 on the PipeWire room, through the window users run: the first word of a
barge-in reaches the server and the transcript shows it.

The window is composed as ``make run`` composes it (a real :class:`AudioEngine` in speakers mode, echo
cancellation on) against the embedded server with Whisper and Piper. The room's speaker comes back into
its microphone 30 ms later at −3 dB (:class:`EchoRoom`). The user asks for a story, and 3 s into it says
"Stop, what is two plus two?" over it. Before the onset pre-roll the server received "What is 2 plus 2?".
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from desktop_app.audio.engine import AudioEngine
from desktop_app.controller.states import Conn
from desktop_app.local_server import LocalServer
from desktop_app.local_server.input_audio import SpeechStarted
from desktop_app.local_server.speech.tts import synthesize
from tests.audio.test_aec_loopback import EchoRoom
from tests.gui.harness import Gui, wait_until
from tests.helpers.onset import first_sound, frame_db, locate

pytestmark = [pytest.mark.gui, pytest.mark.audio, pytest.mark.slow, pytest.mark.timeout(240)]

R = 24000
QUESTION = "Stop, what is two plus two?"


def spoken(text: str, lead_s: float) -> np.ndarray:
    pcm, _ = synthesize(text, "shimmer")
    return np.concatenate([np.zeros(int(lead_s * R), np.float32), pcm.astype(np.float32) / 32768.0,
                           np.zeros(R // 2, np.float32)])


def user_said(gui: Gui) -> list[str]:
    return [e.text for e in gui.window.transcript.entries() if e.role == "user" and e.final]


class ServerInput:
    """Everything the server's input buffer was given (its timeline: 48 bytes a millisecond) and the
    ``audio_start_ms`` of every speech start it reported."""

    def __init__(self, server: LocalServer) -> None:
        (session,) = server.sessions
        self.payloads: list[bytes] = []
        self.speech_starts: list[float] = []
        append = session.input.append

        def recorded(payload: bytes) -> Any:
            self.payloads.append(payload)
            events = append(payload)
            self.speech_starts += [e.audio_start_ms for e in events if isinstance(e, SpeechStarted)]
            return events

        session.input.append = recorded  # type: ignore[method-assign]

    @property
    def pcm(self) -> np.ndarray:
        return np.frombuffer(b"".join(self.payloads), "<i2").astype(np.float64) / 32768.0


async def test_the_first_word_of_a_barge_in_reaches_the_server(qloop, qtbot, tmp_path, pipewire_session):
    server = LocalServer(port=0, pace=1.0, asr="whisper", tts="auto", seed=5)
    question = spoken(QUESTION, 0.25)
    with EchoRoom(pipewire_session, delay_ms=30.0, gain=0.7) as room:
        engine = AudioEngine(asyncio.get_running_loop())
        async with Gui(tmp_path, None, server=server, engine=engine, settings={"turn_mode": "hands_free"}) as gui:
            await asyncio.to_thread(server.pool.warm_up)
            gui.window.bar.connect_button.click()
            await wait_until(lambda: gui.view.connection is Conn.CONNECTED, 10)
            assert engine.audio_mode == "speakers"  # the setting's default: echo cancellation on
            heard = ServerInput(server)
            room.talk(spoken("Please tell me a story.", 0.25))
            await wait_until(lambda: engine.queue.is_playing, 30)
            story = [e.item_id for e in gui.window.transcript.entries() if e.role == "assistant"][-1]
            await wait_until(lambda: engine.queue.report(story).played_ms > 3000, 20)
            before = len(user_said(gui))
            room.talk(question)
            await wait_until(lambda: len(user_said(gui)) > before and not engine.queue.is_playing, 30)
            said = user_said(gui)[before:]
            # where "Stop" began on the server's input timeline: the question found in what was sent
            # by its later words (which pass the canceller whole), then back to its first sound
            sent = heard.pcm
            at, score = locate(sent, question, int(0.8 * R), int(0.3 * R))
            onset = at + first_sound(question)
            onset_ms = onset / 24.0
            starts = [s for s in heard.speech_starts if s > onset_ms - 1500]
            voice = frame_db(question[first_sound(question):][: R // 10]).mean()
            level = frame_db(sent[onset : onset + R // 10] / 0.7).mean()  # the room's −3 dB undone
            print(f"\nsaid {said}; onset at {onset_ms:.0f} ms (match {score:.2f}); speech_started at {starts}; "
                  f"first 100 ms sent at {level:.1f} dB vs the voice's {voice:.1f}")
            assert score > 0.6  # the question is there
            # the server's turn starts at or before the onset: the first word's audio is in its item
            assert starts and starts[0] <= onset_ms, (starts, onset_ms)
            # and that audio is the user's voice, not the zeros or the suppressed residual of before
            assert level > voice - 10.0, (level, voice)
            assert said and said[0].lower().startswith("stop"), said
