"""Screenshots for issue #22 from the real window under Xvfb: the tray menu, the mini window during a
spoken answer, the Desktop tab (global hotkeys on X11, close-to-tray, the voice pack) and the tray
icon's states. Composed as ``make run`` composes it: the real AudioEngine on a private PipeWire room,
the offline demo's embedded server, a synthesized voice speaking into the room's microphone.

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python docs/screenshots/make_desktop_screenshots.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ["PARLEY_HOME"] = tempfile.mkdtemp(prefix="parley-screenshot-")  # never the user's settings
os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
OUT = ROOT / "docs" / "screenshots"


async def until(condition, timeout: float = 30.0) -> None:  # noqa: ANN001
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)
    await asyncio.wait_for(poll(), timeout)


def tray_icons_strip(theme) -> None:  # noqa: ANN001
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter

    from desktop_app.ui.tray import BADGES, state_icon

    states = list(BADGES)
    image = QImage(120 * len(states), 120, QImage.Format.Format_ARGB32)
    image.fill(QColor(theme.window))
    painter = QPainter(image)
    painter.setFont(QFont("DejaVu Sans", 9))
    painter.setPen(QColor(theme.text))
    for i, state in enumerate(states):
        painter.drawPixmap(120 * i + 28, 10, state_icon(theme, state).pixmap(64, 64))
        painter.drawText(QRect(120 * i, 82, 120, 30), Qt.AlignmentFlag.AlignCenter, state)
    painter.end()
    image.save(str(OUT / "tray-icon-states.png"))


async def shoot(room) -> None:  # noqa: ANN001
    from PySide6.QtCore import QPoint

    from desktop_app.audio.engine import AudioEngine
    from desktop_app.controller.states import Conn
    from desktop_app.local_server import LocalServer
    from desktop_app.settings.secrets import KeyStore
    from desktop_app.settings.store import SettingsStore
    from desktop_app.ui.bootstrap import build_window
    from desktop_app.ui.desktop import DesktopShell
    from tests.helpers.speech import speech_wav

    server = LocalServer(port=0, seed=7)
    await asyncio.to_thread(server.pool.warm_up)
    store = SettingsStore()
    store.update(active_profile="Local server", turn_mode="hands_free", hotkey_talk="F8", hotkey_mute="Ctrl+Alt+M")
    done = asyncio.Event()
    window = build_window(done.set, engine=AudioEngine(asyncio.get_running_loop()), store=store,
                          keys=KeyStore(environ={}), local_server=lambda: server, dark=False)
    shell = window.findChild(DesktopShell)
    assert shell is not None
    window.resize(1240, 820)
    window.show()
    try:
        tray_icons_strip(window.theme)
        await window.session.open_conversation()
        await until(lambda: window.session.view.connection is Conn.CONNECTED)
        window.tabs.setCurrentWidget(shell.panel)
        await asyncio.sleep(0.5)
        window.grab().save(str(OUT / "desktop-tab.png"))

        shell.show_mini()
        mini = shell.mini
        mini.move(40, 40)
        talker = room.inject_wav(speech_wav("Hello! Could you tell me what two plus three is?", rate=48000))
        await asyncio.to_thread(talker.wait, 20)
        await until(lambda: shell.tray.state == "speaking", 40)
        await asyncio.sleep(1.2)
        mini.grab().save(str(OUT / "mini-window.png"))
        print("mini window:", mini.state.text(), "|", mini.you.text(), "|", mini.assistant.text())

        await until(lambda: shell.tray.state == "listening", 40)
        shell.tray.menu.popup(QPoint(600, 300))
        await until(shell.tray.menu.isVisible)
        await asyncio.sleep(0.4)
        shell.tray.menu.grab().save(str(OUT / "tray-menu.png"))
        shell.tray.menu.hide()
    finally:
        shell.bring_to_front()
        window.close()
        await window.shutdown()


def main() -> int:
    import qasync
    from PySide6.QtWidgets import QApplication

    from tests.plugins.pipewire import PipeWireSession

    room = PipeWireSession()
    room.start()
    try:
        QApplication.instance() or QApplication([])
        qasync.run(shoot(room))
    finally:
        room.stop()
    for name in ("tray-menu.png", "mini-window.png", "desktop-tab.png", "tray-icon-states.png"):
        print(OUT / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
