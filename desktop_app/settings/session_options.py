"""The issue #20 session options, from stored settings to the protocol's :class:`SessionConfig`.

Settings keep what the user chose even where the current model cannot use it (switching back to a
reasoning model brings the chosen effort back); this module sends only what the model takes:

* transcription: ``languages``/``keywords`` for models that take them, ``delay`` for
  gpt-realtime-whisper; a model with a single ``language`` field gets the one language when exactly
  one is chosen;
* ``reasoning.effort`` for models that take it (and for unknown models: the user chose it);
* noise reduction and the speaking speed always.

The controller's ``session_config_from_settings`` calls :func:`apply_session_options` on the
config it builds, so a new option is wired here, once.
"""

from __future__ import annotations

from dataclasses import replace

from desktop_app.realtime.models import takes_reasoning, transcription_options
from desktop_app.realtime.session_config import SessionConfig
from desktop_app.realtime.transcription import Transcription
from desktop_app.settings.schema import OFF, Settings


def transcription_from_settings(settings: Settings) -> Transcription | None:
    """The ``audio.input.transcription`` the settings ask for, or None when it is off."""
    model = settings.input_transcription_model
    if model == OFF:
        return None
    takes = transcription_options(model)
    languages: tuple[str, ...] = ()
    language = None
    if "languages" in takes:
        languages = tuple(settings.transcription_languages)
    elif "language" in takes and len(settings.transcription_languages) == 1:
        language = settings.transcription_languages[0]
    return Transcription(
        model=model,
        language=language,
        languages=languages,
        keywords=tuple(settings.transcription_keywords) if "keywords" in takes else (),
        delay=settings.transcription_delay if "delay" in takes else None,
    )


def apply_session_options(config: SessionConfig, settings: Settings) -> SessionConfig:
    """``config`` with transcription, reasoning effort, noise reduction and speed from ``settings``."""
    effort = settings.reasoning_effort if takes_reasoning(config.model) is not False else None
    return replace(
        config,
        transcription=transcription_from_settings(settings),
        reasoning_effort=effort,
        noise_reduction=settings.noise_reduction,
        speed=settings.speed,
    )
