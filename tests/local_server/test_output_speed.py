"""``audio.output.speed`` (§2.1, §2.7): the answer's audio and word timings follow it, from the next
response on; a response in flight keeps the speed it started with."""

from __future__ import annotations

import json
import logging

import pytest

from desktop_app.local_server.brain import GREETING
from desktop_app.local_server.faults import parse_faults
from desktop_app.local_server.options import Options
from desktop_app.local_server.session import Session
from desktop_app.local_server.speech import SpeechPool, tts
from tests.local_server.client import Client, audio_of, user_text
from tests.realtime.oracle import validate_server_event


def speed(value: float) -> dict:
    return {"type": "session.update", "session": {"type": "realtime", "audio": {"output": {"speed": value}}}}


async def spoken_answer(client: Client, question: str) -> tuple[bytes, dict]:
    """The audio and the output item of the answer to ``question``."""
    await client.send(user_text(question))
    await client.send({"type": "response.create"})
    events, response = await client.response()
    return audio_of(events), response["output"][0]


async def heard_after(client: Client, item: dict, end_ms: int) -> str:
    """The transcript left after truncating ``item`` at ``end_ms``."""
    await client.send({"type": "conversation.item.truncate", "item_id": item["id"], "content_index": 0,
                       "audio_end_ms": end_ms})
    await client.wait_for("conversation.item.truncated")
    await client.send({"type": "conversation.item.retrieve", "item_id": item["id"]})
    return (await client.wait_for("conversation.item.retrieved"))["item"]["content"][0]["transcript"]


async def test_speed_changes_the_answers_length_and_its_word_timings(server):
    async with await Client.open(server.url) as client:
        normal, normal_item = await spoken_answer(client, "Hello!")
        await client.send(speed(1.5))
        assert (await client.wait_for("session.updated"))["session"]["audio"]["output"]["speed"] == 1.5
        fast, fast_item = await spoken_answer(client, "Hello!")
        await client.send(speed(0.5))
        await client.wait_for("session.updated")
        slow, _ = await spoken_answer(client, "Hello!")
        assert len(fast) / len(normal) == pytest.approx(1 / 1.5, rel=0.08)
        assert len(slow) / len(normal) == pytest.approx(2.0, rel=0.08)
        transcripts = {item["content"][0]["transcript"] for item in (normal_item, fast_item)}
        assert transcripts == {GREETING}
        # Truncation goes by word timings: half of each answer's audio leaves the same words heard.
        half = len(normal) // 96
        heard_normal = await heard_after(client, normal_item, half)
        heard_fast = await heard_after(client, fast_item, round(half / 1.5))
        assert heard_fast == heard_normal and 2 <= len(heard_normal.split()) < len(GREETING.split())


def unit_session() -> tuple[Session, list[tuple]]:
    out: list[tuple] = []
    options = Options(tts="tone", asr="none", pace=0, text_word_ms=0)
    session = Session(model="gpt-realtime", kind="realtime", options=options, pool=SpeechPool(1, "none", "tone"),
                      writer=out.append, faults=parse_faults("").for_session(),
                      log=logging.getLogger("parley.server.test"))
    session.open()
    return session, out


def sent(out: list[tuple]) -> list[dict]:
    events = [json.loads(action[1]) for action in out if action[0] == "text"]
    for event in events:
        validate_server_event(event)
    return events


def expected_samples(text: str, at_speed: float) -> int:
    return sum(len(tts.synthesize(s, "alloy", "tone", at_speed)[0]) for s in tts.sentences(text))


async def test_a_speed_change_during_a_response_applies_from_the_next_one():
    session, out = unit_session()
    session.receive(json.dumps(user_text("Hello!")))
    session.receive(json.dumps({"type": "response.create"}))
    first = session.active
    assert first is not None and not first.task.done()
    session.receive(json.dumps(speed(0.5)))  # before the first response has synthesized anything
    await first.task
    events = sent(out)
    kinds = [e["type"] for e in events]
    assert kinds.index("session.updated") < kinds.index("response.done")
    assert len(audio_of(events)) == 2 * expected_samples(GREETING, 1.0)
    mark = len(events)
    session.receive(json.dumps({"type": "response.create"}))
    await session.active.task
    assert len(audio_of(sent(out)[mark:])) == 2 * expected_samples(GREETING, 0.5)
    session.close()
