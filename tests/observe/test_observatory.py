"""The observatory fed a scripted frame stream, the error table, the diagnostic bundle's redaction,
and the serial worker."""

from __future__ import annotations

import io
import json
import threading
import zipfile

import pytest

from desktop_app.log import register_secret
from desktop_app.observe.errors import ErrorTracker
from desktop_app.observe.observatory import Observatory
from desktop_app.observe.spend import Level, SpendLimits
from desktop_app.observe.worker import SerialWorker, WorkerClosed
from desktop_app.settings.schema import Settings
from tests.realtime import frames as F

FULL_2_CAPTURE_USD = 10941.6 / 1e6  # see test_usage_and_spend.py


def feed(obs: Observatory, *frames: tuple[str, dict | str]) -> None:
    for direction, frame in frames:
        obs.frame_observer(direction, frame if isinstance(frame, str) else json.dumps(frame))


def test_usage_rate_limits_errors_and_traffic_come_from_the_frames_alone():
    obs = Observatory(model="gpt-realtime-2.1")
    session = F.session_obj(model="gpt-realtime-2.1-mini")
    session["audio"]["input"]["transcription"] = {"model": "gpt-4o-mini-transcribe"}
    feed(obs, ("received", F.session_created(**session)),
         ("sent", {"type": "input_audio_buffer.append", "audio": F.pcm_b64(50)}),
         ("received", F.transcription_completed("item_U", "hello")),
         ("received", F.audio_delta("resp_1", "item_A", ms=200)),
         ("received", F.response_done("resp_1")), ("received", F.rate_limits()),
         ("received", F.error("invalid_value", "Invalid value: 'robot'.")),
         ("received", F.error("invalid_value", "Invalid value: 'android'.")))
    usage = obs.usage.snapshot()
    assert usage.model == "gpt-realtime-2.1-mini" and usage.transcription_model == "gpt-4o-mini-transcribe"
    assert usage.realtime_usd == pytest.approx(3183.0 / 1e6, abs=1e-12)
    assert usage.transcription_usd == pytest.approx(55 / 1e6, abs=1e-12)
    assert usage.rate_limits[0].remaining == 39000
    (group,) = obs.errors.groups()
    assert (group.code, group.count, group.last_message) == ("invalid_value", 2, "Invalid value: 'android'.")
    snap = obs.monitor.snapshot()
    assert snap.sent.frames == 1 and snap.sent.audio_s == pytest.approx(0.05)
    assert snap.received.audio_s == pytest.approx(0.2) and snap.received.frames == 7
    assert obs.spend.status.session_usd == pytest.approx(3183.0 / 1e6 + 55 / 1e6, abs=1e-12)
    assert obs.events.last_seq == 8


def test_a_session_without_transcription_stops_pricing_the_asr_model():
    obs = Observatory(model="gpt-realtime-2.1", transcription_model="gpt-4o-transcribe")
    feed(obs, ("received", F.session_created()))  # transcription: null
    assert obs.usage.transcription_model is None and obs.usage.model == "gpt-realtime-2.1"


def test_spend_level_changes_reach_the_controller_through_the_schedule():
    scheduled, heard = [], []
    obs = Observatory(model="gpt-realtime-2.1", limits=SpendLimits(session_usd=FULL_2_CAPTURE_USD * 2.4,
                                                                  day_usd=None),
                      schedule=scheduled.append, on_spend=heard.append)
    feed(obs, ("received", F.response_done("r1")), ("received", F.response_done("r2")))
    assert heard == [] and len(scheduled) == 1  # never called inside the transport's receive path
    scheduled.pop()()
    assert [s.level for s in heard] == [Level.WARNING]
    feed(obs, ("received", F.response_done("r3")))
    scheduled.pop()()
    assert heard[-1].level is Level.STOP and obs.spend.stopped


def test_day_spending_goes_to_the_ledger():
    added = []

    class Ledger:
        def add_spend(self, day: str, usd: float) -> None:
            added.append(usd)

    obs = Observatory(model="gpt-realtime-2.1", ledger=Ledger(), day_spent=1.0)
    feed(obs, ("received", F.response_done("r1")))
    assert added == [pytest.approx(FULL_2_CAPTURE_USD)]
    assert obs.spend.status.day_usd == pytest.approx(1.0 + FULL_2_CAPTURE_USD)


def test_the_observer_never_raises_into_the_transport(caplog):
    obs = Observatory(model="gpt-realtime-2.1")
    feed(obs, ("received", "not json"), ("received", "[1, 2]"),
         ("received", {"type": "response.done", "response": "oops"}),
         ("received", {"type": "rate_limits.updated", "rate_limits": {"a": 1}}),
         ("received", {"type": "error", "error": None}),
         ("received", {"type": "session.created", "session": {"audio": []}}))
    obs.usage.add_response = None  # a bug inside: the frame must still pass
    feed(obs, ("received", F.response_done("r")))
    assert obs.events.last_seq == 7
    assert "observer failed" in caplog.text


def test_new_conversation_resets_per_conversation_figures_only():
    obs = Observatory(model="gpt-realtime-2.1")
    obs.monitor.state_changed("connected")
    obs.turns.speech_stopped()
    feed(obs, ("received", F.response_done("r1")), ("received", F.error("x", "y")))
    obs.new_conversation()
    assert obs.usage.snapshot().session.responses == 0 and obs.turns.turns == ()
    assert obs.spend.status.session_usd == 0 and obs.spend.status.day_usd > 0
    assert len(obs.errors.groups()) == 1 and obs.events.last_seq == 2


def test_errors_group_by_code_and_source_most_recent_first():
    now = [10.0]
    tracker = ErrorTracker(clock=lambda: now[0], keep=3)
    tracker.record("1006", "connection lost", source="connection")
    now[0] = 20.0
    tracker.record("device", "microphone unplugged")
    now[0] = 30.0
    group = tracker.record("1006", "connection lost again with sk-abcdefghijkl123", source="connection")
    assert (group.count, group.first_at, group.last_at) == (2, 10.0, 30.0)
    assert "sk-abc" not in group.last_message
    assert [g.code for g in tracker.groups()] == ["1006", "device"]
    for code in ("a", "b", "c"):
        tracker.record(code, "m")
    assert [g.code for g in tracker.groups()] == ["c", "b", "a"] and tracker.total == 6


def test_the_diagnostic_bundle_is_redacted_everywhere():
    secret = "az" + "9" * 30
    register_secret(secret)
    settings = Settings(instructions=f"Use sk-live-abcdefghijklmnop and {secret}")
    obs = Observatory(model="gpt-realtime-2.1")
    feed(obs, ("received", F.session_created()),
         ("sent", {"type": "session.update", "session": {"instructions": f"key {secret}"}}),
         ("received", F.error("invalid_api_key", f"Incorrect API key provided: {secret}")),
         ("received", F.error("invalid_api_key", "Incorrect API key provided: sk-proj-zyxwvutsrqponm")))
    text = obs.diagnostic_text(settings)
    for leaked in (secret, "sk-live", "sk-proj"):
        assert leaked not in text
    assert "## versions" in text and '"parley"' in text and '"invalid_api_key"' in text
    assert '"window_geometry"' not in text and '"model": "gpt-realtime-2.1"' in text
    archive = zipfile.ZipFile(io.BytesIO(obs.diagnostic_zip(settings)))
    assert sorted(archive.namelist()) == ["connection.json", "errors.json", "events.jsonl", "report.txt",
                                          "settings.json", "usage.json", "versions.json"]
    for name in archive.namelist():
        body = archive.read(name).decode()
        assert secret not in body and "sk-live" not in body and "sk-proj" not in body, name
    events = [json.loads(x) for x in archive.read("events.jsonl").decode().splitlines()]
    assert [e["event"]["type"] for e in events] == ["session.created", "session.update", "error", "error"]


def test_the_worker_runs_jobs_in_order_and_reports_a_failed_fire_and_forget_job():
    failures = []
    worker = SerialWorker("test-worker", on_error=lambda what, exc: failures.append((what, str(exc))))
    seen: list[int] = []
    for i in range(50):
        worker.fire(lambda i=i: seen.append(i), "append")
    worker.fire(lambda: 1 / 0, "dividing")
    assert worker.submit(lambda: len(seen)).result() == 50
    assert seen == list(range(50)) and failures == [("dividing", "division by zero")]
    worker.close()
    with pytest.raises(WorkerClosed):
        worker.submit(lambda: None)
    assert not any(t.name.startswith("test-worker") for t in threading.enumerate())


async def test_awaiting_a_worker_job_leaves_the_loop_free():
    import asyncio

    worker = SerialWorker("test-await")
    gate = threading.Event()
    job = asyncio.ensure_future(worker.run(lambda: gate.wait(30) and "done"))
    ticks = 0
    while ticks < 5:  # the loop keeps turning while the job is held on the other thread
        await asyncio.sleep(0)
        ticks += 1
    assert not job.done()
    gate.set()
    assert await job == "done"
    await worker.aclose()
