"""Builders for every GA client event (realtime-protocol.md §3.3), plus the item shapes they carry.

Each builder returns the JSON-ready dict of one event, always with an ``event_id``: the server
echoes it in ``error.error.event_id``, which is how the core matches an error to the request that
caused it (a refused ``response.create`` is re-queued, a refused ``session.update`` is forgotten).
"""

from __future__ import annotations

import base64
import itertools
import secrets
from typing import Any, Literal

ClientEvent = dict[str, Any]
"""One client event as a JSON-ready dict."""

CLIENT_EVENT_TYPES: tuple[str, ...] = (
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.retrieve",
    "conversation.item.truncate",
    "conversation.item.delete",
    "response.create",
    "response.cancel",
    "output_audio_buffer.clear",
)
"""The 11 GA client event types; ``output_audio_buffer.clear`` only means something on WebRTC/SIP."""


class EventIds:
    """Unique client ``event_id`` values: ``evt_<6 hex>_<counter>``.

    The random part is per instance (per connection), so ids stay unique across reconnects in one
    log; the counter keeps them short and ordered.
    """

    def __init__(self, prefix: str | None = None) -> None:
        self._prefix = f"evt_{prefix or secrets.token_hex(3)}_"
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter)}"


# --- item shapes ---------------------------------------------------------------------------------


def user_text_item(text: str) -> dict[str, Any]:
    """A user message with one ``input_text`` part."""
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


IMAGE_MIME_TYPES: tuple[str, ...] = ("image/png", "image/jpeg")
"""What ``input_image`` takes: PNG or JPEG as a base64 data URI (SDK ``Content.image_url``)."""
MAX_IMAGE_BYTES = 10 * 1024 * 1024
"""Largest encoded image sent. Its data URI (4/3 of it) stays under the 15 MiB a client event may
carry (the only size the SDK states, on ``input_audio_buffer.append``). Images are downscaled
(:data:`IMAGE_FIT_PX`, :data:`IMAGE_SHORT_SIDE_PX`) long before this is reached."""
IMAGE_FIT_PX = 2048
IMAGE_SHORT_SIDE_PX = 768
"""OpenAI's vision guide: a high-detail image is fitted into 2048×2048, then its short side scaled to
768 px. Pixels beyond that are never seen by the model, so the client does that scaling itself."""
IMAGE_DETAILS: tuple[str, ...] = ("auto", "low", "high")


def image_size(data: bytes, mime: str) -> tuple[int, int]:
    """``(width, height)`` read from a PNG or JPEG header; ``ValueError`` when ``data`` is not that format."""
    if mime == "image/png":
        if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
            raise ValueError("the data is not a PNG image")
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if mime == "image/jpeg":
        if data[:2] != b"\xff\xd8":
            raise ValueError("the data is not a JPEG image")
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                raise ValueError("the JPEG image is damaged")
            marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start-of-frame segment
                return int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big")
            i += 2 + length
        raise ValueError("the JPEG image has no size")
    raise ValueError(f"images must be PNG or JPEG, not {mime}")


def image_data_url(data: bytes, mime: str) -> str:
    """``data:<mime>;base64,…`` for an encoded PNG/JPEG, checked against its claimed type and the size limit."""
    width, height = image_size(data, mime)
    if width <= 0 or height <= 0:
        raise ValueError("the image is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError(f"the image is {len(data) / 1048576:.1f} MiB; the limit is {MAX_IMAGE_BYTES // 1048576} MiB")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def user_image_item(image_url: str, *, detail: Literal["auto", "low", "high"] = "auto",
                    text: str | None = None) -> dict[str, Any]:
    """A user message with one ``input_image`` part (``image_url`` from :func:`image_data_url`), and
    the user's words about it as an ``input_text`` part first when given."""
    content: list[dict[str, Any]] = []
    if text:
        content.append({"type": "input_text", "text": text})
    content.append({"type": "input_image", "image_url": image_url, "detail": detail})
    return {"type": "message", "role": "user", "content": content}


def system_text_item(text: str) -> dict[str, Any]:
    """A system message (mid-conversation guidance) with one ``input_text`` part."""
    return {"type": "message", "role": "system", "content": [{"type": "input_text", "text": text}]}


def assistant_text_item(text: str) -> dict[str, Any]:
    """An assistant text message, for replaying a conversation into a fresh session."""
    return {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}


def function_output_item(call_id: str, output: str) -> dict[str, Any]:
    """The result of a function call; ``output`` is a string (usually JSON)."""
    return {"type": "function_call_output", "call_id": call_id, "output": output}


def response_params(
    *,
    conversation: Literal["auto", "none"] | None = None,
    output_modalities: list[str] | None = None,
    instructions: str | None = None,
    metadata: dict[str, str] | None = None,
    input: list[dict[str, Any]] | None = None,  # noqa: A002 (the protocol's name)
    tools: list[dict[str, Any]] | None = None,
    tool_choice: str | dict[str, Any] | None = None,
    max_output_tokens: int | Literal["inf"] | None = None,
    voice: str | None = None,
) -> dict[str, Any]:
    """The optional ``response`` object of ``response.create``; only given fields are included."""
    params: dict[str, Any] = {}
    for key, value in (
        ("conversation", conversation),
        ("output_modalities", output_modalities),
        ("instructions", instructions),
        ("metadata", metadata),
        ("input", input),
        ("tools", tools),
        ("tool_choice", tool_choice),
        ("max_output_tokens", max_output_tokens),
    ):
        if value is not None:
            params[key] = value
    if voice is not None:
        params["audio"] = {"output": {"voice": voice}}
    return params


# --- the 11 client events ------------------------------------------------------------------------


def session_update(session: dict[str, Any], *, event_id: str) -> ClientEvent:
    """``session.update``; ``session`` must carry ``type: "realtime"`` (the server requires it)."""
    return {"type": "session.update", "event_id": event_id, "session": session}


def input_audio_append(audio: bytes | str, *, event_id: str) -> ClientEvent:
    """``input_audio_buffer.append`` with raw audio bytes (encoded here) or ready base64 text."""
    b64 = audio if isinstance(audio, str) else base64.b64encode(audio).decode("ascii")
    return {"type": "input_audio_buffer.append", "event_id": event_id, "audio": b64}


def input_audio_commit(*, event_id: str) -> ClientEvent:
    """``input_audio_buffer.commit``: the buffer becomes a user item (needs ≥ 100 ms)."""
    return {"type": "input_audio_buffer.commit", "event_id": event_id}


def input_audio_clear(*, event_id: str) -> ClientEvent:
    """``input_audio_buffer.clear``: drop uncommitted input audio."""
    return {"type": "input_audio_buffer.clear", "event_id": event_id}


def item_create(item: dict[str, Any], *, event_id: str, previous_item_id: str | None = None) -> ClientEvent:
    """``conversation.item.create``; ``previous_item_id="root"`` puts the item first."""
    event: ClientEvent = {"type": "conversation.item.create", "event_id": event_id, "item": item}
    if previous_item_id is not None:
        event["previous_item_id"] = previous_item_id
    return event


def item_retrieve(item_id: str, *, event_id: str) -> ClientEvent:
    """``conversation.item.retrieve``: the reply includes the item's audio."""
    return {"type": "conversation.item.retrieve", "event_id": event_id, "item_id": item_id}


def item_truncate(item_id: str, audio_end_ms: int, *, event_id: str, content_index: int = 0) -> ClientEvent:
    """``conversation.item.truncate``: cut an assistant audio item where playback stopped."""
    return {
        "type": "conversation.item.truncate",
        "event_id": event_id,
        "item_id": item_id,
        "content_index": content_index,
        "audio_end_ms": audio_end_ms,
    }


def item_delete(item_id: str, *, event_id: str) -> ClientEvent:
    """``conversation.item.delete``."""
    return {"type": "conversation.item.delete", "event_id": event_id, "item_id": item_id}


def response_create(response: dict[str, Any] | None = None, *, event_id: str) -> ClientEvent:
    """``response.create``, with optional per-response overrides (see :func:`response_params`)."""
    event: ClientEvent = {"type": "response.create", "event_id": event_id}
    if response:
        event["response"] = response
    return event


def response_cancel(response_id: str | None = None, *, event_id: str) -> ClientEvent:
    """``response.cancel``; without ``response_id`` the server cancels the default response."""
    event: ClientEvent = {"type": "response.cancel", "event_id": event_id}
    if response_id is not None:
        event["response_id"] = response_id
    return event


def output_audio_clear(*, event_id: str) -> ClientEvent:
    """``output_audio_buffer.clear`` (WebRTC/SIP only; a WebSocket server rejects it)."""
    return {"type": "output_audio_buffer.clear", "event_id": event_id}
