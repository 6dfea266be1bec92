"""Regenerate ``docs/screenshots/event-log.png``, ``monitor.png``, ``usage.png``, ``history.png`` and
``history-search.png`` from the real window.

The window is composed as ``make run`` composes it (``ui/bootstrap.build_window``: settings, the
observatory and the history, the session, the offline demo's embedded server), except that the
microphone is a WAV of synthesized questions (a ``FilePort``), so no sound device is needed. Two
real conversations, hands-free: the first is cleared (it stays in the history), the second talks over
the story on purpose (a barge-in, an answer cut where it was heard). One fault is injected
(``error=…@response.created``) so the error table shows what a server error looks like. Everything
on screen — pings, turn timings, usage, the saved conversations — comes from the running app.

    xvfb-run -a -s "-screen 0 1600x1100x24" .venv/bin/python docs/screenshots/make_observe_screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ["PARLEY_HOME"] = tempfile.mkdtemp(prefix="parley-screenshot-")  # never the user's data

import numpy as np  # noqa: E402

FIRST = (("Hello! What can you do?", 9.0), ("What time is it?", 6.0))
SECOND = (("What is two plus three?", 7.0), ("Tell me a long story.", 7.0), ("What is seven times six?", 7.0),
          ("Thank you, that was all.", 6.0))


def speech(questions) -> np.ndarray:  # noqa: ANN001
    from desktop_app.local_server.speech.tts import RATE, synthesize

    assert RATE == 24000
    parts = [np.zeros(RATE * 3 // 10, np.int16)]
    for text, pause_s in questions:
        pcm, _ = synthesize(text, "verse", "auto")
        parts += [pcm.astype(np.int16), np.zeros(int(RATE * pause_s), np.int16)]
    return np.concatenate(parts)


def first_bytes(records) -> list[float]:  # noqa: ANN001
    """speech_stopped → the next audio delta, from the event log's own receive times (a cross-check)."""
    found, stopped = [], None
    for record in records:
        if record.type == "input_audio_buffer.speech_stopped":
            stopped = record.t
        elif record.type == "response.output_audio.delta" and stopped is not None:
            found.append(round((record.t - stopped) * 1000))
            stopped = None
    return found


async def until(condition, timeout: float = 60.0) -> None:  # noqa: ANN001
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.05)
    await asyncio.wait_for(poll(), timeout)


async def settle(window) -> None:  # noqa: ANN001
    """Wait until the conversation is between turns with nothing playing, then a little longer."""
    session = window.session
    await until(lambda: session.controller.settled, 90)
    await asyncio.sleep(1.5)  # late transcriptions
    await until(lambda: session.controller.settled, 30)


async def shoot(out: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop_app.controller.ports import FilePort
    from desktop_app.controller.states import Conn
    from desktop_app.local_server import LocalServer
    from desktop_app.settings.secrets import KeyStore
    from desktop_app.settings.store import SettingsStore
    from desktop_app.ui.bootstrap import build_window

    out.mkdir(parents=True, exist_ok=True)
    server = LocalServer(port=0, seed=7, faults="error=invalid_value@response.created")
    await asyncio.to_thread(server.pool.warm_up)
    store = SettingsStore()
    store.update(active_profile="Local server", turn_mode="hands_free", vad_silence_duration_ms=500)
    ports: list[FilePort] = []

    def make_audio(_settings):  # noqa: ANN001, ANN202
        ports.append(FilePort((speech(FIRST), 24000)))
        return ports[-1]

    done = asyncio.Event()
    window = build_window(done.set, store=store, keys=KeyStore(environ={}), make_audio=make_audio,
                          local_server=lambda: server, dark=False)
    window.resize(1460, 1000)
    window.show()
    observe = window.observe
    session = window.session

    async def save(name: str) -> None:
        for _ in range(4):  # let the loop lay out and paint (processEvents here would re-enter the loop)
            await asyncio.sleep(0.05)
        if not window.grab().save(str(out / name)):
            raise OSError(f"could not write {out / name}")
        print(f"saved {out / name} ({window.width()}x{window.height()})")

    try:
        # 1. A first conversation, then "new conversation": it stays in the history.
        await session.open_conversation()
        await until(lambda: session.view.connection is Conn.CONNECTED)
        await until(lambda: ports[-1].input_done.done(), 90)
        await settle(window)
        box = window.dialogs.ask_new_conversation()
        box.button(QMessageBox.StandardButton.Yes).click()
        await until(lambda: session.view.transcript == () and session.view.connection is Conn.CONNECTED, 30)
        # 2. The second conversation, spoken into the same microphone; the story is interrupted.
        ports[-1].say(speech(SECOND).tobytes())
        await until(lambda: len([e for e in session.view.transcript if e.role == "user" and e.final]) >= 4, 120)
        await settle(window)

        # The event log, a response.done selected with its usage unfolded.
        observe.toggle(observe.event_log)
        window.resizeDocks([observe.event_log], [540], Qt.Orientation.Vertical)
        view = observe.event_log.view
        view.poll()
        done_rows = [i for i, r in enumerate(view.model.rows) if r.type == "response.done"]
        view.table.selectRow(done_rows[-1])
        view.table.scrollTo(view.model.index(done_rows[-1], 0), view.table.ScrollHint.PositionAtCenter)
        event = view.detail.topLevelItem(2)
        response = next(event.child(i) for i in range(event.childCount()) if event.child(i).text(0) == "response")
        for i in range(response.childCount()):
            response.child(i).setExpanded(response.child(i).text(0) == "usage")
        await save("event-log.png")
        observe.toggle(observe.event_log)

        # The connection monitor, then the usage, in their dock.
        observe.toggle(observe.monitor_dock)
        window.resizeDocks([observe.monitor_dock], [560], Qt.Orientation.Horizontal)
        observe.tabs.setCurrentWidget(observe.monitor)
        await until(lambda: observe.monitor.values["first_byte"].text() != "—", 10)
        await save("monitor.png")
        observe.tabs.setCurrentWidget(observe.usage)
        await save("usage.png")
        observe.toggle(observe.monitor_dock)

        # The history: both conversations, the first one open read-only beside the window.
        await observe.conversations.history.flush()
        observe.toggle(observe.history_dock)
        window.resizeDocks([observe.history_dock], [340], Qt.Orientation.Horizontal)
        sidebar = observe.history
        await sidebar.reload()
        conversations = await observe.conversations.history.conversations()
        sidebar.select(conversations[-1].id)
        await save("history.png")
        sidebar.search.setText("seven")
        await sidebar.reload()
        await save("history-search.png")
        obs = observe.conversations.observatory
        print(json.dumps({"events": obs.events.last_seq, "conversations": len(conversations),
                          "pings_ms": [p.rtt_ms for p in obs.monitor.snapshot().pings],
                          "turns": [(t.speech_to_first_byte_ms, t.first_byte_to_playback_ms, t.barge_in_to_silence_ms)
                                    for t in obs.turns.turns],
                          "log_first_byte_ms": first_bytes(obs.events.records()),
                          "errors": [g.code for g in obs.errors.groups()]}, default=round))
    finally:
        window.close()
        await asyncio.wait_for(done.wait(), 5)
        await window.shutdown()
        QApplication.instance().processEvents()


def main() -> int:
    parser = argparse.ArgumentParser(description="Screenshots of the event log, monitor, usage and history.")
    parser.add_argument("out", nargs="?", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    import qasync
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([])
    qasync.run(shoot(Path(args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
