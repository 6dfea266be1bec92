"""Regenerate ``docs/screenshots/tool-call-permission.png`` and ``tool-call-transcript.png``.

The real window (``build_window``) talks hands-free to the embedded local server; the demo's own
synthesizer is the microphone. The first question needs two tools at once (the time in Tokyo, a
product), the second one a tool that asks first (a note). The first picture is taken while the
permission prompt is open over the window, the second once the spoken answer is in the transcript.
Nothing is staged: if the window or the brain changes, so do the pictures.

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python docs/screenshots/make_tool_call_screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ["PARLEY_HOME"] = tempfile.mkdtemp(prefix="parley-screenshot-")  # never the user's notes or settings

import numpy as np  # noqa: E402

QUESTIONS = (("What time is it in Tokyo, and what is 17 times 23?", 15.0), ("Note that I need milk.", 30.0))
WIDTH, HEIGHT = 1240, 820


def microphone_wav(path: Path) -> Path:
    from desktop_app.local_server.speech.tts import RATE, synthesize

    parts = [np.zeros(RATE * 3 // 10, np.int16)]
    for text, pause_s in QUESTIONS:
        pcm, _ = synthesize(text, "verse", "auto")
        parts += [pcm.astype(np.int16), np.zeros(int(RATE * pause_s), np.int16)]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(np.concatenate(parts).astype("<i2").tobytes())
    return path


async def until(predicate, timeout: float) -> None:  # noqa: ANN001
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.05)
    await asyncio.wait_for(poll(), timeout)


async def shoot(out: Path, dark: bool | None) -> None:
    from PySide6.QtGui import QGuiApplication

    from desktop_app.controller.ports import FilePort
    from desktop_app.local_server import LocalServer
    from desktop_app.settings.secrets import KeyStore
    from desktop_app.settings.store import SettingsStore
    from desktop_app.ui.bootstrap import build_window

    wav = microphone_wav(Path(os.environ["PARLEY_HOME"]) / "microphone.wav")
    server = LocalServer(port=0, seed=7)
    await asyncio.to_thread(server.pool.warm_up)
    store = SettingsStore()
    store.update(active_profile="Local server", turn_mode="hands_free")
    done = asyncio.Event()
    window = build_window(done.set, store=store, keys=KeyStore(environ={}), make_audio=lambda _s: FilePort(wav),
                          local_server=lambda: server, dark=dark)
    window.resize(WIDTH, HEIGHT)
    window.move(40, 30)
    window.show()
    window.tabs.setCurrentWidget(window.tools.tab)
    await window.session.open_conversation()
    try:
        await until(lambda: window.tools.approver.current is not None, 120)
        dialog = window.tools.approver.current
        await asyncio.sleep(2.5)  # the elapsed time ticks; the turn reads "Waiting for your permission…"
        frame = window.frameGeometry()  # the screen, not the window: the prompt is a window of its own
        screen = QGuiApplication.primaryScreen().grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
        screen.save(str(out / "tool-call-permission.png"))
        print(f"saved {out / 'tool-call-permission.png'}")
        dialog.once_button.click()

        def answered() -> bool:
            said = [e for e in window.session.view.transcript if e.role == "assistant" and e.final]
            return bool(said) and "note" in said[-1].text and not window.session.view.assistant_speaking
        await until(answered, 60)
        await asyncio.sleep(0.3)
        window.grab().save(str(out / "tool-call-transcript.png"))
        print(f"saved {out / 'tool-call-transcript.png'}")
    finally:
        window.close()
        await window.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description="Screenshots of tool calls in the real window.")
    parser.add_argument("out", nargs="?", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--dark", action="store_true", help="force the dark theme (default: the system's)")
    args = parser.parse_args()
    import qasync
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([])
    qasync.run(shoot(Path(args.out), True if args.dark else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
