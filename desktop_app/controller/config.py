"""Translations between the user's settings, the protocol's session config and the view.

Three shapes of the same facts: :class:`~desktop_app.settings.schema.Settings` (what is stored),
:class:`~desktop_app.realtime.session_config.SessionConfig` (what the server is asked for) and
:class:`~desktop_app.controller.view_state.VadView` (what the sliders show). Keeping the mapping in
one module means a new setting is wired in one place.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from desktop_app.controller.view_state import VadView
from desktop_app.settings.session_options import apply_session_options
from desktop_app.realtime.session_config import (
    AudioFormat, PCM24K, SemanticVad, ServerVad, SessionConfig, Transcription,
)

OFF = "off"


def session_config_from_settings(settings: Any) -> SessionConfig:
    """The session the settings ask for. Push-to-talk (or VAD "off") means no turn detection."""
    fmt = AudioFormat.from_dict({"type": settings.input_audio_format})
    hands_free = settings.turn_mode == "hands_free" and settings.vad_type != OFF
    transcription = (
        None if settings.input_transcription_model == OFF
        else Transcription(model=settings.input_transcription_model)
    )
    return apply_session_options(SessionConfig(
        model=settings.model,
        instructions=settings.instructions,
        output_modalities=tuple(settings.output_modalities),
        voice=settings.voice,
        input_format=fmt,
        output_format=fmt if fmt.type != "audio/pcm" else PCM24K,
        turn_detection=turn_detection_from_vad(vad_view_from_settings(settings)) if hands_free else None,
        transcription=transcription,
    ), settings)


def vad_view_from_settings(settings: Any) -> VadView:
    """The sliders' values as stored (also kept while in push-to-talk, for switching back)."""
    return VadView(
        type=settings.vad_type,
        threshold=settings.vad_threshold,
        prefix_padding_ms=settings.vad_prefix_padding_ms,
        silence_duration_ms=settings.vad_silence_duration_ms,
        idle_timeout_ms=settings.vad_idle_timeout_ms,
        eagerness=settings.vad_eagerness,
        create_response=settings.vad_create_response,
        interrupt_response=settings.vad_interrupt_response,
    )


def turn_detection_from_vad(vad: VadView) -> ServerVad | SemanticVad | None:
    """The protocol's turn detection for slider values (``type == "off"`` → None)."""
    if vad.type == "server_vad":
        return ServerVad(
            threshold=vad.threshold, prefix_padding_ms=vad.prefix_padding_ms,
            silence_duration_ms=vad.silence_duration_ms, idle_timeout_ms=vad.idle_timeout_ms,
            create_response=vad.create_response, interrupt_response=vad.interrupt_response,
        )
    if vad.type == "semantic_vad":
        return SemanticVad(
            eagerness=vad.eagerness, create_response=vad.create_response,
            interrupt_response=vad.interrupt_response,
        )
    return None


def vad_view_from_config(config: SessionConfig, fallback: VadView) -> VadView:
    """What the sliders should show for an effective session; push-to-talk keeps ``fallback``'s values."""
    td = config.turn_detection
    if isinstance(td, ServerVad):
        return replace(
            fallback, type="server_vad", threshold=td.threshold, prefix_padding_ms=td.prefix_padding_ms,
            silence_duration_ms=td.silence_duration_ms, idle_timeout_ms=td.idle_timeout_ms,
            create_response=td.create_response, interrupt_response=td.interrupt_response,
        )
    if isinstance(td, SemanticVad):
        return replace(
            fallback, type="semantic_vad", eagerness=td.eagerness,
            create_response=td.create_response, interrupt_response=td.interrupt_response,
        )
    return fallback


def interrupt_is_servers_job(config: SessionConfig | None) -> bool:
    """True when the server cancels a response itself on speech (VAD with ``interrupt_response``)."""
    td = config.turn_detection if config else None
    return td is not None and td.interrupt_response
