"""The input buffer without a session, loop or socket: audio and commands in, buffer events out."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from desktop_app.audio.codecs import encode
from desktop_app.local_server.input_audio import (
    Cleared,
    Committed,
    InputBuffer,
    SpeechStarted,
    SpeechStopped,
    TimeoutTriggered,
)
from desktop_app.local_server.schema import Problem

VAD = {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 300}


def ids() -> itertools.count[int]:
    return itertools.count(1)


def buffer(td: dict | None = None, fmt: str = "audio/pcm") -> InputBuffer:
    counter = ids()
    return InputBuffer(fmt, td, lambda: f"item_{next(counter)}")


def tone(ms: int, hz: float = 300) -> bytes:
    return (np.sin(2 * np.pi * hz * np.arange(24 * ms) / 24000) * 10000).astype("<i2").tobytes()


def silence(ms: int) -> bytes:
    return bytes(48 * ms)


def feed(buf: InputBuffer, pcm: bytes, step_ms: int = 20, *, as_pcm: bool = False) -> list:
    """``pcm`` in ``step_ms`` pieces, through the wire path or the pcm seam; every event returned."""
    events = []
    for at in range(0, len(pcm), 48 * step_ms):
        piece = pcm[at : at + 48 * step_ms]
        events += buf.append_pcm(piece) if as_pcm else buf.append(piece)
    return events


def test_the_timeline_counts_the_wire_payload_of_each_format():
    pcm_buffer, ulaw_buffer = buffer(), buffer(fmt="audio/pcmu")
    assert pcm_buffer.append(silence(250)) == [] and pcm_buffer.input_ms == 250
    assert ulaw_buffer.append(encode("audio/pcmu", silence(250))) == [] and ulaw_buffer.input_ms == 250
    assert pcm_buffer.appended_ms == ulaw_buffer.appended_ms == 250


def test_a_commit_under_100_ms_is_refused_and_a_longer_one_holds_every_byte():
    buf = buffer()
    buf.append(tone(60))
    refused = buf.commit()
    assert isinstance(refused, Problem) and refused.code == "input_audio_buffer_commit_empty"
    assert "has 60.00ms" in refused.message
    buf.append(tone(60))
    (committed,) = buf.commit()
    assert committed == Committed("item_1", tone(60) + tone(60), "client", 0.0)
    assert buf.appended_ms == 0 and not buf.buffer and buf.input_ms == 120


def test_clear_drops_the_segment_and_says_so():
    buf = buffer()
    buf.append(tone(200))
    assert buf.clear() == [Cleared()] and Cleared().wire() == {"type": "input_audio_buffer.cleared"}
    assert isinstance(buf.commit(), Problem)


def test_a_spoken_turn_becomes_started_then_stopped_and_committed_under_one_id():
    buf = buffer(VAD)
    events = feed(buf, silence(500) + tone(900) + silence(900))
    started, stopped, committed = events
    assert isinstance(started, SpeechStarted) and isinstance(stopped, SpeechStopped)
    assert started.item_id == stopped.item_id == committed.item_id == "item_1"
    assert committed.cause == "speech" and committed.not_kept_ms == 0
    assert 150 <= started.audio_start_ms <= 260  # the onset (~500 ms) minus the 300 ms prefix
    assert stopped.audio_end_ms - 1400 in range(300, 400)  # the tone's end plus the silence window
    assert len(committed.pcm) == int(stopped.audio_end_ms - started.audio_start_ms) * 48
    assert started.wire() == {"type": "input_audio_buffer.speech_started",
                              "audio_start_ms": int(started.audio_start_ms), "item_id": "item_1"}
    assert stopped.wire()["type"] == "input_audio_buffer.speech_stopped"


def test_pcm_fed_directly_gives_what_the_same_audio_appended_gives():
    audio = silence(400) + tone(700) + silence(800) + tone(500) + silence(600)
    by_wire, by_pcm = buffer(VAD), buffer(VAD)
    assert feed(by_wire, audio) == feed(by_pcm, audio, step_ms=30, as_pcm=True)
    assert by_wire.input_ms == by_pcm.input_ms == 3000


def test_pcm_with_an_odd_byte_count_is_refused():
    with pytest.raises(ValueError, match="odd number of bytes"):
        buffer().append_pcm(b"\x00\x01\x02")


def test_the_idle_timeout_commits_everything_since_the_idle_period_began():
    buf = buffer(VAD)
    buf.append(silence(1000))
    buf.idle_begins()
    buf.append(silence(2000))
    triggered, committed = buf.timeout()
    assert triggered == TimeoutTriggered(1000, 3000, "item_1")
    assert committed == Committed("item_1", silence(3000), "timeout", 0.0)
    assert triggered.wire()["audio_end_ms"] == 3000


def test_a_format_change_flushes_what_the_old_decoder_held_back():
    buf = buffer(fmt="audio/pcmu")
    buf.append(encode("audio/pcmu", tone(200)))
    held = buf.input_ms * 48 - len(buf.buffer)
    assert held > 0  # the G.711 resampler keeps its newest samples back
    assert buf.configure(None, "audio/pcm") == [] and buf.format == "audio/pcm"
    assert len(buf.buffer) == 200 * 48


def test_turning_detection_on_starts_it_at_the_current_point_of_the_timeline():
    buf = buffer(None)
    buf.append(silence(1000))
    buf.configure(VAD, "audio/pcm")
    started = feed(buf, tone(600))[0]
    assert isinstance(started, SpeechStarted) and started.audio_start_ms >= 1000 - 300
    assert buf.speaking
    buf.configure(None, "audio/pcm")
    assert not buf.speaking and feed(buf, silence(1000)) == []
