"""The audio engine's echo handling as one object: the mode (speakers, headset, ducking), the
canceller and guard it runs, and the questions the controller asks (:mod:`.aec` does the cancelling,
:mod:`.echo_guard` the judging)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from desktop_app.audio.aec import (
    LEAD_MS,
    EchoCanceller,
    Processor,
    Unprocessed,
    load_processor,
    module_lag,
)
from desktop_app.audio.echo_guard import EchoGuard
from desktop_app.audio.far_end import FarEnd
from desktop_app.audio.onset_preroll import OnsetPreRoll
from desktop_app.log import get_logger

log = get_logger("audio")

OnsetCallback = Callable[[], None]


MODES = ("speakers", "headset", "ducking")


class EchoControl:
    """The audio engine's echo handling in one of three modes.

    * ``speakers`` — the canceller runs and its guard judges the residual (the default setting);
    * ``headset`` — no echo path to fight: nothing runs, nothing is added to the latency, and
      :meth:`near_end_speech` answers None (trust the server);
    * ``ducking`` — no canceller (it failed to load, or by choice): the microphone is gated while the
      assistant is audible unless the user speaks clearly over it.

    Asking for ``speakers`` when the module cannot load gives ``ducking``, with ``aec_available``
    False and ``aec_reason`` saying why in one sentence. ``speaker_busy`` tells whether the speaker
    has anything left to play (the playback queue's ``is_playing``): an idle speaker lets the
    canceller's light path take over sooner (:class:`~.aec.EchoCanceller`). :meth:`output_hook` belongs in the output
    callback, :meth:`process` after the microphone's resampler.
    """

    def __init__(self, mode: str = "headset", *, delay_ms: float = 0.0,
                 factory: Callable[[int], tuple[Processor | None, str]] = load_processor,
                 speaker_busy: Callable[[], bool] | None = None) -> None:
        self.far = FarEnd()
        self.speaker_busy = speaker_busy  # the speaker has something left to play (None: assume it has)
        self.delay_ms = float(delay_ms)
        self.erl_db: float | None = None  # echo − reference level from the calibration (else learned)
        self.on_near_end_onset: OnsetCallback | None = None
        self.on_hold: Callable[[bool], None] | None = None  # pause (True) / resume (False) playback
        self.listening = True  # hands-free and unmuted: the onset pre-roll may hold frames back
        self._factory = factory
        self._availability: tuple[bool, str] | None = None
        self.canceller: EchoCanceller | None = None
        self.requested_mode = "headset"
        self.mode = "headset"
        self.set_mode(mode)

    @property
    def aec_available(self) -> bool:
        return self._probe()[0]

    @property
    def aec_reason(self) -> str:
        """Why the canceller is unavailable ('' when it is available)."""
        return self._probe()[1]

    def _probe(self) -> tuple[bool, str]:
        if self._availability is None:
            processor, reason = self._factory(0)
            self._availability = (processor is not None, reason)
        return self._availability

    def set_mode(self, mode: str) -> str:
        """Switch to ``mode``; returns the mode in effect (``ducking`` when ``speakers`` cannot load)."""
        if mode not in MODES:
            raise ValueError(f"unknown audio mode {mode!r}; pick one of {', '.join(MODES)}")
        self.requested_mode = mode
        processor: Processor | None = None
        if mode == "speakers":
            processor, reason = self._factory(int(round(self.delay_ms + LEAD_MS)))
            self._availability = (processor is not None, reason)
            if processor is None:
                log.warning("! %s", reason)
                mode = "ducking"
        if mode == "headset":
            self.canceller = None
        else:
            guard = EchoGuard(mode)
            if self.erl_db is not None:
                guard.erl_db = self.erl_db
            guard.on_onset = self._onset
            guard.on_hold = self._hold
            lag = module_lag() if processor is not None else None
            light = Unprocessed() if processor is not None else None
            preroll = OnsetPreRoll(lag) if lag is not None else None
            self.canceller = EchoCanceller(self.far, guard, processor, self.delay_ms, light, preroll, self.speaker_busy)
            self.set_listening(self.listening)
        if mode != self.mode:
            log.info("= audio mode %s%s", mode, f" (asked for {self.requested_mode})" if mode != self.requested_mode else "")
        self.mode = mode
        return mode

    def set_listening(self, listening: bool) -> None:
        """Hands-free and unmuted (True) — or push-to-talk / muted: then the onset pre-roll holds
        nothing back (a press brings its own pre-roll) and what it held goes out with the next frame."""
        self.listening = listening
        preroll = self.canceller.preroll if self.canceller is not None else None
        if preroll is not None:
            preroll.enabled = listening

    def interrupted(self) -> None:
        """The app stopped the assistant mid-answer (a barge-in or a press flushed the queue)."""
        if self.canceller is not None:
            self.canceller.interrupted()

    def set_delay(self, delay_ms: float) -> None:
        """The measured output→input delay (calibration), in timestamp terms."""
        self.delay_ms = float(delay_ms)
        if self.canceller is not None:
            self.canceller.set_delay(delay_ms)

    def calibrate(self, delay_ms: float, erl_db: float | None) -> None:
        """Apply a room calibration: the delay, and the echo return loss (positive dB) as the guard's
        starting point (it keeps learning on line)."""
        self.set_delay(delay_ms)
        self.erl_db = None if erl_db is None else -float(erl_db)
        if self.guard is not None and self.erl_db is not None:
            self.guard.erl_db = self.erl_db

    @property
    def guard(self) -> EchoGuard | None:
        return self.canceller.guard if self.canceller is not None else None

    # --- the two streams -----------------------------------------------------------------------

    def output_hook(self, block: np.ndarray, dac_time: float) -> None:
        """Output callback (audio thread): keep the reference. One copy."""
        self.far.write(block, dac_time)

    def process(self, x: np.ndarray, t0: float | None) -> np.ndarray:
        """Microphone path (loop): 24 kHz samples in, cleaned (or gated) samples out."""
        canceller = self.canceller
        return x if canceller is None else canceller.process(x, t0)

    # --- questions -----------------------------------------------------------------------------

    def near_end_speech(self, window_ms: float = 300.0) -> bool | None:
        """True: the user spoke within ``window_ms``; False: only echo or noise; None: cannot tell
        (no guard, or a hold whose verdict is still out)."""
        guard = self.guard
        if guard is None or guard.holding:
            return None
        return guard.near_end_speech(window_ms)

    def _hold(self, pause: bool) -> None:
        callback = self.on_hold
        if callback is not None:
            callback(pause)

    def _onset(self) -> None:
        callback = self.on_near_end_onset
        if callback is not None:
            callback()
