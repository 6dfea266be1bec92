"""``response.create`` as the service takes it: one output modality only (§2.1)."""

from __future__ import annotations

from tests.local_server.talk import Talk


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
