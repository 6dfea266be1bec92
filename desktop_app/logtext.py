"""Log-friendly text of protocol frames: base64 audio elided, secrets redacted, length capped.

The one summariser of every layer that logs frames: the protocol core (``realtime/``, whose
``logfmt`` re-exports it), the client transport (``transport/socket.py``) and the embedded server
(``local_server/``). It sits at the top of the package, beside :mod:`desktop_app.log`, because
those three may not import each other (``realtime/`` imports only the standard library and
``local_server/`` only ``realtime.models``); like ``log.py`` it imports only the standard library,
so importing it costs no layer anything (``tests/realtime/test_stdlib_only.py`` holds it to that).

* :func:`summarize` — a JSON value (an event dict) as one compact line;
* :func:`summarize_frame` — a frame's raw text: parsed and summarized when it is JSON, otherwise
  every long base64-looking run elided;
* :func:`is_audio_frame` — whether a frame is audio (an append or a delta), without parsing it.

Both replace base64 audio by its size (``<6400 b64 chars>``): the ``audio`` field anywhere, and
``delta`` in the audio-delta events (a transcript ``delta`` is text and stays).
"""

from __future__ import annotations

import json
import re
from typing import Any

from desktop_app.log import redact

# Keys whose string value is base64 audio wherever they appear (client appends, retrieved items).
_AUDIO_KEYS = frozenset({"audio"})
#: Event types whose ``delta`` is base64 audio rather than text (GA, beta, GPT-Live).
AUDIO_DELTA_TYPES = frozenset({"response.output_audio.delta", "response.audio.delta", "session.output_audio.delta"})
#: Event types that carry audio either way (GA, beta, GPT-Live): 50 a second while someone speaks,
#: so logs count them instead of writing one record each.
AUDIO_FRAME_TYPES = AUDIO_DELTA_TYPES | {"input_audio_buffer.append", "session.input_audio.append"}
_AUDIO_MARKS = tuple(f'"{kind}"' for kind in sorted(AUDIO_FRAME_TYPES))
#: The default length of one summary.
MAX_LINE = 400

_B64_RUN = re.compile(r"[A-Za-z0-9+/]{64,}={0,2}")


def is_audio_frame(text: str) -> bool:
    """True when a frame's text is an audio append or delta, judged from its first 100 characters,
    where ``type`` is (a frame that puts it later is merely treated like any other frame)."""
    head = text[:100]
    return any(mark in head for mark in _AUDIO_MARKS)


def elide_b64(value: str) -> str:
    """A placeholder that says how much base64 there was, e.g. ``<6400 b64 chars>``."""
    return f"<{len(value)} b64 chars>"


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


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summarize(obj: Any, limit: int = MAX_LINE) -> str:
    """Compact one-line text of a JSON value (audio elided, secrets redacted), cut to ``limit`` characters."""
    audio_delta = isinstance(obj, dict) and obj.get("type") in AUDIO_DELTA_TYPES
    text = json.dumps(elide(obj, audio_delta=audio_delta), ensure_ascii=False, separators=(",", ":"))
    return _cap(redact(text), limit)


def summarize_frame(text: str, limit: int = MAX_LINE) -> str:
    """One frame's text as a log line: :func:`summarize` of it when it is JSON; otherwise the text
    with long base64 runs elided and secrets redacted, cut to ``limit`` characters."""
    try:
        obj = json.loads(text)
    except ValueError:
        return _cap(redact(elide_text(text)), limit)
    return summarize(obj, limit)
