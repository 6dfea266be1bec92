"""Mute, then unmute, on real devices (the private PipeWire room): the microphone comes back.

The window is composed as ``make run`` composes it (AudioEngine → DevicePort), the offline demo's
embedded server is the peer, and a near-end talker speaks into the room's default source with
``pw-cat`` after the unmute: its frames must reach the controller and its words the transcript.
"""

from __future__ import annotations

import asyncio

import pytest

from desktop_app.audio.engine import AudioEngine
from desktop_app.controller.states import Conn, Mic
from desktop_app.local_server import LocalServer
from tests.gui.harness import Gui, wait_until
from tests.gui.test_local_server_e2e import words
from tests.helpers.speech import speech_wav

pytestmark = [pytest.mark.gui, pytest.mark.audio, pytest.mark.slow]


async def test_hands_free_speech_after_mute_and_unmute_reaches_the_controller_and_the_server(
        qloop, qtbot, tmp_path, pipewire_session):
    server = LocalServer(port=0, pace=1.0, asr="whisper", tts="auto", seed=5)
    engine = AudioEngine(asyncio.get_running_loop())
    question = speech_wav("What is two plus three?", rate=48000)
    async with Gui(tmp_path, None, server=server, engine=engine, settings={"turn_mode": "hands_free"}) as gui:
        await asyncio.to_thread(server.pool.warm_up)
        gui.window.bar.connect_button.click()
        await wait_until(lambda: gui.view.connection is Conn.CONNECTED, 10)
        frames: list[int] = []
        to_controller = engine.on_mic_frame
        assert to_controller is not None  # the DevicePort handed the controller's on_mic_frame to the engine

        def counted(frame: bytes) -> None:
            frames.append(len(frame))
            to_controller(frame)

        engine.on_mic_frame = counted
        await wait_until(lambda: len(frames) >= 10, 3)  # hands-free: the microphone streams

        mute = gui.window.talk.mute
        mute.click()
        await wait_until(lambda: gui.view.mic is Mic.MUTED and engine.capture is not None
                         and engine.capture.suspended, 3)
        mute.click()
        await wait_until(lambda: gui.view.mic is Mic.HANDS_FREE, 3)
        await gui.rendered()
        assert gui.window.indicators.phase == "Listening"
        after_unmute = len(frames)

        talker = pipewire_session.inject_wav(question)
        assert await asyncio.to_thread(talker.wait, 10) == 0
        await wait_until(lambda: len(frames) >= after_unmute + 50, 5)  # ≥ 1 s of audio to the controller
        await wait_until(lambda: any(e.role == "user" and e.final and {"two", "plus", "three"} <= words(e.text)
                                     for e in gui.window.transcript.entries()), 30)
