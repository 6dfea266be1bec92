"""macOS global hotkeys: a listen-only Quartz event tap (``CGEventTapCreate``) on the session's key
events, added to the main run loop that Qt's GUI thread runs, so events arrive on the loop thread.

A tap needs the person's permission (System Settings → Privacy & Security → Input Monitoring, and
Accessibility on older systems): without it ``CGEventTapCreate`` returns nothing and
:meth:`MacHotkeys.status` says where to allow Parley. A tap only listens, so it cannot collide
with another program's shortcut; none is reported. Only the system calls live in the class; the
key table, the flag bits and :func:`translate` are plain Python, unit-tested on every platform.
Not run on macOS in CI.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable, Iterable
from typing import Any

from desktop_app.log import get_logger
from desktop_app.platform.hotkeys import HotkeyRouter, parsed_bindings

log = get_logger("platform")

KEY_DOWN, KEY_UP = 10, 11  # kCGEventKeyDown / KeyUp
TAP_DISABLED_BY_TIMEOUT = 0xFFFFFFFE
KEYCODE_FIELD, AUTOREPEAT_FIELD = 9, 8  # kCGKeyboardEventKeycode / Autorepeat
FLAG_BITS = {"shift": 0x20000, "ctrl": 0x40000, "alt": 0x80000, "meta": 0x100000}
PERMISSION = ("macOS has not allowed Parley to watch the keyboard: open System Settings → Privacy & Security → "
              "Input Monitoring (Accessibility on macOS 10.14 and older), switch Parley on, then restart Parley.")
#: ANSI virtual keycodes (Carbon's kVK_* values).
KEYCODES = {**dict(zip("ASDFHGZXCV", (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), strict=True)), "B": 11, "Q": 12, "W": 13, "E": 14,
            "R": 15, "Y": 16, "T": 17, "1": 18, "2": 19, "3": 20, "4": 21, "6": 22, "5": 23, "9": 25, "7": 26,
            "8": 28, "0": 29, "O": 31, "U": 32, "I": 34, "P": 35, "L": 37, "J": 38, "K": 40, "N": 45, "M": 46,
            "Space": 49, "Tab": 48, "Esc": 53, "Escape": 53, "Return": 36, "Enter": 36,
            "F1": 122, "F2": 120, "F3": 99, "F4": 118, "F5": 96, "F6": 97, "F7": 98, "F8": 100, "F9": 101,
            "F10": 109, "F11": 103, "F12": 111, "F13": 105, "F14": 107, "F15": 113, "F16": 106, "F17": 64,
            "F18": 79, "F19": 80, "F20": 90, "Home": 115, "End": 119, "PgUp": 116, "PageUp": 116,
            "PgDown": 121, "PageDown": 121, "Left": 123, "Right": 124, "Down": 125, "Up": 126}


def modifiers_of(flags: int) -> frozenset[str]:
    return frozenset(name for name, bit in FLAG_BITS.items() if flags & bit)


def translate(kind: int, keycode: int, flags: int, autorepeat: bool,
              bindings: Iterable[tuple[str, int, frozenset[str]]]) -> tuple[str, bool] | None:
    """A tapped event → ``(action, down)`` for a bound key, else None. A press needs exactly the
    binding's modifiers; a release counts whatever is held; auto-repeat presses are dropped."""
    if kind not in (KEY_DOWN, KEY_UP) or (kind == KEY_DOWN and autorepeat):
        return None
    for action, code, modifiers in bindings:
        if keycode == code and (kind == KEY_UP or modifiers_of(flags) == modifiers):
            return action, kind == KEY_DOWN
    return None


def _running_on(platform: str) -> bool:
    return sys.platform == platform


class MacHotkeys:
    """:class:`~desktop_app.platform.hotkeys.GlobalHotkeys` on macOS."""

    backend = "macos"

    def __init__(self, router: HotkeyRouter) -> None:
        if not _running_on("darwin"):  # a call, not a sys.platform test: mypy checks the body on every OS
            raise OSError("the macOS hotkeys need macOS")
        self._router = router
        self._quartz = ctypes.CDLL(ctypes.util.find_library("ApplicationServices") or "ApplicationServices")
        self._cf = ctypes.CDLL(ctypes.util.find_library("CoreFoundation") or "CoreFoundation")
        vp = ctypes.c_void_p
        q, cf = self._quartz, self._cf
        q.CGEventTapCreate.restype = vp
        q.CGEventTapCreate.argtypes = [ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint64, vp, vp]
        q.CGEventGetIntegerValueField.restype = ctypes.c_int64
        q.CGEventGetIntegerValueField.argtypes = [vp, ctypes.c_uint32]
        q.CGEventGetFlags.restype, q.CGEventGetFlags.argtypes = ctypes.c_uint64, [vp]
        q.CGEventTapEnable.argtypes = [vp, ctypes.c_bool]
        cf.CFMachPortCreateRunLoopSource.restype = vp
        cf.CFMachPortCreateRunLoopSource.argtypes = [vp, vp, ctypes.c_long]
        cf.CFRunLoopGetMain.restype = vp
        cf.CFRunLoopAddSource.argtypes = [vp, vp, vp]
        cf.CFRunLoopRemoveSource.argtypes = [vp, vp, vp]
        cf.CFRelease.argtypes = [vp]
        callback_type = ctypes.CFUNCTYPE(vp, vp, ctypes.c_uint32, vp, vp)
        self._callback: Callable[..., Any] = callback_type(self._on_event)  # kept referenced
        self._tap: int | None = None
        self._source: int | None = None
        self._bindings: list[tuple[str, int, frozenset[str]]] = []
        self._status = ""

    def available(self) -> bool:
        return not self._status

    def status(self) -> str:
        return self._status

    def bind(self, bindings: dict[str, str]) -> dict[str, str]:
        self.close()
        problems: dict[str, str] = {}
        for _number, action, combo in parsed_bindings(bindings, problems):
            code = KEYCODES.get(combo.key)
            if code is None:
                problems[action] = f"{combo.key} cannot be a global hotkey on macOS; choose another."
                continue
            self._bindings.append((action, code, combo.modifiers))
        if self._bindings and not self._start_tap():
            self._status = PERMISSION
            problems.update({action: PERMISSION for action, _c, _m in self._bindings})
        return problems

    def _start_tap(self) -> bool:
        mask = (1 << KEY_DOWN) | (1 << KEY_UP)
        tap = self._quartz.CGEventTapCreate(1, 0, 1, mask, self._callback, None)  # session, head, listen-only
        if not tap:
            log.warning("! CGEventTapCreate refused: no Input Monitoring permission")
            return False
        self._tap = tap
        self._source = self._cf.CFMachPortCreateRunLoopSource(None, tap, 0)
        modes = ctypes.c_void_p.in_dll(self._cf, "kCFRunLoopCommonModes")
        self._cf.CFRunLoopAddSource(self._cf.CFRunLoopGetMain(), self._source, modes)
        self._quartz.CGEventTapEnable(tap, True)
        self._status = ""
        return True

    def _on_event(self, proxy: int, kind: int, event: int, user: int) -> int:
        if kind == TAP_DISABLED_BY_TIMEOUT and self._tap:
            self._quartz.CGEventTapEnable(self._tap, True)  # macOS switches a slow tap off: back on
            return event
        found = translate(kind, int(self._quartz.CGEventGetIntegerValueField(event, KEYCODE_FIELD)),
                          int(self._quartz.CGEventGetFlags(event)),
                          bool(self._quartz.CGEventGetIntegerValueField(event, AUTOREPEAT_FIELD)), self._bindings)
        if found is not None:
            self._router.raw(found[0], found[1])
        return event

    def close(self) -> None:
        self._router.release_all()
        if self._tap:
            self._quartz.CGEventTapEnable(self._tap, False)
            if self._source:
                modes = ctypes.c_void_p.in_dll(self._cf, "kCFRunLoopCommonModes")
                self._cf.CFRunLoopRemoveSource(self._cf.CFRunLoopGetMain(), self._source, modes)
                self._cf.CFRelease(self._source)
            self._cf.CFRelease(self._tap)
        self._tap = self._source = None
        self._bindings.clear()
