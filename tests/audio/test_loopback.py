"""Real devices through a private PipeWire null sink: play, record back through its monitor."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.audio.capture import Capture
from desktop_app.audio.playback import Playback
from desktop_app.audio.playback_queue import PlaybackQueue
from tests.audio.signals import dominant_hz, frames_to_float, steady_part, tone_pcm, tone_purity_db
from tests.plugins.pipewire import wait_for

pytestmark = pytest.mark.audio


async def test_known_tone_played_comes_back_through_the_monitor() -> None:
    frames: list[bytes] = []
    capture = Capture(on_frame=frames.append)
    queue = PlaybackQueue()
    playback = Playback(queue=queue)
    capture.start()
    playback.start()
    try:
        queue.enqueue("a", tone_pcm(1000, 0.5, level=0.5))
        queue.finish("a")
        await wait_for(lambda: queue.report("a").played_samples == 12000, timeout=3)
        await wait_for(lambda: len(frames) * 20 >= 900, timeout=3)
    finally:
        playback.stop()
        capture.stop()
    x = steady_part(frames_to_float(frames), 24000)
    assert len(x) > 0.4 * 24000
    assert abs(dominant_hz(x, 24000) - 1000) < 1
    assert tone_purity_db(x, 24000, 1000) > 40
    assert 20 * np.log10(np.sqrt(2) * np.sqrt(np.mean(x**2))) == pytest.approx(20 * np.log10(0.5), abs=1.0)
    assert len({len(f) for f in frames}) == 1 and len(frames[0]) == 960
