"""The settings schema: every default valid, every declaration complete, codecs round-trip."""

from __future__ import annotations

import dataclasses

import pytest

from desktop_app.realtime.models import DEFAULT_MODEL, KNOWN_MODELS, KNOWN_TRANSCRIPTION_MODELS, LIVE_MODELS
from desktop_app.settings.profiles import CustomProfile, OpenAIProfile
from desktop_app.settings.schema import (
    BY_KEY, BY_NAME, MODEL_CHOICES, SCHEMA, TRANSCRIPTION_CHOICES, VOICES, Settings,
)


@pytest.mark.parametrize("decl", SCHEMA, ids=lambda d: d.name)
def test_every_default_is_valid_against_its_own_bounds(decl):
    assert decl.validate(decl.default) == decl.default
    assert decl.decode(decl.encode(decl.default)) == decl.default


def test_every_setting_is_declared_once_with_key_type_and_description():
    assert len(BY_KEY) == len(SCHEMA) == len(BY_NAME) == len(dataclasses.fields(Settings))
    for decl in SCHEMA:
        assert decl.name and decl.key and decl.description.strip(), decl
        assert isinstance(decl.type, type)


def test_model_choices_come_from_the_one_model_list():
    assert MODEL_CHOICES == tuple(m.id for m in KNOWN_MODELS) + tuple(m.id for m in LIVE_MODELS)
    assert TRANSCRIPTION_CHOICES == ("off", *KNOWN_TRANSCRIPTION_MODELS)
    assert Settings().model == DEFAULT_MODEL
    assert BY_NAME["model"].validate("gpt-realtime-2025-08-28") == "gpt-realtime-2025-08-28"


@pytest.mark.parametrize("model", ["gpt-realtime-3", "gpt-4o-realtime-preview", "ft:gpt-realtime-2:acme::x1"])
def test_any_model_id_is_accepted_for_shape_only(model):
    assert BY_NAME["model"].validate(model) == model
    assert BY_NAME["input_transcription_model"].validate(model) == model


@pytest.mark.parametrize("model", ["", "gpt realtime", "gpt-realtime\n", "é-model"])
def test_a_model_id_of_the_wrong_shape_is_refused(model):
    with pytest.raises(ValueError, match="not a model id|neither off nor a model id"):
        BY_NAME["model"].validate(model)
    if model:
        with pytest.raises(ValueError, match="neither off nor a model id"):
            BY_NAME["input_transcription_model"].validate(model)


def test_required_defaults():
    s = Settings()
    assert VOICES == ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")
    assert (s.voice, s.input_transcription_model, s.ptt_key) == ("marin", "gpt-live-transcribe", "Space")
    assert (s.transcription_languages, s.transcription_keywords, s.transcription_delay) == ((), (), None)
    assert (s.reasoning_effort, s.noise_reduction, s.speed) == (None, None, 1.0)
    assert (s.vad_threshold, s.vad_prefix_padding_ms, s.vad_silence_duration_ms) == (0.5, 300, 500)
    assert s.vad_idle_timeout_ms is None and s.vad_eagerness == "auto"
    assert s.profile().name == s.active_profile


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("voice", "nova", "not one of"),
        ("vad_threshold", 1.5, "above the maximum"),
        ("vad_threshold", "0.5", "expected float"),
        ("vad_prefix_padding_ms", -1, "below the minimum"),
        ("vad_silence_duration_ms", 50, "below the minimum"),
        ("vad_idle_timeout_ms", 4000, "below the minimum"),
        ("vad_idle_timeout_ms", 30001, "above the maximum"),
        ("vad_create_response", 1, "expected bool"),
        ("vad_prefix_padding_ms", True, "expected int"),
        ("output_modalities", ("audio", "text"), "not one of"),
        ("ptt_key", "  ", "must not be empty"),
        ("window_geometry", "abc", "expected bytes"),
        ("profiles", (), "at least one profile"),
        ("transcription_languages", ("English",), "ISO-639-1"),
        ("transcription_languages", ("en",) * 21, "limit is 20"),
        ("transcription_keywords", ("",), "not a keyword"),
        ("transcription_keywords", ("x" * 101,), "not a keyword"),
        ("transcription_delay", "slow", "not one of"),
        ("reasoning_effort", "max", "not one of"),
        ("noise_reduction", "mid_field", "not one of"),
        ("speed", 1.6, "above the maximum"),
        ("speed", 0.2, "below the minimum"),
    ],
)
def test_out_of_bounds_and_wrong_types_are_rejected(name, value, reason):
    with pytest.raises(ValueError, match=reason):
        BY_NAME[name].validate(value)


def test_nullable_int_means_off_and_ints_widen_to_float():
    decl = BY_NAME["vad_idle_timeout_ms"]
    assert decl.validate(None) is None and decl.encode(None) == "off" and decl.decode("off") is None
    assert decl.decode("5000") == 5000
    assert BY_NAME["vad_threshold"].validate(1) == 1.0


def test_settings_snapshot_is_frozen_and_validates_on_construction():
    s = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.voice = "ash"  # type: ignore[misc]
    with pytest.raises(ValueError, match="vad_threshold"):
        Settings(vad_threshold=2.0)
    with pytest.raises(ValueError, match="no profile is named"):
        Settings(active_profile="Nope")


def test_profiles_round_trip_through_their_stored_text():
    decl = BY_NAME["profiles"]
    value = (OpenAIProfile(name="Work", project="proj_1"), CustomProfile(name="Lab", url="ws://10.0.0.2:9000/v1"))
    text = decl.encode(value)
    assert decl.decode(text) == value
    with pytest.raises(ValueError, match="unique"):
        decl.validate((OpenAIProfile(name="A"), OpenAIProfile(name="A")))


@pytest.mark.parametrize(
    ("name", "raw"),
    [("vad_threshold", "abc"), ("vad_threshold", "nan"), ("vad_create_response", "yes"),
     ("window_geometry", "***"), ("profiles", "{}"), ("vad_prefix_padding_ms", ["1", "2"])],
)
def test_undecodable_stored_text_raises_value_error(name, raw):
    with pytest.raises(ValueError):
        BY_NAME[name].decode(raw)


def test_bytes_and_text_with_commas_and_newlines_round_trip():
    geo = BY_NAME["window_geometry"]
    assert geo.decode(geo.encode(b"\x00\x01\xffQt")) == b"\x00\x01\xffQt"
    instr = BY_NAME["instructions"]
    assert instr.decode("Be brief, kind; café\nline two") == "Be brief, kind; café\nline two"
    assert instr.decode(["Be brief", "kind"]) == "Be brief, kind"  # QSettings' split of an unquoted comma


def test_new_session_options_round_trip_through_their_stored_text():
    values = {"transcription_languages": ("en", "pt-BR"), "transcription_keywords": ("Parley", "naïve, café"),
              "transcription_delay": "xhigh", "reasoning_effort": "minimal", "noise_reduction": "far_field",
              "speed": 1.25}
    for name, value in values.items():
        decl = BY_NAME[name]
        assert decl.decode(decl.encode(value)) == value
    assert BY_NAME["reasoning_effort"].decode("off") is None
