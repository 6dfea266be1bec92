"""The turn-detection plot never draws the threshold over a different quantity (issue #16 item 9):
without a speech-probability estimate (here: a WAV microphone, no audio engine) it shows the
microphone level, names it, and leaves the probability threshold line out. With the engine the
curve is the speech probability (tests/gui/test_window_on_devices.py)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor

from desktop_app.ui.widgets.level_plot import LEVEL
from tests.controller.peer import ScriptedPeer
from tests.gui.harness import Gui, wait_until

pytestmark = pytest.mark.gui


async def test_without_a_speech_estimate_the_plot_shows_and_names_the_level_and_draws_no_line(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, settings={"turn_mode": "hands_free"}) as gui:
        await gui.connect()
        plot = gui.window.vad_panel.plot
        await wait_until(lambda: max(plot.levels) > 0.3)  # the WAV's voice is on the curve
        assert plot.quantity == LEVEL and plot.threshold_visible and not plot.line_shown
        assert "level" in plot.toolTip() and "threshold line" in plot.toolTip()
        assert gui.window.vad_panel.plot_caption.text().startswith("Microphone level")
        assert warning_pixels(plot) < 5  # and what is drawn: no dashed warning-coloured line or label


def warning_pixels(plot) -> int:  # noqa: ANN001
    """Pixels of the plot close to the theme's warning colour (the threshold line and its label)."""
    image = plot.grab().toImage()
    want = QColor(plot._theme.warning)
    return sum(1 for x in range(image.width()) for y in range(image.height())
               if abs(image.pixelColor(x, y).red() - want.red()) + abs(image.pixelColor(x, y).green() - want.green())
               + abs(image.pixelColor(x, y).blue() - want.blue()) < 60)
