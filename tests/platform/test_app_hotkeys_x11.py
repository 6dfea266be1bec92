"""The app users run, under Xvfb on the PipeWire room: with the offline demo connected in
push-to-talk, holding the global talk key while *another application's* window has the focus
speaks to the assistant, and the mute key mutes — Parley's own window never had the keyboard."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.settings.store import SettingsStore
from tests.platform.xvfb import Proc, xvfb  # noqa: F401 (fixture)

pytestmark = pytest.mark.audio
ROOT = Path(__file__).resolve().parents[2]


def test_global_push_to_talk_and_mute_reach_the_running_app(xvfb, tmp_path, pipewire_session):  # noqa: F811
    store = SettingsStore(tmp_path / "config" / "settings.ini")
    store.update(active_profile="Local server", turn_mode="push_to_talk", hotkey_talk="F8", hotkey_mute="F7",
                 audio_mode="headset")
    env = xvfb.env(PARLEY_HOME=str(tmp_path))
    app = Proc.python(env, "-m", "desktop_app", "--log-level", "INFO", "--quit-after", "90")
    other = Proc.python(env, "tests/platform/hotkey_probe.py", "--other")
    try:
        app.expect("X11 hotkeys bound", 60)
        app.expect("connection connecting -> connected", 60)
        other.expect("ready")
        window = xvfb.xdotool("search", "--sync", "--name", "other-app").split()[0]
        xvfb.xdotool("windowfocus", "--sync", window)
        assert xvfb.xdotool("getwindowfocus").strip() == window
        xvfb.xdotool("keydown", "F8")
        app.expect("push-to-talk pressed by the global hotkey", 10)
        xvfb.xdotool("sleep", "0.8")  # speak for a moment (the room's microphone), past the auto-repeat delay
        xvfb.xdotool("keyup", "F8")
        app.expect("push-to-talk released by the global hotkey", 10)
        xvfb.xdotool("key", "F7")
        app.expect("microphone muted by the global hotkey", 10)
        assert not [line for line in other.drain() if line.startswith("other got")]  # the keys never reached it
        assert xvfb.xdotool("getwindowfocus").strip() == window  # and it kept the focus
        seen = app.drain()
        assert sum("push-to-talk pressed by the global hotkey" in line for line in seen) == 1
    finally:
        other.stop()
        app.stop()
