"""One frame as the event log keeps it: parsed, audio payloads summarised, secrets redacted.

Audio is most of the traffic (a 50 ms microphone chunk is 3,200 base64 characters), so the log never
keeps it: the payload string is replaced by a short marker ``"<audio 2400 bytes, 50 ms>"`` — still a
string, so the event keeps its shape — and the record carries the item, the byte count and the
duration. Durations need the wire format, which :class:`AudioFormats` learns from the session frames
the log sees pass (``session.update`` sent, ``session.created``/``session.updated`` received).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from desktop_app.log import redact

#: Frame type → the field that holds streamed base64 audio, and whether it is the input format.
AUDIO_FIELDS: dict[str, tuple[str, bool]] = {
    "input_audio_buffer.append": ("audio", True),
    "response.output_audio.delta": ("delta", False),
    "response.audio.delta": ("delta", False),  # the retired beta name, should a server still send it
    "session.input_audio.append": ("audio", True),  # GPT-Live
    "session.output_audio.delta": ("delta", False),
}

#: Bytes per millisecond of each wire format (§5 of the protocol notes: PCM16 24 kHz, G.711 8 kHz).
BYTES_PER_MS = {"audio/pcm": 48.0, "audio/pcmu": 8.0, "audio/pcma": 8.0}

_SESSION_FRAMES = frozenset({"session.update", "session.created", "session.updated", "session.start",
                             "session.started"})

#: Frames longer than this are searched for other embedded audio (``conversation.item.retrieved``).
_LARGE_FRAME = 16_384
#: Any other string longer than this is cut, so one odd frame cannot hold megabytes in the ring.
_MAX_STRING = 32_768
_BLOB_KEYS = frozenset({"audio", "delta", "data"})


def base64_size(text: str) -> int:
    """Decoded byte count of a standard, padded base64 string (without decoding it)."""
    n = len(text)
    pad = 2 if text.endswith("==") else 1 if text.endswith("=") else 0
    return max(n * 3 // 4 - pad, 0)


def audio_marker(nbytes: int, ms: float | None) -> str:
    """The string that stands in for an audio payload in the log and its exports."""
    return f"<audio {nbytes} bytes, {ms:.0f} ms>" if ms is not None else f"<audio {nbytes} bytes>"


class AudioFormats:
    """The session's input and output wire formats, as far as the frames have told."""

    def __init__(self) -> None:
        self.input_bytes_per_ms = BYTES_PER_MS["audio/pcm"]
        self.output_bytes_per_ms = BYTES_PER_MS["audio/pcm"]

    def learn(self, event: dict[str, Any]) -> None:
        """Update from a ``session.update`` (sent) or ``session.created``/``updated`` (received); GPT-Live's
        ``session.start`` / ``session.started`` have one ``audio.format`` for both ways (PCM 16 or 24 kHz)."""
        session = event.get("session")
        audio = session.get("audio") if isinstance(session, dict) else None
        if not isinstance(audio, dict):
            return
        both = audio.get("format")
        kind = both.get("type") if isinstance(both, dict) else None
        if isinstance(both, dict) and isinstance(kind, str) and kind in BYTES_PER_MS:
            rate = both.get("rate")
            per_ms = rate / 500.0 if kind == "audio/pcm" and isinstance(rate, int) and rate > 0 else BYTES_PER_MS[kind]
            self.input_bytes_per_ms = self.output_bytes_per_ms = per_ms
        for side, attr in (("input", "input_bytes_per_ms"), ("output", "output_bytes_per_ms")):
            part = audio.get(side)
            fmt = part.get("format") if isinstance(part, dict) else None
            kind = fmt.get("type") if isinstance(fmt, dict) else None
            if isinstance(kind, str) and kind in BYTES_PER_MS:
                setattr(self, attr, BYTES_PER_MS[kind])


@dataclass(frozen=True, slots=True)
class FrameSummary:
    """A frame ready for the log. ``event`` is the parsed frame with audio replaced (None if the
    text was not a JSON object); ``event_json`` is its redacted JSON, as the export writes it."""

    type: str
    event: dict[str, Any] | None
    event_json: str
    item_id: str | None = None
    audio_bytes: int = 0
    audio_ms: float = 0.0


def summarize(text: str, formats: AudioFormats) -> FrameSummary:
    """Parse and summarise one frame's text. Never raises: an unparsable frame is kept as text."""
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        body = {"unparsed": text if len(text) <= _MAX_STRING else text[:_MAX_STRING] + "…"}
        return FrameSummary("?", None, redact(json.dumps(body)))
    kind = parsed.get("type")
    kind = kind if isinstance(kind, str) else "?"
    item_id = parsed.get("item_id")
    item_id = item_id if isinstance(item_id, str) else None
    nbytes, ms = 0, 0.0
    audio = AUDIO_FIELDS.get(kind)
    if audio is not None:
        field, is_input = audio
        payload = parsed.get(field)
        if isinstance(payload, str):
            nbytes = base64_size(payload)
            rate = formats.input_bytes_per_ms if is_input else formats.output_bytes_per_ms
            ms = nbytes / rate
            parsed[field] = audio_marker(nbytes, ms)
    elif len(text) > _LARGE_FRAME:
        _elide_blobs(parsed)
    if kind in _SESSION_FRAMES:
        formats.learn(parsed)
    return FrameSummary(kind, parsed, redact(json.dumps(parsed)), item_id, nbytes, ms)


def _elide_blobs(value: Any) -> None:
    """Replace embedded base64 audio (and cut any other huge string) anywhere inside ``value``."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(inner, str) and len(inner) > 256 and key in _BLOB_KEYS:
                value[key] = audio_marker(base64_size(inner), None)
            elif isinstance(inner, str) and len(inner) > _MAX_STRING:
                value[key] = inner[:_MAX_STRING] + f"… ({len(inner)} chars)"
            else:
                _elide_blobs(inner)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            if isinstance(inner, str) and len(inner) > _MAX_STRING:
                value[i] = inner[:_MAX_STRING] + f"… ({len(inner)} chars)"
            else:
                _elide_blobs(inner)
