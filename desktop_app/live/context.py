"""The earlier conversation carried into a new GPT-Live session, and what Parley appends to steer one.

A Live conversation cannot be edited once it runs: what was said before reaches a new session only in
its start, ``session.start.session.input`` (live-protocol.md §1 "Limits", §2; SDK ``InitialItem``): at
most 128 messages and 8,192 tokens, each ``{type: message, role: developer|user|assistant, content:
[one part]}`` — developer and user ``input_text``, assistant ``output_text``. :func:`input_messages`
turns the items the controller keeps for a new session (the reconnect replay: the user's words, what
the user heard of each answer, typed guidance as ``system``) into that shape and keeps the newest that
fit. Tokens are estimated on the long side (:data:`BYTES_PER_TOKEN`), so the service's own count stays
under its limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MAX_INPUT_MESSAGES = 128
MAX_INPUT_TOKENS = 8192
#: UTF-8 bytes per token, on the low side (English runs near 4 characters a token), so estimates err long.
BYTES_PER_TOKEN = 3
#: A message's own tokens (role, framing), on the high side.
MESSAGE_TOKENS = 4
_ROLES = {"user": "user", "assistant": "assistant", "system": "developer", "developer": "developer"}

STOP_SPEAKING = ("The user pressed the stop button: stop speaking now. Do not finish your sentence and do not "
                 "comment on being stopped; wait quietly until the user talks again.")
"""What the Interrupt button appends (§4b: the way to force silence; its acknowledgement is not a resume signal)."""

NO_CLIENT_TASKS = ("Parley cannot carry out this task: no tools are enabled for it. Tell the user so briefly, "
                   "and offer what you can do by talking.")
"""The commentary a client delegation gets: Parley has no way to do tasks outside its tools."""

ANSWER_NOW = ("The connection dropped before you answered the user's last message in the conversation above. "
              "Answer it now.")
"""Appended once a seeded session starts when the previous one ended between the user's words and the answer."""


def estimate_tokens(text: str) -> int:
    """Tokens one message holding ``text`` costs, estimated on the long side."""
    return MESSAGE_TOKENS + -(-len(text.encode("utf-8")) // BYTES_PER_TOKEN)


def input_messages(items: Iterable[dict[str, Any]], *, max_messages: int = MAX_INPUT_MESSAGES,
                   max_tokens: int = MAX_INPUT_TOKENS) -> list[dict[str, Any]]:
    """``items`` (conversation items, oldest first) as ``session.start.session.input``: text messages
    only, the newest that fit both limits, oldest first. The run kept is unbroken (an old message is never
    kept over a newer one that did not fit); a newest message too long on its own keeps its end."""
    messages = [m for m in map(_message, items) if m is not None]
    kept: list[dict[str, Any]] = []
    budget = max_tokens
    for message in reversed(messages):
        if len(kept) >= max_messages:
            break
        cost = estimate_tokens(_text(message))
        if cost > budget:
            if not kept:
                kept.append(_clipped(message, budget))
            break
        kept.append(message)
        budget -= cost
    return kept[::-1]


def _message(item: dict[str, Any]) -> dict[str, Any] | None:
    """One text message in Live's shape, or None (not a message, no text, a role Live has not)."""
    role = _ROLES.get(str(item.get("role")))
    if item.get("type", "message") != "message" or role is None:
        return None
    words = []
    for part in item.get("content") or ():
        if isinstance(part, dict):
            text = part.get("text") if isinstance(part.get("text"), str) else part.get("transcript")
            if isinstance(text, str) and text.strip():
                words.append(text.strip())
    if not words:
        return None
    kind = "output_text" if role == "assistant" else "input_text"
    return {"type": "message", "role": role, "content": [{"type": kind, "text": " ".join(words)}]}


def _text(message: dict[str, Any]) -> str:
    return str(message["content"][0]["text"])


def _clipped(message: dict[str, Any], budget: int) -> dict[str, Any]:
    """``message`` cut to its end so that it costs at most ``budget`` tokens ("…" in front)."""
    room = max(0, (budget - MESSAGE_TOKENS) * BYTES_PER_TOKEN - len("…".encode("utf-8")))
    tail = _text(message).encode("utf-8")[-room:] if room else b""
    text = "…" + tail.decode("utf-8", errors="ignore").lstrip()
    part = dict(message["content"][0], text=text)
    return dict(message, content=[part])
