"""Recording: the audio the history keeps is what was said (the committed turn's span) and what
was heard (an answer cut where the client truncated it), read off the frames."""

from __future__ import annotations

import base64
import json

import numpy as np

from desktop_app.history.audio_tap import MAX_PENDING_S, AudioTap
from tests.realtime import frames as F


class Sink:
    def __init__(self, record_audio: bool = True) -> None:
        self.record_audio = record_audio
        self.pieces: list[tuple[str, str, bytes, int]] = []

    def audio(self, item_id: str, role: str, pcm16: bytes, rate: int = 24000) -> None:
        self.pieces.append((item_id, role, pcm16, rate))


def ramp(ms: int, start: int = 0, rate: int = 24000) -> bytes:
    """PCM16 whose sample values count up from ``start`` (so a slice says where it came from)."""
    n = ms * rate // 1000
    return (np.arange(start, start + n) % 30000).astype("<i2").tobytes()


def b64(pcm: bytes) -> str:
    return base64.b64encode(pcm).decode()


def feed(tap: AudioTap, direction: str, event: dict) -> None:
    tap.frame(direction, json.dumps(event))


def append(tap: AudioTap, pcm: bytes) -> None:
    feed(tap, "sent", {"type": "input_audio_buffer.append", "audio": b64(pcm)})


def test_a_hands_free_turn_keeps_the_span_the_server_vad_committed():
    tap, sink = AudioTap(), Sink()
    tap.sink = sink
    feed(tap, "received", F.session_created())
    for i in range(100):  # 2 s in 20 ms frames, sample values 0..47999
        append(tap, ramp(20, start=i * 480))
    feed(tap, "received", F.speech_started("item_U1", ms=500))
    feed(tap, "received", F.speech_stopped("item_U1", ms=1500))
    feed(tap, "received", F.committed("item_U1"))
    ((item, role, pcm, rate),) = sink.pieces
    samples = np.frombuffer(pcm, "<i2")
    assert (item, role, rate) == ("item_U1", "user", 24000)
    assert len(samples) == 24000 and samples[0] == 12000 and samples[-1] == 35999 % 30000  # 500..1500 ms exactly


def test_an_answer_is_kept_as_far_as_it_was_heard():
    tap, sink = AudioTap(), Sink()
    tap.sink = sink
    feed(tap, "received", F.session_created())
    feed(tap, "received", {**F.audio_delta("resp_1", "item_A1"), "delta": b64(ramp(600))})
    feed(tap, "received", {**F.audio_delta("resp_1", "item_A2"), "delta": b64(ramp(400))})
    feed(tap, "sent", {"type": "conversation.item.truncate", "item_id": "item_A1", "content_index": 0,
                       "audio_end_ms": 250})
    feed(tap, "sent", {"type": "conversation.item.truncate", "item_id": "item_A2", "content_index": 0,
                       "audio_end_ms": 0})
    assert sink.pieces == []  # answers are handed over once they are final
    append(tap, ramp(300))
    feed(tap, "received", F.committed("item_U2"))  # push-to-talk: everything since the last clear
    heard = {item: (role, len(pcm)) for item, role, pcm, _ in sink.pieces}
    assert heard == {"item_A1": ("assistant", 250 * 48), "item_U2": ("user", 300 * 48)}  # A2: never heard


def test_a_clear_drops_what_was_appended_and_nothing_is_kept_while_recording_is_off():
    tap, sink = AudioTap(), Sink(record_audio=False)
    tap.sink = sink
    append(tap, ramp(200))
    feed(tap, "received", F.committed("item_U1"))
    assert sink.pieces == [] and not tap.active
    sink.record_audio = True
    append(tap, ramp(200))
    feed(tap, "sent", {"type": "input_audio_buffer.clear"})
    append(tap, ramp(100))
    feed(tap, "received", F.committed("item_U2"))
    assert [(i, len(p)) for i, _, p, _ in sink.pieces] == [("item_U2", 100 * 48)]


def test_g711_is_decoded_and_waiting_audio_is_bounded():
    tap, sink = AudioTap(), Sink()
    tap.sink = sink
    session = F.session_obj()
    session["audio"]["input"]["format"] = {"type": "audio/pcmu"}
    feed(tap, "received", {"type": "session.created", "event_id": "e1", "session": session})
    append(tap, b"\xff" * 800)  # 100 ms of μ-law silence at 8 kHz
    feed(tap, "received", F.committed("item_U1"))
    ((_, _, pcm, rate),) = sink.pieces
    assert rate == 8000 and len(pcm) == 1600 and not any(np.frombuffer(pcm, "<i2"))
    sink.pieces.clear()
    for _ in range(MAX_PENDING_S + 10):  # a microphone streaming for minutes with nobody speaking
        append(tap, b"\xff" * 8000)
    assert len(tap._pending) == MAX_PENDING_S * 8000 * 2
    feed(tap, "received", F.committed("item_U2"))
    assert len(sink.pieces[0][2]) == MAX_PENDING_S * 8000 * 2


def test_a_frame_it_cannot_read_is_skipped():
    tap, sink = AudioTap(), Sink()
    tap.sink = sink
    tap.frame("sent", '{"type": "input_audio_buffer.append", "audio": "not base64!"}')
    tap.frame("received", "not json")
    append(tap, ramp(40))
    feed(tap, "received", F.committed("item_U1"))
    assert len(sink.pieces) == 1
