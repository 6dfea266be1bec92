"""The one list of Realtime and transcription models Parley knows, with prices and capabilities.
Nothing else names a model id.

Source: the `openai` SDK's session and transcription model enums (3.63) and the developers.openai.com
model pages (see ``shared/docs/realtime-protocol.md`` §0, §0.1, §2.6 and §4.7). The default is the
newest GA realtime model that is not marked deprecated.

The lists are not a fence: the SDK types ``model`` as "any string or one of these", so a model OpenAI
ships tomorrow is accepted by :func:`is_valid_model_id` (shape only). A known id gets a label, a price
and its capabilities; an unknown one is priced "unknown" and offered only the options every model takes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Price:
    """US dollars per one million tokens (images: None where the model page gives no price)."""

    text_in: float
    text_cached: float
    text_out: float
    audio_in: float
    audio_cached: float
    audio_out: float
    image_in: float | None = None
    image_cached: float | None = None


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One known Realtime model. ``reasoning``: it takes ``reasoning.effort`` and
    ``parallel_tool_calls`` (gpt-realtime-2 class); ``shutdown``: announced shutdown date."""

    id: str
    label: str
    price: Price
    deprecated: bool = False
    reasoning: bool = False
    shutdown: str | None = None


_FULL = Price(4.00, 0.40, 16.00, 32.00, 0.40, 64.00, 5.00, 0.50)
_FULL_2 = Price(4.00, 0.40, 24.00, 32.00, 0.40, 64.00, 5.00, 0.50)
_MINI = Price(0.60, 0.06, 2.40, 10.00, 0.30, 20.00, 0.80, 0.08)

KNOWN_MODELS: tuple[ModelInfo, ...] = (
    ModelInfo("gpt-realtime-2.1", "GPT Realtime 2.1", _FULL_2, reasoning=True),
    ModelInfo("gpt-realtime-2.1-mini", "GPT Realtime 2.1 mini", _MINI, reasoning=True),
    ModelInfo("gpt-realtime-2", "GPT Realtime 2", _FULL_2, reasoning=True),
    ModelInfo("gpt-realtime-1.5", "GPT Realtime 1.5", _FULL),
    ModelInfo("gpt-realtime", "GPT Realtime (deprecated 2027-01-20)", _FULL, deprecated=True,
              shutdown="2027-01-20"),
    ModelInfo("gpt-realtime-mini", "GPT Realtime mini (deprecated 2027-01-20)", _MINI, deprecated=True,
              shutdown="2027-01-20"),
)

DEFAULT_MODEL: str = "gpt-realtime-2.1"

_BY_ID = {m.id: m for m in KNOWN_MODELS}
_DATED = re.compile(r"\d{4}-\d{2}-\d{2}")
# Letters, digits and . _ : / - (fine-tuned ids carry ':', self-hosted ones may carry '/'), at most 128.
_MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}")


def is_valid_model_id(model_id: object) -> bool:
    """True for any string shaped like a model id; the server decides whether it exists."""
    return isinstance(model_id, str) and _MODEL_ID.fullmatch(model_id) is not None


def model_info(model_id: str) -> ModelInfo | None:
    """The known model with this id (dated snapshots map to their family), or None."""
    if model_id in _BY_ID:
        return _BY_ID[model_id]
    # Dated snapshots such as "gpt-realtime-2025-08-28" price like their family; "gpt-realtime-3" does not.
    for known in sorted(_BY_ID, key=len, reverse=True):
        if model_id.startswith(known + "-") and _DATED.fullmatch(model_id[len(known) + 1:]):
            return _BY_ID[known]
    return None


# --- GPT-Live (/v1/live/sessions, live-protocol.md §0) --------------------------------------------


@dataclass(frozen=True, slots=True)
class LiveModelInfo:
    """One known GPT-Live model: billed per second of session at ``per_minute`` US dollars a minute
    (active time, silence included; the backend Responses model is billed apart at its token rates)."""

    id: str
    label: str
    per_minute: float


LIVE_MODELS: tuple[LiveModelInfo, ...] = (
    LiveModelInfo("gpt-live-1.1", "GPT-Live 1.1", 0.05),
    LiveModelInfo("gpt-live-1", "GPT-Live 1", 0.05),
)
LIVE_MODEL_PREFIX = "gpt-live-"
DEFAULT_LIVE_MODEL: str = "gpt-live-1"
"""The GPT-Live model a ``…/live/sessions`` URL without a model gets (the one generally available, §0)."""
DEFAULT_DELEGATION_MODEL: str = "gpt-5.4-mini"
"""The Responses model a GPT-Live session delegates tool work to (an SDK ``ChatModel``; Parley's choice)."""

_LIVE_BY_ID = {m.id: m for m in LIVE_MODELS}


def is_live_model(model_id: str) -> bool:
    """True for a GPT-Live voice model (a known one, or any ``gpt-live-*`` id that is not an ASR model):
    it speaks the Live protocol at ``/v1/live/sessions``, not Realtime."""
    return model_id in _LIVE_BY_ID or (model_id.startswith(LIVE_MODEL_PREFIX) and "transcribe" not in model_id)


def live_model_info(model_id: str) -> LiveModelInfo | None:
    """The known GPT-Live model with this id, or None."""
    return _LIVE_BY_ID.get(model_id)


def live_price_per_second(model_id: str) -> float | None:
    """US dollars per second of a GPT-Live session, or None for an unknown model."""
    info = live_model_info(model_id)
    return None if info is None else info.per_minute / 60.0


VOICE_MODEL_IDS: tuple[str, ...] = tuple(m.id for m in KNOWN_MODELS) + tuple(m.id for m in LIVE_MODELS)
"""Every voice model a picker offers: Realtime first, then GPT-Live."""


def is_known_model(model_id: str) -> bool:
    """True for a model id in the list above (or a dated snapshot of one): the local server serves these."""
    return model_info(model_id) is not None


def takes_reasoning(model_id: str) -> bool | None:
    """Whether the model takes ``reasoning.effort`` / ``parallel_tool_calls``; None when Parley does not know it."""
    if is_live_model(model_id):
        return False  # GPT-Live's session has no reasoning (its backend's is set apart)
    info = model_info(model_id)
    return None if info is None else info.reasoning


def model_label(model_id: str) -> str:
    """What a picker shows: the known label, or the id itself with "price unknown"."""
    live = live_model_info(model_id)
    if live is not None:
        return f"{live.label} (GPT-Live)"
    info = model_info(model_id)
    if info is None:
        return f"{model_id} (price unknown)"
    return info.label if info.id == model_id else f"{info.label} ({model_id})"


def price_summary(model_id: str) -> str:
    """One line for a tooltip or picker: audio and text prices per 1M tokens, or "price unknown"."""
    live = live_model_info(model_id)
    if live is not None:
        return f"${live.per_minute:g} per minute of conversation, billed by the second"
    info = model_info(model_id)
    if info is None:
        return "price unknown"
    p = info.price
    return (f"audio ${p.audio_in:g} in / ${p.audio_out:g} out, text ${p.text_in:g} in / ${p.text_out:g} out "
            "per 1M tokens")


def cost_text(cost_usd: float | None) -> str:
    """A conversation's cost as the usage display shows it: "$0.12", or "price unknown" for an unknown model."""
    return "price unknown" if cost_usd is None else f"${cost_usd:.2f}"


# --- input transcription (audio.input.transcription, §2.6) ----------------------------------------

TRANSCRIPTION_SHUTDOWN = "2027-02-26"


@dataclass(frozen=True, slots=True)
class TranscriptionModelInfo:
    """One known ASR model: which optional ``audio.input.transcription`` fields it takes (SDK 3.63
    ``AudioTranscription``) and its announced shutdown date, if any."""

    id: str
    label: str
    options: frozenset[str]
    shutdown: str | None = None

    @property
    def retiring(self) -> bool:
        return self.shutdown is not None


_CLASSIC = frozenset({"language", "prompt"})
_NEW = frozenset({"language", "prompt", "languages", "keywords"})

TRANSCRIPTION_MODELS: tuple[TranscriptionModelInfo, ...] = (
    TranscriptionModelInfo("gpt-live-transcribe", "GPT Live Transcribe (live audio)", _NEW),
    TranscriptionModelInfo("gpt-transcribe", "GPT Transcribe", _NEW),
    TranscriptionModelInfo("gpt-realtime-whisper", "GPT Realtime Whisper", frozenset({"language", "delay"})),
    TranscriptionModelInfo("gpt-4o-mini-transcribe", "GPT-4o mini Transcribe", _CLASSIC, TRANSCRIPTION_SHUTDOWN),
    TranscriptionModelInfo("gpt-4o-mini-transcribe-2025-12-15", "GPT-4o mini Transcribe 2025-12-15", _CLASSIC,
                           TRANSCRIPTION_SHUTDOWN),
    TranscriptionModelInfo("gpt-4o-transcribe", "GPT-4o Transcribe", _CLASSIC, TRANSCRIPTION_SHUTDOWN),
    TranscriptionModelInfo("whisper-1", "Whisper", _CLASSIC, TRANSCRIPTION_SHUTDOWN),
)

KNOWN_TRANSCRIPTION_MODELS: tuple[str, ...] = tuple(m.id for m in TRANSCRIPTION_MODELS)
"""ASR models offered for ``audio.input.transcription.model`` (the SDK enum, §2.6), recommended first.

``gpt-4o-transcribe-diarize`` is left out: whether it works inside a speech-to-speech session is an
open question (realtime-protocol.md §8 item 10), and it shuts down with the others. Input transcription
is billed at the ASR model's own rate, which is not in :data:`KNOWN_MODELS`' prices.
"""

RETIRING_TRANSCRIPTION_MODELS: dict[str, str] = {
    **{m.id: m.shutdown for m in TRANSCRIPTION_MODELS if m.shutdown is not None},
    "gpt-4o-transcribe-diarize": TRANSCRIPTION_SHUTDOWN,
}
"""Every ASR model with an announced shutdown (SDK ``AudioTranscription`` docstring) → the date."""

DEFAULT_TRANSCRIPTION_MODEL: str = "gpt-live-transcribe"
PREVIOUS_DEFAULT_TRANSCRIPTION_MODEL: str = "gpt-4o-mini-transcribe"
"""The default of Parley's settings schema v2 and earlier (migrations.py moves its users off it)."""

_TRANSCRIPTION_BY_ID = {m.id: m for m in TRANSCRIPTION_MODELS}
#: What an unknown ASR model is offered: everything; the server answers for a field it does not take.
ALL_TRANSCRIPTION_OPTIONS = frozenset({"language", "prompt", "languages", "keywords", "delay"})


def transcription_info(model_id: str) -> TranscriptionModelInfo | None:
    """The known ASR model with this id, or None."""
    return _TRANSCRIPTION_BY_ID.get(model_id)


def is_known_transcription_model(model_id: str) -> bool:
    """True for an ASR model id in the list above: the local server transcribes as these."""
    return model_id in _TRANSCRIPTION_BY_ID


def transcription_options(model_id: str) -> frozenset[str]:
    """The optional transcription fields this model takes (all of them for an unknown model)."""
    info = transcription_info(model_id)
    return ALL_TRANSCRIPTION_OPTIONS if info is None else info.options


def transcription_shutdown(model_id: str) -> str | None:
    """The announced shutdown date of a retiring ASR model, else None."""
    return RETIRING_TRANSCRIPTION_MODELS.get(model_id)


def transcription_label(model_id: str) -> str:
    """What the transcription picker shows: the id, with its shutdown date when it is retiring."""
    shutdown = transcription_shutdown(model_id)
    return f"{model_id} (shuts down {shutdown})" if shutdown else model_id


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
