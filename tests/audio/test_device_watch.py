"""Watching devices without the window: the sound server's events, and the listing helper that the
polling watcher runs while streams are open (platforms without a sound server)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest

from desktop_app.audio.device_watch import DeviceWatch, helper_command
from tests.plugins.pipewire import wait_for

pytestmark = pytest.mark.audio
ROOT = Path(__file__).resolve().parents[2]


async def test_the_server_watch_tells_of_a_new_and_a_removed_sink(pipewire_session):
    calls: list[int] = []
    watch = DeviceWatch(asyncio.get_running_loop(), lambda: calls.append(1))
    try:
        assert watch.start() == "server"
        await wait_for(lambda: len(calls) >= 1, 5)  # the first call says "look now"
        before = len(calls)
        sink = pipewire_session.add_sink("watched")
        await wait_for(lambda: len(calls) > before, 5)
        before = len(calls)
        pipewire_session.remove_sink(sink)
        await wait_for(lambda: len(calls) > before, 5)
    finally:
        watch.stop()


def test_the_listing_helper_prints_the_devices_as_json(pipewire_session):
    out = subprocess.run(helper_command(), env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    ids = json.loads(out.stdout)
    assert "pulse:vsink" in ids and "ALSA:pipewire" in ids
