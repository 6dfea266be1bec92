"""Run by test_window_place.py in a subprocess with a two- or one-screen offscreen platform:
``place`` puts the window (and the mini window) somewhere and shuts down; ``show`` prints where the
next start puts them."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication

from desktop_app.settings.secrets import KeyStore
from desktop_app.settings.store import SettingsStore
from desktop_app.ui.bootstrap import build_window
from desktop_app.ui.desktop import DesktopShell
from tests.gui.harness import MemoryKeyring


async def main(mode: str, settings: Path) -> None:
    store = SettingsStore(settings)
    window = build_window(lambda: None, store=store, keys=KeyStore(MemoryKeyring(), environ={}), dark=False)
    shell = window.findChild(DesktopShell)
    assert shell is not None
    window.show()
    await asyncio.sleep(0.1)
    if mode == "place":
        window.resize(1000, 700)
        window.move(1500, 120)
        shell.show_mini()
        shell.mini.move(2900, 40)
        await asyncio.sleep(0.1)
        shell.bring_to_front()
        await asyncio.sleep(0.1)
        shell.show_mini()
        await asyncio.sleep(0.1)
        shell.mini.close()  # remembered where it was
        shell.bring_to_front()
        await asyncio.sleep(0.1)
    else:
        shell.show_mini()
        await asyncio.sleep(0.1)
        print("mini", shell.mini.screen().name(), shell.mini.x(), shell.mini.y())
        shell.bring_to_front()
        await asyncio.sleep(0.1)
    g = window.geometry()
    print("window", window.screen().name(), g.x(), g.y(), g.width(), g.height(), flush=True)
    await window.shutdown()


if __name__ == "__main__":
    QApplication.instance() or QApplication(sys.argv[:1])
    qasync.run(main(sys.argv[1], Path(sys.argv[2])))
