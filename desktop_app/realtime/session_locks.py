"""When each session field may change mid-session (realtime-protocol.md §2.7), and the checks that
keep a ``session.update`` from asking for what the server would refuse.

:data:`FIELD_LOCKS` is the one table; the UI words its hints from it and the controller applies it:
:func:`check_locked` refuses a model change (and a voice change once the assistant has spoken);
:func:`hold_between_responses` keeps the answer's speed while an answer runs.
"""

from __future__ import annotations

import re
from dataclasses import replace
from enum import Enum
from typing import TYPE_CHECKING

from .errors import LockedFieldError
from .models import model_info

if TYPE_CHECKING:
    from .session_config import SessionConfig


class FieldLock(Enum):
    """When a session field may change (§2.7 and Parley's own choices, see :data:`FIELD_LOCKS`)."""

    FREE = "any time"
    BETWEEN_RESPONSES = "between answers"  # asked for while an answer runs: applied after it
    UNTIL_ASSISTANT_AUDIO = "until the assistant has spoken"
    NEXT_CONNECTION = "when you next connect"


FIELD_LOCKS: dict[str, FieldLock] = {
    "model": FieldLock.NEXT_CONNECTION,  # from the URL; session.update cannot change it
    "input_format": FieldLock.NEXT_CONNECTION,  # Parley's choice: the codecs are built per connection
    "output_format": FieldLock.NEXT_CONNECTION,
    "transcription": FieldLock.NEXT_CONNECTION,  # Parley's choice: a new ASR model means a new conversation
    "voice": FieldLock.UNTIL_ASSISTANT_AUDIO,
    "speed": FieldLock.BETWEEN_RESPONSES,  # post-processing of the answer's audio
}
"""Fields not named here change freely mid-session (instructions, turn detection, noise reduction,
reasoning effort, tools …). Going back to "the model's default" for ``reasoning_effort`` or
``parallel_tool_calls`` cannot be said in a ``session.update`` (leaving the field out keeps it), so
that one step waits for the next connection."""


def lock_of(field_name: str) -> FieldLock:
    """The rule for one :class:`SessionConfig` field."""
    return FIELD_LOCKS.get(field_name, FieldLock.FREE)


def hold_between_responses(effective: SessionConfig | None, wanted: SessionConfig) -> SessionConfig:
    """What to send while an answer is running: ``wanted`` with the between-answers fields kept at their
    ``effective`` values. Send ``wanted`` itself once the answer is done (``response.done``)."""
    if effective is None:
        return wanted
    held = {name: getattr(effective, name) for name, lock in FIELD_LOCKS.items()
            if lock is FieldLock.BETWEEN_RESPONSES}
    return replace(wanted, **held)


def same_model(a: str, b: str) -> bool:
    """True when ``b`` is ``a`` or a dated snapshot of the same model (the server echoes the snapshot)."""
    if a == b:
        return True
    info_a, info_b = model_info(a), model_info(b)
    if info_a is not None or info_b is not None:
        return info_a is info_b
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer.startswith(shorter + "-") and bool(_DATED_SUFFIX.fullmatch(longer[len(shorter) + 1:]))


_DATED_SUFFIX = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_locked(current: SessionConfig | None, new: SessionConfig, *, voice_locked: bool) -> None:
    """Raise :class:`LockedFieldError` for a change the server would refuse (§2.7)."""
    if current is None:
        return
    if not same_model(current.model, new.model):
        raise LockedFieldError("session.model", f"The model is chosen when connecting; reconnect to use {new.model}.")
    if voice_locked and new.voice != current.voice:
        raise LockedFieldError(
            "session.audio.output.voice",
            f"The voice can't change to {new.voice} after the assistant has spoken; "
            "start a new conversation to use it.",
        )
