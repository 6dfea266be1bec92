"""X11 global hotkeys: XGrabKey (``xcb_grab_key``) on the root window through the X connection Qt
already has, and the key events read from Qt's own event stream by a native event filter.

No second connection, no thread: the grab is made with a *checked* request, so a key another
program holds comes back at once as ``BadAccess`` (one sentence for the settings), and the events
arrive on the GUI thread like every other X event. The key is grabbed four times, with and without
Caps Lock and Num Lock, because X matches modifiers exactly. Qt already initialised XKB on the
connection; we also ask for detectable auto-repeat so a held key repeats presses only (the router
copes without it too).
"""

from __future__ import annotations

import ctypes
import ctypes.util

from PySide6.QtCore import QAbstractNativeEventFilter, QByteArray, QTimer
from PySide6.QtGui import QGuiApplication, QNativeInterface

from desktop_app.log import get_logger
from desktop_app.platform.hotkeys import HotkeyRouter, KeyCombo, conflict_sentence, parsed_bindings

log = get_logger("platform")

KEY_PRESS, KEY_RELEASE = 2, 3
BAD_ACCESS = 10
MOD_MASK = {"shift": 1 << 0, "ctrl": 1 << 2, "alt": 1 << 3, "meta": 1 << 6}
LOCK, NUM_LOCK = 1 << 1, 1 << 4
IGNORED = (0, LOCK, NUM_LOCK, LOCK | NUM_LOCK)
GRAB_MODE_ASYNC = 1
XKB_USE_CORE_KBD = 0x100
XKB_DETECTABLE_AUTO_REPEAT = 1
#: Qt key names whose X keysym is spelled differently (the rest match case-insensitively).
KEYSYM_NAMES = {"Esc": "Escape", "Space": "space", "ScrollLock": "Scroll_Lock", "CapsLock": "Caps_Lock",
                "NumLock": "Num_Lock", "PgUp": "Prior", "PgDown": "Next", "PageUp": "Prior", "PageDown": "Next",
                "Enter": "Return", "Backspace": "BackSpace", "Ins": "Insert", "Del": "Delete",
                "Print": "Print", "Menu": "Menu", "Pause": "Pause", "`": "grave", "-": "minus", "=": "equal",
                "[": "bracketleft", "]": "bracketright", ";": "semicolon", "'": "apostrophe", ",": "comma",
                ".": "period", "/": "slash", "\\": "backslash", "+": "plus"}


def keysym_name(key: str) -> str:
    """The X keysym name of Qt's key name ``key``."""
    return KEYSYM_NAMES.get(key, key.lower() if len(key) == 1 else key)


def grab_masks(combo: KeyCombo) -> list[int]:
    """The modifier masks to grab for ``combo``: its own, with each Caps/Num Lock combination."""
    base = 0
    for mod in combo.modifiers:
        base |= MOD_MASK[mod]
    return [base | extra for extra in IGNORED]


class _Cookie(ctypes.Structure):
    _fields_ = [("sequence", ctypes.c_uint)]


class _Error(ctypes.Structure):
    _fields_ = [("response_type", ctypes.c_uint8), ("error_code", ctypes.c_uint8),
                ("sequence", ctypes.c_uint16), ("resource_id", ctypes.c_uint32)]


class _KeyEvent(ctypes.Structure):
    _fields_ = [("response_type", ctypes.c_uint8), ("detail", ctypes.c_uint8), ("sequence", ctypes.c_uint16),
                ("time", ctypes.c_uint32), ("root", ctypes.c_uint32), ("event", ctypes.c_uint32),
                ("child", ctypes.c_uint32), ("root_x", ctypes.c_int16), ("root_y", ctypes.c_int16),
                ("event_x", ctypes.c_int16), ("event_y", ctypes.c_int16), ("state", ctypes.c_uint16)]


class _ScreenIterator(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("rem", ctypes.c_int), ("index", ctypes.c_int)]


def _libs() -> tuple[ctypes.CDLL, ctypes.CDLL, ctypes.CDLL]:
    xcb = ctypes.CDLL("libxcb.so.1")
    xkb = ctypes.CDLL("libxcb-xkb.so.1")
    common = ctypes.CDLL("libxkbcommon.so.0")
    vp, u8, u16, u32 = ctypes.c_void_p, ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32
    xcb.xcb_get_setup.restype, xcb.xcb_get_setup.argtypes = vp, [vp]
    xcb.xcb_setup_roots_iterator.restype, xcb.xcb_setup_roots_iterator.argtypes = _ScreenIterator, [vp]
    xcb.xcb_get_keyboard_mapping.restype, xcb.xcb_get_keyboard_mapping.argtypes = _Cookie, [vp, u8, u8]
    xcb.xcb_get_keyboard_mapping_reply.restype = vp
    xcb.xcb_get_keyboard_mapping_reply.argtypes = [vp, _Cookie, vp]
    xcb.xcb_grab_key_checked.restype = _Cookie
    xcb.xcb_grab_key_checked.argtypes = [vp, u8, u32, u16, u8, u8, u8]
    xcb.xcb_ungrab_key_checked.restype = _Cookie
    xcb.xcb_ungrab_key_checked.argtypes = [vp, u8, u32, u16]
    xcb.xcb_request_check.restype, xcb.xcb_request_check.argtypes = ctypes.POINTER(_Error), [vp, _Cookie]
    xcb.xcb_flush.argtypes = [vp]
    xkb.xcb_xkb_per_client_flags.restype = _Cookie
    xkb.xcb_xkb_per_client_flags.argtypes = [vp, u16, u32, u32, u32, u32, u32]
    xkb.xcb_xkb_per_client_flags_reply.restype = vp
    xkb.xcb_xkb_per_client_flags_reply.argtypes = [vp, _Cookie, vp]
    common.xkb_keysym_from_name.restype, common.xkb_keysym_from_name.argtypes = u32, [ctypes.c_char_p, ctypes.c_int]
    return xcb, xkb, common


class _Filter(QAbstractNativeEventFilter):
    """Hands grabbed key events from Qt's X event stream to the owner; everything else passes."""

    def __init__(self, owner: X11Hotkeys) -> None:
        super().__init__()
        self._owner = owner

    def nativeEventFilter(self, event_type: QByteArray | bytes | bytearray | memoryview,  # noqa: N802
                          message: int) -> tuple[bool, int]:
        return self._owner.event(int(message)), 0


class X11Hotkeys:
    """:class:`~desktop_app.platform.hotkeys.GlobalHotkeys` on X11 (Qt's ``xcb`` platform)."""

    backend = "x11"

    def __init__(self, router: HotkeyRouter) -> None:
        self._router = router
        self._xcb, xkb, self._xkbcommon = _libs()
        self._libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        self._libc.free.argtypes = [ctypes.c_void_p]
        app = QGuiApplication.instance()
        native = app.nativeInterface() if isinstance(app, QGuiApplication) else None
        if not isinstance(app, QGuiApplication) or not isinstance(native, QNativeInterface.QX11Application):
            raise OSError("Qt is not running on X11")
        self._conn = ctypes.c_void_p(int(native.connection()))
        if not self._conn.value:
            raise OSError("Qt's X connection is not available")
        setup = self._xcb.xcb_get_setup(self._conn)
        self._root = ctypes.cast(self._xcb.xcb_setup_roots_iterator(setup).data, ctypes.POINTER(ctypes.c_uint32))[0]
        raw = ctypes.cast(setup, ctypes.POINTER(ctypes.c_uint8))
        self._min_keycode, self._max_keycode = raw[34], raw[35]  # xcb_setup_t.min/max_keycode
        reply = xkb.xcb_xkb_per_client_flags_reply(self._conn, xkb.xcb_xkb_per_client_flags(
            self._conn, XKB_USE_CORE_KBD, XKB_DETECTABLE_AUTO_REPEAT, XKB_DETECTABLE_AUTO_REPEAT, 0, 0, 0), None)
        if reply:
            self._libc.free(ctypes.c_void_p(reply))
        self._grabs: dict[tuple[int, int], str] = {}  # (keycode, modifier mask) → action
        self._keycodes: dict[int, str] = {}
        self._filter = _Filter(self)
        app.installNativeEventFilter(self._filter)

    def available(self) -> bool:
        return True

    def status(self) -> str:
        return ""

    def keycode(self, key: str) -> int | None:
        """The keycode that types ``key`` on this keyboard (None when no key does)."""
        sym = self._xkbcommon.xkb_keysym_from_name(keysym_name(key).encode(), 0) or \
            self._xkbcommon.xkb_keysym_from_name(keysym_name(key).encode(), 1)  # 1: case-insensitive
        if not sym:
            return None
        count = self._max_keycode - self._min_keycode + 1
        cookie = self._xcb.xcb_get_keyboard_mapping(self._conn, self._min_keycode, count)
        reply = self._xcb.xcb_get_keyboard_mapping_reply(self._conn, cookie, None)
        if not reply:
            return None
        try:
            per = ctypes.cast(reply, ctypes.POINTER(ctypes.c_uint8))[1]  # keysyms_per_keycode
            syms = ctypes.cast(reply + 32, ctypes.POINTER(ctypes.c_uint32))
            for i in range(count):
                if any(syms[i * per + j] == sym for j in range(per)):
                    return self._min_keycode + i
            return None
        finally:
            self._libc.free(ctypes.c_void_p(reply))

    def bind(self, bindings: dict[str, str]) -> dict[str, str]:
        self._ungrab_all()
        problems: dict[str, str] = {}
        for _number, action, combo in parsed_bindings(bindings, problems):
            code = self.keycode(combo.key)
            if code is None:
                problems[action] = f"This keyboard has no {combo.key} key; choose another."
                continue
            conflict = self._grab(code, combo, action)
            if conflict:
                problems[action] = conflict_sentence(combo.text(), action)
        self._xcb.xcb_flush(self._conn)
        for action, sentence in problems.items():
            log.warning("! hotkey %s: %s", action, sentence)
        log.info("= X11 hotkeys bound: %s", {a: k for a, k in bindings.items() if k and a not in problems})
        return problems

    def _grab(self, code: int, combo: KeyCombo, action: str) -> bool:
        """Grab ``code`` under every mask; True (and nothing kept) when another client holds it."""
        made: list[int] = []
        for mask in grab_masks(combo):
            cookie = self._xcb.xcb_grab_key_checked(self._conn, 1, self._root, mask, code,
                                                    GRAB_MODE_ASYNC, GRAB_MODE_ASYNC)
            error = self._xcb.xcb_request_check(self._conn, cookie)
            if error:
                failed = error.contents.error_code
                self._libc.free(ctypes.cast(error, ctypes.c_void_p))
                log.info("= X grab of keycode %d mask %#x refused (error %d)", code, mask, failed)
                for done in made:
                    self._ungrab(code, done)
                return True
            made.append(mask)
        for mask in made:
            self._grabs[(code, mask)] = action
        self._keycodes[code] = action
        return False

    def _ungrab(self, code: int, mask: int) -> None:
        error = self._xcb.xcb_request_check(self._conn, self._xcb.xcb_ungrab_key_checked(
            self._conn, code, self._root, mask))
        if error:
            self._libc.free(ctypes.cast(error, ctypes.c_void_p))

    def _ungrab_all(self) -> None:
        self._router.release_all()
        for code, mask in list(self._grabs):
            self._ungrab(code, mask)
        self._grabs.clear()
        self._keycodes.clear()

    def event(self, address: int) -> bool:
        """One X event from Qt's stream: True when it was a grabbed key (consumed)."""
        event = ctypes.cast(address, ctypes.POINTER(_KeyEvent)).contents
        kind = event.response_type & 0x7F
        if kind not in (KEY_PRESS, KEY_RELEASE) or event.event != self._root:
            return False
        action = self._keycodes.get(event.detail)
        if action is None:
            return False
        self._router.raw(action, kind == KEY_PRESS, int(event.time))
        if kind == KEY_RELEASE:
            QTimer.singleShot(0, self._router.flush)  # a press in the same batch would be auto-repeat
        return True

    def close(self) -> None:
        self._ungrab_all()
        self._xcb.xcb_flush(self._conn)
        app = QGuiApplication.instance()
        if app is not None:
            app.removeNativeEventFilter(self._filter)
