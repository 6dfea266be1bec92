"""The monitor and usage panels draw what the models hold, only while shown; copy diagnostics;
the spend limits and the stop question over a scripted usage stream."""

from __future__ import annotations

import asyncio
import json

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog

from desktop_app.log import register_secret
from desktop_app.observe.observatory import Observatory
from desktop_app.observe.spend import Level, SpendLimits
from desktop_app.transport.base import TransportStats
from desktop_app.ui.observe.monitor_panel import MonitorPanel
from desktop_app.ui.observe.usage_panel import SpendStopDialog, UsagePanel
from desktop_app.ui.theme import LIGHT
from tests.helpers.wait import wait_until
from tests.realtime import frames as F

CAPTURE_USD = 10941.6 / 1e6  # the §4.6 usage on gpt-realtime-2.1, see tests/observe/test_usage_and_spend.py


def feed(obs: Observatory, *frames) -> None:
    for direction, frame in frames:
        obs.frame_observer(direction, json.dumps(frame))


@pytest.fixture
def obs():
    return Observatory(model="gpt-realtime-2.1")


def test_the_monitor_panel_shows_the_live_figures(qtbot, obs):
    clock = [1000.0]
    obs.monitor._clock = lambda: clock[0]
    obs.monitor.state_changed("connecting")
    obs.monitor.state_changed("connected")
    obs.monitor.set_session_expiry(1000.0 + 1800)
    for rtt in (0.031, 0.045, None, 0.052):
        obs.monitor.ping(rtt)
    feed(obs, ("sent", {"type": "input_audio_buffer.append", "audio": F.pcm_b64(1000)}),
         ("received", F.audio_delta("r", "i", ms=2000)), ("received", F.error("rate_limit_exceeded", "slow down")))
    obs.turns.speech_stopped(at=10.0)
    obs.turns.first_audio_delta(at=10.42)
    obs.turns.first_sample_played(at=10.48)
    obs.turns.response_done(at=11.9)
    panel = MonitorPanel(obs.monitor, obs.errors, LIGHT, obs.diagnostic_text)
    qtbot.addWidget(panel)
    assert not panel.polling and panel.values["ping"].text() == "—"  # nothing drawn while hidden
    panel.show()
    assert panel.polling and panel.state.text() == "Connected"
    v = {k: w.text() for k, w in panel.values.items()}
    assert v["ping"] == "52 ms · 45 ms" and v["lost"] == "1"
    assert v["sent"].endswith("1.0 s audio") and v["received"].endswith("2.0 s audio")
    assert v["left"] == "30:00" and v["first_byte"] == "420 ms · 420 ms" and v["playback"] == "60 ms · 60 ms"
    assert v["total"] == "1.90 s · 1.90 s" and v["turns"] == "1"
    assert panel.ping_spark.values == (31.0, 45.0, None, 52.0)
    assert panel.history.count() == 2 and "connected" in panel.history.item(0).text()
    assert panel.error_table.rowCount() == 1 and panel.error_table.item(0, 0).text() == "rate_limit_exceeded"
    panel.hide()
    assert not panel.polling


def _shown(panel: MonitorPanel) -> dict[str, str]:
    """The connection rows a person sees: label → value."""
    return {panel.labels[k].text(): panel.values[k].text() for k in panel.labels
            if panel.labels[k].isVisibleTo(panel) and panel.values[k].isVisibleTo(panel)}


def test_a_webrtc_call_shows_jitter_loss_and_bitrate_beside_the_round_trip(qtbot, obs):
    obs.monitor.state_changed("connected")
    sample = TransportStats(kind="webrtc", rtt_ms=41.0, jitter_ms=3.5, packets_received=950, packets_lost=50,
                            packets_sent=1000, packets_lost_sent=20, bitrate_in_kbps=33.4, bitrate_out_kbps=30.6)
    obs.link_stats(sample)  # what the controller's metrics tap hands over every few seconds
    obs.ping(sample.rtt_ms / 1000.0)
    panel = MonitorPanel(obs.monitor, obs.errors, LIGHT, obs.diagnostic_text)
    qtbot.addWidget(panel)
    panel.show()
    rows = _shown(panel)
    assert rows["Round trip (last · median)"] == "41 ms · 41 ms"
    assert rows["Jitter (received)"] == "3.5 ms"
    assert rows["Packet loss (in · out)"] == "5.0 % (50) · 2.0 % (20)"
    assert rows["Bitrate (in · out)"] == "33 kbit/s · 31 kbit/s"
    assert "Pings unanswered" not in rows and "Ping (last · median)" not in rows  # no pings over WebRTC
    obs.link_stats(TransportStats(kind="webrtc", rtt_ms=40.0, jitter_ms=4.0, packets_received=1900, packets_lost=100,
                            packets_sent=2000, packets_lost_sent=20, bitrate_in_kbps=32.0, bitrate_out_kbps=30.0))
    panel.refresh()  # the next sample
    assert _shown(panel)["Packet loss (in · out)"] == "5.0 % (100) · 1.0 % (20)"
    assert '"packets_lost": 100' in obs.diagnostic_text()  # and in a bug report


def test_a_websocket_shows_its_ping_and_no_empty_webrtc_rows(qtbot, obs):
    obs.monitor.state_changed("connected")
    obs.link_stats(TransportStats(kind="websocket", rtt_ms=12.0, bytes_sent=900, frames_sent=3))
    for rtt in (0.012, None):
        obs.ping(rtt)
    panel = MonitorPanel(obs.monitor, obs.errors, LIGHT, obs.diagnostic_text)
    qtbot.addWidget(panel)
    panel.show()
    rows = _shown(panel)
    assert rows["Ping (last · median)"] == "— · 12 ms" and rows["Pings unanswered"] == "1"
    assert not {"Jitter (received)", "Packet loss (in · out)", "Bitrate (in · out)",
                "Round trip (last · median)"} & rows.keys()
    assert "—" not in {rows[k] for k in rows if k not in ("Ping (last · median)", "Session time left")}


def test_copy_diagnostics_puts_a_redacted_bundle_on_the_clipboard(qtbot, obs):
    secret = "k" * 8 + "0123456789abcdef0123"
    register_secret(secret)
    feed(obs, ("received", F.error("invalid_api_key", f"Incorrect API key provided: {secret}")))
    panel = MonitorPanel(obs.monitor, obs.errors, LIGHT, obs.diagnostic_text, obs.diagnostic_zip)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.diagnostics_copied, timeout=1000):
        panel.copy_button.click()
    text = QGuiApplication.clipboard().text()
    assert "invalid_api_key" in text and "## versions" in text and secret not in text
    assert "copied" in panel.notice.text()


def test_the_usage_panel_splits_tokens_and_prices_them(qtbot, obs):
    session = F.session_obj()
    session["audio"]["input"]["transcription"] = {"model": "gpt-transcribe"}  # no known price
    feed(obs, ("received", F.session_created(**session)), ("received", F.response_done("r1")),
         ("received", F.response_done("r2")), ("received", F.transcription_completed("u", "hi")),
         ("received", F.rate_limits()))
    panel = UsagePanel(obs.usage, obs.spend, LIGHT, clock=lambda: obs.usage.snapshot().rate_limits[0].observed_at)
    qtbot.addWidget(panel)
    panel.show()
    cell = lambda name, which: panel.cells[(name, which)].text()  # noqa: E731
    assert (cell("Text in", "last"), cell("Audio in", "last"), cell("Cached in", "last")) == ("59", "9", "64")
    assert (cell("Text out", "session"), cell("Audio out", "session")) == ("82", "294")
    assert cell("Cost", "last") == "$0.011" and cell("Cost", "session") == "$0.022 + price unknown"
    assert cell("Transcription", "session") == "26 tokens"
    assert "Tokens: 39,000 of 40,000 left, full again in 1 s" in panel.rate_limits.text()
    assert "transcription gpt-transcribe" in panel.model_line.text()
    assert panel.session_bar.format() == "$0.022 of $5.00 (0%)"
    answers = [[panel.answers.item(r, c).text() for c in range(1, 5)] for r in range(panel.answers.rowCount())]
    assert answers == [["completed", "59 / 9 / 64", "41 / 147", "$0.011"]] * 2


def test_limits_edited_in_the_panel_are_offered_to_the_window(qtbot, obs):
    panel = UsagePanel(obs.usage, obs.spend, LIGHT)
    qtbot.addWidget(panel)
    assert panel.session_limit.value() == 5.0 and panel.day_limit.value() == 20.0
    with qtbot.waitSignal(panel.limits_changed, timeout=1000) as signal:
        panel.session_limit.setValue(0.0)  # "No limit"
    assert signal.args[0] == SpendLimits(session_usd=None, day_usd=20.0)
    with qtbot.waitSignal(panel.limits_changed, timeout=1000) as signal:
        panel.day_limit.setValue(3.5)
    assert signal.args[0].day_usd == 3.5


class Mic:
    def __init__(self) -> None:
        self.muted = False


async def test_a_scripted_usage_stream_warns_then_stops_and_the_ok_continues(qtbot, qloop):
    """At 80 % the bar turns amber; at 100 % the microphone stops and the question is asked; the
    user's OK grants a quarter more, and the next stop comes when that is spent too."""
    loop = asyncio.get_running_loop()
    mic, questions = Mic(), []
    obs = Observatory(model="gpt-realtime-2.1", limits=SpendLimits(session_usd=CAPTURE_USD * 4.5, day_usd=None),
                      schedule=loop.call_soon)
    panel = UsagePanel(obs.usage, obs.spend, LIGHT)
    qtbot.addWidget(panel)
    panel.show()

    def on_spend(status):  # what the controller/window will do with the verdict
        if status.level is Level.STOP:
            mic.muted = True
            dialog = SpendStopDialog(status, panel)
            questions.append(dialog)
            dialog.accepted.connect(lambda: (obs.spend.acknowledge(), setattr(mic, "muted", False)))
            dialog.open()

    obs.on_spend = on_spend
    for n in range(1, 5):
        feed(obs, ("received", F.response_done(f"r{n}")))
    await asyncio.sleep(0)
    panel.refresh()
    assert obs.spend.status.level is Level.WARNING and panel.session_bar.property("level") == "warning"
    assert not mic.muted and questions == []
    feed(obs, ("received", F.response_done("r5")))  # 5 × the capture ≥ 4.5 ×: the limit
    await wait_until(lambda: bool(questions), what="the stop question")
    assert mic.muted and "reached" in questions[0].findChild(type(panel.total)).text()
    panel.refresh()
    assert panel.session_bar.property("level") == "stop" and "microphone is off" in panel.spend_note.text()
    assert questions[0].end_button.isDefault()
    questions[0].continue_button.click()
    assert questions[0].result() == QDialog.DialogCode.Accepted and not mic.muted
    assert obs.spend.status.session_stop_at == pytest.approx(CAPTURE_USD * (5 + 4.5 * 0.25))
    feed(obs, ("received", F.response_done("r6")))
    await asyncio.sleep(0)
    assert len(questions) == 1  # 6 × < 6.125 ×: still within the granted quarter
    feed(obs, ("received", F.response_done("r7")))
    await wait_until(lambda: len(questions) == 2, what="the second stop question")
    assert mic.muted
    for dialog in questions:
        dialog.close()
