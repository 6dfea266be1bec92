"""The "Tune for this room" dialog: pages, the engine muted while measuring, results, Apply."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from desktop_app.audio.engine import AudioEngine
from desktop_app.ui.dialogs.calibration_wizard import CalibrationWizard
from tests.audio.test_calibration import room_recording
from tests.helpers.wait import wait_until

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def qt_binding_guard(qapp):
    """As tests/gui/conftest.py: the binding's None/True refcount defect is guarded before any widget
    exists (the level plot alone makes hundreds of void calls), and wrappers are collected after."""
    import gc

    from desktop_app.ui.qt_workarounds import guard_none_refcount

    guard_none_refcount()
    yield
    gc.collect()


class FakeProbe:
    """Stands in for RoomProbe: reports progress, asks for the sentence, returns a known room."""

    def __init__(self, engine: AudioEngine, delay_ms: float = 42.0, gain: float = 0.25) -> None:
        self.engine, self.delay_ms, self.gain = engine, delay_ms, gain
        self.muted_while_running: list[bool] = []
        self.go = asyncio.Event()

    async def run(self, ask_to_speak, progress):
        progress("Playing a sweep…", 0.25)
        self.muted_while_running.append(self.engine.muted)
        await ask_to_speak()
        await self.go.wait()
        return room_recording(self.delay_ms, self.gain, noise_dbfs=-62.0, speech_dbfs=-25.0)


async def test_wizard_measures_shows_the_figures_and_applies_them_to_the_engine(qloop, qtbot) -> None:
    engine = AudioEngine(audio_mode="headset")
    fake = FakeProbe(engine)
    wizard = CalibrationWizard(engine, "Built-in Microphone", "Speakers", probe_factory=lambda i, o: fake)
    qtbot.addWidget(wizard)
    wizard.show()
    assert wizard.pages.currentIndex() == 0 and not wizard.apply_button.isVisible()
    wizard.start_button.click()
    await wait_until(lambda: "quick brown fox" in wizard.prompt.text(), 2, "the sentence prompt")
    assert wizard.pages.currentIndex() == 1 and wizard.status.text() == "Playing a sweep…"
    assert fake.muted_while_running == [True]
    fake.go.set()
    await wait_until(lambda: wizard.pages.currentIndex() == 2, 5, "the results")
    assert not engine.muted  # restored
    assert wizard.values["delay"].text() == "42.0 ms"
    assert wizard.values["erl"].text() == "12.0 dB"
    assert wizard.values["noise"].text() in ("-62.1 dBFS", "-62.0 dBFS", "-61.9 dBFS")
    assert wizard.values["mode"].text().startswith("Speakers")
    t, before, after = wizard.plot.series
    assert len(t) > 100 and np.median(before) > np.median(after)
    got = []
    wizard.applied.connect(got.append)
    assert wizard.apply_button.isVisible()
    wizard.apply_button.click()
    assert got and got[0].audio_mode == "speakers" and got[0].delay_ms == pytest.approx(42.0, abs=0.1)
    assert engine.audio_mode == "speakers" and engine.echo.delay_ms == pytest.approx(42.0, abs=0.1)
    assert engine.echo.erl_db == pytest.approx(-12.0, abs=0.5)


async def test_wizard_explains_a_headset_and_proposes_headset_mode(qloop, qtbot) -> None:
    engine = AudioEngine(audio_mode="speakers")
    fake = FakeProbe(engine, gain=0.0)
    fake.go.set()
    wizard = CalibrationWizard(engine, None, None, probe_factory=lambda i, o: fake)
    qtbot.addWidget(wizard)
    wizard.start_button.click()
    await wait_until(lambda: wizard.pages.currentIndex() == 2, 5, "the results")
    assert wizard.values["delay"].text() == "no echo path"
    assert "headset" in wizard.notes.text()
    wizard.apply_button.click()
    assert engine.audio_mode == "headset"


@pytest.mark.audio
async def test_wizard_on_real_devices_in_the_echo_room(qloop, qtbot, pipewire_session) -> None:
    from tests.audio.test_aec_loopback import EchoRoom

    engine = AudioEngine(audio_mode="headset")
    with EchoRoom(pipewire_session, delay_ms=40.0, gain=0.5):
        wizard = CalibrationWizard(engine, None, None)
        qtbot.addWidget(wizard)
        wizard.start_button.click()
        await wait_until(lambda: wizard.pages.currentIndex() == 2, 30, "the results")
    m = wizard.measurement
    assert m is not None and m.delay_ms == pytest.approx(40.0, abs=5.0) and m.erl_db == pytest.approx(6.0, abs=2.0)
    assert wizard.values["speech"].text() == "not heard"  # nobody spoke
