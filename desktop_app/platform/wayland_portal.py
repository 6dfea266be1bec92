"""Wayland global hotkeys through the XDG desktop portal's ``GlobalShortcuts`` interface (D-Bus,
spoken with ``jeepney``, which the Secret Service keyring already brings).

Wayland lets no client grab keys; a desktop that implements the portal (KDE Plasma, GNOME 48+ …)
asks the person once to confirm the shortcuts Parley proposes, then sends ``Activated`` and
``Deactivated`` signals, which are the press and the release. The conversation with the portal
runs as one background task (``desktop_app.tasks.spawn``): CreateSession → BindShortcuts → listen.
Without the portal, :meth:`PortalHotkeys.status` says plainly that this compositor does not allow
global shortcuts. :func:`preferred_trigger` (Qt's key name → the portal's trigger text) is plain
Python, unit-tested.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

from desktop_app.log import get_logger
from desktop_app.platform.hotkeys import WAYLAND_NO_PORTAL, HotkeyRouter, KeyCombo, parse_combo, parsed_bindings
from desktop_app.tasks import spawn

log = get_logger("platform")

PORTAL_BUS = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
REQUEST = "org.freedesktop.portal.Request"
DESCRIPTIONS = {"talk": "Push to talk (hold)", "mute": "Mute or unmute the microphone"}
_PORTAL_MODIFIERS = {"ctrl": "CTRL", "alt": "ALT", "shift": "SHIFT", "meta": "LOGO"}
_tokens = itertools.count(1)


def preferred_trigger(name: str) -> str:
    """Qt's ``Ctrl+Alt+M`` → the portal's ``CTRL+ALT+m`` (XDG shortcuts: modifiers, then a keysym)."""
    return _trigger(parse_combo(name))


def _trigger(combo: KeyCombo) -> str:
    mods = [_PORTAL_MODIFIERS[m] for m in ("ctrl", "alt", "shift", "meta") if m in combo.modifiers]
    key = combo.key.lower() if len(combo.key) == 1 else {"Space": "space", "Esc": "Escape"}.get(combo.key, combo.key)
    return "+".join([*mods, key])


def request_path(unique_name: str, token: str) -> str:
    """Where the portal will publish the Request object for ``token`` (the spec's rule)."""
    sender = unique_name.lstrip(":").replace(".", "_")
    return f"{PORTAL_PATH}/request/{sender}/{token}"


class PortalHotkeys:
    """:class:`~desktop_app.platform.hotkeys.GlobalHotkeys` through the GlobalShortcuts portal.

    ``changed()`` is called when :meth:`status` changes (the portal answered, or is missing)."""

    backend = "portal"

    def __init__(self, router: HotkeyRouter, changed: Callable[[], None] = lambda: None) -> None:
        self._router = router
        self._changed = changed
        self._status = "Asking the desktop for global shortcuts…"
        self._task: asyncio.Task[None] | None = None
        self._ok = False
        self.listening = False  # the shortcuts are bound and their signals are being read

    def available(self) -> bool:
        return self._ok

    def status(self) -> str:
        return self._status

    def bind(self, bindings: dict[str, str]) -> dict[str, str]:
        self.close()
        problems: dict[str, str] = {}
        triggers = {action: _trigger(combo) for _number, action, combo in parsed_bindings(bindings, problems)}
        if triggers:
            self._task = spawn(self._session(triggers), name="global shortcuts portal", on_crash=self._crashed)
        return problems

    def _set_status(self, sentence: str, ok: bool) -> None:
        self._status, self._ok = sentence, ok
        self._changed()

    def _crashed(self, exc: BaseException) -> None:
        self._set_status(WAYLAND_NO_PORTAL, False)

    async def _session(self, triggers: dict[str, str]) -> None:
        from jeepney import DBusAddress, MatchRule, MessageType, Properties, message_bus, new_method_call  # type: ignore[import-untyped]
        from jeepney.io.asyncio import open_dbus_router  # type: ignore[import-untyped]

        portal = DBusAddress(PORTAL_PATH, bus_name=PORTAL_BUS, interface=SHORTCUTS)
        try:
            router_cm = open_dbus_router(bus="SESSION")
            router = await router_cm.__aenter__()
        except (OSError, KeyError, ValueError) as exc:  # no session bus at all
            log.info("= no session bus for the shortcuts portal: %r", exc)
            self._set_status(WAYLAND_NO_PORTAL, False)
            return
        try:
            version = await router.send_and_get_reply(Properties(portal).get("version"))
            if version.header.message_type is MessageType.error:
                log.info("= no GlobalShortcuts portal: %s", version.body)
                self._set_status(WAYLAND_NO_PORTAL, False)
                return
            unique = router.unique_name

            async def call(method: str, signature: str, body: tuple[Any, ...]) -> dict[str, Any]:
                token = f"parley{next(_tokens)}"
                rule = MatchRule(type="signal", interface=REQUEST, member="Response", path=request_path(unique, token))
                await router.send_and_get_reply(message_bus.AddMatch(rule))
                with router.filter(rule) as queue:
                    options = {**body[-1], "handle_token": ("s", token)}
                    reply = await router.send_and_get_reply(
                        new_method_call(portal, method, signature, (*body[:-1], options)))
                    if reply.header.message_type is MessageType.error:
                        raise OSError(f"{method}: {reply.body}")
                    response = await queue.get()
                code, results = response.body
                if code != 0:
                    raise PermissionError(f"{method} answered {code}")
                return {key: value[1] for key, value in results.items()}

            created = await call("CreateSession", "a{sv}", ({"session_handle_token": ("s", "parley")},))
            session = created["session_handle"]
            shortcuts = [(action, {"description": ("s", DESCRIPTIONS[action]),
                                   "preferred_trigger": ("s", trigger)}) for action, trigger in triggers.items()]
            bound = await call("BindShortcuts", "oa(sa{sv})sa{sv}", (session, shortcuts, "", {}))
            given = {sid: props.get("trigger_description", ("s", ""))[1] for sid, props in bound.get("shortcuts", [])}
            missing = [action for action in triggers if action not in given]
            self._set_status("" if not missing else
                             f"The desktop did not assign a shortcut for {', '.join(missing)}; change it in the "
                             "desktop's keyboard settings.", True)
            log.info("= portal shortcuts bound: %s", given)
            activated = MatchRule(type="signal", interface=SHORTCUTS, path=PORTAL_PATH)
            await router.send_and_get_reply(message_bus.AddMatch(activated))
            with router.filter(activated, bufsize=64) as signals:
                self.listening = True
                while True:
                    message = await signals.get()
                    member = message.header.fields.get(3)  # HeaderFields.member
                    _session, shortcut_id, stamp, _options = message.body
                    if shortcut_id in triggers and member in ("Activated", "Deactivated"):
                        self._router.raw(shortcut_id, member == "Activated", int(stamp))
                        if member == "Deactivated":
                            self._router.flush()
        except PermissionError as exc:
            log.info("= portal refused: %s", exc)
            self._set_status("The desktop's shortcut dialog was cancelled; global shortcuts are off.", False)
        except OSError as exc:
            log.info("= portal failed: %r", exc)
            self._set_status(WAYLAND_NO_PORTAL, False)
        finally:
            self.listening = False
            await router_cm.__aexit__(None, None, None)

    def close(self) -> None:
        self._router.release_all()
        if self._task is not None:
            self._task.cancel()
            self._task = None
