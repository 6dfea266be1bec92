"""Fault injection for resilience tests (off by default; deterministic with a seed).

Spec syntax (``--faults`` or ``LocalServer(faults=...)``): comma-separated ``name`` or
``name=value`` items::

    seed=7                   random choices below repeat exactly for the same seed
    drop_after=40            drop the TCP connection (no close frame: the client sees 1006) after 40 frames
    drop_mid_audio=3         drop it right after the 3rd response.output_audio.delta (default 3)
    close=4000               close with this code once session.created is out; ``close=1011@25`` after
                             25 frames, ``close=4000:some_reason@5`` with a reason
    error=server_error       send an error event with this catalog code (§4.2) after session.created;
                             ``error=invalid_value@response.created`` right after the first event of
                             that type; ``@12`` after frame 12
    expire_after=5           session_expired error + close 1001 after 5 s
    rate_limit=2             every 2nd response.create is refused with rate_limit_exceeded (1 = all)
    pacing=bursty            audio deltas in random bursts of 1–8 chunks (same average rate)
    pacing=slow              audio deltas at half speed; ``slow=3`` for a third
    delay_transcription      input transcription arrives after the reply's response.done
    unknown_events=0.2       after a frame, with this probability, an event of an unknown type
    unknown_fields=0.2       with this probability, a frame gains an unknown field
    malformed=5              frame 5 is followed by a malformed (truncated JSON) frame

Each session gets its own random stream derived from the seed and its sequence number.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field

#: §4.2 codes and the ``error.type`` each comes with.
CATALOG: dict[str, str] = {
    "invalid_value": "invalid_request_error",
    "unknown_parameter": "invalid_request_error",
    "missing_required_parameter": "invalid_request_error",
    "integer_below_min_value": "invalid_request_error",
    "invalid_type": "invalid_request_error",
    "invalid_json": "invalid_request_error",
    "invalid_event": "invalid_request_error",
    "input_audio_buffer_commit_empty": "invalid_request_error",
    "conversation_already_has_active_response": "invalid_request_error",
    "response_cancel_not_active": "invalid_request_error",
    "item_truncate_invalid_item_id": "invalid_request_error",
    "cannot_update_voice": "invalid_request_error",
    "session_expired": "invalid_request_error",
    "invalid_api_key": "invalid_request_error",
    "invalid_model": "invalid_request_error",
    "missing_model": "invalid_request_error",
    "beta_api_shape_disabled": "invalid_request_error",
    "insufficient_quota": "insufficient_quota",
    "rate_limit_exceeded": "invalid_request_error",
    "server_error": "server_error",
}


class FaultSpecError(ValueError):
    """A ``--faults`` spec that cannot be read; the message names the bad item."""


@dataclass(frozen=True)
class FaultPlan:
    """The parsed spec; :meth:`for_session` makes the per-connection injector."""

    seed: int = 0
    drop_after: int | None = None
    drop_mid_audio: int | None = None
    close_code: int | None = None
    close_reason: str = ""
    close_after: int | None = None
    error_code: str | None = None
    error_at: str | None = None  # an event type or a frame number
    expire_after: float | None = None
    rate_limit_every: int | None = None
    pacing: str | None = None  # "bursty" | "slow"
    slow_factor: float = 2.0
    delay_transcription: bool = False
    unknown_events: float = 0.0
    unknown_fields: float = 0.0
    malformed_after: int | None = None
    _counter: list = field(default_factory=lambda: [0], compare=False, repr=False)

    @property
    def active(self) -> bool:
        return self != FaultPlan(seed=self.seed)

    def for_session(self) -> SessionFaults:
        self._counter[0] += 1
        return SessionFaults(self, random.Random(self.seed * 1000 + self._counter[0]))


def _int(name: str, value: str | None, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    try:
        return int(value or "")
    except ValueError:
        raise FaultSpecError(f"fault {name!r} needs a whole number, got {value!r}") from None


def _float(name: str, value: str | None) -> float:
    try:
        return float(value or "")
    except ValueError:
        raise FaultSpecError(f"fault {name!r} needs a number, got {value!r}") from None


def parse_faults(spec: str | None) -> FaultPlan:
    """Read a fault spec (see the module docstring); "" or None is no faults."""
    kwargs: dict = {}
    for raw in (spec or "").split(","):
        item = raw.strip()
        if not item:
            continue
        name, _, text = item.partition("=")
        name, value = name.strip(), (text.strip() or None)
        if name == "seed":
            kwargs["seed"] = _int(name, value)
        elif name == "drop_after":
            kwargs["drop_after"] = _int(name, value)
        elif name == "drop_mid_audio":
            kwargs["drop_mid_audio"] = _int(name, value, 3)
        elif name == "close":
            code_reason, _, after = (value or "").partition("@")
            code, _, reason = code_reason.partition(":")
            kwargs.update(close_code=_int(name, code), close_reason=reason, close_after=_int(name, after or "1"))
        elif name == "error":
            code, _, at = (value or "").partition("@")
            if code not in CATALOG:
                raise FaultSpecError(f"fault 'error' needs a catalog code ({', '.join(CATALOG)}), got {code!r}")
            kwargs.update(error_code=code, error_at=at or "session.created")
        elif name == "expire_after":
            kwargs["expire_after"] = _float(name, value)
        elif name == "rate_limit":
            kwargs["rate_limit_every"] = _int(name, value, 1)
        elif name == "pacing":
            if value not in ("bursty", "slow"):
                raise FaultSpecError(f"fault 'pacing' is 'bursty' or 'slow', got {value!r}")
            kwargs["pacing"] = value
        elif name == "slow":
            kwargs.update(pacing="slow", slow_factor=_float(name, value))
        elif name == "delay_transcription":
            kwargs["delay_transcription"] = True
        elif name in ("unknown_events", "unknown_fields"):
            kwargs[name] = _float(name, value) if value else 1.0
        elif name == "malformed":
            kwargs["malformed_after"] = _int(name, value, 1)
        else:
            raise FaultSpecError(f"unknown fault {name!r}")
    return FaultPlan(**kwargs)


# What the writer does with one outgoing frame: ("text", json) / ("drop",) / ("close", code, reason).
Action = tuple


class SessionFaults:
    """One session's injector: turns each outgoing event into the frames and actions to perform."""

    def __init__(self, plan: FaultPlan, rng: random.Random) -> None:
        self.plan = plan
        self.rng = rng
        self.frames = 0
        self.audio_deltas = 0
        self.responses_requested = 0
        self._error_sent = plan.error_code is None
        self._closed = False

    def outgoing(self, event: dict, make_event_id: Callable[[], str]) -> list[Action]:
        """The frames to send for ``event`` (already complete), plus any injected actions."""
        plan = self.plan
        if self._closed:
            return []
        if plan.unknown_fields and self.rng.random() < plan.unknown_fields:
            event = {**event, "x_parley_fault": self.rng.randrange(1 << 30)}
        actions: list[Action] = [("text", json.dumps(event))]
        self.frames += 1
        kind = event.get("type")
        if kind == "response.output_audio.delta":
            self.audio_deltas += 1
        if plan.unknown_events and self.rng.random() < plan.unknown_events:
            actions.append(("text", json.dumps({"type": "parley.fault.unknown_event", "event_id": make_event_id(),
                                                "detail": "an event type no client knows"})))
        if not self._error_sent and (plan.error_at == kind or plan.error_at == str(self.frames)):
            self._error_sent = True
            actions.append(("text", json.dumps(error_event(make_event_id(), plan.error_code or "server_error"))))
        if plan.malformed_after is not None and self.frames == plan.malformed_after:
            actions.append(("text", '{"type": "response.output_audio.delta", "delta": "AAAA'))
        if plan.drop_after is not None and self.frames >= plan.drop_after:
            actions.append(("drop",))
        elif plan.drop_mid_audio is not None and self.audio_deltas >= plan.drop_mid_audio:
            actions.append(("drop",))
        elif plan.close_code is not None and self.frames >= (plan.close_after or 1):
            actions.append(("close", plan.close_code, plan.close_reason))
        if actions[-1][0] in ("drop", "close"):
            self._closed = True
        return actions

    def refuse_response(self) -> bool:
        """True when this ``response.create`` is to be refused with ``rate_limit_exceeded``."""
        every = self.plan.rate_limit_every
        self.responses_requested += 1
        return every is not None and every > 0 and self.responses_requested % every == 0

    def burst(self) -> int:
        """How many audio chunks to send back to back before the next pause (bursty pacing)."""
        return self.rng.randint(1, 8) if self.plan.pacing == "bursty" else 1

    @property
    def slowdown(self) -> float:
        return self.plan.slow_factor if self.plan.pacing == "slow" else 1.0


def error_event(event_id: str, code: str, message: str | None = None) -> dict:
    """An ``error`` event for a catalog code, as injected by a fault."""
    return {
        "type": "error",
        "event_id": event_id,
        "error": {
            "type": CATALOG.get(code, "invalid_request_error"),
            "code": code,
            "message": message or f"Injected fault: {code}.",
            "param": None,
            "event_id": None,
        },
    }
