"""Regenerate ``docs/screenshots/main-window.png``: the real window mid-conversation with the demo.

``make screenshot`` runs this under Xvfb. The embedded local server answers, a synthesized voice is
the microphone (hands-free), and the picture is taken while the assistant is telling its story, so
the conversation, the speaking indicators and the live VAD plot all show what they show in use.
Nothing is staged by hand: if the window changes, so does the picture.

    xvfb-run -a -s "-screen 0 1280x860x24" .venv/bin/python docs/screenshots/make_screenshot.py [OUT.png] [--dark]
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
os.environ["PARLEY_HOME"] = tempfile.mkdtemp(prefix="parley-screenshot-")  # never the user's settings

import numpy as np  # noqa: E402

QUESTIONS = (("Hello! What can you do?", 6.0), ("What is two plus three?", 3.5), ("Tell me a long story.", 12.0))
WIDTH, HEIGHT = 1240, 820


def microphone_wav(path: Path) -> Path:
    """The questions spoken by the demo's own synthesizer, with room for the answers between them."""
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


async def shoot(out: Path, dark: bool | None) -> None:
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
    window.show()
    await window.session.open_conversation()

    def story_under_way() -> bool:
        view = window.session.view
        answers = [e for e in view.transcript if e.role == "assistant"]
        story = answers[-1].text if answers else ""
        return story.startswith("Once upon") and len(story) > 90 and view.assistant_speaking

    async def wait() -> None:
        while not story_under_way():
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(wait(), 90)
        await asyncio.sleep(0.1)  # one more render of the meters
        window.grab().save(str(out))
        print(f"saved {out} ({window.width()}x{window.height()})")
    finally:
        window.close()
        await window.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description="Screenshot of the main window mid-conversation.")
    parser.add_argument("out", nargs="?", default=str(ROOT / "docs" / "screenshots" / "main-window.png"))
    parser.add_argument("--dark", action="store_true", help="force the dark theme (default: the system's)")
    args = parser.parse_args()
    import qasync
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([])
    qasync.run(shoot(Path(args.out), True if args.dark else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
