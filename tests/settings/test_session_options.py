"""Settings → session config for the issue #20 options: only what the chosen model takes is sent,
and the result passes the SDK's strict client union."""

from __future__ import annotations

import dataclasses

import pytest

from desktop_app.controller.config import session_config_from_settings
from desktop_app.realtime.commands import session_update
from desktop_app.realtime.session_config import session_diff
from desktop_app.realtime.transcription import Transcription
from desktop_app.settings.schema import Settings
from desktop_app.settings.session_options import apply_session_options, transcription_from_settings
from tests.realtime.oracle import validate_client_event

CHOSEN = dict(transcription_languages=("en", "de"), transcription_keywords=("Parley", "qasync"),
              transcription_delay="high", reasoning_effort="xhigh", noise_reduction="near_field", speed=1.2)


@pytest.mark.parametrize(("model", "expected"), [
    ("gpt-live-transcribe", Transcription(model="gpt-live-transcribe", languages=("en", "de"),
                                          keywords=("Parley", "qasync"))),
    ("gpt-transcribe", Transcription(model="gpt-transcribe", languages=("en", "de"), keywords=("Parley", "qasync"))),
    ("gpt-realtime-whisper", Transcription(model="gpt-realtime-whisper", delay="high")),
    ("whisper-1", Transcription(model="whisper-1")),
    ("off", None),
])
def test_each_transcription_model_gets_only_the_options_it_takes(model, expected):
    settings = Settings(input_transcription_model=model, **CHOSEN)
    assert transcription_from_settings(settings) == expected


def test_a_single_language_reaches_a_model_with_only_a_language_field():
    settings = Settings(input_transcription_model="gpt-4o-transcribe", transcription_languages=("fr",))
    assert transcription_from_settings(settings) == Transcription(model="gpt-4o-transcribe", language="fr")


@pytest.mark.parametrize(("model", "effort"), [
    ("gpt-realtime-2.1", "xhigh"), ("gpt-realtime-1.5", None), ("gpt-realtime-3", "xhigh"),
])
def test_reasoning_effort_goes_to_models_that_may_take_it(model, effort):
    settings = Settings(model=model, **CHOSEN)
    base = dataclasses.replace(session_config_from_settings(settings), model=model)
    config = apply_session_options(base, settings).validate()
    assert config.reasoning_effort == effort
    assert (config.noise_reduction, config.speed) == ("near_field", 1.2)
    validate_client_event(session_update(session_diff(None, config), event_id="e"))


def test_defaults_send_nothing_new():
    settings = Settings()
    config = apply_session_options(session_config_from_settings(settings), settings)
    session = config.to_session_dict()
    assert "reasoning" not in session
    assert session["audio"]["input"]["noise_reduction"] is None
    assert session["audio"]["input"]["transcription"] == {"model": "gpt-live-transcribe"}
    assert session["audio"]["output"]["speed"] == 1.0
