"""Screenshots of window states from issue #16, taken from the real window under Xvfb.

The window is composed as ``make run`` composes it — the real AudioEngine on a private PipeWire
room (tests/plugins/pipewire.py), the offline demo's embedded server — and a synthesized voice speaks
into the room's microphone. Saved to ``docs/screenshots/``:

* ``vad-plot-speech-probability.png``: the turn-detection plot while the voice speaks, threshold 0.92;
* ``banner-too-short-tap.png``: a push-to-talk tap — the banner and the hint on the talk button;
* ``shortcuts-sheet.png``: the keyboard shortcuts sheet (F1);
* ``narrow-window.png``: the window at its narrowest, connected (the side panel stepped aside).

    xvfb-run -a -s "-screen 0 1280x860x24" .venv/bin/python docs/screenshots/window_states.py
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
OUT = ROOT / "docs" / "screenshots"


async def until(condition, timeout: float = 30.0) -> None:  # noqa: ANN001
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)
    await asyncio.wait_for(poll(), timeout)


async def shoot(room) -> None:  # noqa: ANN001
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    from desktop_app.audio.engine import AudioEngine
    from desktop_app.controller.states import Conn
    from desktop_app.local_server import LocalServer
    from desktop_app.settings.secrets import KeyStore
    from desktop_app.settings.store import SettingsStore
    from desktop_app.ui.bootstrap import build_window
    from desktop_app.ui.widgets.level_plot import SPEECH
    from tests.helpers.speech import speech_wav

    server = LocalServer(port=0, seed=7)
    await asyncio.to_thread(server.pool.warm_up)
    store = SettingsStore()
    store.update(active_profile="Local server", turn_mode="hands_free", vad_threshold=0.92)
    done = asyncio.Event()
    window = build_window(done.set, engine=AudioEngine(asyncio.get_running_loop()), store=store,
                          keys=KeyStore(environ={}), local_server=lambda: server, dark=False)
    window.resize(1240, 820)
    window.show()
    window.activateWindow()
    try:
        await window.session.open_conversation()
        await until(lambda: window.session.view.connection is Conn.CONNECTED)
        plot = window.vad_panel.plot
        await until(lambda: plot.quantity == SPEECH)
        talker = room.inject_wav(speech_wav("Hello! Could you tell me what two plus three is?", rate=48000))
        await until(lambda: max(list(plot.levels)[-40:]) > 0.92 and max(list(plot.levels)[-4:]) > 0.5)
        await asyncio.sleep(1.6)  # the sentence goes on: more of it on the curve
        window.grab().save(str(OUT / "vad-plot-speech-probability.png"))
        await asyncio.to_thread(talker.wait, 20)
        await until(lambda: window.indicators.phase == "Listening", 40)

        window.talk.push_to_talk.click()
        await asyncio.sleep(0.5)
        window.transcript.setFocus()
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(window.transcript, QKeyEvent(kind, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier, " "))
        await until(lambda: window.banner.isVisible())
        await asyncio.sleep(0.2)
        window.grab().save(str(OUT / "banner-too-short-tap.png"))

        sheet = window.open_shortcuts()
        await until(sheet.isVisible)
        await asyncio.sleep(0.3)
        sheet.grab().save(str(OUT / "shortcuts-sheet.png"))
        sheet.accept()

        window.talk.hands_free.click()
        window.session.dismiss_notice()
        window.resize(300, 760)  # clamped to the minimum
        await asyncio.sleep(0.5)
        window.grab().save(str(OUT / "narrow-window.png"))
        print(f"narrowest: {window.width()} px; side panel shown: {window.side.isVisible()}")
    finally:
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
    for name in sorted(OUT.glob("*.png")):
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
