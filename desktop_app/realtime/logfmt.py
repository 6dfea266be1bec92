"""The core's logger and the helpers that keep log lines short: base64 audio is never logged.

Prefixes follow websockets: ``>`` frame sent, ``<`` event received, ``=`` state change, ``!`` error.
Arguments are ``%``-style so nothing is formatted unless the level is enabled.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

logger = logging.getLogger("parley.realtime")

# Keys whose string value is base64 audio wherever they appear (client appends, retrieved items).
_AUDIO_KEYS = frozenset({"audio"})
# Event types whose ``delta`` is base64 audio rather than text.
AUDIO_DELTA_TYPES = frozenset({"response.output_audio.delta", "response.audio.delta"})
_MAX_TEXT = 80
_MAX_LINE = 400


def elide_b64(value: str) -> str:
    """A placeholder that says how much base64 there was, e.g. ``<6400 b64 chars>``."""
    return f"<{len(value)} b64 chars>"


_B64_RUN = re.compile(r"[A-Za-z0-9+/]{64,}={0,2}")


def elide_text(text: str) -> str:
    """Raw text (e.g. a frame that is not valid JSON) with every long base64-looking run elided."""
    return _B64_RUN.sub(lambda m: elide_b64(m.group(0)), text)


def elide(obj: Any, *, audio_delta: bool = False) -> Any:
    """A copy of a JSON value with base64 audio replaced by its size; other values untouched."""
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if isinstance(value, str) and (key in _AUDIO_KEYS or (audio_delta and key == "delta")):
                out[key] = elide_b64(value)
            else:
                out[key] = elide(value)
        return out
    if isinstance(obj, list):
        return [elide(v) for v in obj]
    return obj


def summarize(obj: Any, limit: int = _MAX_LINE) -> str:
    """Compact one-line text of a JSON value (audio elided), cut to ``limit`` characters."""
    audio_delta = isinstance(obj, dict) and obj.get("type") in AUDIO_DELTA_TYPES
    text = json.dumps(elide(obj, audio_delta=audio_delta), ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short(value: Any) -> str:
    """One field's value for an event's ``__str__``: long text cut, containers summarized."""
    if isinstance(value, str):
        return repr(value) if len(value) <= _MAX_TEXT else repr(value[: _MAX_TEXT - 1] + "…")
    if isinstance(value, (dict, list)):
        return summarize(value, limit=120)
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return str(value)  # small value objects (ErrorInfo, exceptions) have readable __str__
