"""Acoustic echo cancellation on the microphone path (WebRTC's audio processing module).

What the speaker plays comes back into the microphone. :class:`EchoCanceller` removes it before the
audio is encoded, using as its reference *exactly the samples handed to the output device*: the
output callback writes every block, with the time PortAudio says it reaches the DAC, into a
:class:`~.far_end.FarEnd` (audio thread: one copy, no allocation). On the loop, each microphone block
arrives with the time its first sample left the ADC (:mod:`.capture`), so a 10 ms near-end frame captured at
time *t* is paired with the far-end samples that were at the DAC at *t + lead*. Both clocks are the
same monotonic clock, so the pairing needs no guessing and survives everything that breaks a simple
"one far frame per near frame" lock-step: the speaker pausing while idle, device switches, the
microphone pausing while muted. What is left between the pair is the acoustic path plus converter
latency — the *output→input delay* the calibration measures — which is passed to the module as its
stream delay (plus the lead). The lead keeps the pair causal: the module cannot cancel an echo that
arrives before its reference (measured: a 5 ms non-causal offset gives 6 dB instead of 38 dB).

The module (``pywebrtc-audio``, AEC3 with noise suppression and the high-pass filter) takes 10 ms
frames at 24 kHz; the canceller re-chunks whatever the resampler hands it through a FIFO. It adds
the module's own algorithmic delay (~15 ms at 24 kHz) and no buffering beyond a partial frame.

Every frame's figures — raw microphone, cleaned residual, far-end reference and the module's speech
probability — go to the :class:`~.echo_guard.EchoGuard`, which decides whether the user is talking
(barge-in), holds back unconverged echo (warm-up) and, without a canceller, ducks the microphone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol

import numpy as np

from desktop_app.audio.codecs import PCM_RATE
from desktop_app.audio.echo_guard import EchoGuard
from desktop_app.audio.far_end import FarEnd
from desktop_app.audio.levels import noise_floor
from desktop_app.audio.onset_preroll import OnsetPreRoll
from desktop_app.audio.resample import FrameFifo
from desktop_app.log import get_logger

log = get_logger("audio")

FRAME = PCM_RATE // 100  # 240 samples: the module's only accepted frame (10 ms at 24 kHz)
LEAD_MS = 20.0
# Re-pair when the microphone's timestamps leave the running pairing by more than 0.5 ms — seen by
# two blocks in a row, or at once beyond 5 ms. They come from PortAudio's clock (±0.2 ms measured), so
# more is samples lost on the way in (10.7 and 2.7 ms seen on PipeWire, no overflow reported): left
# unpaired, AEC3 sees an echo-path jump and leaks for up to 1.5 s (0.5 ms: 19 dB; 1 ms: 13 dB).
_SLIP = 12
_SLIP_AT_ONCE = 120
_HOLD = FRAME * 5  # near-end audio held back at most while its reference is on the way
_LIGHT_AFTER = 100  # frames (1 s) of silent reference before the light path takes over (at a pause) …
_LIGHT_EARLY = 30  # … or from 300 ms on once the speaker has nothing left to play and the room is still
_STILL_DB = 6.0  # "still": the microphone within this of its noise floor (the echo's tail has died away)
_PAUSE_FRAMES = 3  # quiet frames in a row before going light: the 15 ms it skips, with a frame to spare
# AEC3 settles for good by its first ~150 ms: echo reaching it within 14 frames of its creation leaves
# it cancelling ~35 dB (26 dB seen on another CPU) for as long as the echo lasts, from 18 frames on
# ~72 dB (loopback room recordings, any stream delay). 50 silent frames (~5 ms of CPU) also lift a
# canceller stuck at 35 dB. So the first answer no longer measures 35 or 72 dB by timing luck.
SETTLE_FRAMES = 50
_RAMP = (np.arange(1, FRAME + 1, dtype=np.float32) / FRAME)  # a one-frame cross-fade


class Processor(Protocol):
    """The part of ``pywebrtc_audio.AudioProcessor`` used here."""

    stream_delay_ms: int
    speech_probability: float

    def process(self, near: np.ndarray, far: np.ndarray | None = None) -> np.ndarray: ...

    def reset(self) -> None: ...


def load_processor(stream_delay_ms: int = 0) -> tuple[Processor | None, str]:
    """A 24 kHz AEC3 + noise suppression + high-pass processor, or None and one sentence why not.
    AEC3 comes settled on :data:`SETTLE_FRAMES` of silence, so how well it cancels never depends on
    how soon after its creation the first echo arrives."""
    try:
        import pywebrtc_audio
    except (ImportError, OSError) as exc:
        return None, f"Echo cancellation is not available ({exc}); the microphone is ducked while the assistant speaks."
    try:
        apm = pywebrtc_audio.AudioProcessor(
            PCM_RATE, 1, echo_cancellation=True, noise_suppression=True, high_pass_filter=True,
            stream_delay_ms=int(stream_delay_ms),
        )
        silence = np.zeros(FRAME, np.float32)
        for _ in range(SETTLE_FRAMES):
            apm.process(silence, silence)
    except (RuntimeError, ValueError, TypeError) as exc:
        return None, f"Echo cancellation failed to start ({exc}); the microphone is ducked while the assistant speaks."
    return apm, ""


class Unprocessed:
    """The light path, used while nothing can echo: the microphone as it is, as in headset mode.

    Issue #24: every stage on it delayed the turns spoken after the assistant fell silent. First a
    delay line that kept it aligned with AEC3 (8 ms), then WebRTC's noise suppression, which looks
    6–7 ms ahead, then the module's high-pass filter alone: its output lags 1.3 ms (the module works
    at 32 kHz inside), and a speech onset crossed the server's threshold later still — the bench's
    questions placed at 40 offsets in a 20 ms block went out a block later at 13–21 of them (at 2
    with nothing on the path: the decimator's 1 ms look-ahead). Room noise and rumble are the
    server's to filter (the session's noise reduction), as in headset mode."""

    stream_delay_ms = 0
    speech_probability = -1.0  # not estimated (as without a canceller)

    def process(self, near: np.ndarray, far: np.ndarray | None = None) -> np.ndarray:
        return near.copy()

    def reset(self) -> None:
        pass


@lru_cache(maxsize=1)
def module_lag() -> int | None:
    """How many samples the module's output lags its input (None when it cannot load): the onset
    pre-roll's alignment, and how far the timeline moves at a switch to or from the light path.
    Measured once by cross-correlation on noise."""
    processor, _ = load_processor(0)
    if processor is None:
        return None
    # Deterministic white-ish noise from an index hash (xorshift): no numpy.random, which the packaged
    # app leaves out.
    h = np.arange(1, PCM_RATE + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    h ^= h >> np.uint64(29)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(32)
    x = (((h & np.uint64(0xFFFF)).astype(np.float32) / 65536.0 - 0.5) * 0.17).astype(np.float32)
    silence = np.zeros(FRAME, np.float32)
    y = np.concatenate([processor.process(x[i : i + FRAME], silence) for i in range(0, len(x), FRAME)])
    a = PCM_RATE // 4
    return max(range(0, FRAME * 4), key=lambda lag: float(np.dot(y[a + lag : a + lag + 4800], x[a : a + 4800])))


class EchoCanceller:
    """Cleans 24 kHz microphone audio against a :class:`FarEnd`; the figures go to an :class:`EchoGuard`.

    ``processor`` None means no canceller (ducking mode): frames pass unchanged and the guard judges
    the raw microphone. ``delay_ms`` is the measured output→input delay in timestamp terms (0 on a
    device whose reported latencies are right); the module is told ``delay_ms + LEAD_MS``.

    ``light`` (:class:`Unprocessed`: the microphone as it is, against AEC3's ~1.9 % of a core) takes
    over when nothing can echo: after a second of silent reference, or from 300 ms on once
    ``speaker_busy()`` says the speaker has nothing left to play and the microphone is back within
    6 dB of its noise floor (the room's tail has died away; the floor estimate does not creep up while
    the reference is active). Pauses inside an answer keep the speaker busy, so they wait the second;
    so does a barge-in (:meth:`interrupted`, then the guard hears the user; until the next answer):
    its flush leaves the speaker idle while the user still talks, and a switch in a pause of their
    words would move the timeline under them for nothing. A press that stopped the answer before the
    user spoke still goes light early.
    That is the path a turn spoken after the assistant fell silent takes, undelayed, where AEC3 + NS
    lag 15.3 ms. Each switch primes the incoming processor with the last two frames (no stale
    buffer) and cross-fades over one frame from the outgoing processor's output for the same frame,
    so the 15 ms the timeline moves (skipped going light, repeated going full) never clicks; and going
    light waits for a pause in the user's voice. Going full starts the guard's warm-up: AEC3 idled,
    maybe for less than the guard's second of silence.

    ``speaker_busy`` (None: always busy) also spares a frame the wait for its reference while the
    speaker is idle: the output callback hands it silence, so there is nothing to wait for (a frame at
    the end of a block waited a whole block, 20 ms, whenever the idle speaker's next block was late).
    """

    def __init__(self, far: FarEnd, guard: EchoGuard, processor: Processor | None, delay_ms: float = 0.0,
                 light: Processor | None = None, preroll: OnsetPreRoll | None = None,
                 speaker_busy: Callable[[], bool] | None = None) -> None:
        self.far = far
        self.speaker_busy = speaker_busy
        self.preroll = preroll if processor is not None else None  # the onset of a barge-in, whole
        self.guard = guard
        self.processor = processor
        self.light = light if processor is not None else None
        self._history = np.zeros(2 * FRAME, np.float32)
        self._silent_ref = 0  # consecutive frames of silent reference
        self.on_light = False
        self.light_frames = 0
        self.light_deferred = 0  # frames the light path waited for a pause in the user's voice
        self.switches = 0  # between the paths, both ways
        self._near_levels = np.full(50, -120.0)  # the microphone's level in the last 50 frames (a ring)
        self._quiet_run = 0  # frames in a row judged quiet (see _between_words)
        self._still_run = 0  # … and, of those, with the microphone within _STILL_DB of its noise floor
        self._mic_floor = float("inf")  # the raw microphone's noise floor (dBFS; none yet)
        self.cut = False  # the app stopped the speaker mid-answer (a barge-in, a press), until the next answer
        self._talked_over = False  # … and the user spoke since: no early light until the next answer
        self.went_light_at: float | None = None  # ADC time of the last switch to the light path
        self.early_light = 0  # switches to the light path before the second of silence
        self._fifo = FrameFifo(FRAME, capacity=FRAME * 64)
        self._near = np.zeros(FRAME, np.float32)
        self._ref = np.zeros(FRAME, np.float32)
        self._out = np.zeros(FRAME * 64, np.float32)
        self._sent = np.zeros(FRAME, np.float32)
        self._head_time: float | None = None  # ADC time of the FIFO's first sample
        self._index = 0  # near-end 24 kHz samples consumed
        self._pair: int | None = None  # far slot = near index + pair
        self._blocks = 0  # microphone blocks timed (process() calls with a time)
        self._slipped: tuple[int, int] | None = None  # (pairing the timestamps want, block first seen)
        self.far_waits = 0  # blocks whose frames waited for their reference (each up to 50 ms)
        self.far_late = 0  # frames processed before their reference arrived, after a 50 ms wait (a few per answer start on a loaded machine)
        self.repairs = 0  # pairing corrections (each one is a jump in the module's view of the delay)
        self._runs = far.runs
        self.frames = 0
        self.cpu_s = 0.0  # CPU time (this thread) spent in the module
        self._gain = 1.0
        self.set_delay(delay_ms)

    def set_delay(self, delay_ms: float) -> None:
        self.delay_ms = float(delay_ms)
        if self.processor is not None:
            self.processor.stream_delay_ms = int(round(max(0.0, delay_ms) + LEAD_MS))
        self.guard.set_delay(max(0.0, delay_ms) + LEAD_MS)

    def reset(self) -> None:
        """Forget the near-end FIFO and timing (the microphone restarted); the filter is kept."""
        self._fifo.clear()
        self._head_time = None

    def process(self, x: np.ndarray, t0: float | None = None) -> np.ndarray:
        """Feed 24 kHz mono samples whose first left the ADC at monotonic ``t0`` (None: unknown, use
        now). Returns the cleaned audio so far — whole 10 ms frames; a partial frame waits."""
        if len(x) == 0:
            return x
        waiting = len(self._fifo)
        if t0 is not None:
            self._head_time = t0 - waiting / PCM_RATE
            self._blocks += 1
        elif self._head_time is None:
            self._head_time = time.monotonic() - (waiting + len(x)) / PCM_RATE
        self._fifo.push(x)
        frames = len(self._fifo) // FRAME
        if frames == 0:
            return self._out[:0]
        self.far.sync()
        if self.far.runs != self._runs:  # the speaker's timeline broke (or it resumed after a pause)
            self._runs = self.far.runs
            self._jumped()
        if len(self._out) < frames * FRAME:
            self._out = np.zeros(2 * frames * FRAME, np.float32)
        done = 0  # samples out
        while len(self._fifo) >= FRAME:
            slot = self._slot()
            late = self._far_pending(slot)
            if late and len(self._fifo) < _HOLD:
                self.far_waits += 1
                break  # its reference is still on the way: wait for the next block (rare, ≤ 50 ms)
            self.far_late += late
            self._fifo.pop_into(self._near)
            done = self._frame(done, slot)
        return self._out[:done]

    def _slot(self) -> int:
        """The far slot paired with the FIFO's first frame (re-pairing if the clocks moved apart)."""
        assert self._head_time is not None
        wanted = self.far.slot(self._head_time + LEAD_MS / 1000) - self._index
        if self._pair is None:
            self._pair = wanted
        elif abs(wanted - self._pair) <= _SLIP:
            self._slipped = None
        else:
            seen = self._slipped
            if abs(wanted - self._pair) > _SLIP_AT_ONCE or (
                    seen is not None and seen[1] < self._blocks and abs(wanted - seen[0]) <= _SLIP):
                self.repairs += 1
                self._pair, self._slipped = wanted, None
                self._jumped()
            elif seen is None or abs(wanted - seen[0]) > _SLIP:
                self._slipped = (wanted, self._blocks)
        return self._index + self._pair

    def _jumped(self) -> None:
        """The echo path moved under the module: mid-answer (the assistant audible in the last half
        second: an output underflow, a re-paired reference), the guard distrusts it while it
        reconverges. A speaker resuming after a pause is the warm-up's business."""
        if self.preroll is not None:
            self.preroll.jumped()
        if self.processor is not None and self._head_time is not None and self.guard.far_active(500.0, self._head_time):
            self.guard.rewarm()
            log.info("= echo path jumped mid-answer (runs %d, repairs %d): canceller distrusted for 1 s",
                     self.far.runs, self.repairs)

    def interrupted(self) -> None:
        """The app stopped the speaker mid-answer (a barge-in, a press flushed its queue)."""
        self.cut = True

    def _far_pending(self, slot: int) -> bool:
        """The speaker is playing but the reference for this frame has not reached the timeline (an
        idle speaker is handed silence: nothing to wait for)."""
        far = self.far
        return (far.end_slot is not None and slot + FRAME > far.end_slot and time.monotonic() - far.last_write < 0.1
                and self._busy())

    def _busy(self) -> bool:
        return self.speaker_busy is None or self.speaker_busy()

    def _between_words(self) -> bool:
        """The user is in a pause: the last :data:`_PAUSE_FRAMES` frames judged were quiet (each one's
        residual within 6 dB of the noise floor, or the microphone 25 dB under its loudest of the last
        half second). Going light skips the paths' lag difference (15 ms), and what it skips is the
        audio of the two frames *before* the one it switches on: those must be the quiet ones. A test
        of the last frame alone let the skip take the end of a word before a stop consonant. Going
        full cannot wait: the echo is coming."""
        return self._quiet_run >= _PAUSE_FRAMES

    def _switch(self, light: bool, near: np.ndarray, ref: np.ndarray) -> np.ndarray:
        """Prime the processor taking over with the last two frames (outputs dropped); returns what
        the outgoing one makes of this frame, to cross-fade from."""
        assert self.processor is not None and self.light is not None
        outgoing = self.processor.process(near, ref) if light else self.light.process(near)
        silence = np.zeros(FRAME, np.float32)
        for k in range(2):
            frame = self._history[k * FRAME : (k + 1) * FRAME]
            if light:
                self.light.process(frame)
            else:
                self.processor.process(frame, silence)
        self.on_light = light
        self.switches += 1
        if light:
            self.went_light_at = self._head_time
            self.early_light += self._silent_ref < _LIGHT_AFTER
        else:
            self.guard.warm_up()
        log.debug("= canceller: %s path at ADC %.3f (reference silent for %d frames)",
                  "light" if light else "full", self._head_time or 0.0, self._silent_ref)
        return np.array(outgoing, np.float32)

    def _frame(self, done: int, slot: int) -> int:
        """Process the frame in ``_near``; what goes out is written to ``_out[done:]``. Returns the
        new end (the onset pre-roll may hold frames back, or release many at once)."""
        assert self._head_time is not None
        self.far.read(slot, self._ref)
        near = self._near
        if self.processor is not None:
            ref = self._ref
            sounding = float(np.dot(ref, ref)) >= 1e-7 * FRAME
            if sounding and self._silent_ref >= _LIGHT_EARLY:  # the next answer
                self.cut = self._talked_over = False
            self._silent_ref = 0 if sounding else self._silent_ref + 1
            silent = self._silent_ref
            light = self.light is not None and silent > 0 and (
                self.on_light or silent >= _LIGHT_AFTER
                or (silent >= _LIGHT_EARLY and self._still_run >= _PAUSE_FRAMES and not self._talked_over
                    and not self._busy()))
            if light and not self.on_light and not self._between_words():
                light = False  # going light skips the paths' lag difference: not in the user's words
                self.light_deferred += 1
            c0 = time.thread_time()
            outgoing = self._switch(light, near, ref) if light != self.on_light else None
            if light:
                cleaned = self.light.process(near)  # type: ignore[union-attr]
                prob = float(self.light.speech_probability)  # type: ignore[union-attr]
                self.light_frames += 1
            else:
                cleaned = self.processor.process(near, ref)
                prob = float(self.processor.speech_probability)
            if outgoing is not None:  # the timeline moved by the paths' lag difference: no click
                cleaned = outgoing + (cleaned - outgoing) * _RAMP
            self.cpu_s += time.thread_time() - c0
            self._history[:FRAME] = self._history[FRAME:]
            self._history[FRAME:] = near
        else:
            cleaned, prob = near, -1.0
        guard = self.guard
        gain = guard.frame(self._head_time, near, cleaned, self._ref, prob)
        if self.cut and guard.speaking:
            self._talked_over = True
        levels = self._near_levels
        levels[self.frames % len(levels)] = guard.near_db
        quiet = guard.excess_db <= -6.0 or guard.near_db <= levels.max() - 25.0
        self._quiet_run = self._quiet_run + 1 if quiet else 0
        level = guard.near_db
        if level < self._mic_floor or self._silent_ref > 0:  # not up while the echo fills the answer's pauses
            self._mic_floor = noise_floor(self._mic_floor, level)
        still = quiet and level <= self._mic_floor + _STILL_DB
        self._still_run = self._still_run + 1 if still else 0
        sent = self._sent
        if gain == 1.0 and self._gain == 1.0:
            sent[:] = cleaned
        else:
            sent[:] = cleaned * np.linspace(self._gain, gain, FRAME, dtype=np.float32)
        self._gain = gain
        self._index += FRAME
        self._head_time += FRAME / PCM_RATE
        self.frames += 1
        preroll = self.preroll
        if preroll is None:
            out: list[np.ndarray] = [sent]
        else:
            out = preroll.frame(sent, cleaned, near, self._ref, audible=guard.audible or gain < 1.0,
                                evidence=guard.excess_db > 0.0, speaking=guard.speaking, no_echo=guard.no_echo)
        need = done + len(out) * FRAME
        if need > len(self._out):
            self._out = np.concatenate((self._out[:done], np.zeros(2 * need, np.float32)))
        for frame in out:
            self._out[done : done + FRAME] = frame
            done += FRAME
        return done
