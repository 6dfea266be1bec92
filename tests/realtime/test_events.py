"""Server events: every GA type has a fixture the SDK oracle accepts, and the core parses each one
into its own typed, frozen event with base64 audio elided from its text."""

from __future__ import annotations

import dataclasses
import json

import pytest

from desktop_app.realtime.events import EVENT_TYPES, ServerEvent, UnknownEvent
from desktop_app.realtime.parse import known_event_types, parse_server_event

from . import frames
from .oracle import server_event_types, validate_server_event

FIXTURES = frames.every_server_event()


def test_core_models_exactly_the_sdk_server_event_union():
    assert known_event_types() == server_event_types()
    assert len(known_event_types()) == 46


def test_there_is_a_fixture_for_every_sdk_server_event_type():
    assert set(FIXTURES) == server_event_types()


@pytest.mark.parametrize("type_name", sorted(FIXTURES))
def test_fixture_validates_against_the_oracle_and_parses_to_its_class(type_name):
    raw = FIXTURES[type_name]
    model = validate_server_event(raw)
    assert model.type == type_name
    event = parse_server_event(json.dumps(raw))
    assert type(event) is EVENT_TYPES[type_name]
    assert event.type == type_name
    assert dataclasses.is_dataclass(event) and event.__dataclass_params__.frozen
    assert not hasattr(event, "__dict__"), "events are slotted"
    assert event.event_id == raw.get("event_id", "")
    # Every modelled field took the frame's value (nested error objects become ErrorInfo).
    for field in dataclasses.fields(event):
        if field.name in raw and field.name not in ("event_id", "error"):
            assert getattr(event, field.name) == raw[field.name], field.name


@pytest.mark.parametrize("type_name", sorted(FIXTURES))
def test_every_event_is_immutable(type_name):
    event = parse_server_event(FIXTURES[type_name])
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.event_id = "changed"  # type: ignore[misc]


def test_unknown_fields_are_kept_in_extra_not_dropped():
    event = parse_server_event(frames.transcript_delta("r", "i", "Hi"))
    assert event.extra == {"obfuscation": "x"}
    assert event.delta == "Hi"


def test_audio_delta_text_and_repr_elide_the_base64():
    raw = frames.audio_delta("resp_1", "item_1", ms=100)
    event = parse_server_event(raw)
    assert raw["delta"] not in str(event) and raw["delta"] not in repr(event)
    assert "<6400 b64 chars>" in str(event)
    assert str(event).startswith("response.output_audio.delta ")


def test_retrieved_item_audio_is_elided_from_text():
    raw = FIXTURES["conversation.item.retrieved"]
    audio = raw["item"]["content"][0]["audio"]
    assert audio not in str(parse_server_event(raw))


def test_error_event_carries_typed_error_info():
    event = parse_server_event(frames.error("cannot_update_voice", "Cannot update…", caused_by="evt_1"))
    assert (event.error.code, event.error.type, event.error.event_id) == (
        "cannot_update_voice", "invalid_request_error", "evt_1")
    assert "cannot_update_voice" in str(event)


def test_unknown_type_becomes_unknown_event_with_all_data():
    raw = {"type": "response.future_thing", "event_id": "event_9", "x": [1]}
    event = parse_server_event(json.dumps(raw))
    assert isinstance(event, UnknownEvent) and isinstance(event, ServerEvent)
    assert (event.type, event.data, event.event_id) == ("response.future_thing", raw, "event_9")


def test_response_events_expose_id_status_and_out_of_band():
    done = parse_server_event(frames.response_done("resp_9", "cancelled", reason="turn_detected"))
    assert (done.response_id, done.status, done.status_reason, done.out_of_band) == (
        "resp_9", "cancelled", "turn_detected", False)
    oob = parse_server_event(frames.response_created("resp_8", conversation_id=None))
    assert oob.out_of_band is True
