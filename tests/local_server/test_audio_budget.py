"""The audio budget (``Options.audio_budget_s``): a session keeps only its newest items' pcm, so memory
stays bounded however long the talk; older items keep their transcripts, durations and word timings
(usage, the brain's history and truncation behave as before; retrieve shows no audio)."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from desktop_app.local_server.conversation import Conversation, StoredItem
from desktop_app.local_server.options import Options
from tests.local_server.client import user_text
from tests.local_server.talk import Talk


async def test_stored_audio_stays_within_the_budget_over_many_turns():
    talk = Talk(budget_s=30.0)
    for _ in range(20):
        await talk.spoken_turn()
        assert talk.stored_s <= 30.0
    assert talk.talked_s > 150.0  # what an unbounded conversation would hold
    items = list(talk.session.conversation)
    kept = [item for item in items if item.audio]
    assert 20.0 < talk.stored_s and kept == items[-len(kept):]  # most of the budget, the newest stretch of talk
    assert all(item.dropped_ms for item in items[: -len(kept)])
    talk.session.close()


async def test_the_brain_still_hears_turns_whose_audio_is_gone():
    talk = Talk(budget_s=0.0)
    await talk.spoken_turn(1.0)
    talk.send(user_text("What did I just say?"))
    response = await talk.respond()
    assert talk.stored_s == 0
    # (the sentence splitter reads "1.0" as two sentences, so the words come back as "1. 0")
    said = response["output"][0]["content"][0]["transcript"].replace(" ", "")
    assert said == "Yousaid:(speech,1.0s)"
    talk.session.close()


async def test_usage_counts_dropped_audio_like_kept_audio():
    usages = []
    for budget in (None, 0.0):
        talk = Talk(budget_s=budget)
        for _ in range(3):
            usage = (await talk.spoken_turn(0.8))["usage"]
        usages.append(usage)
        assert (talk.stored_s == 0) is (budget == 0.0)
        talk.session.close()
    assert usages[0] == usages[1] and usages[0]["input_token_details"]["audio_tokens"] > 0


async def test_an_old_item_without_its_audio_truncates_like_one_with_it():
    talks = [Talk(budget_s=None), Talk(budget_s=0.0)]
    results = []
    for talk in talks:
        talk.send(user_text("Tell me a story."))
        item_id = (await talk.respond())["output"][0]["id"]
        await talk.spoken_turn()  # the story is no longer the newest item
        item = talk.session.conversation.get(item_id)
        talk.send({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0, "audio_end_ms": 10**7})
        clamped = talk.events()[-1]
        talk.send({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0, "audio_end_ms": 4000})
        truncated = talk.events()[-1]
        talk.send({"type": "conversation.item.retrieve", "item_id": item_id})
        retrieved = talk.events()[-1]["item"]["content"][0]
        results.append((clamped, truncated["audio_end_ms"], retrieved["transcript"], item.audio_ms))
        talk.session.close()
    (kept_clamp, kept_end, kept_heard, kept_ms), (dropped_clamp, dropped_end, dropped_heard, dropped_ms) = results
    assert kept_clamp["type"] == dropped_clamp["type"] == "conversation.item.truncated"
    assert kept_clamp["audio_end_ms"] == dropped_clamp["audio_end_ms"] > 4000  # clamped to the generated audio
    assert (kept_end, kept_heard, kept_ms) == (dropped_end, dropped_heard, dropped_ms) == (4000, kept_heard, 4000.0)
    assert 3 <= len(kept_heard.split()) < 20


async def test_retrieve_shows_no_audio_once_it_is_dropped_and_the_newest_keeps_it():
    talk = Talk(budget_s=2.0)
    await talk.spoken_turn(1.5)
    old_user = next(iter(talk.session.conversation))
    talk.send({"type": "conversation.item.retrieve", "item_id": old_user.id})
    assert "audio" not in talk.events()[-1]["item"]["content"][0]
    pcm = np.full(24000, 1000, "<i2")  # one second, created by the client: it fits, so it is kept whole
    talk.send({"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [
        {"type": "input_audio", "audio": base64.b64encode(pcm.tobytes()).decode()}]}})
    newest = list(talk.session.conversation)[-1]
    talk.send({"type": "conversation.item.retrieve", "item_id": newest.id})
    content = talk.events()[-1]["item"]["content"][0]
    assert base64.b64decode(content["audio"]) == pcm.tobytes()
    assert talk.stored_s <= 2.0
    talk.session.close()


def test_limit_audio_keeps_the_newest_items_that_fit_and_drops_everything_older():
    conversation = Conversation("conv_x")
    for i, seconds in enumerate([1.0, 0.2, 3.0, 1.0, 1.0]):
        conversation.insert(StoredItem(public={"id": f"i{i}"}, audio=bytearray(int(seconds * 48000))))
    dropped = conversation.limit_audio(2.5)
    assert [item.id for item in dropped] == ["i2", "i1", "i0"]  # i1 would fit, but it is older than i2
    assert conversation.stored_audio_bytes == 2 * 48000
    assert [item.audio_ms for item in conversation] == [1000.0, 200.0, 3000.0, 1000.0, 1000.0]
    assert conversation.limit_audio(None) == [] and conversation.limit_audio(2.5) == []
    item = conversation.get("i2")
    item.add_audio(b"\0" * 4800)
    item.cut_audio(500)
    assert (item.audio, item.audio_ms) == (bytearray(), 500.0)


def test_the_budget_is_an_option_with_a_sane_default():
    assert Options().audio_budget_s == 900.0
    with pytest.raises(ValueError):
        Options(audio_budget_s=-1)
