"""Issue #20 session options in the core: open model ids with known ones priced, the transcription
models' retirement and options, reasoning effort, the lock rules, and ``input_image`` messages —
every event checked against the SDK's strict client union."""

from __future__ import annotations

import base64
import dataclasses
import struct
import zlib

import pytest

from desktop_app.realtime import commands as c
from desktop_app.realtime.errors import LockedFieldError
from desktop_app.realtime.models import (
    DEFAULT_TRANSCRIPTION_MODEL,
    KNOWN_TRANSCRIPTION_MODELS,
    RETIRING_TRANSCRIPTION_MODELS,
    cost_text,
    is_valid_model_id,
    model_info,
    model_label,
    price_summary,
    takes_reasoning,
    transcription_label,
    transcription_options,
)
from desktop_app.realtime.session_config import (
    FieldLock,
    SessionConfig,
    Transcription,
    check_locked,
    hold_between_responses,
    lock_of,
    same_model,
    session_diff,
)
from desktop_app.realtime.usage import Usage

from .oracle import validate_client_event


def png_bytes(width: int, height: int) -> bytes:
    """A real (tiny, grey) PNG written by hand: the core is standard-library only."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def jpeg_header(width: int, height: int) -> bytes:
    """SOI, an APP0 (JFIF) segment and a baseline SOF0: enough for the size reader."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


# --- model ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", ["gpt-realtime-3", "gpt-live-1.1", "ft:gpt-realtime-2:acme::abc", "org/model_v2"])
def test_any_well_shaped_model_id_is_valid(model_id):
    assert is_valid_model_id(model_id)
    SessionConfig(model=model_id).validate()


@pytest.mark.parametrize("model_id", ["", " gpt-realtime", "gpt realtime", "-gpt", "x" * 129, "gpt-realtime\n"])
def test_an_id_of_the_wrong_shape_is_refused(model_id):
    assert not is_valid_model_id(model_id)


def test_a_new_model_is_not_priced_like_an_old_family_but_a_dated_snapshot_is():
    assert model_info("gpt-realtime-3") is None  # not "gpt-realtime" + a digit
    assert model_info("gpt-realtime-2.1-mini-2026-03-01").id == "gpt-realtime-2.1-mini"
    assert model_info("gpt-realtime-2025-08-28").id == "gpt-realtime"


def test_known_models_show_label_and_price_unknown_ones_say_price_unknown():
    assert model_label("gpt-realtime-2.1") == "GPT Realtime 2.1"
    assert model_label("gpt-realtime-3") == "gpt-realtime-3 (price unknown)"
    assert price_summary("gpt-realtime-2.1").startswith("audio $32 in / $64 out")
    assert price_summary("gpt-realtime-3") == "price unknown"
    usage = Usage(input_audio=1_000_000)
    assert cost_text(usage.cost("gpt-realtime-3")) == "price unknown"
    assert cost_text(usage.cost("gpt-realtime-2.1")) == "$32.00"


def test_reasoning_is_known_for_the_gpt_realtime_2_class_and_unknown_for_new_ids():
    assert takes_reasoning("gpt-realtime-2") and takes_reasoning("gpt-realtime-2.1-mini")
    assert takes_reasoning("gpt-realtime-1.5") is False
    assert takes_reasoning("gpt-realtime-3") is None


# --- transcription --------------------------------------------------------------------------------


def test_default_transcription_is_gpt_live_transcribe_and_no_retiring_model_is_default():
    assert DEFAULT_TRANSCRIPTION_MODEL == "gpt-live-transcribe" == Transcription().model
    assert DEFAULT_TRANSCRIPTION_MODEL not in RETIRING_TRANSCRIPTION_MODELS


def _sdk_source() -> str:
    """The SDK's AudioTranscription source: its field docs are attribute docstrings, not descriptions."""
    import inspect

    from openai.types.realtime import audio_transcription

    return inspect.getsource(audio_transcription)


def _field_doc(source: str, name: str) -> str:
    start = source.index(f"    {name}:")
    following = [source.find(f"\n    {n}:", start + 1) for n in ("delay", "keywords", "language", "languages",
                                                                   "model", "prompt")]
    end = min([i for i in following if i > start] or [len(source)])
    return source[start:end]


def test_every_retiring_model_of_the_sdk_docstring_carries_its_shutdown_date_in_the_picker():
    listed = _field_doc(_sdk_source(), "model").split("Deprecated values:")[1]
    for model_id, date in RETIRING_TRANSCRIPTION_MODELS.items():
        assert f'"{model_id}"' in listed and date in listed
        assert transcription_label(model_id) == f"{model_id} (shuts down 2027-02-26)"
    assert transcription_label("gpt-live-transcribe") == "gpt-live-transcribe"
    assert set(RETIRING_TRANSCRIPTION_MODELS) >= {"whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe",
                                                   "gpt-4o-mini-transcribe-2025-12-15", "gpt-4o-transcribe-diarize"}


def test_transcription_option_support_matches_the_sdk_field_docs():
    from openai.types.realtime.audio_transcription import AudioTranscription

    source = _sdk_source()
    fields = AudioTranscription.model_fields
    assert "Only supported\n    with `gpt-realtime-whisper`" in _field_doc(source, "delay")
    for name in ("keywords", "languages"):
        assert "`gpt-transcribe` and `gpt-live-transcribe`" in " ".join(_field_doc(source, name).split())
    assert transcription_options("gpt-realtime-whisper") >= {"delay"}
    assert {"keywords", "languages"} <= transcription_options("gpt-live-transcribe")
    assert not {"keywords", "languages", "delay"} & transcription_options("whisper-1")
    assert set(KNOWN_TRANSCRIPTION_MODELS) <= set(fields["model"].annotation.__args__[1].__args__)


def test_new_transcription_fields_go_out_only_when_set_and_pass_the_sdk():
    config = SessionConfig(transcription=Transcription(model="gpt-live-transcribe", languages=("en", "fr"),
                                                       keywords=("Parley",)))
    wire = config.to_session_dict()["audio"]["input"]["transcription"]
    assert wire == {"model": "gpt-live-transcribe", "languages": ["en", "fr"], "keywords": ["Parley"]}
    validate_client_event(c.session_update(config.to_session_dict(), event_id="e"))
    plain = SessionConfig(transcription=Transcription()).to_session_dict()["audio"]["input"]["transcription"]
    assert plain == {"model": "gpt-live-transcribe"}


def test_transcription_and_reasoning_read_back_from_the_server():
    config = SessionConfig(model="gpt-realtime-2", reasoning_effort="high", parallel_tool_calls=False,
                           noise_reduction="far_field", speed=1.25,
                           transcription=Transcription(model="gpt-realtime-whisper", delay="minimal"))
    echoed = SessionConfig.from_server(config.to_session_dict())
    assert echoed == config


# --- reasoning, noise, speed in session.update ------------------------------------------------------


def test_reasoning_noise_and_speed_changes_are_minimal_sdk_valid_updates():
    base = SessionConfig(model="gpt-realtime-2")
    new = dataclasses.replace(base, reasoning_effort="minimal", noise_reduction="near_field", speed=0.8,
                              parallel_tool_calls=True)
    body = session_diff(base, new)
    assert body == {"type": "realtime", "reasoning": {"effort": "minimal"}, "parallel_tool_calls": True,
                    "audio": {"input": {"noise_reduction": {"type": "near_field"}}, "output": {"speed": 0.8}}}
    validate_client_event(c.session_update(body, event_id="e"))
    off = session_diff(new, dataclasses.replace(new, noise_reduction=None))
    assert off == {"type": "realtime", "audio": {"input": {"noise_reduction": None}}}
    validate_client_event(c.session_update(off, event_id="e2"))


def test_a_model_without_reasoning_never_gets_the_field():
    body = SessionConfig(model="gpt-realtime-1.5").to_session_dict()
    assert "reasoning" not in body and "parallel_tool_calls" not in body


# --- lock rules -------------------------------------------------------------------------------------


def test_lock_table_names_the_rules_of_the_protocol():
    assert lock_of("speed") is FieldLock.BETWEEN_RESPONSES
    assert lock_of("voice") is FieldLock.UNTIL_ASSISTANT_AUDIO
    assert lock_of("model") is FieldLock.NEXT_CONNECTION
    for free in ("noise_reduction", "reasoning_effort", "instructions", "turn_detection", "parallel_tool_calls"):
        assert lock_of(free) is FieldLock.FREE
    names = {f.name for f in dataclasses.fields(SessionConfig)}
    from desktop_app.realtime.session_locks import FIELD_LOCKS

    assert set(FIELD_LOCKS) <= names


def test_speed_waits_for_the_answer_while_free_fields_go_at_once():
    effective = SessionConfig(model="gpt-realtime-2", speed=1.0)
    wanted = dataclasses.replace(effective, speed=1.4, noise_reduction="far_field", reasoning_effort="low")
    now = hold_between_responses(effective, wanted)
    assert now.speed == 1.0 and now.noise_reduction == "far_field" and now.reasoning_effort == "low"
    assert session_diff(effective, now) == {"type": "realtime", "reasoning": {"effort": "low"},
                                            "audio": {"input": {"noise_reduction": {"type": "far_field"}}}}
    later = session_diff(now, wanted)
    assert later == {"type": "realtime", "audio": {"output": {"speed": 1.4}}}
    assert hold_between_responses(None, wanted) is wanted


def test_an_unknown_model_echoed_as_its_dated_snapshot_is_the_same_model():
    assert same_model("gpt-realtime-3", "gpt-realtime-3-2027-01-15")
    assert not same_model("gpt-realtime-3", "gpt-realtime-3-mini")
    assert not same_model("gpt-realtime-3", "gpt-realtime-2.1")
    current = SessionConfig(model="gpt-realtime-3-2027-01-15")
    check_locked(current, SessionConfig(model="gpt-realtime-3", speed=1.2), voice_locked=False)
    with pytest.raises(LockedFieldError, match="reconnect to use gpt-realtime-4"):
        check_locked(current, SessionConfig(model="gpt-realtime-4"), voice_locked=False)


# --- images -----------------------------------------------------------------------------------------


def test_image_message_is_a_user_item_the_sdk_accepts():
    png = png_bytes(3, 2)
    url = c.image_data_url(png, "image/png")
    assert url.startswith("data:image/png;base64,") and base64.b64decode(url.split(",", 1)[1]) == png
    event = c.item_create(c.user_image_item(url, detail="high", text="What is this?"), event_id="e1")
    model = validate_client_event(event)
    content = model.item.content
    assert [p.type for p in content] == ["input_text", "input_image"]
    assert content[1].image_url == url and content[1].detail == "high"
    bare = c.item_create(c.user_image_item(url), event_id="e2")
    assert [p["type"] for p in bare["item"]["content"]] == ["input_image"]
    validate_client_event(bare)


def test_image_sizes_are_read_from_png_and_jpeg_headers():
    assert c.image_size(png_bytes(7, 5), "image/png") == (7, 5)
    assert c.image_size(jpeg_header(1024, 768), "image/jpeg") == (1024, 768)


@pytest.mark.parametrize(("data", "mime", "message"), [
    (b"GIF89a....", "image/gif", "PNG or JPEG"),
    (b"\xff\xd8\xff\xe0", "image/png", "not a PNG"),
    (png_bytes(2, 2), "image/jpeg", "not a JPEG"),
    (png_bytes(2, 2) + b"\x00" * c.MAX_IMAGE_BYTES, "image/png", "the limit is 10 MiB"),
])
def test_an_image_of_the_wrong_type_or_too_big_is_refused_with_a_reason(data, mime, message):
    with pytest.raises(ValueError, match=message):
        c.image_data_url(data, mime)
