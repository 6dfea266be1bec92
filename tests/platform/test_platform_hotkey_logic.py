"""The logic of the Windows, macOS and Wayland-portal hotkey modules (their system calls cannot run
on this machine: what is tested is everything that decides)."""

from __future__ import annotations

import pytest

from desktop_app.platform import mac_hotkeys as mac
from desktop_app.platform import win_hotkeys as win
from desktop_app.platform.hotkeys import HotkeyRouter, parse_combo
from desktop_app.platform.wayland_portal import preferred_trigger, request_path

F8_TALK = [("talk", 0x77, frozenset()), ("mute", ord("M"), frozenset({"ctrl", "alt"}))]


def test_windows_virtual_keys():
    assert win.virtual_key("F8") == 0x77
    assert win.virtual_key("F24") == 0x87
    assert win.virtual_key("M") == ord("M")
    assert win.virtual_key("7") == ord("7")
    assert win.virtual_key("Space") == 0x20
    assert win.virtual_key("F25") is None
    assert win.modifier_bits(parse_combo("Ctrl+Alt+M")) == win.MOD_CONTROL | win.MOD_ALT | win.MOD_NOREPEAT


def test_windows_hook_messages_become_presses_and_releases():
    held: set[str] = set()
    assert win.translate(win.WM_KEYDOWN, 0x77, held, F8_TALK) == ("talk", True)
    assert win.translate(win.WM_KEYUP, 0x77, held, F8_TALK) == ("talk", False)
    # Ctrl+Alt+M: the modifiers go down first (Alt arrives as a system key), then M.
    assert win.translate(win.WM_KEYDOWN, 0xA2, held, F8_TALK) is None
    assert win.translate(win.WM_SYSKEYDOWN, 0xA4, held, F8_TALK) is None
    assert held == {"ctrl", "alt"}
    assert win.translate(win.WM_SYSKEYDOWN, ord("M"), held, F8_TALK) == ("mute", True)
    # Letting go of Ctrl first still ends the press.
    assert win.translate(win.WM_KEYUP, 0xA2, held, F8_TALK) is None
    assert win.translate(win.WM_SYSKEYUP, ord("M"), held, F8_TALK) == ("mute", False)
    # F8 with Alt held is not the bare F8 binding; M without the modifiers is just typing.
    assert win.translate(win.WM_SYSKEYDOWN, 0x77, held, F8_TALK) is None
    held.clear()
    assert win.translate(win.WM_KEYDOWN, ord("M"), held, F8_TALK) is None
    assert win.translate(0x0200, 0x77, held, F8_TALK) is None  # not a key message


def test_windows_hold_to_talk_through_the_router():
    events: list[str] = []
    router = HotkeyRouter(lambda a: events.append(f"+{a}"), lambda a: events.append(f"-{a}"))
    held: set[str] = set()
    for message in (win.WM_KEYDOWN,) * 4 + (win.WM_KEYUP,):  # Windows repeats KEYDOWN while held
        found = win.translate(message, 0x77, held, F8_TALK)
        assert found is not None
        router.raw(*found)
    assert events == ["+talk", "-talk"]


def test_macos_event_tap_logic():
    bindings = [("talk", mac.KEYCODES["F8"], frozenset()), ("mute", mac.KEYCODES["M"], frozenset({"meta", "shift"}))]
    assert mac.translate(mac.KEY_DOWN, 100, 0, False, bindings) == ("talk", True)
    assert mac.translate(mac.KEY_DOWN, 100, 0, True, bindings) is None  # auto-repeat
    assert mac.translate(mac.KEY_UP, 100, 0x40000, False, bindings) == ("talk", False)
    cmd_shift = mac.FLAG_BITS["meta"] | mac.FLAG_BITS["shift"] | 0x100  # plus a device-dependent bit
    assert mac.translate(mac.KEY_DOWN, 46, cmd_shift, False, bindings) == ("mute", True)
    assert mac.translate(mac.KEY_DOWN, 46, mac.FLAG_BITS["meta"], False, bindings) is None
    assert mac.translate(12, 100, 0, False, bindings) is None  # flags-changed is not a key
    assert mac.modifiers_of(cmd_shift) == {"meta", "shift"}
    assert "Input Monitoring" in mac.PERMISSION


@pytest.mark.parametrize("name, trigger", [("F8", "F8"), ("Ctrl+Alt+M", "CTRL+ALT+m"), ("Meta+Space", "LOGO+space")])
def test_portal_triggers(name, trigger):
    assert preferred_trigger(name) == trigger


def test_portal_request_path_follows_the_spec():
    assert request_path(":1.42", "parley3") == "/org/freedesktop/portal/desktop/request/1_42/parley3"
