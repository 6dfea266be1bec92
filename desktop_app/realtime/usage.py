"""Token usage summed over responses, and what it cost (prices from :mod:`.models`, §4.6/§4.7).

Input tokens split into text/audio/image; ``cached_tokens`` are a *subset* of the input tokens and
are billed at the cached rate instead of the full one. GPT-Live bills seconds of session instead
(``live_seconds``). Input transcription is billed by the ASR
model separately; its tokens/seconds are counted here but not priced (no ASR prices are known).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeGuard

from .models import is_live_model, live_price_per_second, model_info


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts; add two with ``+``. ``cached_*`` are included in ``input_*``."""

    input_text: int = 0
    input_audio: int = 0
    input_image: int = 0
    cached_text: int = 0
    cached_audio: int = 0
    cached_image: int = 0
    output_text: int = 0
    output_audio: int = 0
    responses: int = 0
    transcription_input_tokens: int = 0
    transcription_output_tokens: int = 0
    transcription_seconds: float = 0.0
    live_seconds: float = 0.0  # GPT-Live: billed session seconds (the service's cumulative count)

    @property
    def input_tokens(self) -> int:
        return self.input_text + self.input_audio + self.input_image

    @property
    def output_tokens(self) -> int:
        return self.output_text + self.output_audio

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def cached_tokens(self) -> int:
        return self.cached_text + self.cached_audio + self.cached_image

    def __add__(self, other: "Usage") -> "Usage":
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @classmethod
    def from_response(cls, usage: Any) -> "Usage":
        """From ``response.done.response.usage`` (missing parts count as 0; never raises)."""
        if not isinstance(usage, dict):
            return cls(responses=1)
        inp, out = _obj(usage.get("input_token_details")), _obj(usage.get("output_token_details"))
        text, audio, image = _int(inp, "text_tokens"), _int(inp, "audio_tokens"), _int(inp, "image_tokens")
        if not inp and _int(usage, "input_tokens"):
            text = _int(usage, "input_tokens")  # no split given: count it as text, the cheaper guess
        cached = _int(inp, "cached_tokens")
        details = _obj(inp.get("cached_tokens_details"))
        if details:
            c_text, c_audio, c_image = (_int(details, k) for k in ("text_tokens", "audio_tokens", "image_tokens"))
        else:  # no split: attribute cached tokens to text first, then audio
            c_text = min(cached, text)
            c_audio, c_image = min(cached - c_text, audio), 0
        o_text, o_audio = _int(out, "text_tokens"), _int(out, "audio_tokens")
        if not out and _int(usage, "output_tokens"):
            o_text = _int(usage, "output_tokens")
        return cls(text, audio, image, c_text, c_audio, c_image, o_text, o_audio, responses=1)

    @classmethod
    def from_transcription(cls, usage: Any) -> "Usage":
        """From ``input_audio_transcription.completed.usage`` (tokens or duration billing)."""
        if not isinstance(usage, dict):
            return cls()
        if usage.get("type") == "duration":
            seconds = usage.get("seconds")
            return cls(transcription_seconds=float(seconds) if isinstance(seconds, int | float) else 0.0)
        return cls(transcription_input_tokens=_int(usage, "input_tokens"),
                   transcription_output_tokens=_int(usage, "output_tokens"))

    @classmethod
    def from_responses(cls, usage: Any) -> "Usage":
        """From a Responses API ``usage`` (a GPT-Live backend's: input/output tokens, a cached subset), as
        the text tokens of one response."""
        if not isinstance(usage, dict):
            return cls(responses=1)
        cached = _int(_obj(usage.get("input_tokens_details")), "cached_tokens")
        return cls(input_text=_int(usage, "input_tokens"), cached_text=cached, output_text=_int(usage, "output_tokens"),
                   responses=1)

    def cost(self, model_id: str) -> float | None:
        """US dollars for the realtime model's tokens (a GPT-Live model's session seconds), or None for a
        model without known prices. A GPT-Live backend's tokens are counted, not priced (its model varies)."""
        if is_live_model(model_id):
            rate = live_price_per_second(model_id)
            return None if rate is None else self.live_seconds * rate
        info = model_info(model_id)
        if info is None:
            return None
        p = info.price
        # Images have no price in the table; image tokens are rare in a voice app and not costed.
        dollars = (
            max(self.input_text - self.cached_text, 0) * p.text_in
            + self.cached_text * p.text_cached
            + max(self.input_audio - self.cached_audio, 0) * p.audio_in
            + self.cached_audio * p.audio_cached
            + self.output_text * p.text_out
            + self.output_audio * p.audio_out
        )
        return dollars / 1_000_000


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_num(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _int(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else 0
