"""The one list of Realtime models Parley knows, with prices. Nothing else names a model id.

Source: the `openai` SDK's session model enum and the developers.openai.com model pages
(see ``shared/docs/realtime-protocol.md`` §0 and §4.7). The default is the newest GA realtime model
that is not marked deprecated.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Price:
    """US dollars per one million tokens."""

    text_in: float
    text_cached: float
    text_out: float
    audio_in: float
    audio_cached: float
    audio_out: float


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One known Realtime model."""

    id: str
    label: str
    price: Price
    deprecated: bool = False


_FULL = Price(4.00, 0.40, 16.00, 32.00, 0.40, 64.00)
_FULL_2 = Price(4.00, 0.40, 24.00, 32.00, 0.40, 64.00)
_MINI = Price(0.60, 0.06, 2.40, 10.00, 0.30, 20.00)

KNOWN_MODELS: tuple[ModelInfo, ...] = (
    ModelInfo("gpt-realtime-2.1", "GPT Realtime 2.1", _FULL_2),
    ModelInfo("gpt-realtime-2.1-mini", "GPT Realtime 2.1 mini", _MINI),
    ModelInfo("gpt-realtime-2", "GPT Realtime 2", _FULL_2),
    ModelInfo("gpt-realtime-1.5", "GPT Realtime 1.5", _FULL),
    ModelInfo("gpt-realtime", "GPT Realtime (deprecated 2027-01-20)", _FULL, deprecated=True),
    ModelInfo("gpt-realtime-mini", "GPT Realtime mini (deprecated 2027-01-20)", _MINI, deprecated=True),
)

DEFAULT_MODEL: str = "gpt-realtime-2.1"

_BY_ID = {m.id: m for m in KNOWN_MODELS}


def model_info(model_id: str) -> ModelInfo | None:
    """The known model with this id (dated snapshots map to their family), or None."""
    if model_id in _BY_ID:
        return _BY_ID[model_id]
    # Dated snapshots such as "gpt-realtime-2025-08-28" price like their family.
    for known in sorted(_BY_ID, key=len, reverse=True):
        if model_id.startswith(known + "-") and model_id[len(known) + 1 : len(known) + 2].isdigit():
            return _BY_ID[known]
    return None


def is_known_model(model_id: str) -> bool:
    """True for a model id the local server and the settings accept."""
    return model_info(model_id) is not None


KNOWN_TRANSCRIPTION_MODELS: tuple[str, ...] = (
    "gpt-4o-mini-transcribe",
    "gpt-4o-mini-transcribe-2025-12-15",
    "gpt-4o-transcribe",
    "gpt-transcribe",
    "gpt-live-transcribe",
    "gpt-realtime-whisper",
    "whisper-1",
)
"""ASR models accepted for ``audio.input.transcription.model`` (the SDK enum, §2.6).

``gpt-4o-transcribe-diarize`` is left out: whether it works inside a speech-to-speech session is an
open question (realtime-protocol.md §8 item 10). Input transcription is billed at the ASR model's own
rate, which is not in :data:`KNOWN_MODELS`' prices.
"""

DEFAULT_TRANSCRIPTION_MODEL: str = "gpt-4o-mini-transcribe"


def is_known_transcription_model(model_id: str) -> bool:
    """True for an ASR model id the session settings accept."""
    return model_id in KNOWN_TRANSCRIPTION_MODELS


@dataclass(frozen=True, slots=True)
class TranscriptionPrice:
    """An ASR model's price in US dollars: per one million tokens, or per minute of audio.

    Token-billed models report ``usage.type == "tokens"``; duration-billed ones ``"duration"``.
    A part that is None is not known, and a usage billed that way is shown as "price unknown".
    """

    input_per_m: float | None = None
    output_per_m: float | None = None
    per_minute: float | None = None


TRANSCRIPTION_PRICES: dict[str, TranscriptionPrice] = {
    # developers.openai.com model pages (2026): $2.50 in / $10.00 out per 1M tokens.
    "gpt-4o-transcribe": TranscriptionPrice(input_per_m=2.50, output_per_m=10.00),
    # developers.openai.com model comparison (2026): $1.25 in / $5.00 out per 1M tokens.
    "gpt-4o-mini-transcribe": TranscriptionPrice(input_per_m=1.25, output_per_m=5.00),
    # realtime-protocol.md §4.7: $0.017 per audio minute.
    "gpt-realtime-whisper": TranscriptionPrice(per_minute=0.017),
    # Billed per minute of audio: $0.006.
    "whisper-1": TranscriptionPrice(per_minute=0.006),
    # gpt-transcribe and gpt-live-transcribe: no first-party price found — "price unknown".
}


def transcription_price(model_id: str) -> TranscriptionPrice | None:
    """The ASR model's price (dated snapshots price like their family), or None if unknown."""
    if model_id in TRANSCRIPTION_PRICES:
        return TRANSCRIPTION_PRICES[model_id]
    for known in sorted(TRANSCRIPTION_PRICES, key=len, reverse=True):
        if model_id.startswith(known + "-") and model_id[len(known) + 1 : len(known) + 2].isdigit():
            return TRANSCRIPTION_PRICES[known]
    return None
