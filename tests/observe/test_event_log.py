"""The event log: audio summarised, secrets redacted, memory bounded, the whole session exported in
the headless ``--events`` line format."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from desktop_app.headless.outputs import EventLog as HeadlessEventLog
from desktop_app.log import register_secret
from desktop_app.observe.event_log import SPILL_PREFIX, EventFilter, EventLog
from desktop_app.observe.frames import AudioFormats, base64_size, summarize
from tests.realtime import frames as F


def append_frame(ms: int, bytes_per_ms: int = 48) -> str:
    return json.dumps({"type": "input_audio_buffer.append", "event_id": "evt_1",
                       "audio": F.pcm_b64(ms, bytes_per_ms)})


@pytest.fixture
def log(tmp_path: Path):
    clock = iter(range(1_000_000))
    event_log = EventLog(tmp_path / "spill", capacity=50, clock=lambda: 1_700_000_000.0 + next(clock))
    yield event_log
    event_log.close()


def test_base64_size_counts_decoded_bytes_without_decoding():
    for n in (0, 1, 2, 3, 4, 2400, 4801):
        assert base64_size(F.pcm_b64(1, n) if n else "") == n


def test_microphone_audio_is_summarised_as_bytes_and_milliseconds(log):
    record, event = log.append("sent", append_frame(50))
    assert (record.type, record.audio_bytes, record.audio_ms) == ("input_audio_buffer.append", 2400, 50.0)
    assert event is not None and event["audio"] == "<audio 2400 bytes, 50 ms>"
    assert "AAAA" not in record.event_json and len(record.event_json) < 120


def test_assistant_audio_delta_keeps_its_item_and_counts_the_output_format(log):
    log.append("received", json.dumps(F.session_updated(F.session_obj(audio={
        "input": {"format": {"type": "audio/pcm", "rate": 24000}},
        "output": {"format": {"type": "audio/pcmu"}}}))))
    record, _ = log.append("received", json.dumps(F.audio_delta("resp_1", "item_A", ms=100, bytes_per_ms=8)))
    assert (record.item_id, record.audio_bytes, record.audio_ms) == ("item_A", 800, 100.0)


def test_a_sent_g711_session_update_sets_the_input_rate_before_the_server_confirms(log):
    update = {"type": "session.update", "session": {"type": "realtime", "audio": {
        "input": {"format": {"type": "audio/pcma"}}}}}
    log.append("sent", json.dumps(update))
    record, _ = log.append("sent", append_frame(50, bytes_per_ms=8))
    assert (record.audio_bytes, record.audio_ms) == (400, 50.0)


def test_audio_inside_a_retrieved_item_is_elided_too():
    big = F.ev("conversation.item.retrieved", item={**F.assistant_item("item_A", "completed", transcript="Hi"),
                                                    "content": [{"type": "output_audio", "transcript": "Hi",
                                                                 "audio": F.pcm_b64(2000)}]})
    summary = summarize(json.dumps(big), AudioFormats())
    assert "<audio 96000 bytes>" in summary.event_json
    assert len(summary.event_json) < 1000


def test_secrets_are_redacted_in_the_ring_and_in_the_export(log, tmp_path):
    register_secret("azure0123456789abcdef0123456789ab")
    leaky = {"type": "session.update", "session": {
        "instructions": "my key is sk-proj-abcdefghijklmnop and azure0123456789abcdef0123456789ab"}}
    record, _ = log.append("sent", json.dumps(leaky))
    assert "sk-proj" not in record.event_json and "azure0123" not in record.event_json
    assert record.event_json.count("[REDACTED]") == 2
    out = tmp_path / "export.jsonl"
    log.export_now(out)
    text = out.read_text()
    assert "sk-proj" not in text and "azure0123" not in text and "[REDACTED]" in text


def test_the_ring_keeps_the_newest_records_within_count_and_size(tmp_path):
    by_count = EventLog(None, capacity=10)
    for i in range(25):
        by_count.append("received", json.dumps(F.transcript_delta("r", "i", f"w{i}")))
    assert len(by_count) == 10 and by_count.first_seq_in_memory == 16 and by_count.last_seq == 25
    by_size = EventLog(None, capacity=1000, max_chars=2000)
    for i in range(100):
        by_size.append("received", json.dumps(F.transcript_delta("r", "i", "x" * 100)))
    assert sum(len(r.event_json) for r in by_size.records()) <= 2000
    assert by_size.records()[-1].seq == 100


def test_since_hands_a_view_only_the_records_it_has_not_seen(log):
    for i in range(30):
        log.append("received" if i % 2 else "sent", json.dumps(F.transcript_delta("r", "i", f"w{i}")))
    assert [r.seq for r in log.since(27)] == [28, 29, 30]
    assert log.since(30) == []
    assert [r.seq for r in log.since(0)] == list(range(1, 31))
    assert [r.seq for r in log.since(25, EventFilter(direction="sent"))] == [27, 29]


def test_filter_by_type_direction_and_text(log):
    log.append("sent", append_frame(20))
    log.append("received", json.dumps(F.transcript_delta("r", "item_A", "Paris is lovely")))
    log.append("received", json.dumps(F.error("invalid_value", "bad voice")))
    log.append("sent", json.dumps({"type": "response.cancel"}))
    pick = lambda f: [r.type for r in log.records(f)]  # noqa: E731
    assert pick(EventFilter(direction="sent")) == ["input_audio_buffer.append", "response.cancel"]
    assert pick(EventFilter(types=frozenset({"error"}))) == ["error"]
    assert pick(EventFilter(text="PARIS")) == ["response.output_audio_transcript.delta"]
    assert pick(EventFilter(text="cancel", direction="received")) == []
    assert log.types() == {"input_audio_buffer.append": 1, "response.output_audio_transcript.delta": 1,
                           "error": 1, "response.cancel": 1}


def test_export_holds_the_whole_session_though_the_ring_holds_the_newest(log, tmp_path):
    for i in range(400):  # capacity is 50: 350 records live only in the spill file
        log.append("sent", append_frame(20) if i % 2 else json.dumps(F.transcript_delta("r", "i", f"w{i}")))
    out = tmp_path / "all.jsonl"
    assert log.export_now(out) == 400
    lines = out.read_text().splitlines()
    assert len(lines) == 400
    assert json.loads(lines[0])["event"]["delta"] == "w0"
    assert json.loads(lines[399])["event"]["audio"] == "<audio 960 bytes, 20 ms>"
    assert log.spill_path is not None and log.spill_path.parent == tmp_path / "spill"


async def test_export_from_the_loop_waits_on_the_spill_thread(log, tmp_path):
    for i in range(300):
        log.append("received", json.dumps(F.transcript_delta("r", "i", f"w{i}")))
    out = tmp_path / "async.jsonl"
    assert await log.export(out) == 300
    assert [json.loads(x)["event"]["delta"] for x in out.read_text().splitlines()][-1] == "w299"


def test_export_lines_have_the_headless_events_format(tmp_path):
    frames = [("received", json.dumps(F.session_created())), ("sent", json.dumps({"type": "response.create"})),
              ("received", json.dumps(F.transcript_delta("r", "i", "hello"))), ("received", "not json")]
    headless = HeadlessEventLog(tmp_path / "headless.jsonl")
    ours = EventLog(tmp_path / "spill")
    for direction, text in frames:
        headless(direction, text)
        ours.append(direction, text)
    headless.close()
    ours.export_now(tmp_path / "ours.jsonl")
    ours.close()
    theirs = [json.loads(x) for x in (tmp_path / "headless.jsonl").read_text().splitlines()]
    mine = [json.loads(x) for x in (tmp_path / "ours.jsonl").read_text().splitlines()]
    assert [sorted(x) for x in mine] == [sorted(x) for x in theirs] == [["dir", "event", "t"]] * 4
    assert [(x["dir"], x["event"]) for x in mine] == [(x["dir"], x["event"]) for x in theirs]
    assert all(isinstance(x["t"], float) and abs(x["t"] - time.time()) < 3600 for x in mine)


def test_when_the_spill_file_is_full_the_export_still_has_the_newest_records(tmp_path):
    log = EventLog(tmp_path, capacity=100, max_spill_bytes=20_000)
    for i in range(1000):
        log.append("received", json.dumps(F.transcript_delta("r", "i", f"w{i}")))
    out = tmp_path / "x.jsonl"
    count = log.export_now(out)
    deltas = [json.loads(x)["event"]["delta"] for x in out.read_text().splitlines()]
    assert log.spill_dropped > 0
    assert deltas[0] == "w0" and deltas[-100:] == [f"w{i}" for i in range(900, 1000)]
    assert count == len(deltas) < 1000
    log.close()


def test_an_unparsable_frame_is_kept_as_text(log):
    record, event = log.append("received", "{broken")
    assert event is None and record.type == "?" and json.loads(record.event_json) == {"unparsed": "{broken"}


def test_close_removes_the_spill_file_and_stale_ones_from_a_crash_go_too(tmp_path):
    stale = tmp_path / f"{SPILL_PREFIX}old.jsonl"
    stale.write_text("{}\n")
    os.utime(stale, (time.time() - 3 * 86400,) * 2)
    fresh = tmp_path / f"{SPILL_PREFIX}other-instance.jsonl"
    fresh.write_text("{}\n")
    log = EventLog(tmp_path)
    for _ in range(300):
        log.append("sent", append_frame(20))
    log.export_now(tmp_path / "e.jsonl")
    spill = log.spill_path
    assert spill is not None and spill.exists()
    log.close()
    assert not spill.exists() and not stale.exists() and fresh.exists()
    log.append("sent", append_frame(20))  # after close: still logged in memory, nothing spilled
    assert len(log) > 0 and sorted(p.name for p in tmp_path.iterdir()) == ["e.jsonl", fresh.name]


def test_record_event_parses_back_to_the_summarised_frame(log):
    record, event = log.append("received", json.dumps(F.rate_limits()))
    assert record.event() == event and record.event()["rate_limits"][0]["remaining"] == 39000
