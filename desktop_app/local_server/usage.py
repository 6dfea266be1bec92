"""Token accounting the way the service reports it (realtime-protocol.md §4.5, §4.6, §7.12).

Text tokens are words and punctuation marks; audio is 10 tokens a second in, 20 out. A response's
input is the whole context it saw (instructions plus every item); a cancelled response reports what
it generated so far; a failed one reports zero. ``rate_limits.updated`` carries one ``tokens`` entry
from a per-session sliding minute.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from collections import deque
from dataclasses import dataclass

AUDIO_IN_PER_S = 10
AUDIO_OUT_PER_S = 20
TOKENS_PER_MINUTE = 40_000

_TOKEN = re.compile(r"\w+|[^\w\s]")


def text_tokens(text: str) -> int:
    """Rough token count of ``text``: words plus punctuation marks."""
    return len(_TOKEN.findall(text or ""))


def audio_in_tokens(ms: float) -> int:
    return int(round(ms / 1000.0 * AUDIO_IN_PER_S))


def audio_out_tokens(ms: float) -> int:
    return int(round(ms / 1000.0 * AUDIO_OUT_PER_S))


@dataclass
class Usage:
    """Counts for one response; :meth:`as_dict` is ``response.usage``."""

    input_text: int = 0
    input_audio: int = 0
    output_text: int = 0
    output_audio: int = 0

    @property
    def output_tokens(self) -> int:
        return self.output_text + self.output_audio

    @property
    def total(self) -> int:
        return self.input_text + self.input_audio + self.output_tokens

    def as_dict(self) -> dict:
        return {
            "total_tokens": self.total,
            "input_tokens": self.input_text + self.input_audio,
            "output_tokens": self.output_tokens,
            "input_token_details": {
                "text_tokens": self.input_text,
                "audio_tokens": self.input_audio,
                "image_tokens": 0,
                "cached_tokens": 0,
                "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
            },
            "output_token_details": {"text_tokens": self.output_text, "audio_tokens": self.output_audio},
        }


class RateWindow:
    """Tokens used in the last minute, for ``rate_limits.updated``."""

    def __init__(self, limit: int = TOKENS_PER_MINUTE, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._spent: deque[tuple[float, int]] = deque()

    def spend(self, tokens: int) -> None:
        self._spent.append((self._clock(), tokens))

    def event_body(self) -> list[dict]:
        now = self._clock()
        while self._spent and now - self._spent[0][0] > 60.0:
            self._spent.popleft()
        used = sum(t for _, t in self._spent)
        reset = 0.0 if not self._spent else max(0.0, 60.0 - (now - self._spent[0][0]))
        return [{"name": "tokens", "limit": self.limit, "remaining": max(0, self.limit - used),
                 "reset_seconds": round(reset, 3)}]
