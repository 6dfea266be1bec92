"""Windows global hotkeys: ``RegisterHotKey`` reserves each key (and says at once when another
program holds it), and a low-level keyboard hook (``WH_KEYBOARD_LL``) sees it go down *and up*,
which ``WM_HOTKEY`` alone cannot tell (hold-to-talk needs the release).

The hook runs on the thread that installed it, inside that thread's message loop: Qt's GUI thread
has one, so events arrive on the loop thread like everything else. Only the system calls live in
:class:`WindowsHotkeys`; the key table, the modifier bits and :func:`translate` (hook message →
action, press or release) are plain Python, unit-tested on every platform. Not run on Windows in CI.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable, Iterable
from typing import Any

from desktop_app.log import get_logger
from desktop_app.platform.hotkeys import HotkeyRouter, KeyCombo, conflict_sentence, parsed_bindings

log = get_logger("platform")

WM_KEYDOWN, WM_KEYUP, WM_SYSKEYDOWN, WM_SYSKEYUP = 0x100, 0x101, 0x104, 0x105
WH_KEYBOARD_LL = 13
MOD_ALT, MOD_CONTROL, MOD_SHIFT, MOD_WIN, MOD_NOREPEAT = 0x1, 0x2, 0x4, 0x8, 0x4000
ERROR_HOTKEY_ALREADY_REGISTERED = 1409
MOD_BITS = {"alt": MOD_ALT, "ctrl": MOD_CONTROL, "shift": MOD_SHIFT, "meta": MOD_WIN}
#: Virtual-key codes of the modifiers (left and right) whose state the hook follows itself.
MODIFIER_VKS = {0x10: "shift", 0xA0: "shift", 0xA1: "shift", 0x11: "ctrl", 0xA2: "ctrl", 0xA3: "ctrl",
                0x12: "alt", 0xA4: "alt", 0xA5: "alt", 0x5B: "meta", 0x5C: "meta"}
NAMED_VKS = {"Space": 0x20, "Pause": 0x13, "ScrollLock": 0x91, "Insert": 0x2D, "Ins": 0x2D, "Delete": 0x2E,
             "Del": 0x2E, "Home": 0x24, "End": 0x23, "PgUp": 0x21, "PageUp": 0x21, "PgDown": 0x22,
             "PageDown": 0x22, "Esc": 0x1B, "Escape": 0x1B, "Tab": 0x09, "Return": 0x0D, "Enter": 0x0D,
             "Backspace": 0x08, "Left": 0x25, "Up": 0x26, "Right": 0x27, "Down": 0x28, "Print": 0x2C,
             "CapsLock": 0x14, "NumLock": 0x90, "Menu": 0x5D, "`": 0xC0, "-": 0xBD, "=": 0xBB, "[": 0xDB,
             "]": 0xDD, ";": 0xBA, "'": 0xDE, ",": 0xBC, ".": 0xBE, "/": 0xBF, "\\": 0xDC}


def virtual_key(key: str) -> int | None:
    """The Windows virtual-key code of Qt's key name ``key`` (None when there is none)."""
    if key in NAMED_VKS:
        return NAMED_VKS[key]
    if len(key) == 1 and (key.isdigit() or "A" <= key <= "Z"):
        return ord(key)
    if key.startswith("F") and key[1:].isdigit() and 1 <= int(key[1:]) <= 24:
        return 0x70 + int(key[1:]) - 1
    return None


def modifier_bits(combo: KeyCombo) -> int:
    bits = MOD_NOREPEAT
    for mod in combo.modifiers:
        bits |= MOD_BITS[mod]
    return bits


def translate(message: int, vk: int, held: set[str], bindings: Iterable[tuple[str, int, frozenset[str]]]
              ) -> tuple[str, bool] | None:
    """A low-level hook message → ``(action, down)`` for a bound key, else None.

    ``held`` is the set of modifiers down (kept up to date here from the same messages). A press
    counts only with exactly the binding's modifiers; a release counts whatever is held (letting
    go of Ctrl first must still end the press)."""
    down = message in (WM_KEYDOWN, WM_SYSKEYDOWN)
    if message not in (WM_KEYDOWN, WM_SYSKEYDOWN, WM_KEYUP, WM_SYSKEYUP):
        return None
    if vk in MODIFIER_VKS:
        (held.add if down else held.discard)(MODIFIER_VKS[vk])
        return None
    for action, bound_vk, modifiers in bindings:
        if vk == bound_vk and (not down or frozenset(held) == modifiers):
            return action, down
    return None


def _running_on(platform: str) -> bool:
    return sys.platform == platform


class _KbdLLHookStruct(ctypes.Structure):
    _fields_ = [("vkCode", ctypes.c_uint32), ("scanCode", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("time", ctypes.c_uint32), ("dwExtraInfo", ctypes.c_size_t)]


class WindowsHotkeys:
    """:class:`~desktop_app.platform.hotkeys.GlobalHotkeys` on Windows."""

    backend = "windows"

    def __init__(self, router: HotkeyRouter) -> None:
        if not _running_on("win32"):  # a call, not a sys.platform test: mypy checks the body on every OS
            raise OSError("the Windows hotkeys need Windows")
        self._router = router
        # x64 Windows has one calling convention, so CDLL/CFUNCTYPE match the stdcall declarations.
        self._user32 = ctypes.CDLL("user32", use_last_error=True)
        self._kernel32 = ctypes.CDLL("kernel32", use_last_error=True)
        self._user32.CallNextHookEx.restype = ctypes.c_ssize_t
        self._user32.CallNextHookEx.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t, ctypes.c_ssize_t]
        proc_type = ctypes.CFUNCTYPE(ctypes.c_ssize_t, ctypes.c_int, ctypes.c_size_t, ctypes.c_ssize_t)
        # Declared in full: an undeclared pointer argument is passed as a 32-bit int on 64-bit Windows.
        self._user32.SetWindowsHookExW.restype = ctypes.c_void_p
        self._user32.SetWindowsHookExW.argtypes = [ctypes.c_int, proc_type, ctypes.c_void_p, ctypes.c_uint32]
        self._user32.UnhookWindowsHookEx.argtypes = [ctypes.c_void_p]
        self._user32.RegisterHotKey.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint, ctypes.c_uint]
        self._user32.UnregisterHotKey.argtypes = [ctypes.c_void_p, ctypes.c_int]
        self._kernel32.GetModuleHandleW.restype = ctypes.c_void_p
        self._kernel32.GetModuleHandleW.argtypes = [ctypes.c_wchar_p]
        self._proc: Callable[..., Any] = proc_type(self._hook)  # kept referenced: Windows calls it
        self._hook_handle: int | None = None
        self._registered: list[int] = []
        self._bindings: list[tuple[str, int, frozenset[str]]] = []
        self._held: set[str] = set()

    def available(self) -> bool:
        return True

    def status(self) -> str:
        return ""

    def bind(self, bindings: dict[str, str]) -> dict[str, str]:
        self.close()
        problems: dict[str, str] = {}
        for number, action, combo in parsed_bindings(bindings, problems):
            vk = virtual_key(combo.key)
            if vk is None:
                problems[action] = f"{combo.key} cannot be a global hotkey on Windows; choose another."
                continue
            if not self._user32.RegisterHotKey(None, number, modifier_bits(combo), vk):
                error = ctypes.get_last_error()  # type: ignore[attr-defined]  # Windows-only in typeshed
                log.info("= RegisterHotKey %s failed: %d", combo.text(), error)
                problems[action] = conflict_sentence(combo.text(), action)
                continue
            self._registered.append(number)
            self._bindings.append((action, vk, combo.modifiers))
        if self._bindings:
            self._hook_handle = self._user32.SetWindowsHookExW(
                WH_KEYBOARD_LL, self._proc, self._kernel32.GetModuleHandleW(None), 0)
        return problems

    def _hook(self, code: int, message: int, lparam: int) -> int:
        if code == 0:  # HC_ACTION
            info = ctypes.cast(lparam, ctypes.POINTER(_KbdLLHookStruct)).contents
            found = translate(message, int(info.vkCode), self._held, self._bindings)
            if found is not None:
                self._router.raw(found[0], found[1])
        return int(self._user32.CallNextHookEx(None, code, message, lparam))

    def close(self) -> None:
        self._router.release_all()
        if self._hook_handle:
            self._user32.UnhookWindowsHookEx(ctypes.c_void_p(self._hook_handle))
            self._hook_handle = None
        for number in self._registered:
            self._user32.UnregisterHotKey(None, number)
        self._registered.clear()
        self._bindings.clear()
