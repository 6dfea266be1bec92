"""The platform-independent part of global hotkeys: key names and the press/release router."""

from __future__ import annotations

import pytest

from desktop_app.platform.hotkey_backends import make_hotkeys
from desktop_app.platform.hotkeys import HotkeyRouter, KeyCombo, NoHotkeys, conflict_sentence, parse_combo
from desktop_app.platform.x11_hotkeys import grab_masks, keysym_name


def make_router():
    events: list[str] = []
    return HotkeyRouter(lambda a: events.append(f"+{a}"), lambda a: events.append(f"-{a}")), events


@pytest.mark.parametrize("name, combo", [
    ("F8", KeyCombo("F8")),
    ("ctrl+alt+space", KeyCombo("Space", frozenset({"ctrl", "alt"}))),
    ("Meta+Shift+a", KeyCombo("A", frozenset({"meta", "shift"}))),
    ("Cmd+Option+P", KeyCombo("P", frozenset({"meta", "alt"}))),
    ("Ctrl++", KeyCombo("+", frozenset({"ctrl"}))),
])
def test_key_names_parse(name, combo):
    assert parse_combo(name) == combo


@pytest.mark.parametrize("name", ["", "Ctrl+", "Ctrl+Alt", "Hyper+F1"])
def test_bad_key_names_are_refused(name):
    with pytest.raises(ValueError):
        parse_combo(name)


def test_combo_text_is_in_a_fixed_modifier_order():
    assert parse_combo("shift+alt+ctrl+F2").text() == "Ctrl+Alt+Shift+F2"


def test_auto_repeat_presses_count_once():
    router, events = make_router()
    for _ in range(5):
        router.raw("talk", True)
    router.raw("talk", False)
    assert events == ["+talk", "-talk"]


def test_release_press_pairs_at_one_instant_are_auto_repeat():
    router, events = make_router()
    router.raw("talk", True, 100)
    router.raw("talk", False, 700)
    router.raw("talk", True, 700)  # X without detectable auto-repeat
    router.raw("talk", False, 740)
    router.raw("talk", True, 740)
    assert events == ["+talk"]
    router.raw("talk", False, 900)
    assert events == ["+talk"]  # held back until it is known not to be auto-repeat
    router.flush()
    assert events == ["+talk", "-talk"]


def test_a_real_second_press_after_a_release_counts():
    router, events = make_router()
    router.raw("talk", True, 100)
    router.raw("talk", False, 200)
    router.raw("talk", True, 350)
    assert events == ["+talk", "-talk", "+talk"]


def test_keys_are_independent_and_release_all_ends_them():
    router, events = make_router()
    router.raw("talk", True, 1)
    router.raw("mute", True, 2)
    router.raw("mute", False, 3)
    router.release_all()
    assert sorted(events) == sorted(["+talk", "+mute", "-talk", "-mute"])


def test_a_release_without_a_press_is_ignored():
    router, events = make_router()
    router.raw("talk", False, 5)
    router.flush()
    assert events == []


def test_x11_names_and_masks():
    assert keysym_name("Space") == "space"
    assert keysym_name("A") == "a"
    assert keysym_name("ScrollLock") == "Scroll_Lock"
    assert grab_masks(parse_combo("Ctrl+F8")) == [4, 4 | 2, 4 | 16, 4 | 2 | 16]


def test_no_desktop_says_why_and_grabs_nothing():
    router, _ = make_router()
    hotkeys = make_hotkeys("offscreen", router)
    assert isinstance(hotkeys, NoHotkeys) and not hotkeys.available()
    assert hotkeys.bind({"talk": "F8", "mute": ""}) == {"talk": hotkeys.status()}


def test_conflict_sentence_names_the_key_and_the_action():
    assert conflict_sentence("F8", "mute") == "F8 is already taken by another program; choose another key for mute."
