"""Regenerate ``docs/screenshots/live-conversation.png``: a GPT-Live conversation in the real window.

The offline demo speaks GPT-Live too (``/v1/live/sessions``); the window is built by the app's own
composition root with the model set to ``gpt-live-1`` and a recording as the microphone: a sum the
backend hands to the calculator tool, a long answer talked over (it stops), and the next answer. The side panel shows the
turn-detection page, which says it has no Live meaning; the header shows the seconds billed.

    xvfb-run -a -s "-screen 0 1280x860x24" .venv/bin/python docs/screenshots/make_live_screenshot.py
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
    from desktop_app.controller.ports import FilePort
    from desktop_app.local_server import LocalServer
    from desktop_app.settings.secrets import KeyStore
    from desktop_app.settings.store import SettingsStore
    from desktop_app.ui.bootstrap import build_window
    from tests.helpers.speech import read_wav, speech_wav

    server = LocalServer(port=0, seed=7, live_usage_s=5.0)
    await asyncio.to_thread(server.pool.warm_up)
    store = SettingsStore()
    store.update(active_profile="Local server", turn_mode="hands_free", model="gpt-live-1")
    port = FilePort(speech_wav("What is two plus three?"))
    done = asyncio.Event()
    window = build_window(done.set, store=store, keys=KeyStore(environ={}), make_audio=lambda _s: port,
                          local_server=lambda: server, dark=False)
    window.resize(WIDTH, HEIGHT)
    window.show()

    def assistant_said(text: str) -> bool:
        return any(e.role == "assistant" and text in e.text for e in window.session.view.transcript)

    try:
        await window.session.open_conversation()
        window.fit.open_side_panel(window.vad_panel)
        await until(lambda: assistant_said("five"), 60)
        port.say(read_wav(speech_wav("Tell me a long story."))[0].tobytes())
        await until(lambda: assistant_said("lighthouse keeper"), 60)
        port.say(read_wav(speech_wav("What time is it?"))[0].tobytes())

        def answered_last() -> bool:  # the tool's result is spoken after it ran
            entries = window.session.view.transcript
            ran = [i for i, e in enumerate(entries) if e.role == "tool" and e.tool_status == "done"]
            return len(ran) >= 2 and any(e.role == "assistant" and e.final for e in entries[ran[-1] + 1:])
        await until(answered_last, 60)
        await until(lambda: window.session.view.usage_seconds > 0, 30)
        await asyncio.sleep(0.5)
        window.grab().save(str(out))
        print(f"saved {out}")
    finally:
        window.close()
        await window.shutdown()


def main() -> int:
    import qasync
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([])
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots" / "live-conversation.png"
    qasync.run(shoot(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
