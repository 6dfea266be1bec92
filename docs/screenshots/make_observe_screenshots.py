"""Regenerate ``docs/screenshots/event-log.png``, ``monitor.png`` and ``history.png``.

Real conversations, not staged data: the embedded local server answers spoken questions (its own
synthesizer is the microphone, hands-free), the controller talks to it with an
:class:`~desktop_app.observe.observatory.Observatory` as its frame observer, and a history database
in a temp folder records each conversation. One fault is injected (``error=…@response.created``)
so the error table shows what a server error looks like. The turn moments and pings are fed here
the way the controller and the transport will feed them once they are wired in.

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python docs/screenshots/make_observe_screenshots.py [OUT_DIR]
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

# The second conversation talks over the story on purpose: a barge-in, and an answer cut where heard.
CONVERSATIONS = (
    (("Hello! What can you do?", 9.0), ("What time is it?", 6.0)),
    (("What is two plus three?", 7.0), ("Tell me a long story.", 7.0), ("What is seven times six?", 7.0),
     ("Thank you, that was all.", 6.0)),
)


def microphone(questions) -> tuple[np.ndarray, int]:
    from desktop_app.local_server.speech.tts import RATE, synthesize

    parts = [np.zeros(RATE * 3 // 10, np.int16)]
    for text, pause_s in questions:
        pcm, _ = synthesize(text, "verse", "auto")
        parts += [pcm.astype(np.int16), np.zeros(int(RATE * pause_s), np.int16)]
    return np.concatenate(parts), RATE


async def converse(server, obs, history, questions, before_close=None) -> None:
    """One hands-free conversation through the real controller, observed and recorded."""
    from desktop_app.controller.controller import Controller
    from desktop_app.controller.ports import FilePort
    from desktop_app.controller.states import Conn, Turn
    from desktop_app.realtime.models import DEFAULT_MODEL
    from desktop_app.realtime.session_config import ServerVad, SessionConfig, Transcription

    obs.new_conversation()
    config = SessionConfig(model=DEFAULT_MODEL, transcription=Transcription(),
                           turn_detection=ServerVad(silence_duration_ms=500))
    recorder = history.begin(model=DEFAULT_MODEL, voice=config.voice, endpoint="Local server")
    obs.turns.on_turn = recorder.turn
    awaiting_play = [False]
    barging = [False]

    def tap(direction: str, text: str) -> None:  # the controller's moments, read off the frames here
        obs.frame_observer(direction, text)
        kind = obs.events.last(1)[0].type
        if barging[0] and not ctl.audio.is_playing:
            barging[0] = False
            obs.turns.silence()
        if kind == "input_audio_buffer.speech_started" and ctl.audio.is_playing:
            barging[0] = True
            obs.turns.barge_in()
        elif kind == "input_audio_buffer.speech_stopped":
            obs.turns.speech_stopped()
        elif kind == "response.output_audio.delta":
            if obs.turns.current is None or obs.turns.current.speech_to_first_byte_ms is None:
                awaiting_play[0] = True
            obs.turns.first_audio_delta()
        elif kind == "response.done":
            obs.turns.response_done()
            recorder.usage(obs.usage.snapshot())

    def played(_pcm: bytes) -> None:
        if awaiting_play[0]:
            awaiting_play[0] = False
            obs.turns.first_sample_played()

    def on_view(view) -> None:
        obs.monitor.state_changed(view.connection.value, view.connection_detail)
        obs.monitor.set_session_expiry(view.session_expires_at)
        recorder.transcript(view.transcript)

    async def target():
        return server.url, {}

    port = FilePort(microphone(questions), realtime=True, on_played=played)
    ctl = Controller(target=target, audio=port, config=config, frame_observer=tap, on_view=on_view,
                     endpoint_label="Local server")

    async def pings() -> None:  # what the transport's keepalive will report
        while True:
            await asyncio.sleep(1.0)
            link = ctl.link
            if link is not None and link.sock.is_open:
                waiter = await link.sock._conn.ping()
                obs.monitor.ping(await asyncio.wait_for(waiter, 5))

    pinger = asyncio.ensure_future(pings())
    await ctl.connect()
    await port.input_done
    while not (ctl.view.turn in (Turn.LISTENING, Turn.IDLE) and not ctl.audio.is_playing
               and ctl.link is not None and not ctl.link.conn.response_pending):
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.5)  # late transcriptions
    if before_close is not None:
        await before_close()
    pinger.cancel()
    obs.turns.finish()
    recorder.usage(obs.usage.snapshot())
    recorder.finish(ctl.transcript())
    await ctl.close()
    port.stop()
    obs.monitor.state_changed(Conn.CLOSED.value)


async def shoot(out: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QHBoxLayout, QSplitter, QWidget

    from desktop_app.history.service import History
    from desktop_app.local_server import LocalServer
    from desktop_app.observe.observatory import Observatory
    from desktop_app.realtime.models import DEFAULT_MODEL
    from desktop_app.ui import theme as themes
    from desktop_app.ui.observe.conversation_viewer import ConversationViewer
    from desktop_app.ui.observe.event_log_view import EventLogView
    from desktop_app.ui.observe.history_sidebar import HistorySidebar
    from desktop_app.ui.observe.monitor_panel import MonitorPanel
    from desktop_app.ui.observe.usage_panel import UsagePanel

    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance()
    theme = themes.apply(app, dark=False)
    home = Path(os.environ["PARLEY_HOME"])
    history = History(home / "history.sqlite3")
    await history.open()
    obs = Observatory(model=DEFAULT_MODEL, spill_dir=home / "spill", ledger=history,
                      schedule=asyncio.get_running_loop().call_soon)
    server = LocalServer(port=0, seed=7, faults="error=invalid_value@response.created")
    await asyncio.to_thread(server.pool.warm_up)
    await server.start()

    async def save(widget: QWidget, name: str) -> None:
        widget.show()
        for _ in range(3):  # let the loop lay out and paint (processEvents here would re-enter the loop)
            await asyncio.sleep(0.05)
        if not widget.grab().save(str(out / name)):
            raise OSError(f"could not write {out / name}")
        print(f"saved {out / name} ({widget.width()}x{widget.height()})")

    async def live_shots() -> None:  # while the last conversation is still connected
        log_view = EventLogView(obs.events, theme)
        log_view.resize(1180, 760)
        log_view.show()
        log_view.poll()
        done = [i for i, r in enumerate(log_view.model.rows) if r.type == "response.done"]
        log_view.table.selectRow(done[-1])
        log_view.table.scrollTo(log_view.model.index(max(0, done[-1] - 12), 0),
                                log_view.table.ScrollHint.PositionAtTop)
        event = log_view.detail.topLevelItem(2)
        response = next(event.child(i) for i in range(event.childCount()) if event.child(i).text(0) == "response")
        for i in range(response.childCount()):
            response.child(i).setExpanded(response.child(i).text(0) == "usage")
        await save(log_view, "event-log.png")
        panels = QWidget()
        row = QHBoxLayout(panels)
        row.setContentsMargins(0, 0, 0, 0)
        monitor = MonitorPanel(obs.monitor, obs.errors, theme, obs.diagnostic_text, obs.diagnostic_zip)
        usage = UsagePanel(obs.usage, obs.spend, theme)
        row.addWidget(monitor, 3)
        row.addWidget(usage, 2)
        panels.resize(1180, 820)
        await save(panels, "monitor.png")
        log_view.hide()
        panels.hide()

    try:
        for n, questions in enumerate(CONVERSATIONS):
            last = n == len(CONVERSATIONS) - 1
            await converse(server, obs, history, questions, live_shots if last else None)
    finally:
        await server.stop()
    await history.flush()

    split = QSplitter()
    sidebar = HistorySidebar(history, theme, split)
    await sidebar.reload()
    conversations = await history.conversations()
    sidebar.select(conversations[0].id)
    viewer = ConversationViewer(await history.load(conversations[0].id), theme)
    viewer.setWindowFlags(Qt.WindowType.Widget)
    split.addWidget(viewer)
    split.setSizes([340, 820])
    split.resize(1160, 720)
    await save(split, "history.png")
    print(json.dumps({"events": obs.events.last_seq, "conversations": len(conversations),
                      "errors": [g.code for g in obs.errors.groups()]}))
    obs.close()
    await history.close()


def main() -> int:
    parser = argparse.ArgumentParser(description="Screenshots of the event log, monitor and history.")
    parser.add_argument("out", nargs="?", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    import qasync
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([])
    qasync.run(shoot(Path(args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
