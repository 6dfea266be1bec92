"""The seams a second transport (WebRTC) and a second dialect (GPT-Live) plug into: input audio fed as
pcm, output audio taken as pcm by a sink that owns playback, a response run on a context built without
a session, speech as chunks, and the intake's handler table. A ``TrackOut`` stands in for a WebRTC
track: it keeps what it is given, and the test says how much of it has "played"."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from contextlib import aclosing
from typing import Any

import numpy as np
import pytest

from desktop_app.local_server.audio_out import AudioPart, EventAudioOut, Heard, Pacer
from desktop_app.local_server.brain import GREETING
from desktop_app.local_server.client_events import CLIENT_EVENTS
from desktop_app.local_server.config import default_session, response_settings
from desktop_app.local_server.conversation import Conversation, Ids, StoredItem
from desktop_app.local_server.faults import parse_faults
from desktop_app.local_server.intake import Intake
from desktop_app.local_server.options import Options
from desktop_app.local_server.outbox import Emit
from desktop_app.local_server.responses import ResponseRun, RunContext
from desktop_app.local_server.session import Session
from desktop_app.local_server.speaking import spoken_chunks
from desktop_app.local_server.speech import SpeechPool, tts
from tests.local_server.client import user_text
from tests.realtime.oracle import validate_server_event

LOG = logging.getLogger("parley.server.test")
POOL = SpeechPool(1, "none", "tone")


class TrackOut:
    """A sink that owns playback, as a WebRTC track would: pcm per item, ``played_ms`` set by the test."""

    def __init__(self, emit: Emit) -> None:
        self.emit = emit
        self.parts: list[AudioPart] = []
        self.pcm: dict[str, bytearray] = {}
        self.sounding: AudioPart | None = None
        self.played_ms = 0

    def open(self, part: AudioPart) -> TrackOut.Stream:
        self.parts.append(part)
        self.sounding = part
        self.pcm[part.item_id] = bytearray()
        return TrackOut.Stream(self.pcm[part.item_id])

    def clear(self) -> Heard | None:
        part, self.sounding = self.sounding, None
        return None if part is None else Heard(part.response_id, part.item_id, self.played_ms)

    class Stream:
        def __init__(self, into: bytearray) -> None:
            self.into = into

        async def write(self, pcm: bytes, *, final: bool) -> float:
            self.into.extend(pcm)
            await asyncio.sleep(0)
            return asyncio.get_running_loop().time()


def track_session() -> tuple[Session, list[tuple], list[TrackOut]]:
    out: list[tuple] = []
    sinks: list[TrackOut] = []

    def make_sink(emit: Emit) -> TrackOut:
        sinks.append(TrackOut(emit))
        return sinks[-1]

    session = Session(model="gpt-realtime", kind="realtime", options=Options(tts="tone", asr="none", pace=0),
                      pool=POOL, writer=out.append, faults=parse_faults("").for_session(), log=LOG,
                      audio_out=make_sink)
    session.open()
    return session, out, sinks


def sent(out: list[tuple], since: int = 0) -> list[dict]:
    events = [json.loads(a[1]) for a in out[since:] if a[0] == "text"]
    for event in events:
        validate_server_event(event)
    return events


def tone(ms: int) -> bytes:
    return (np.sin(2 * np.pi * 300 * np.arange(24 * ms) / 24000) * 10000).astype("<i2").tobytes()


def feed(session: Session, pcm: bytes, step_ms: int = 20) -> None:
    for at in range(0, len(pcm), 48 * step_ms):
        session.feed_pcm(pcm[at : at + 48 * step_ms])


async def spoken_turn(session: Session) -> None:
    """The user speaks into the pcm seam (server VAD, the default); the answer runs to its end."""
    feed(session, bytes(48 * 300) + tone(900) + bytes(48 * 900))
    assert session.active is not None
    await session.active.task


async def test_pcm_in_and_pcm_out_make_a_whole_turn_without_audio_events():
    session, out, (sink,) = track_session()
    await spoken_turn(session)
    events = sent(out)
    kinds = [e["type"] for e in events]
    assert kinds[1:6] == ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
                          "input_audio_buffer.committed", "conversation.item.added", "conversation.item.done"]
    assert "response.output_audio.delta" not in kinds
    assert {"response.output_audio.done", "response.output_audio_transcript.done"} <= set(kinds)
    response = next(e for e in events if e["type"] == "response.done")["response"]
    answer = response["output"][0]
    assert response["status"] == "completed"
    (part,) = sink.parts
    assert (part.response_id, part.item_id, part.format) == (response["id"], answer["id"], {"type": "audio/pcm",
                                                                                             "rate": 24000})
    assert bytes(sink.pcm[answer["id"]]) == bytes(session.conversation.get(answer["id"]).audio) != b""
    session.close()


async def test_a_clear_truncates_to_what_the_track_had_played_and_says_cleared():
    session, out, (sink,) = track_session()
    await spoken_turn(session)
    answer = sink.parts[0]
    mark = len(out)
    sink.played_ms = 400
    session.receive(json.dumps({"type": "output_audio_buffer.clear"}))
    events = sent(out, mark)
    assert [e["type"] for e in events] == ["conversation.item.truncated", "output_audio_buffer.cleared"]
    assert events[0]["item_id"] == answer.item_id and events[0]["audio_end_ms"] == 400
    assert events[1]["response_id"] == answer.response_id
    assert len(session.conversation.get(answer.item_id).audio) == 400 * 48
    session.close()


async def test_speech_over_server_owned_playback_truncates_it_and_clears_the_track():
    session, out, (sink,) = track_session()
    await spoken_turn(session)
    answer = sink.parts[0]
    mark = len(out)
    sink.played_ms = 250
    feed(session, tone(600))
    kinds = [e["type"] for e in sent(out, mark)]
    assert kinds[:3] == ["input_audio_buffer.speech_started", "conversation.item.truncated",
                         "output_audio_buffer.cleared"]
    assert sink.sounding is None and session.conversation.get(answer.item_id).audio_ms == 250
    session.close()


async def test_over_a_websocket_the_client_owns_playback_so_nothing_is_cleared_here():
    assert EventAudioOut(lambda event: None, lambda: Pacer(0, parse_faults("").for_session(), None)).clear() is None


async def test_a_response_runs_on_a_context_built_without_a_session():
    events: list[dict[str, Any]] = []
    finished: list[ResponseRun] = []
    locked: list[bool] = []
    conversation = Conversation("conv_1")
    conversation.insert(StoredItem(public={"id": "item_1", **user_text("Hello!")["item"]}))
    context = RunContext(
        emit=lambda event: events.append({**event, "event_id": "event_1"}), conversation=conversation,
        ids=Ids(random.Random(3)), speech=POOL, audio_out=TrackOut(events.append), log=LOG, chunk_bytes=2400,
        text_word_s=0.0, lock_voice=lambda: locked.append(True), limit_audio=lambda: None, finished=finished.append)
    run = ResponseRun(context, response_settings(default_session("gpt-realtime", "sess_1"), None))
    run.start()
    assert run.task is not None
    await run.task
    for event in events:
        validate_server_event(event)
    assert events[0]["type"] == "response.created" and events[-1]["type"] == "response.done"
    assert finished == [run] and locked == [True]
    assert conversation.get(run.output[0]["id"]).public["content"][0]["transcript"] == GREETING


async def test_speech_comes_in_even_chunks_with_every_word_once_before_its_audio():
    text = "Hello there. How are you today?"
    whole, timings = tts.synthesize(text, "alloy", "tone")
    async with aclosing(spoken_chunks(POOL, text, "alloy", 1.0, 4800)) as stream:
        chunks = [chunk async for chunk in stream]
    assert b"".join(c.pcm for c in chunks) == whole.tobytes()
    assert [len(c.pcm) for c in chunks[:-1]] == [4800] * (len(chunks) - 1)
    assert [c.final for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert [w.word for c in chunks for w in c.words] == [w.word for w in timings]
    sent_ms = 0.0
    for chunk in chunks:  # a word goes out with the chunk its start falls in, never later
        assert all(w.start_ms < sent_ms + len(chunk.pcm) / 48 or chunk.final for w in chunk.words)
        sent_ms += len(chunk.pcm) / 48


def test_the_intake_refuses_a_handler_table_that_does_not_cover_every_client_event():
    handlers = {kind: (lambda event: None) for kind in CLIENT_EVENTS if kind != "response.cancel"}
    with pytest.raises(ValueError, match="response.cancel"):
        Intake(handlers, CLIENT_EVENTS, lambda problem, event_id, kind: None, LOG, max_bytes=1000, per_second=10)
