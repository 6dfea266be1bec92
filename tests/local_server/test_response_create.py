"""``response.create`` as the service takes it: one output modality only (§2.1), and input usage that
a response reports however early it ends (§4.6: a cancelled response still reports its usage so far)."""

from __future__ import annotations

from tests.local_server.client import user_text
from tests.local_server.talk import Talk

TEXT = {"output_modalities": ["text"]}


def done(events: list[dict]) -> dict:
    return next(e for e in events if e["type"] == "response.done")["response"]


async def test_a_response_cancelled_at_once_reports_the_input_it_was_given():
    talk = Talk()
    await talk.spoken_turn(1.0)  # an earlier turn: user audio and the assistant's spoken answer
    talk.send(user_text("And now?"))
    talk.events()
    talk.send({"type": "response.create", "response": TEXT})
    talk.send({"type": "response.cancel"})  # before the response has generated anything
    cancelled = done(talk.events())
    assert cancelled["status"] == "cancelled" and cancelled["output"] == []
    full = await talk.respond(**TEXT)  # the same context, answered in full
    assert cancelled["usage"]["input_tokens"] == full["usage"]["input_tokens"]
    assert cancelled["usage"]["input_token_details"] == full["usage"]["input_token_details"]
    details = cancelled["usage"]["input_token_details"]
    assert details["audio_tokens"] > 10 and details["text_tokens"] > 5  # user + assistant audio; instructions
    assert cancelled["usage"]["output_tokens"] == 0
    assert cancelled["usage"]["total_tokens"] == cancelled["usage"]["input_tokens"]
    talk.session.close()


async def test_response_create_refuses_both_output_modalities_like_session_update():
    talk = Talk()
    talk.send({"type": "response.create", "event_id": "r1", "response": {"output_modalities": ["audio", "text"]}})
    events = talk.events(errors=True)
    assert [e["type"] for e in events] == ["error"]
    error = events[0]["error"]
    assert (error["code"], error["param"], error["event_id"]) == ("invalid_value", "response.output_modalities", "r1")
    assert talk.session.active is None
    talk.send({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["audio", "text"]}})
    assert error["message"] == talk.events(errors=True)[0]["error"]["message"]  # the same sentence
    talk.session.close()
