"""X11 global hotkeys on a private Xvfb: keys sent with xdotool while *another* application's
window has the focus reach Parley's hotkeys (and not that window); a key another program already
grabbed is reported as a conflict in one sentence."""

from __future__ import annotations

import pytest

from tests.platform.xvfb import Proc, xvfb  # noqa: F401 (fixture)

PROBE = "tests/platform/hotkey_probe.py"


def test_hotkeys_work_while_another_window_has_the_focus(xvfb):  # noqa: F811
    env = xvfb.env()
    hot = Proc.python(env, PROBE, "talk=F8", "mute=Ctrl+Alt+M")
    other = Proc.python(env, PROBE, "--other")
    try:
        assert hot.expect("backend") == "backend x11"
        hot.expect("ready")
        other.expect("ready")
        window = xvfb.xdotool("search", "--sync", "--name", "other-app").split()[0]
        xvfb.xdotool("windowfocus", "--sync", window)
        assert xvfb.xdotool("getwindowfocus").strip() == window
        xvfb.xdotool("key", "a")  # the other application really has the keyboard
        other.expect("other got a")
        xvfb.xdotool("keydown", "F8")
        hot.expect("press talk")
        xvfb.xdotool("sleep", "0.9")  # held past the X server's auto-repeat delay (660 ms)
        xvfb.xdotool("keyup", "F8")
        hot.expect("release talk")
        xvfb.xdotool("key", "ctrl+alt+m")
        hot.expect("press mute")
        hot.expect("release mute")
        # Num Lock on: X matches modifiers exactly, the grab covers it anyway.
        xvfb.xdotool("key", "Num_Lock")
        xvfb.xdotool("key", "F8")
        hot.expect("press talk")
        hot.expect("release talk")
        xvfb.xdotool("key", "Num_Lock", "b")
        other.expect("other got b")
        seen = hot.drain()
        assert seen.count("press talk") == 2, seen  # the held key's auto-repeat was not a second press
        assert not [line for line in other.drain() if "got" in line and line not in ("other got a", "other got b")]
    finally:
        hot.stop()
        other.stop()


def test_a_key_another_program_holds_is_a_conflict_in_one_sentence(xvfb):  # noqa: F811
    env = xvfb.env()
    first = Proc.python(env, PROBE, "talk=F7")
    try:
        first.expect("ready")
        second = Proc.python(env, PROBE, "talk=F7", "mute=F6")
        try:
            line = second.expect("conflict talk")
            assert line == "conflict talk: F7 is already taken by another program; choose another key for push-to-talk."
            second.expect("ready")
            assert not [s for s in second.drain() if s.startswith("conflict mute")]
            xvfb.xdotool("key", "F6")
            second.expect("press mute")
            xvfb.xdotool("key", "F7")
            first.expect("press talk")
        finally:
            second.stop()
    finally:
        first.stop()


@pytest.mark.parametrize("name", ["NoSuchKey", "Ctrl+"])
def test_an_unknown_key_is_one_sentence(xvfb, name):  # noqa: F811
    probe = Proc.python(xvfb.env(), PROBE, f"talk={name}")
    try:
        line = probe.expect("conflict talk")
        assert "choose another" in line or "is not a key" in line
    finally:
        probe.stop()
