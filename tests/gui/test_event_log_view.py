"""The event log window: nothing happens while it is closed, then filter, pause, follow, the JSON
view, copy and export work on what the log holds."""

from __future__ import annotations

import asyncio
import json

import pytest
from PySide6.QtGui import QGuiApplication

from desktop_app.observe.event_log import EventLog
from desktop_app.ui.observe.event_log_view import ALL_TYPES, EventLogDock, EventLogView
from desktop_app.ui.theme import LIGHT
from tests.realtime import frames as F


def fill(log: EventLog, n: int = 10) -> None:
    for i in range(n):
        log.append("sent", json.dumps({"type": "input_audio_buffer.append", "audio": F.pcm_b64(50)}))
        log.append("received", json.dumps(F.transcript_delta("resp_1", "item_A", f"word{i} ")))
    log.append("received", json.dumps(F.error("invalid_value", "bad voice")))


@pytest.fixture
def view(qtbot, tmp_path):
    log = EventLog(tmp_path / "spill")
    widget = EventLogView(log, LIGHT)
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    yield widget
    log.close()


def test_a_closed_view_does_no_work_per_event(view, qtbot):
    fill(view.log)
    assert not view.polling and view.model.rows == []  # nothing pulled while hidden
    view.show()
    qtbot.waitExposed(view)
    assert view.polling and len(view.model.rows) == 21
    view.hide()
    assert not view.polling
    fill(view.log, 2)
    assert len(view.model.rows) == 21


def test_new_events_arrive_on_the_timer_while_shown(view, qtbot):
    view.show()
    fill(view.log, 1)
    qtbot.waitUntil(lambda: len(view.model.rows) == 3, timeout=3000)
    assert view.model.data(view.model.index(0, 3)) == "2,400 bytes · 50 ms"
    assert view.model.data(view.model.index(1, 2)) == "response.output_audio_transcript.delta"
    assert "3 shown of 3 events" in view.status.text()


def test_filters_by_type_direction_and_text(view, qtbot):
    fill(view.log)
    view.show()
    assert view.type_box.findText("error") > 0 and view.type_box.itemText(0) == ALL_TYPES
    view.type_box.setCurrentText("error")
    assert [r.type for r in view.model.rows] == ["error"]
    view.type_box.setCurrentIndex(0)
    view.direction_box.setCurrentIndex(1)  # sent
    assert {r.direction for r in view.model.rows} == {"sent"} and len(view.model.rows) == 10
    view.direction_box.setCurrentIndex(0)
    view.search.setText("WORD7")
    assert [r.event()["delta"] for r in view.model.rows] == ["word7 "]
    view.search.clear()
    assert len(view.model.rows) == 21


def test_pause_holds_the_view_and_resume_catches_up(view, qtbot):
    view.show()
    fill(view.log, 1)
    view.poll()
    view.pause.setChecked(True)
    assert not view.polling
    fill(view.log, 2)
    view.poll()
    assert len(view.model.rows) == 3
    view.pause.setChecked(False)
    assert len(view.model.rows) == 8 and view.polling


def test_selecting_shows_the_json_and_copy_puts_one_event_on_the_clipboard(view, qtbot):
    fill(view.log, 2)
    view.show()
    view.table.selectRow(4)  # the error
    assert not view.follow.isChecked()  # choosing a row stops the jumping
    top = {view.detail.topLevelItem(i).text(0): view.detail.topLevelItem(i) for i in range(3)}
    assert sorted(top) == ["dir", "event", "t"] and top["dir"].text(1) == '"received"'
    event = top["event"]
    fields = {event.child(i).text(0): event.child(i) for i in range(event.childCount())}
    assert fields["type"].text(1) == '"error"' and fields["error"].childCount() == 5
    assert event.isExpanded()
    text = view.copy_selected()
    assert QGuiApplication.clipboard().text() == text
    copied = json.loads(text)
    assert copied["dir"] == "received" and copied["event"]["error"]["message"] == "bad voice"


def test_rows_beyond_the_ring_are_trimmed_and_follow_keeps_the_newest_in_view(qtbot, tmp_path):
    log = EventLog(None, capacity=50)
    view = EventLogView(log, LIGHT)
    qtbot.addWidget(view)
    view.resize(700, 300)
    view.show()
    qtbot.waitExposed(view)
    for _ in range(5):
        fill(log, 10)
        view.poll()
    assert len(view.model.rows) == 50 and view.model.rows[-1].seq == log.last_seq
    bar = view.table.verticalScrollBar()
    assert bar.value() == bar.maximum() > 0
    assert "the oldest 55 are on disk" in view.status.text()


async def test_export_writes_the_whole_session(qtbot, qloop, tmp_path):
    log = EventLog(tmp_path / "spill", capacity=20)
    view = EventLogView(log, LIGHT)
    qtbot.addWidget(view)
    fill(log, 30)
    done = []
    view.exported.connect(done.append)
    await view.export_to(tmp_path / "out.jsonl")
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == 61 and json.loads(lines[0])["event"]["audio"] == "<audio 2400 bytes, 50 ms>"
    assert done == [f"Exported 61 events to {tmp_path / 'out.jsonl'}."]
    await asyncio.to_thread(log.close)


def test_the_dock_starts_hidden(qtbot, tmp_path):
    dock = EventLogDock(EventLog(None), LIGHT)
    qtbot.addWidget(dock)
    assert dock.isHidden() and dock.windowTitle() == "Event log" and not dock.view.polling


def test_summaries_say_what_each_event_is_in_one_line():
    from desktop_app.ui.observe.event_log_view import summary_of

    log = EventLog(None)
    rows = [log.append("received", json.dumps(frame))[0] for frame in (
        F.audio_delta("resp_1", "item_A", ms=100), F.error("invalid_value", "Invalid value: 'robot'."),
        F.response_done("resp_9"), F.transcript_delta("resp_1", "item_A", "Hello there"),
        F.speech_started("item_U", 1200))]
    assert [summary_of(r) for r in rows] == [
        "item_A · 4,800 bytes · 100 ms",
        "invalid_value: Invalid value: 'robot'.",
        "resp_9 · completed · 320 tokens (132 in, 188 out)",
        'item_A · "Hello there"',
        "audio_start_ms: 1200 · item_id: item_U",
    ]
