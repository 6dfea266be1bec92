"""The window on real devices (the private PipeWire room), composed as ``make run`` composes it
(AudioEngine → DevicePort), with a near-end talker speaking into the room's default source.

* Mute, then unmute: the microphone comes back — the talker's frames reach the controller and the
  offline demo's server transcribes the words (issue #16 item 3).
* The turn-detection plot draws the speech probability the threshold judges: speech crosses a 0.92
  line that the microphone level never reached (item 9); its speech meter runs only while the plot
  is on screen (issue #23).
"""

from __future__ import annotations

import asyncio

import pytest

from desktop_app.audio.engine import AudioEngine
from desktop_app.controller.states import Conn, Mic
from desktop_app.local_server import LocalServer
from desktop_app.ui.widgets.level_meter import level_fraction
from desktop_app.ui.widgets.level_plot import SPEECH
from tests.controller.peer import ScriptedPeer
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


async def test_the_vad_plot_shows_the_speech_probability_that_the_threshold_judges(
        qloop, qtbot, tmp_path, pipewire_session):
    engine = AudioEngine(asyncio.get_running_loop())
    question = speech_wav("What is two plus three?", rate=48000)
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, engine=engine, settings={"turn_mode": "hands_free"}) as gui:
        await gui.connect()
        panel = gui.window.vad_panel
        plot = panel.plot
        panel.threshold.slider.setValue(92)  # the threshold of the report
        await gui.accept_update()
        await wait_until(lambda: plot.quantity == SPEECH and plot.line_shown, 3)
        assert plot.threshold == 0.92
        await wait_until(lambda: engine.capture is not None and engine.capture.callbacks > 25, 3)
        assert max(list(plot.levels)[-10:]) < 0.5  # the quiet room is not speech
        levels: list[float] = []  # the microphone level the window's meter clock read meanwhile
        gui.window.meters.levels_shown.connect(lambda mic, out: levels.append(level_fraction(mic)))
        talker = pipewire_session.inject_wav(question)
        await wait_until(lambda: max(plot.levels) > 0.92, 10)  # speech crosses the line it is judged by
        assert await asyncio.to_thread(talker.wait, 10) == 0
        assert max(levels) > 0.3  # the voice was heard
        assert max(levels) < 0.92  # the level the plot used to draw never got there


async def test_the_speech_meter_runs_only_while_the_plot_is_on_screen(qloop, qtbot, tmp_path, pipewire_session):
    """Silero VAD on every window of the microphone was 15 % of the loop's time in a silent minute
    (issue #23): it runs while the plot can be seen, and rests behind another tab or a hidden window."""
    engine = AudioEngine(asyncio.get_running_loop())
    question = speech_wav("What is two plus three?", rate=48000)
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, engine=engine, settings={"turn_mode": "hands_free"}) as gui:
        await gui.connect()
        window = gui.window
        await wait_until(lambda: engine.capture is not None and engine.capture.speech_meter is not None, 5)
        meter = engine.capture.speech_meter

        async def say() -> None:
            talker = pipewire_session.inject_wav(question)
            assert await asyncio.to_thread(talker.wait, 10) == 0

        await wait_until(lambda: meter.active, 5)  # the plot is on screen: the meter runs…
        await say()
        assert meter.windows > 10  # …on what the microphone hears

        async def rests() -> None:
            await wait_until(lambda: not meter.active, 5)
            windows = meter.windows
            await say()
            assert meter.windows == windows  # not one window through the model

        window.tabs.setCurrentWidget(window.session_panel)  # another tab hides the plot
        await rests()
        window.tabs.setCurrentWidget(window.vad_panel)
        await wait_until(lambda: meter.active and window.meters.running, 5)
        window.hide()  # to the tray
        await rests()
        window.show()
        await wait_until(lambda: meter.active, 5)
