"""Wayland global shortcuts through the XDG GlobalShortcuts portal, against a portal played by this
test on a private D-Bus: the session is created, the shortcuts are bound with Parley's preferred
triggers, and the portal's Activated/Deactivated signals become press and release. Without a
portal the settings get the plain sentence."""

from __future__ import annotations

import select
import subprocess
import threading

import pytest

from desktop_app.platform.hotkeys import WAYLAND_NO_PORTAL, HotkeyRouter
from desktop_app.platform.wayland_portal import PORTAL_BUS, PORTAL_PATH, SHORTCUTS, PortalHotkeys, request_path
from tests.plugins.pipewire import wait_for


@pytest.fixture
def session_bus(monkeypatch):
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    assert bus.stdout is not None and select.select([bus.stdout], [], [], 10)[0]
    address = bus.stdout.readline().decode().strip()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    yield address
    bus.terminate()
    bus.wait(10)


class FakePortal:
    """Answers CreateSession and BindShortcuts like a desktop whose person accepted the shortcuts."""

    def __init__(self) -> None:
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        self.conn = open_dbus_connection(bus="SESSION")
        self.conn.send_and_get_reply(message_bus.RequestName(PORTAL_BUS))
        self.calls: list[tuple[str, tuple]] = []
        self.session = "/org/freedesktop/portal/desktop/session/1/parley"
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        from jeepney import DBusAddress, HeaderFields, MessageType, new_method_return, new_signal

        while not self._stop.is_set():
            try:
                msg = self.conn.receive(timeout=0.2)
            except TimeoutError:
                continue
            if msg.header.message_type is not MessageType.method_call:
                continue
            member = msg.header.fields[HeaderFields.member]
            sender = msg.header.fields[HeaderFields.sender]
            self.calls.append((member, msg.body))
            if member == "Get":
                self.conn.send(new_method_return(msg, "v", (("u", 1),)))
                continue
            options = msg.body[-1]
            path = request_path(sender, options["handle_token"][1])
            self.conn.send(new_method_return(msg, "o", (path,)))
            if member == "CreateSession":
                results = {"session_handle": ("o", self.session)}
            else:
                given = [(sid, {"description": props["description"], "trigger_description":
                                ("s", props["preferred_trigger"][1])}) for sid, props in msg.body[1]]
                results = {"shortcuts": ("a(sa{sv})", given)}
            self.conn.send(new_signal(DBusAddress(path, interface="org.freedesktop.portal.Request"), "Response",
                                      "ua{sv}", (0, results)))

    def press(self, shortcut: str, down: bool, stamp: int) -> None:
        from jeepney import DBusAddress, new_signal

        self.conn.send(new_signal(DBusAddress(PORTAL_PATH, interface=SHORTCUTS), "Activated" if down else "Deactivated",
                                  "osta{sv}", (self.session, shortcut, stamp, {})))

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.conn.close()


async def test_the_portal_binds_the_shortcuts_and_its_signals_press_and_release(session_bus):
    portal = FakePortal()
    events: list[str] = []
    changes: list[str] = []
    hotkeys = PortalHotkeys(HotkeyRouter(lambda a: events.append(f"+{a}"), lambda a: events.append(f"-{a}")),
                            lambda: changes.append(hotkeys.status()))
    try:
        assert hotkeys.bind({"talk": "F8", "mute": "Ctrl+Alt+M"}) == {}
        await wait_for(hotkeys.available, 10)
        assert hotkeys.status() == "" and changes == [""]
        bound = dict(portal.calls)["BindShortcuts"]
        assert bound[0] == portal.session
        assert {sid: props["preferred_trigger"][1] for sid, props in bound[1]} == {"talk": "F8", "mute": "CTRL+ALT+m"}
        await wait_for(lambda: hotkeys.listening, 5)
        portal.press("talk", True, 100)
        portal.press("talk", False, 900)
        portal.press("mute", True, 1000)
        portal.press("mute", False, 1100)
        await wait_for(lambda: len(events) == 4, 5)
        assert events == ["+talk", "-talk", "+mute", "-mute"]
    finally:
        hotkeys.close()
        portal.close()


async def test_without_a_portal_the_settings_say_the_compositor_does_not_allow_it(session_bus):
    changes: list[str] = []
    hotkeys = PortalHotkeys(HotkeyRouter(lambda a: None, lambda a: None), lambda: changes.append("changed"))
    hotkeys.bind({"talk": "F8"})
    await wait_for(lambda: bool(changes), 10)
    assert not hotkeys.available() and hotkeys.status() == WAYLAND_NO_PORTAL
    assert "does not let apps use global shortcuts" in WAYLAND_NO_PORTAL
    hotkeys.close()
