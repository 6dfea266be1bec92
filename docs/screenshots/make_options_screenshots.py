"""Regenerate ``docs/screenshots/session-options.png`` and ``image-in-transcript.png`` (issue #20).

The real window with the offline demo, under Xvfb: the Session tab with the new options chosen
(reasoning effort, noise reduction, speed, gpt-live-transcribe with languages and keywords), then an
image sent into the conversation through the image path (prepare → ``input_image`` message) and the
demo's answer, with the thumbnail in the transcript.

The controller's ``send_image`` intent is the lead's to add; until then :func:`send_image` below does
exactly what that intent is specified to do (see the branch report), on the controller's own link.

    xvfb-run -a -s "-screen 0 1280x860x24" .venv/bin/python docs/screenshots/make_options_screenshots.py
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
QUESTION = "What is on this chart?"


def send_image(controller, data: bytes, mime: str, text: str) -> str | None:  # noqa: ANN001
    """The ``Controller.send_image`` intent as specified for the lead, on its link."""
    from desktop_app.realtime import commands

    link = controller.link
    if link is None or link.conn.closed:
        return None
    item_id = f"item_img_{os.urandom(6).hex()}"
    item = dict(commands.user_image_item(commands.image_data_url(data, mime), text=text or None), id=item_id)
    link.conn.create_item(item)
    if text:
        link.conn.create_response()
    link.flush()
    return item_id


def chart():  # noqa: ANN201 — a QImage
    """A small bar chart drawn with Qt, as a user might paste from a spreadsheet."""
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter

    image = QImage(960, 600, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setFont(QFont("DejaVu Sans", 26, QFont.Weight.Bold))
    p.setPen(QColor("#1d2230"))
    p.drawText(QRect(0, 20, 960, 50), Qt.AlignmentFlag.AlignCenter, "Weekly active users")
    p.setFont(QFont("DejaVu Sans", 18))
    values = [120, 180, 150, 240, 310, 280, 360]
    for i, (day, value) in enumerate(zip(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), values)):
        x = 90 + i * 120
        p.fillRect(x, 540 - value, 80, value, QColor("#4f46e5" if i != 6 else "#0d9488"))
        p.drawText(QRect(x, 548, 80, 40), Qt.AlignmentFlag.AlignCenter, day)
        p.drawText(QRect(x, 500 - value, 80, 36), Qt.AlignmentFlag.AlignCenter, str(value))
    p.setPen(QColor("#687083"))
    p.drawLine(70, 540, 920, 540)
    p.end()
    return image


async def shoot(out_dir: Path) -> None:
    from desktop_app.controller.ports import FilePort
    from desktop_app.local_server import LocalServer
    from desktop_app.settings.secrets import KeyStore
    from desktop_app.settings.store import SettingsStore
    from desktop_app.ui.bootstrap import build_window
    from desktop_app.ui.images import prepare_image

    server = LocalServer(port=0, seed=7)
    await asyncio.to_thread(server.pool.warm_up)
    store = SettingsStore()
    store.update(active_profile="Local server", turn_mode="push_to_talk", reasoning_effort="high",
                 noise_reduction="near_field", speed=1.15, transcription_languages=("en", "de"),
                 transcription_keywords=("Parley", "qasync"))
    silence = Path(os.environ["PARLEY_HOME"]) / "silence.wav"
    _write_silence(silence)
    done = asyncio.Event()
    window = build_window(done.set, store=store, keys=KeyStore(environ={}), make_audio=lambda _s: FilePort(silence),
                          local_server=lambda: server, dark=False)
    window.resize(WIDTH, HEIGHT)
    window.show()
    try:
        await window.session.open_conversation()
        window.open_side_panel(window.session_panel)
        await asyncio.sleep(0.3)
        window.grab().save(str(out_dir / "session-options.png"))
        prepared = prepare_image(chart())
        item_id = send_image(window.session.controller, prepared.data, prepared.mime, QUESTION)
        assert item_id is not None
        window.transcript.show_image(item_id, prepared.data)

        def answered() -> bool:
            entries = window.session.view.transcript
            return any(e.role == "assistant" and e.final and e.text for e in entries)

        for _ in range(600):
            if answered():
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        window.grab().save(str(out_dir / "image-in-transcript.png"))
        print(f"saved {out_dir}/session-options.png and image-in-transcript.png")
    finally:
        window.close()
        await window.shutdown()


def _write_silence(path: Path) -> None:
    import wave

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(24000)
        out.writeframes(b"\x00\x00" * 24000 * 30)


def main() -> int:
    import qasync
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([])
    qasync.run(shoot(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
