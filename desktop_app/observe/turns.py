"""Per-turn latencies, recorded at the moments the controller sees.

A turn starts when the user's speech ends (server VAD ``speech_stopped``, the push-to-talk key going
up, or a typed message sent) and lasts until the next one starts. The controller calls one method
per moment; every method is idempotent where the moment can repeat (a second audio delta, a second
``response.done`` after a tool call), so the controller can call it wherever the moment passes:

=========================  ==========================================================
moment                     call
=========================  ==========================================================
end of the user's speech   :meth:`TurnTimings.speech_stopped`
first audio delta          :meth:`TurnTimings.first_audio_delta` (first one counts)
first sample played        :meth:`TurnTimings.first_sample_played` (first one counts)
``response.done``          :meth:`TurnTimings.response_done` (the last one counts)
all audio played           :meth:`TurnTimings.playback_finished` (optional)
barge-in starts            :meth:`TurnTimings.barge_in`
speaker silent after it    :meth:`TurnTimings.silence`
=========================  ==========================================================

Times are ``time.monotonic()`` seconds — the asyncio loop's clock (``loop.time()``) on every
platform Parley runs on — taken at the call unless ``at`` gives the moment itself (for example the
time the output callback handed the first sample to the device).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """One turn's figures in milliseconds; None where the moment did not happen (yet).

    * ``speech_to_first_byte_ms`` — end of the user's speech → first audio delta received
    * ``first_byte_to_playback_ms`` — first audio delta → first sample handed to the speaker
    * ``total_ms`` — end of speech → the later of the last ``response.done`` and the end of playback
    * ``barge_in_to_silence_ms`` — the user starts talking over the answer → the speaker is silent
    """

    index: int
    started_at: float  # unix seconds, for display and history
    speech_to_first_byte_ms: float | None = None
    first_byte_to_playback_ms: float | None = None
    total_ms: float | None = None
    barge_in_to_silence_ms: float | None = None
    interrupted: bool = False


@dataclass(slots=True)
class _Marks:
    speech_end: float | None = None
    first_delta: float | None = None
    first_play: float | None = None
    done: float | None = None
    played_out: float | None = None
    barge: float | None = None
    silent: float | None = None


def _ms(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else max(0.0, (end - start) * 1000.0)


class TurnTimings:
    """Records the moments of each turn; :attr:`turns` holds finished turns and the one under way.

    ``on_turn`` is called with a turn's final record when the next turn starts or at :meth:`finish`
    (the history saves it then). Keeps the newest ``keep`` turns in memory.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 keep: int = 500, on_turn: Callable[[TurnRecord], None] | None = None) -> None:
        self._clock = clock
        self._wall = wall
        self._done: deque[TurnRecord] = deque(maxlen=keep)
        self._marks: _Marks | None = None
        self._current: TurnRecord | None = None
        self._count = 0
        self.on_turn = on_turn

    # --- moments -------------------------------------------------------------------------------

    def speech_stopped(self, at: float | None = None) -> None:
        """The user's speech ended (or a typed message was sent): a new turn starts."""
        self.finish()
        self._start(self._now(at))

    def first_audio_delta(self, at: float | None = None) -> None:
        """An audio delta of the answer arrived; only the turn's first counts."""
        marks = self._ensure()
        if marks.first_delta is None:
            marks.first_delta = self._now(at)
            self._refresh()

    def first_sample_played(self, at: float | None = None) -> None:
        """The answer's first sample reached the speaker; only the first after a delta counts."""
        marks = self._marks
        if marks is not None and marks.first_delta is not None and marks.first_play is None:
            marks.first_play = self._now(at)
            self._refresh()

    def response_done(self, at: float | None = None) -> None:
        """A ``response.done`` arrived (a turn with tool calls has several: the last counts)."""
        if self._marks is not None:
            self._marks.done = self._now(at)
            self._refresh()

    def playback_finished(self, at: float | None = None) -> None:
        """The last sample of the answer was played (extends the turn's total)."""
        if self._marks is not None and self._marks.first_play is not None:
            self._marks.played_out = self._now(at)
            self._refresh()

    def barge_in(self, at: float | None = None) -> None:
        """The user started talking over the answer; the first one in a turn counts."""
        if self._marks is not None and self._marks.barge is None:
            self._marks.barge = self._now(at)
            self._refresh()

    def silence(self, at: float | None = None) -> None:
        """The speaker went silent after a barge-in."""
        if self._marks is not None and self._marks.barge is not None and self._marks.silent is None:
            self._marks.silent = self._now(at)
            self._refresh()

    def finish(self) -> None:
        """Close the turn under way (a new turn starting, the conversation ending) and report it."""
        if self._current is not None:
            self._done.append(self._current)
            record, self._current, self._marks = self._current, None, None
            if self.on_turn is not None:
                self.on_turn(record)

    def reset(self) -> None:
        """Forget every turn (a new conversation). The turn under way is dropped, not reported."""
        self._done.clear()
        self._current, self._marks, self._count = None, None, 0

    # --- reading -------------------------------------------------------------------------------

    @property
    def turns(self) -> tuple[TurnRecord, ...]:
        """Finished turns, then the one under way (its figures may still change)."""
        return (*self._done, self._current) if self._current is not None else tuple(self._done)

    @property
    def current(self) -> TurnRecord | None:
        return self._current

    # --- inside --------------------------------------------------------------------------------

    def _now(self, at: float | None) -> float:
        return self._clock() if at is None else at

    def _start(self, at: float | None) -> _Marks:
        self._count += 1
        self._marks = _Marks(speech_end=at)
        offset = 0.0 if at is None else self._clock() - at
        self._current = TurnRecord(index=self._count, started_at=self._wall() - offset)
        return self._marks

    def _ensure(self) -> _Marks:
        # An answer with no turn before it (the greeting, an answer to a tool result): a turn with
        # no speech end, so only the figures that do not need it are filled in.
        return self._marks if self._marks is not None else self._start(None)

    def _refresh(self) -> None:
        m, current = self._marks, self._current
        if m is None or current is None:
            return
        end = max((t for t in (m.done, m.played_out) if t is not None), default=None)
        self._current = replace(
            current,
            speech_to_first_byte_ms=_ms(m.speech_end, m.first_delta),
            first_byte_to_playback_ms=_ms(m.first_delta, m.first_play),
            total_ms=_ms(m.speech_end, end),
            barge_in_to_silence_ms=_ms(m.barge, m.silent),
            interrupted=m.barge is not None,
        )
