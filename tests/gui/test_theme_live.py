"""Light/dark follows the desktop while Parley runs: the palette changes and the window is rebuilt
in the new colours with the same conversation, place and visibility."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from desktop_app.settings.secrets import KeyStore
from desktop_app.settings.store import SettingsStore
from desktop_app.ui.bootstrap import build_window, current_window
from desktop_app.ui.desktop import DesktopShell
from desktop_app.ui.theme import DARK, LIGHT
from desktop_app.ui.theme_follow import ThemeFollower
from tests.controller.peer import ScriptedPeer
from tests.gui.harness import MemoryKeyring, PeerServer, merged, wait_until
from tests.realtime import frames as F

pytestmark = pytest.mark.gui


async def test_a_scheme_change_rebuilds_the_window_in_the_new_colours(qloop, qtbot, tmp_path):
    app = QApplication.instance()
    hints = app.styleHints()
    async with ScriptedPeer() as peer:
        store = SettingsStore(tmp_path / "settings.ini")
        store.update(active_profile="Local server")
        quit_requested = asyncio.Event()
        first = build_window(quit_requested.set, store=store, keys=KeyStore(MemoryKeyring(), environ={}),
                             local_server=lambda: PeerServer(peer))  # dark=None: follow the system
        follower = first.session.findChild(ThemeFollower)
        assert follower is not None and not first.theme.dark
        first.show()
        try:
            first.bar.connect_button.click()
            await peer.connected()
            await peer.send(F.session_created())
            update = await peer.next("session.update")
            await peer.send(F.session_updated(merged(F.session_obj(), update["session"])))
            await wait_until(lambda: first.session.view.connection.value == "connected")
            await peer.send(F.item_added(F.user_text_item("item_U1", "Hello there")))
            await wait_until(lambda: first.transcript.bubble("item_U1") is not None)

            # What the platform theme does when the desktop switches (offscreen has no desktop to ask).
            hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
            await wait_until(lambda: follower.window is not first)
            window = current_window(first)
            assert window.theme is DARK and window.isVisible()
            assert app.palette().color(QPalette.ColorRole.Window).name() == DARK.window
            assert window.session is first.session and window.session.view.connection.value == "connected"
            await wait_until(lambda: window.transcript.bubble("item_U1") is not None)  # the same conversation
            assert window.findChild(DesktopShell) is not None
            appended = len(peer.all_frames)
            window.talk.text.setText("still there?")
            window.talk.send.click()
            await wait_until(lambda: len(peer.all_frames) > appended)  # the new window talks to the same session

            hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
            await wait_until(lambda: current_window(first).theme is LIGHT)
            assert app.palette().color(QPalette.ColorRole.Window).name() == LIGHT.window
        finally:
            final = current_window(first)
            follower.stop()
            await final.shutdown()
