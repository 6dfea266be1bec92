"""Global hotkeys: push-to-talk (held) and mute (pressed) while another application has the focus.

:class:`GlobalHotkeys` is the capability every platform module implements: ``bind`` takes
``{action: key name}`` (Qt's portable names such as ``F8`` or ``Ctrl+Alt+Space``) and returns a
sentence per binding it could not make (a conflict with another program, an unknown key); key
events reach :class:`HotkeyRouter`, which turns the platform's raw presses and releases into
``press(action)`` / ``release(action)`` once each: auto-repeat (a held key repeats presses, and on
some X servers release+press pairs with the same timestamp) is dropped here, for every platform.

:func:`~.hotkey_backends.make_hotkeys` picks the implementation from Qt's platform name: ``xcb`` →
X11 (XGrabKey on Qt's own X connection), ``wayland`` → the XDG GlobalShortcuts portal, ``windows`` →
RegisterHotKey plus a low-level hook, ``cocoa`` → a CGEventTap; anything else (offscreen, a
compositor without the portal) → :class:`NoHotkeys` with one sentence the settings show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

TALK = "talk"
MUTE = "mute"
ACTIONS = (TALK, MUTE)
MODIFIERS = ("ctrl", "alt", "shift", "meta")
_MODIFIER_ALIASES = {"control": "ctrl", "ctrl": "ctrl", "alt": "alt", "option": "alt", "shift": "shift",
                     "meta": "meta", "super": "meta", "win": "meta", "cmd": "meta", "command": "meta"}


@dataclass(frozen=True, slots=True)
class KeyCombo:
    """A key and the modifiers held with it: ``key`` is Qt's name (``F8``, ``Space``, ``A``)."""

    key: str
    modifiers: frozenset[str] = frozenset()

    def text(self) -> str:
        mods = [m.title() for m in MODIFIERS if m in self.modifiers]
        return "+".join([*mods, self.key])


def parsed_bindings(bindings: dict[str, str], problems: dict[str, str]) -> Iterator[tuple[int, str, KeyCombo]]:
    """The bindings that name a key, parsed, as ``(number, action, combo)``: numbered from 1 in the
    settings' order (an empty binding keeps its number). A name that is not a key goes into
    ``problems`` as one sentence and is skipped. Every backend's ``bind`` starts here."""
    for number, (action, name) in enumerate(bindings.items(), start=1):
        if not name:
            continue
        try:
            combo = parse_combo(name)
        except ValueError as exc:
            problems[action] = f"“{name}” is not a key: {exc}."
            continue
        yield number, action, combo


def parse_combo(name: str) -> KeyCombo:
    """``Ctrl+Alt+Space`` → KeyCombo("Space", {"ctrl", "alt"}); ValueError for an empty or odd name."""
    parts = [p.strip() for p in name.replace(" ", "").split("+")]
    if name.strip().endswith("++"):  # "Ctrl++": the plus key itself
        parts = [*parts[:-2], "+"]
    parts = [p for p in parts if p]
    if not parts:
        raise ValueError("no key given")
    *mods, key = parts
    found = set()
    for mod in mods:
        canonical = _MODIFIER_ALIASES.get(mod.lower())
        if canonical is None:
            raise ValueError(f"“{mod}” is not a modifier (Ctrl, Alt, Shift, Meta)")
        found.add(canonical)
    if key.lower() in _MODIFIER_ALIASES:
        raise ValueError("a modifier alone cannot be a hotkey")
    key = key.upper() if len(key) == 1 else key[0].upper() + key[1:]
    return KeyCombo(key, frozenset(found))


class HotkeyRouter:
    """Raw key events from a platform module → one ``press``/``release`` per real press.

    ``raw(action, down, stamp)``: ``down`` True for a press; ``stamp`` the platform's event time
    (ms) where it has one. A press of a key already down is auto-repeat; a release directly
    followed by a press of the same key at the same ``stamp`` is X11's non-detectable auto-repeat:
    the release is held back until the next event for that key says which it was (``flush`` ends
    a held-back release, e.g. when the platform says nothing more is coming).
    """

    def __init__(self, press: Callable[[str], None], release: Callable[[str], None]) -> None:
        self._press = press
        self._release = release
        self.down: set[str] = set()
        self._pending_release: dict[str, int] = {}

    def raw(self, action: str, down: bool, stamp: int | None = None) -> None:
        pending = self._pending_release.pop(action, None)
        if down:
            if pending is not None and pending == stamp:
                return  # release+press at one instant: the key is still held (auto-repeat)
            if pending is not None:
                self._end(action)
            if action in self.down:
                return  # auto-repeat
            self.down.add(action)
            self._press(action)
            return
        if pending is not None:
            self._end(action)
        if action not in self.down:
            return  # a release we never saw pressed (grabbed while held)
        if stamp is None:
            self._end(action)
        else:
            self._pending_release[action] = stamp

    def flush(self) -> None:
        """End every held-back release now (no more events are queued)."""
        for action in list(self._pending_release):
            del self._pending_release[action]
            self._end(action)

    def release_all(self) -> None:
        """Everything up is released (unbinding, shutdown)."""
        self._pending_release.clear()
        for action in list(self.down):
            self._end(action)

    def _end(self, action: str) -> None:
        if action in self.down:
            self.down.discard(action)
            self._release(action)


class GlobalHotkeys(Protocol):
    """System-wide hotkeys for the actions of :data:`ACTIONS` on one platform."""

    #: Short name for logs and the settings line: ``x11``, ``windows``, ``macos``, ``portal``, ``none``.
    backend: str

    def available(self) -> bool:
        """True when this platform lets the app grab keys (permission granted, portal present …)."""
        ...

    def status(self) -> str:
        """One sentence for the settings: why hotkeys cannot work here, or '' when they can."""
        ...

    def bind(self, bindings: dict[str, str]) -> dict[str, str]:
        """Grab ``{action: key name}`` (an empty name: no hotkey), releasing earlier grabs first.
        Returns ``{action: sentence}`` for each binding that could not be made."""
        ...

    def close(self) -> None:
        """Release every grab (the app quits or the hotkeys are switched off)."""
        ...


class NoHotkeys:
    """The platform offers no global hotkeys: says why, grabs nothing."""

    backend = "none"

    def __init__(self, reason: str) -> None:
        self._reason = reason

    def available(self) -> bool:
        return False

    def status(self) -> str:
        return self._reason

    def bind(self, bindings: dict[str, str]) -> dict[str, str]:
        return {action: self._reason for action, key in bindings.items() if key}

    def close(self) -> None:
        pass


def conflict_sentence(combo: str, action: str) -> str:
    """The one sentence the settings show when another program holds ``combo``."""
    what = "push-to-talk" if action == TALK else "mute"
    return f"{combo} is already taken by another program; choose another key for {what}."


WAYLAND_NO_PORTAL = ("This Wayland desktop does not let apps use global shortcuts (no GlobalShortcuts portal); "
                     "push-to-talk works while Parley's window has the focus.")
