"""Conversation items: placement by ``previous_item_id``, retrieve, delete, truncate (§3.3, §3.6 F, §7.10)."""

from __future__ import annotations

import base64

import numpy as np

from desktop_app.local_server.usage import audio_out_tokens
from tests.local_server.client import Client, audio_of, user_text


def text_item(item_id: str, text: str, role: str = "user") -> dict:
    kind = "input_text" if role != "assistant" else "output_text"
    return {"id": item_id, "type": "message", "role": role, "content": [{"type": kind, "text": text}]}


async def test_previous_item_id_places_items_and_is_reported(server):
    async with await Client.open(server.url) as client:
        await client.send({"type": "conversation.item.create", "item": text_item("item_b", "second")})
        added = await client.wait_for("conversation.item.added")
        assert added["previous_item_id"] is None and added["item"]["status"] == "completed"
        await client.send({"type": "conversation.item.create", "previous_item_id": "root",
                           "item": text_item("item_a", "first")})
        assert (await client.wait_for("conversation.item.added"))["previous_item_id"] is None
        await client.send({"type": "conversation.item.create", "previous_item_id": "item_a",
                           "item": text_item("item_m", "middle", "system")})
        assert (await client.wait_for("conversation.item.added"))["previous_item_id"] == "item_a"
        await client.send({"type": "conversation.item.create", "item": text_item("item_c", "third", "assistant")})
        # Without previous_item_id an item goes last: after item_b (order is now a, m, b, c).
        done = await client.wait_for(lambda e: e["type"] == "conversation.item.done" and e["item"]["id"] == "item_c")
        assert done["previous_item_id"] == "item_b"


async def test_client_items_get_ids_and_delete_removes_them(server):
    async with await Client.open(server.url) as client:
        await client.send(user_text("hello"))
        item = (await client.wait_for("conversation.item.done"))["item"]
        assert item["id"].startswith("item_") and len(item["id"]) == 26
        await client.send({"type": "conversation.item.delete", "item_id": item["id"]})
        assert (await client.wait_for("conversation.item.deleted"))["item_id"] == item["id"]
        await client.send({"type": "conversation.item.retrieve", "item_id": item["id"]})
        assert (await client.wait_for("error"))["error"]["code"] == "item_retrieve_invalid_item_id"


async def test_retrieve_returns_the_audio_that_added_and_done_never_carry(server):
    pcm = (np.sin(np.arange(4800) / 10) * 8000).astype("<i2")
    async with await Client.open(server.url) as client:
        await client.send({"type": "session.update", "session": {"type": "realtime", "audio": {
            "input": {"turn_detection": None}}}})
        await client.append_audio(pcm)
        await client.send({"type": "input_audio_buffer.commit"})
        committed = await client.wait_for("input_audio_buffer.committed")
        done = await client.wait_for("conversation.item.done")
        assert "audio" not in done["item"]["content"][0]
        await client.send({"type": "conversation.item.retrieve", "item_id": committed["item_id"]})
        retrieved = (await client.wait_for("conversation.item.retrieved"))["item"]
        assert base64.b64decode(retrieved["content"][0]["audio"]) == pcm.tobytes()


async def test_truncate_clamps_trims_audio_and_keeps_only_the_words_heard(server):
    async with await Client.open(server.url) as client:
        await client.send(user_text("tell me a story"))
        await client.send({"type": "response.create"})
        events, response = await client.response()
        item_id = response["output"][0]["id"]
        full = audio_of(events)
        words = response["output"][0]["content"][0]["transcript"].split()
        await client.send({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0,
                           "audio_end_ms": 2500})
        truncated = await client.wait_for("conversation.item.truncated")
        assert truncated == {**truncated, "item_id": item_id, "content_index": 0, "audio_end_ms": 2500}
        await client.send({"type": "conversation.item.retrieve", "item_id": item_id})
        item = (await client.wait_for("conversation.item.retrieved"))["item"]
        heard = item["content"][0]["transcript"].split()
        assert len(base64.b64decode(item["content"][0]["audio"])) == 2500 * 48
        assert 2 <= len(heard) < 12 and heard == words[: len(heard)]
        # Past the end: clamped to what was generated, not an error.
        await client.send({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0,
                           "audio_end_ms": 10**7})
        assert (await client.wait_for("conversation.item.truncated"))["audio_end_ms"] == 2500
        assert len(full) > 2500 * 48


async def test_truncating_the_message_being_spoken_keeps_only_what_was_heard(paced_server):
    """A truncate that reaches the server while the answer is still being generated (a client that
    truncates before it cancels) cuts the stored item; audio and words generated afterwards are
    streamed as before but never stored, so the model's context holds only what the user heard."""
    async with await Client.open(paced_server.url) as client:
        await client.send(user_text("tell me a story"))
        await client.send({"type": "response.create"})
        item_id = (await client.wait_for("response.output_item.added"))["item"]["id"]
        await client.wait_for(lambda e: e["type"] == "response.output_audio.delta"
                              and sum(len(base64.b64decode(x["delta"])) for x in client.events
                                      if x["type"] == "response.output_audio.delta") >= 1500 * 48)
        await client.send({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0,
                           "audio_end_ms": 1000})
        truncated = await client.wait_for(lambda e: e["type"] in ("conversation.item.truncated", "error"))
        assert truncated["type"] == "conversation.item.truncated" and truncated["audio_end_ms"] == 1000
        await client.wait_for(lambda e: e["type"] == "response.output_audio_transcript.delta"
                              and len(client.events) > client.events.index(truncated) + 20)
        await client.send({"type": "response.cancel"})
        events, response = await client.response()
        streamed = next(e for e in client.events if e["type"] == "response.output_audio_transcript.done")
        stored = response["output"][0]["content"][0]["transcript"]
        assert response["status"] == "cancelled"
        assert stored and streamed["transcript"].startswith(stored) and len(stored) < len(streamed["transcript"])
        await client.send({"type": "conversation.item.retrieve", "item_id": item_id})
        content = (await client.wait_for("conversation.item.retrieved"))["item"]["content"][0]
        assert content["transcript"] == stored
        assert len(base64.b64decode(content["audio"])) == 1000 * 48
        sent = sum(len(base64.b64decode(e["delta"])) for e in client.events if e["type"] == "response.output_audio.delta")
        assert sent > 1500 * 48  # generation went on after the cut: only the stored item stopped growing
        # Usage counts what was generated, not what was kept.
        assert response["usage"]["output_token_details"]["audio_tokens"] == audio_out_tokens(sent / 48.0)


async def test_truncating_at_zero_empties_the_transcript(server):
    async with await Client.open(server.url) as client:
        await client.send(user_text("hello"))
        await client.send({"type": "response.create"})
        _, response = await client.response()
        item_id = response["output"][0]["id"]
        await client.send({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0,
                           "audio_end_ms": 0})
        await client.wait_for("conversation.item.truncated")
        await client.send({"type": "conversation.item.retrieve", "item_id": item_id})
        content = (await client.wait_for("conversation.item.retrieved"))["item"]["content"][0]
        assert content["transcript"] == "" and "audio" not in content


async def test_client_audio_item_is_transcribed_for_the_brain(server):
    async with await Client.open(server.url) as client:
        pcm = (np.sin(np.arange(24000) / 7) * 9000).astype("<i2")
        await client.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user",
            "content": [{"type": "input_audio", "audio": base64.b64encode(pcm.tobytes()).decode()}]}})
        added = await client.wait_for("conversation.item.added")
        assert added["item"]["content"] == [{"type": "input_audio", "transcript": None}]
        await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        _, response = await client.response()
        # The fast server has no recognizer: the brain hears a description of the audio.
        assert "(speech, 1.0 s)" in response["output"][0]["content"][0]["text"]


async def test_g711_input_is_decoded_to_the_right_duration(server):
    from desktop_app.audio.codecs import encode

    pcm = (np.sin(np.arange(24000) / 5) * 9000).astype("<i2")  # one second
    ulaw = encode("audio/pcmu", pcm.tobytes())
    async with await Client.open(server.url) as client:
        await client.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {
            "format": {"type": "audio/pcmu"}, "turn_detection": None}}}})
        await client.wait_for("session.updated")
        for at in range(0, len(ulaw), 800):
            await client.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(ulaw[at:at + 800]).decode()})
        await client.send({"type": "input_audio_buffer.commit"})
        committed = await client.wait_for("input_audio_buffer.committed")
        await client.send({"type": "conversation.item.retrieve", "item_id": committed["item_id"]})
        item = (await client.wait_for("conversation.item.retrieved"))["item"]
        ms = len(base64.b64decode(item["content"][0]["audio"])) / 48
        assert 950 <= ms <= 1000
