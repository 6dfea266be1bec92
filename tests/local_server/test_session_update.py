"""``session.update``: partial, nested, atomic; answered with the full session; the voice lock (§2.7, §2.8)."""

from __future__ import annotations

from tests.local_server.client import Client, user_text


def update(**session) -> dict:
    return {"type": "session.update", "session": {"type": "realtime", **session}}


async def test_update_merges_nested_fields_and_answers_with_the_full_session(server):
    async with await Client.open(server.url) as client:
        created = client.events[0]["session"]
        await client.send(update(instructions="Be terse.", audio={"input": {"noise_reduction": {"type": "near_field"}},
                                                                  "output": {"voice": "marin"}}))
        session = (await client.wait_for("session.updated"))["session"]
        assert session["instructions"] == "Be terse."
        assert session["audio"]["input"]["noise_reduction"] == {"type": "near_field"}
        assert session["audio"]["output"]["voice"] == "marin"
        # Everything not mentioned is kept, including sibling fields of the nested objects.
        assert session["audio"]["input"]["format"] == created["audio"]["input"]["format"]
        assert session["audio"]["input"]["turn_detection"] == created["audio"]["input"]["turn_detection"]
        assert session["audio"]["output"]["speed"] == 1.0
        assert session["id"] == created["id"] and session["tools"] == []


async def test_session_updated_does_not_echo_the_client_event_id(server):
    async with await Client.open(server.url) as client:
        await client.send(dict(update(instructions="x"), event_id="cli_1"))
        updated = await client.wait_for("session.updated")
        assert updated["event_id"] != "cli_1" and updated["event_id"].startswith("event_")


async def test_a_failing_update_changes_nothing(server):
    async with await Client.open(server.url) as client:
        await client.send(update(instructions="changed?", audio={"output": {"voice": "cedar", "speed": 9}}))
        error = (await client.wait_for("error"))["error"]
        assert error["param"] == "session.audio.output.speed"
        await client.send(update())
        session = (await client.wait_for("session.updated"))["session"]
        assert session["instructions"] != "changed?" and session["audio"]["output"]["voice"] == "alloy"


async def test_turn_detection_replaced_whole_takes_its_type_defaults_and_null_turns_it_off(server):
    async with await Client.open(server.url) as client:
        await client.send(update(audio={"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "low"}}}))
        td = (await client.wait_for("session.updated"))["session"]["audio"]["input"]["turn_detection"]
        assert td == {"type": "semantic_vad", "eagerness": "low", "create_response": True, "interrupt_response": True}
        await client.send(update(audio={"input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 700}}}))
        td = (await client.wait_for("session.updated"))["session"]["audio"]["input"]["turn_detection"]
        assert td["silence_duration_ms"] == 700 and td["threshold"] == 0.5 and "eagerness" not in td
        await client.send(update(audio={"input": {"turn_detection": None}}))
        assert (await client.wait_for("session.updated"))["session"]["audio"]["input"]["turn_detection"] is None


async def test_clearing_instructions_tools_and_setting_g711(server):
    async with await Client.open(server.url) as client:
        tool = {"type": "function", "name": "get_time", "parameters": {"type": "object", "properties": {}}}
        await client.send(update(tools=[tool], audio={"output": {"format": {"type": "audio/pcmu"}}}))
        session = (await client.wait_for("session.updated"))["session"]
        assert session["tools"] == [tool] and session["audio"]["output"]["format"] == {"type": "audio/pcmu"}
        await client.send(update(instructions="", tools=[]))
        session = (await client.wait_for("session.updated"))["session"]
        assert session["instructions"] == "" and session["tools"] == []


async def test_the_model_cannot_change_but_may_be_repeated(server):
    async with await Client.open(server.url) as client:
        model = client.events[0]["session"]["model"]
        await client.send(update(model=model))
        await client.wait_for("session.updated")
        await client.send(update(model="gpt-realtime-mini"))
        error = (await client.wait_for("error"))["error"]
        assert error["param"] == "session.model"


async def test_voice_locks_after_the_first_audio_but_the_same_voice_is_fine(server):
    async with await Client.open(server.url) as client:
        await client.send(update(audio={"output": {"voice": "coral"}}))
        await client.wait_for("session.updated")
        await client.send(user_text("hello"))
        await client.send({"type": "response.create"})
        await client.response()
        await client.send(dict(update(audio={"output": {"voice": "echo"}}), event_id="v2"))
        error = (await client.wait_for("error"))["error"]
        assert error["code"] == "cannot_update_voice" and error["event_id"] == "v2"
        assert error["message"] == "Cannot update a conversation's voice if assistant audio is present."
        await client.send(update(audio={"output": {"voice": "coral"}}, instructions="same voice"))
        session = (await client.wait_for("session.updated"))["session"]
        assert session["instructions"] == "same voice"
        # A per-response voice override is refused as well, an out-of-band one is not.
        await client.send({"type": "response.create", "event_id": "r2", "response": {"audio": {"output": {"voice": "ash"}}}})
        assert (await client.wait_for("error"))["error"]["code"] == "cannot_update_voice"


async def test_text_only_responses_do_not_lock_the_voice(server):
    async with await Client.open(server.url) as client:
        await client.send(update(output_modalities=["text"]))
        await client.wait_for("session.updated")
        await client.send(user_text("hello"))
        await client.send({"type": "response.create"})
        await client.response()
        await client.send(update(audio={"output": {"voice": "verse"}}))
        assert (await client.wait_for("session.updated"))["session"]["audio"]["output"]["voice"] == "verse"
