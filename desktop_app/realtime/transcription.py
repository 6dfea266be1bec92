"""Input transcription (``audio.input.transcription``, realtime-protocol.md §2.6 and §0.1).

A separate ASR model writes down what the user said. Besides ``model``, ``language`` and ``prompt``,
SDK 3.63's ``AudioTranscription`` has ``languages`` and ``keywords`` (``gpt-transcribe`` /
``gpt-live-transcribe``) and ``delay`` (``gpt-realtime-whisper`` only); :mod:`.models` says which
model takes which. A known model given a field it does not take is refused here, before the server
discards the whole ``session.update`` for it; an unknown model is given the benefit of the doubt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import ConfigValidationError
from .models import DEFAULT_TRANSCRIPTION_MODEL, is_valid_model_id, transcription_options

TRANSCRIPTION_DELAYS: tuple[str, ...] = ("minimal", "low", "medium", "high", "xhigh")
"""``delay`` values: how long ``gpt-realtime-whisper`` waits before writing (accuracy against latency)."""
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
MAX_KEYWORDS = 100
MAX_KEYWORD_LENGTH = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcription:
    """Asynchronous input transcription by a separate ASR model (§2.6). Empty tuples and None are
    left out of the wire form, so a model that does not know a field never sees it."""

    model: str = DEFAULT_TRANSCRIPTION_MODEL
    language: str | None = None
    prompt: str | None = None
    languages: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    delay: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model}
        if self.language is not None:
            out["language"] = self.language
        if self.prompt is not None:
            out["prompt"] = self.prompt
        if self.languages:
            out["languages"] = list(self.languages)
        if self.keywords:
            out["keywords"] = list(self.keywords)
        if self.delay is not None:
            out["delay"] = self.delay
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Transcription":
        """The server's echo, read leniently (a field of the wrong type is dropped, not fatal)."""
        def strings(value: Any) -> tuple[str, ...]:
            return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

        delay = data.get("delay")
        return cls(model=data.get("model") or "", language=data.get("language"), prompt=data.get("prompt"),
                   languages=strings(data.get("languages")), keywords=strings(data.get("keywords")),
                   delay=delay if isinstance(delay, str) else None)

    def problems(self, path: str) -> list[ConfigValidationError]:
        out = []
        if not is_valid_model_id(self.model):
            out.append(ConfigValidationError(f"{path}.model", f"{self.model!r} is not a model id."))
            return out
        takes = transcription_options(self.model)
        given = {"language": self.language is not None, "prompt": self.prompt is not None,
                 "languages": bool(self.languages), "keywords": bool(self.keywords), "delay": self.delay is not None}
        for name in sorted(n for n, present in given.items() if present and n not in takes):
            out.append(ConfigValidationError(f"{path}.{name}", f"{self.model} does not take {name}."))
        if self.language is not None and (not isinstance(self.language, str) or not LANGUAGE_CODE.fullmatch(self.language)):
            out.append(ConfigValidationError(f"{path}.language", "Language must be an ISO-639-1 code such as 'en'."))
        bad = [code for code in self.languages if not isinstance(code, str) or not LANGUAGE_CODE.fullmatch(code)]
        if bad:
            out.append(ConfigValidationError(f"{path}.languages",
                                             f"{bad[0]!r} is not an ISO-639-1 language code such as 'en'."))
        if self.prompt is not None and not isinstance(self.prompt, str):
            out.append(ConfigValidationError(f"{path}.prompt", "The transcription prompt must be text."))
        out += _keyword_problems(self.keywords, f"{path}.keywords")
        if self.delay is not None and self.delay not in TRANSCRIPTION_DELAYS:
            out.append(ConfigValidationError(f"{path}.delay", f"Delay must be one of {', '.join(TRANSCRIPTION_DELAYS)}."))
        return out


def _keyword_problems(keywords: tuple[str, ...], path: str) -> list[ConfigValidationError]:
    if len(keywords) > MAX_KEYWORDS:
        return [ConfigValidationError(path, f"At most {MAX_KEYWORDS} keywords, please.")]
    for word in keywords:
        if not isinstance(word, str) or not word.strip() or len(word) > MAX_KEYWORD_LENGTH:
            return [ConfigValidationError(path, f"Each keyword must be text of 1–{MAX_KEYWORD_LENGTH} characters.")]
    return []
