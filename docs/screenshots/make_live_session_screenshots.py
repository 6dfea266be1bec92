"""Regenerate ``docs/screenshots/live-interrupted.png`` and ``live-usage.png``: GPT-Live in the real window.

The offline demo over GPT-Live, built by the app's own composition root with ``gpt-live-1``, an MCP server
configured and a recording as the microphone: a long answer stopped with the Interrupt button (the unheard
rest struck through; the Tools tab open, saying why the MCP server is not sent), then the next answer; then
the usage panel with the seconds billed.

    xvfb-run -a -s "-screen 0 1280x860x24" .venv/bin/python docs/screenshots/make_live_session_screenshots.py
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

WIDTH, HEIGHT = 1240, 820


async def until(predicate, timeout: float) -> None:  # noqa: ANN001
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the conversation did not get there")  # pragma: no cover


async def shoot(out: Path) -> None:
    from PySide6.QtCore import Qt

    from desktop_app.controller.ports import FilePort
    from desktop_app.local_server import LocalServer
    from desktop_app.settings.secrets import KeyStore
    from desktop_app.settings.store import SettingsStore
    from desktop_app.settings.tools import McpServerConfig
    from desktop_app.ui.bootstrap import build_window
    from tests.helpers.speech import read_wav, speech_wav

    server = LocalServer(port=0, seed=7, live_usage_s=5.0)
    await asyncio.to_thread(server.pool.warm_up)
    store = SettingsStore()
    store.update(active_profile="Local server", turn_mode="hands_free", model="gpt-live-1",
                 mcp_servers=(McpServerConfig(label="docs", url="https://mcp.example.com/mcp"),))
    port = FilePort(speech_wav("Tell me a long story."))
    done = asyncio.Event()
    window = build_window(done.set, store=store, keys=KeyStore(environ={}), make_audio=lambda _s: port,
                          local_server=lambda: server, dark=False)
    window.resize(WIDTH, HEIGHT)
    window.show()

    def entries():  # noqa: ANN202
        return window.session.view.transcript

    try:
        await window.session.open_conversation()
        window.fit.open_side_panel(window.tools.tab)
        await until(lambda: any(e.role == "assistant" and "lighthouse keeper" in e.text for e in entries()), 60)
        await asyncio.sleep(1.5)
        window.talk.interrupt.click()
        await until(lambda: any(e.role == "assistant" and e.truncated and e.final for e in entries()), 30)
        port.say(read_wav(speech_wav("What is two plus three?"))[0].tobytes())
        await until(lambda: any(e.role == "assistant" and "five" in e.text and e.final for e in entries()), 60)
        await until(lambda: window.session.view.usage_seconds > 0, 30)
        window.tools.tab.ensureWidgetVisible(window.tools.tab.mcp_list, 0, 120)  # the MCP section and its note
        await asyncio.sleep(0.5)
        window.grab().save(str(out / "live-interrupted.png"))
        observe = window.observe
        observe.toggle(observe.monitor_dock)
        window.resizeDocks([observe.monitor_dock], [560], Qt.Orientation.Horizontal)
        observe.tabs.setCurrentWidget(observe.usage)
        await asyncio.sleep(1.2)
        window.grab().save(str(out / "live-usage.png"))
        print(f"saved {out / 'live-interrupted.png'} and {out / 'live-usage.png'}")
    finally:
        window.close()
        await window.shutdown()


def main() -> int:
    import qasync
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([])
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    qasync.run(shoot(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
