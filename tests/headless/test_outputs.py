"""The headless output files keep their documented formats."""

from __future__ import annotations

import json
import wave

from desktop_app.headless.outputs import EventLog, WavWriter, write_transcript


def test_event_log_writes_one_json_object_per_frame_with_audio_kept_and_keys_redacted(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    audio = "QUFB" * 2000
    log("sent", json.dumps({"type": "input_audio_buffer.append", "audio": audio}))
    log("received", json.dumps({"type": "error", "error": {"message": "Incorrect API key provided: sk-abcdefghijklmnop1234"}}))
    log("received", "not json")
    log.close()
    lines = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [line["dir"] for line in lines] == ["sent", "received", "received"]
    assert lines[0]["event"]["audio"] == audio  # payloads are what a reviewer replays
    assert "sk-abcdefghijklmnop1234" not in json.dumps(lines[1])
    assert lines[2]["event"] == {"unparsed": "not json"}
    assert all(isinstance(line["t"], float) for line in lines)


def test_transcript_file_has_turns_and_usage(tmp_path):
    path = tmp_path / "t.json"
    write_transcript(path, [{"role": "user", "item_id": "item_1", "text": "hi", "truncated": False}], {"total_tokens": 3})
    doc = json.loads(path.read_text())
    assert doc == {"turns": [{"role": "user", "item_id": "item_1", "text": "hi", "truncated": False}],
                   "usage": {"total_tokens": 3}}
    assert not (tmp_path / "t.json.tmp").exists()


def test_wav_writer_produces_24k_mono_16bit(tmp_path):
    w = WavWriter(tmp_path / "a.wav")
    w.write(b"\x01\x00" * 2400)
    w.close()
    with wave.open(str(tmp_path / "a.wav")) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth(), wav.getnframes()) == (24000, 1, 2, 2400)
