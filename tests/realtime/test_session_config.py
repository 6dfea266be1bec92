"""Session config: validation mirrors the server's bounds and enums, diffs are minimal, and fields
the server locks are refused locally with a clear message."""

from __future__ import annotations

import dataclasses

import pytest

from desktop_app.realtime.commands import session_update
from desktop_app.realtime.errors import ConfigValidationError, LockedFieldError
from desktop_app.realtime.models import KNOWN_MODELS, KNOWN_TRANSCRIPTION_MODELS
from desktop_app.realtime.session_config import (
    EAGERNESS,
    VOICES,
    AudioFormat,
    SemanticVad,
    ServerVad,
    SessionConfig,
    Transcription,
    _diff,
    check_locked,
    session_diff,
)

from . import frames
from .oracle import validate_client_event

BASE = SessionConfig()
TOOL = {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}

# (description, changes to SessionConfig, offending path or None when valid)
CASES = [
    ("default is valid", {}, None),
    ("threshold 0", {"turn_detection": ServerVad(threshold=0.0)}, None),
    ("threshold 1", {"turn_detection": ServerVad(threshold=1.0)}, None),
    ("threshold below 0", {"turn_detection": ServerVad(threshold=-0.01)}, "session.audio.input.turn_detection.threshold"),
    ("threshold above 1", {"turn_detection": ServerVad(threshold=1.01)}, "session.audio.input.turn_detection.threshold"),
    ("threshold NaN", {"turn_detection": ServerVad(threshold=float("nan"))}, "session.audio.input.turn_detection.threshold"),
    ("prefix 0", {"turn_detection": ServerVad(prefix_padding_ms=0)}, None),
    ("prefix negative", {"turn_detection": ServerVad(prefix_padding_ms=-1)}, "session.audio.input.turn_detection.prefix_padding_ms"),
    ("prefix fractional", {"turn_detection": ServerVad(prefix_padding_ms=2.5)}, "session.audio.input.turn_detection.prefix_padding_ms"),
    ("silence 0", {"turn_detection": ServerVad(silence_duration_ms=0)}, None),
    ("silence negative", {"turn_detection": ServerVad(silence_duration_ms=-5)}, "session.audio.input.turn_detection.silence_duration_ms"),
    ("idle off", {"turn_detection": ServerVad(idle_timeout_ms=None)}, None),
    ("idle 5000", {"turn_detection": ServerVad(idle_timeout_ms=5000)}, None),
    ("idle 30000", {"turn_detection": ServerVad(idle_timeout_ms=30000)}, None),
    ("idle 4999", {"turn_detection": ServerVad(idle_timeout_ms=4999)}, "session.audio.input.turn_detection.idle_timeout_ms"),
    ("idle 30001", {"turn_detection": ServerVad(idle_timeout_ms=30001)}, "session.audio.input.turn_detection.idle_timeout_ms"),
    ("create_response not bool", {"turn_detection": ServerVad(create_response=1)}, "session.audio.input.turn_detection.create_response"),
    ("interrupt_response not bool", {"turn_detection": SemanticVad(interrupt_response="yes")}, "session.audio.input.turn_detection.interrupt_response"),
    ("semantic bad eagerness", {"turn_detection": SemanticVad(eagerness="eager")}, "session.audio.input.turn_detection.eagerness"),
    ("push to talk", {"turn_detection": None}, None),
    ("pcm 16000", {"input_format": AudioFormat("audio/pcm", 16000)}, "session.audio.input.format.rate"),
    ("pcmu with a rate", {"output_format": AudioFormat("audio/pcmu", 8000)}, "session.audio.output.format.rate"),
    ("wav format", {"input_format": AudioFormat("audio/wav", None)}, "session.audio.input.format.type"),
    ("g711 ulaw", {"input_format": AudioFormat("audio/pcmu", None)}, None),
    ("g711 alaw", {"output_format": AudioFormat("audio/pcma", None)}, None),
    ("tts voice nova", {"voice": "nova"}, "session.audio.output.voice"),
    ("custom voice id", {"voice": "voice_abc123"}, None),
    ("speed 0.25", {"speed": 0.25}, None),
    ("speed 1.5", {"speed": 1.5}, None),
    ("speed 0.24", {"speed": 0.24}, "session.audio.output.speed"),
    ("speed 1.51", {"speed": 1.51}, "session.audio.output.speed"),
    ("tokens 1", {"max_output_tokens": 1}, None),
    ("tokens 4096", {"max_output_tokens": 4096}, None),
    ("tokens 0", {"max_output_tokens": 0}, "session.max_output_tokens"),
    ("tokens 4097", {"max_output_tokens": 4097}, "session.max_output_tokens"),
    ("tokens true", {"max_output_tokens": True}, "session.max_output_tokens"),
    ("tokens 'max'", {"max_output_tokens": "max"}, "session.max_output_tokens"),
    ("text only", {"output_modalities": ("text",)}, None),
    ("audio and text", {"output_modalities": ("audio", "text")}, "session.output_modalities"),
    ("no modality", {"output_modalities": ()}, "session.output_modalities"),
    ("unknown model id is accepted (open ids)", {"model": "gpt-realtime-3"}, None),
    ("fine-tuned model id", {"model": "ft:gpt-realtime-2:acme:support:abc123"}, None),
    ("model id with a space", {"model": "gpt realtime"}, "session.model"),
    ("empty model id", {"model": ""}, "session.model"),
    ("dated snapshot model", {"model": "gpt-realtime-2025-08-28"}, None),
    ("transcription unknown model id is accepted", {"transcription": Transcription(model="whisper-2")}, None),
    ("transcription model id not an id", {"transcription": Transcription(model="whisper 2!")}, "session.audio.input.transcription.model"),
    ("live transcribe languages and keywords",
     {"transcription": Transcription(model="gpt-live-transcribe", languages=("en", "de"), keywords=("Parley", "qasync"))}, None),
    ("gpt-transcribe keywords", {"transcription": Transcription(model="gpt-transcribe", keywords=("Ada",))}, None),
    ("whisper delay", {"transcription": Transcription(model="gpt-realtime-whisper", delay="high")}, None),
    ("delay on gpt-live-transcribe", {"transcription": Transcription(model="gpt-live-transcribe", delay="low")},
     "session.audio.input.transcription.delay"),
    ("keywords on whisper-1", {"transcription": Transcription(model="whisper-1", keywords=("Ada",))},
     "session.audio.input.transcription.keywords"),
    ("languages on gpt-4o-mini-transcribe", {"transcription": Transcription(model="gpt-4o-mini-transcribe", languages=("en",))},
     "session.audio.input.transcription.languages"),
    ("prompt on gpt-realtime-whisper", {"transcription": Transcription(model="gpt-realtime-whisper", prompt="names")},
     "session.audio.input.transcription.prompt"),
    ("bad delay", {"transcription": Transcription(model="gpt-realtime-whisper", delay="slow")},
     "session.audio.input.transcription.delay"),
    ("languages not codes", {"transcription": Transcription(languages=("English",))}, "session.audio.input.transcription.languages"),
    ("blank keyword", {"transcription": Transcription(keywords=("  ",))}, "session.audio.input.transcription.keywords"),
    ("unknown ASR model may take any option", {"transcription": Transcription(model="gpt-transcribe-2", delay="low", keywords=("x",))}, None),
    ("reasoning on gpt-realtime-2", {"model": "gpt-realtime-2", "reasoning_effort": "xhigh"}, None),
    ("reasoning minimal on 2.1-mini", {"model": "gpt-realtime-2.1-mini", "reasoning_effort": "minimal"}, None),
    ("reasoning on gpt-realtime-1.5", {"model": "gpt-realtime-1.5", "reasoning_effort": "low"}, "session.reasoning.effort"),
    ("reasoning on a dated gpt-realtime", {"model": "gpt-realtime-2025-08-28", "reasoning_effort": "low"}, "session.reasoning.effort"),
    ("reasoning on an unknown model is left to the server", {"model": "gpt-realtime-3", "reasoning_effort": "high"}, None),
    ("bad reasoning effort", {"model": "gpt-realtime-2", "reasoning_effort": "max"}, "session.reasoning.effort"),
    ("parallel tool calls on gpt-realtime-2.1", {"parallel_tool_calls": False}, None),
    ("parallel tool calls on gpt-realtime-1.5", {"model": "gpt-realtime-1.5", "parallel_tool_calls": True},
     "session.parallel_tool_calls"),
    ("parallel tool calls not bool", {"parallel_tool_calls": 1}, "session.parallel_tool_calls"),
    ("noise far field", {"noise_reduction": "far_field"}, None),
    ("noise mid field", {"noise_reduction": "mid_field"}, "session.audio.input.noise_reduction.type"),
    ("transcription language de", {"transcription": Transcription(language="de")}, None),
    ("transcription language English", {"transcription": Transcription(language="English")}, "session.audio.input.transcription.language"),
    ("noise near", {"noise_reduction": "near_field"}, None),
    ("noise far", {"noise_reduction": "far_field"}, None),
    ("noise loud", {"noise_reduction": "loud"}, "session.audio.input.noise_reduction.type"),
    ("instructions not text", {"instructions": 3}, "session.instructions"),
    ("tool ok and forced", {"tools": (TOOL,), "tool_choice": {"type": "function", "name": "lookup"}}, None),
    ("tool bad name", {"tools": ({"type": "function", "name": "has space"},)}, "session.tools[0].name"),
    ("tool duplicate", {"tools": (TOOL, TOOL)}, "session.tools[1].name"),
    ("tool choice unknown mode", {"tool_choice": "sometimes"}, "session.tool_choice"),
    ("tool choice missing tool", {"tool_choice": {"type": "function", "name": "nope"}}, "session.tool_choice.name"),
]


@pytest.mark.parametrize("name,changes,path", CASES, ids=[c[0] for c in CASES])
def test_validation_accepts_the_servers_range_and_names_the_offending_path(name, changes, path):
    config = dataclasses.replace(BASE, **changes)
    if path is None:
        assert config.validate() is config
        validate_client_event(session_update(session_diff(None, config), event_id="e"))
    else:
        with pytest.raises(ConfigValidationError) as info:
            config.validate()
        assert info.value.field == path
        assert info.value.user_message.endswith(".")


@pytest.mark.parametrize("voice", VOICES)
def test_every_ga_voice_is_accepted(voice):
    SessionConfig(voice=voice).validate()


@pytest.mark.parametrize("eagerness", EAGERNESS)
def test_every_semantic_vad_eagerness_is_accepted(eagerness):
    SessionConfig(turn_detection=SemanticVad(eagerness=eagerness)).validate()


@pytest.mark.parametrize("model", [m.id for m in KNOWN_MODELS])
def test_every_known_model_is_accepted(model):
    SessionConfig(model=model).validate()


@pytest.mark.parametrize("model", KNOWN_TRANSCRIPTION_MODELS)
def test_every_known_transcription_model_is_accepted(model):
    SessionConfig(transcription=Transcription(model=model)).validate()


def test_problems_lists_every_fault_not_just_the_first():
    config = SessionConfig(speed=9, voice="nova", max_output_tokens=0)
    assert [p.field for p in config.problems()] == [
        "session.audio.output.voice", "session.audio.output.speed", "session.max_output_tokens"]


# --- diffs -----------------------------------------------------------------------------------------

DIFFS = [
    ("nothing changed", BASE, {}),
    # One slider moved: the whole turn_detection goes, so a server that replaces the object (rather
    # than merging leaves) cannot reset the other sliders to its defaults (issue #16, item 1).
    ("one vad leaf sends the whole turn_detection", dataclasses.replace(BASE, turn_detection=ServerVad(threshold=0.7)),
     {"audio": {"input": {"turn_detection": ServerVad(threshold=0.7).to_dict()}}}),
    ("vad type switch sends the whole object",
     dataclasses.replace(BASE, turn_detection=SemanticVad(eagerness="high")),
     {"audio": {"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "high",
                                             "create_response": True, "interrupt_response": True}}}}),
    ("push to talk is null", dataclasses.replace(BASE, turn_detection=None),
     {"audio": {"input": {"turn_detection": None}}}),
    ("voice and speed only", dataclasses.replace(BASE, voice="cedar", speed=1.2),
     {"audio": {"output": {"voice": "cedar", "speed": 1.2}}}),
    ("instructions", dataclasses.replace(BASE, instructions="Be brief."), {"instructions": "Be brief."}),
    ("transcription on", dataclasses.replace(BASE, transcription=Transcription(language="en")),
     {"audio": {"input": {"transcription": {"model": "gpt-live-transcribe", "language": "en"}}}}),
    ("format switch", dataclasses.replace(BASE, output_format=AudioFormat("audio/pcmu", None)),
     {"audio": {"output": {"format": {"type": "audio/pcmu"}}}}),
    ("tools replace the list", dataclasses.replace(BASE, tools=(TOOL,)), {"tools": [TOOL]}),
    ("model is never diffed", dataclasses.replace(BASE, model="gpt-realtime-2"), {}),
]


@pytest.mark.parametrize("name,new,expected", DIFFS, ids=[d[0] for d in DIFFS])
def test_diff_carries_only_the_changed_leaves_plus_session_type(name, new, expected):
    body = session_diff(BASE, new)
    assert body == {"type": "realtime", **expected}
    assert next(iter(body)) == "type"
    validate_client_event(session_update(body, event_id="e"))


def test_diff_nulls_a_leaf_removed_inside_a_nested_object_so_the_merge_clears_it():
    old = {"audio": {"input": {"noise_reduction": {"type": "near_field", "strength": 0.5}}}}
    new = {"audio": {"input": {"noise_reduction": {"type": "near_field"}}}}
    assert _diff(old, new, root=True) == {"audio": {"input": {"noise_reduction": {"type": "near_field",
                                                                                  "strength": None}}}}


def test_a_changed_transcription_is_sent_whole_never_with_null_leaves():
    old = dataclasses.replace(BASE, transcription=Transcription(language="en", prompt="names: Ada"))
    new = dataclasses.replace(BASE, transcription=Transcription(language="en"))
    assert session_diff(old, new) == {"type": "realtime", "audio": {"input": {"transcription": {
        "model": "gpt-live-transcribe", "language": "en"}}}}


def test_diff_from_nothing_is_the_whole_session_without_model():
    body = session_diff(None, BASE)
    assert "model" not in body and body["type"] == "realtime"
    assert body["audio"]["output"]["voice"] == "marin"


def test_from_server_reads_the_effective_session_and_round_trips():
    session = frames.session_obj()
    config = SessionConfig.from_server(session)
    assert (config.voice, config.instructions, config.turn_detection) == (
        "alloy", session["instructions"], ServerVad(threshold=0.5, prefix_padding_ms=300, silence_duration_ms=200))
    assert SessionConfig.from_server(config.to_session_dict()) == config


def test_from_server_keeps_values_the_client_would_not_choose():
    session = frames.session_obj(model="gpt-4o-realtime-preview")
    session["audio"]["output"]["voice"] = {"id": "voice_custom1"}
    session["audio"]["input"]["turn_detection"] = {"type": "semantic_vad", "eagerness": "low"}
    config = SessionConfig.from_server(session)
    assert (config.model, config.voice, config.turn_detection) == (
        "gpt-4o-realtime-preview", "voice_custom1", SemanticVad(eagerness="low"))
    assert config.to_session_dict()["audio"]["output"]["voice"] == {"id": "voice_custom1"}


# --- locks -----------------------------------------------------------------------------------------


def test_voice_change_after_assistant_audio_is_refused_with_a_clear_message():
    with pytest.raises(LockedFieldError) as info:
        check_locked(BASE, dataclasses.replace(BASE, voice="cedar"), voice_locked=True)
    assert info.value.field == "session.audio.output.voice"
    assert "cedar" in info.value.user_message and "new conversation" in info.value.user_message


def test_same_voice_and_other_changes_pass_while_voice_is_locked():
    check_locked(BASE, dataclasses.replace(BASE, speed=1.3, instructions="x"), voice_locked=True)


def test_voice_change_before_any_audio_is_allowed():
    check_locked(BASE, dataclasses.replace(BASE, voice="cedar"), voice_locked=False)


def test_model_change_is_refused_because_it_is_chosen_at_connect():
    with pytest.raises(LockedFieldError) as info:
        check_locked(BASE, dataclasses.replace(BASE, model="gpt-realtime-2"), voice_locked=False)
    assert info.value.field == "session.model"


def test_a_dated_snapshot_of_the_same_model_is_not_a_model_change():
    current = dataclasses.replace(BASE, model="gpt-realtime-2025-08-28")
    check_locked(current, dataclasses.replace(BASE, model="gpt-realtime"), voice_locked=False)
