"""Issue #16 item 6 on the PipeWire room, through the window users run: the first word of a
barge-in reaches the server and the transcript shows it.

The window is composed as ``make run`` composes it (a real :class:`AudioEngine` in speakers mode, echo
cancellation on) against the embedded server with Whisper and Piper. The room's speaker comes back into
its microphone 30 ms later at −3 dB (:class:`EchoRoom`). The user asks for a story, and 3 s into it says
"Stop, what is two plus two?" over it. Before the onset pre-roll the server received "What is 2 plus 2?".

An attempt during which the room's echo path jumped under the canceller (on a loaded machine the
PipeWire room loses microphone samples and the speaker underruns; counted as re-pairings and
re-warm-ups, or seen by the onset pre-roll finding no echo path that cancels: on this digital room a
steady path is fitted to 20–26 dB) and which failed is tried again, up to five attempts. The room is
unsteady in bursts: in a loop of 8 runs on an idle machine, 4 of 12 attempts (three in a row in one
run, which failed with three attempts); with a busy loop and a second copy of the test running
beside it, most attempts. A failure with a steady echo path fails at once. Each attempt's figures
are printed and carried by the assertion.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from desktop_app.audio.engine import AudioEngine
from desktop_app.audio.onset_preroll import OnsetPreRoll
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


def glitches(engine: AudioEngine) -> int:
    """How often the echo path jumped under the canceller so far (re-paired reference, speaker
    underruns mid-answer): the room's devices, not the code under test (on a loaded machine the
    PipeWire room loses samples; the echo guard then distrusts the canceller for a while)."""
    assert engine.echo.canceller is not None and engine.echo.guard is not None
    return engine.echo.canceller.repairs + engine.echo.guard.rewarms


def preroll(engine: AudioEngine) -> OnsetPreRoll:
    assert engine.echo.canceller is not None and engine.echo.canceller.preroll is not None
    return engine.echo.canceller.preroll


async def barge_in(gui: Gui, room: EchoRoom, engine: AudioEngine, heard: ServerInput,
                   question: np.ndarray) -> tuple[list[str], float, float, list[float], float, int, dict[str, int]]:
    """Ask for a story, say the question 3 s into it. Returns what the user's bubbles say, where the
    question's first sound lies on the server's input timeline (ms) and how surely it was found,
    the speech starts around it, the level sent over its first 100 ms, the echo-path jumps, and how
    the pre-roll let its held frames go meanwhile (by cause)."""
    jumps = glitches(engine)
    went = dict(preroll(engine).releases)
    first_payload = len(heard.payloads)
    before = len(user_said(gui))
    room.talk(spoken("Please tell me a story.", 0.25))
    await wait_until(lambda: len(user_said(gui)) > before and engine.queue.is_playing, 30)
    story = [e.item_id for e in gui.window.transcript.entries() if e.role == "assistant"][-1]
    await wait_until(lambda: engine.queue.report(story).played_ms > 3000, 20)
    before = len(user_said(gui))
    room.talk(question)
    await wait_until(lambda: len(user_said(gui)) > before and not engine.queue.is_playing, 30)
    said = user_said(gui)[before:]
    jumps = glitches(engine) - jumps
    held = {cause: n - went.get(cause, 0) for cause, n in preroll(engine).releases.items() if n > went.get(cause, 0)}
    # where "Stop" began on the server's input timeline: the question found in what was sent by its
    # later words (which pass the canceller whole), then back to its first sound
    offset = sum(len(p) for p in heard.payloads[:first_payload]) // 2
    sent = heard.pcm
    at, score = locate(sent[offset:], question, int(0.8 * R), int(0.3 * R))
    onset = offset + at + first_sound(question)
    onset_ms = onset / 24.0
    starts = [s for s in heard.speech_starts if onset_ms - 1500 < s < onset_ms + 1500]
    level = float(frame_db(sent[onset : onset + R // 10] / 0.7).mean())  # the room's −3 dB undone
    # let the answer to the question end before the next story is asked for
    await wait_until(lambda: not engine.queue.is_playing, 30)
    return said, onset_ms, score, starts, level, jumps, held


async def test_the_first_word_of_a_barge_in_reaches_the_server(qloop, qtbot, tmp_path, pipewire_session):
    server = LocalServer(port=0, pace=1.0, asr="whisper", tts="auto", seed=5)
    question = spoken(QUESTION, 0.25)
    voice = float(frame_db(question[first_sound(question):][: R // 10]).mean())
    with EchoRoom(pipewire_session, delay_ms=30.0, gain=0.7) as room:
        engine = AudioEngine(asyncio.get_running_loop())
        async with Gui(tmp_path, None, server=server, engine=engine, settings={"turn_mode": "hands_free"}) as gui:
            await asyncio.to_thread(server.pool.warm_up)
            gui.window.bar.connect_button.click()
            await wait_until(lambda: gui.view.connection is Conn.CONNECTED, 10)
            assert engine.audio_mode == "speakers"  # the setting's default: echo cancellation on
            heard = ServerInput(server)
            tries = []
            for _ in range(5):  # an attempt during which the room's echo path jumped is tried again
                said, onset_ms, score, starts, level, jumps, held = await barge_in(gui, room, engine, heard, question)
                tries.append(f"said {said}; onset at {onset_ms:.0f} ms (match {score:.2f}); speech_started at "
                             f"{starts}; first 100 ms sent at {level:.1f} dB vs the voice's {voice:.1f}; "
                             f"echo-path jumps {jumps}; held frames went out: {held} (the last fit cancelled "
                             f"{preroll(engine).fit_erle_db:.0f} dB)")
                print("\n" + tries[-1])
                ok = (score > 0.6 and bool(starts) and starts[0] <= onset_ms and level > voice - 10.0
                      and bool(said) and said[0].lower().startswith("stop"))
                steady = jumps == 0 and "no path" not in held and "pairing moved" not in held
                if ok or steady:
                    break
            assert score > 0.6, tries  # the question is there
            # the server's turn starts at or before the onset: the first word's audio is in its item
            assert starts and starts[0] <= onset_ms, tries
            # and that audio is the user's voice, not the zeros or the suppressed residual of before
            assert level > voice - 10.0, tries
            assert said and said[0].lower().startswith("stop"), tries
