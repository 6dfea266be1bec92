"""A flight recorder for end-to-end audio tests: when the assistant's voice through the room passes for
the user, the failure message says what happened around that moment.

    probe = AudioProbe(engine)
    probe.start()                                   # on the running loop, before the conversation
    probe.user_speaks("What is two plus three?", seconds=2.1)   # when the test plays the user
    probe.wire("received", event)                   # every parsed frame (a frame observer's job)
    ...
    assert len(started) == turns, probe.report()
    probe.stop()

What it records, with monotonic times:

* **garbage collections** (``gc.callbacks``): generation, duration, objects collected. A long one
  holds the GIL the audio callbacks need every 20 ms;
* **the output callback** (chained onto ``engine.output_hook``): when each block was handed over and
  its DAC time, so a late callback (the audio thread starved) and a jump of the DAC timeline show;
* **counters polled every 10 ms** on the loop: output underflows, input overflows, the reference's
  runs and lost blocks, the canceller's re-pairings and late frames, the guard's re-warm-ups,
  holds and onsets, the queue's holds and underruns — each change is an event; so is the loop
  being late (it runs the microphone's chain and the canceller);
* **the echo guard's every decision** (its ``frame`` wrapped): reference, microphone and residual
  levels, how far the residual stood above what echo and noise explain, the evidence score, the
  warm-up and distrust left, the gain sent;
* **the server's side** (from :meth:`wire`): VAD speech starts and stops (``audio_start_ms`` mapped
  back to the time that audio was sent), responses, transcripts, the client's truncates and cancels;
* **machine load**: load average and the share of both cores busy, every 5 s.

Frame data go into preallocated numpy arrays, not Python objects, so the recorder adds nothing for
the collector to walk. Nothing here changes what the engine does. The text (:meth:`AudioProbe.report`,
:meth:`AudioProbe.summary`) is made in :mod:`tests.helpers.audio_probe_report`.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from desktop_app.audio.echo_guard import EchoGuard
from desktop_app.audio.levels import frame_db
from desktop_app.audio.engine import AudioEngine
from tests.helpers import audio_probe_report

_GUARD_FIELDS = ("t", "far", "near", "res", "excess", "score", "speaking", "warm", "distrust", "gain", "erle")
_SERVER_KINDS = {
    "input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped", "response.created", "response.done",
    "conversation.item.input_audio_transcription.completed", "conversation.item.truncated", "error",
}
_CLIENT_KINDS = {"conversation.item.truncate", "response.cancel", "response.create", "conversation.item.delete"}


class AudioProbe:
    """Records an engine's timeline for one test; :meth:`report` turns it into text."""

    def __init__(self, engine: AudioEngine, *, seconds: float = 600.0, poll_s: float = 0.01) -> None:
        self.engine = engine
        self.poll_s = poll_s
        self.t0 = time.monotonic()
        self.events: list[tuple[float, str]] = []
        self.gcs: list[tuple[float, float, int, int]] = []  # (start, ms, generation, collected)
        self.user: list[tuple[float, float, str]] = []  # (start, seconds, text)
        self.speech_started: list[tuple[float, float]] = []  # (received at, audio sent at)
        self.loads: list[tuple[float, tuple[float, float, float], float]] = []  # (t, loadavg, busy share)
        n = int(seconds * 100)
        self._trace = np.full((n, len(_GUARD_FIELDS)), np.nan)
        self._traced = 0
        self._out = np.zeros((int(seconds * 60), 3))  # (callback time, DAC time, frames)
        self._outs = 0
        self._sent = np.zeros((int(seconds * 60), 2))  # (time, cumulative input ms) per append
        self._sents = 0
        self._sent_ms = 0.0
        self._task: asyncio.Task[None] | None = None
        self._gc_start = 0.0
        self._guard: EchoGuard | None = None
        self._chained: Callable[[np.ndarray, float], None] | None = None
        self._counters: dict[str, int] = {}
        self._mic: tuple[object, int, float] | None = None  # (capture, callbacks read, its timeline's origin)
        self._cpu: tuple[float, float] | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.t0 = time.monotonic()
        gc.callbacks.append(self._on_gc)
        self._chained = self.engine.output_hook
        self.engine.output_hook = self._on_output
        self._counters = self._read_counters()
        self._sample_load()
        self._task = asyncio.get_running_loop().create_task(self._poll(), name="audio-probe")

    def stop(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self.engine.output_hook == self._on_output:
            self.engine.output_hook = self._chained
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._unwrap_guard()
        self._sample_load()

    # --- what the test tells it ----------------------------------------------------------------

    def note(self, what: str) -> None:
        self.events.append((time.monotonic(), what))

    def user_speaks(self, text: str, seconds: float) -> None:
        """The test plays the user saying ``text`` (``seconds`` long, silence around it included)."""
        now = time.monotonic()
        self.user.append((now, seconds, text))
        self.events.append((now, f"user says {text!r} ({seconds:.1f} s)"))

    def wire(self, direction: str, event: dict[str, Any]) -> None:
        """One parsed frame of the connection (``direction`` "sent" or "received")."""
        now, kind = time.monotonic(), event.get("type", "")
        if direction == "sent" and kind == "input_audio_buffer.append":
            self._sent_ms += len(base64.b64decode(event.get("audio", ""))) / 48.0  # pcm16 at 24 kHz
            if self._sents < len(self._sent):
                self._sent[self._sents] = (now, self._sent_ms)
                self._sents += 1
        elif direction == "received" and kind == "session.created":
            self._sent_ms = 0.0  # a new session: its input timeline starts again
            self.events.append((now, "server session.created"))
        elif direction == "received" and kind in _SERVER_KINDS:
            detail = ""
            if kind == "input_audio_buffer.speech_started":
                at = self._sent_at(float(event.get("audio_start_ms", 0)))
                self.speech_started.append((now, at))
                detail = f" audio_start_ms={event.get('audio_start_ms')} (sent at {at - self.t0:.2f})"
            elif kind == "input_audio_buffer.speech_stopped":
                detail = f" audio_end_ms={event.get('audio_end_ms')}"
            elif kind == "response.done":
                detail = f" {event.get('response', {}).get('status')}"
            elif kind == "conversation.item.input_audio_transcription.completed":
                detail = f" {event.get('transcript', '')!r}"
            elif kind == "error":
                detail = f" {event.get('error', {}).get('message', '')}"
            self.events.append((now, f"server {kind}{detail}"))
        elif direction == "sent" and kind in _CLIENT_KINDS:
            self.events.append((now, f"client {kind} {event.get('item_id', '')} {event.get('audio_end_ms', '')}".rstrip()))

    def unexpected_speech(self, after_s: float = 0.3) -> list[float]:
        """Times (monotonic) the server heard speech start where no user was talking: audio sent
        outside every utterance (its silence around included), ``after_s`` of slack after each for
        the player's start-up and the chain."""
        return [at for _, at in self.speech_started
                if not any(start <= at <= start + seconds + after_s for start, seconds, _ in self.user)]

    # --- recorders (audio thread, collector, loop) --------------------------------------------------

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            ms = 1000 * (time.perf_counter() - self._gc_start)
            self.gcs.append((time.monotonic() - ms / 1000, ms, info["generation"], info["collected"]))

    def _on_output(self, block: np.ndarray, dac_time: float) -> None:
        k = self._outs
        if k < len(self._out):
            self._out[k, 0], self._out[k, 1], self._out[k, 2] = time.monotonic(), dac_time, len(block)
            self._outs = k + 1
        chained = self._chained
        if chained is not None:
            chained(block, dac_time)

    def _wrap_guard(self) -> None:
        guard = self.engine.echo.guard
        if guard is self._guard:
            return
        self._unwrap_guard()
        self._guard = guard
        if guard is None:
            return
        original = guard.frame
        trace = self._trace

        def frame(t: float, near: np.ndarray, cleaned: np.ndarray, ref: np.ndarray, prob: float) -> float:
            gain = original(t, near, cleaned, ref, prob)
            k = self._traced
            if k < len(trace):
                trace[k] = (t, frame_db(ref), frame_db(near), frame_db(cleaned), guard.excess_db, guard._score,
                            guard.speaking, guard._warm_left, guard._distrust_left, gain, guard.erle_db)
                self._traced = k + 1
            return gain

        guard.frame = frame  # type: ignore[method-assign]
        self.events.append((time.monotonic(), f"echo guard ({guard.mode}) traced"))

    def _unwrap_guard(self) -> None:
        if self._guard is not None and "frame" in vars(self._guard):
            del self._guard.frame
        self._guard = None

    def _read_counters(self) -> dict[str, int]:
        e = self.engine
        c: dict[str, int] = {"queue holds": e.queue.holds, "queue hold timeouts": e.queue.hold_timeouts,
                             "queue underruns (ran dry)": e.queue.underruns, "reference runs": e.echo.far.runs,
                             "reference blocks lost": e.echo.far.lost_blocks}
        if e.playback is not None:
            c["OUTPUT UNDERFLOWS"] = e.playback.device_underflows
        if e.capture is not None:
            c["INPUT OVERFLOWS"] = e.capture.overflows
        canceller = e.echo.canceller
        if canceller is not None:
            c["canceller re-pairings"] = canceller.repairs
            c["canceller frames without reference"] = canceller.far_late
            c["guard re-warm-ups"] = canceller.guard.rewarms
            c["guard holds"] = canceller.guard.holds
            c["guard onsets"] = canceller.guard.onsets
        return c

    async def _poll(self) -> None:
        try:
            await self._polling()
        except Exception as exc:  # the recorder must not go blind silently: its report says so
            self.events.append((time.monotonic(), f"!!! the probe's poller died: {exc!r}"))
            raise

    async def _polling(self) -> None:
        last_load = time.monotonic()
        expected = time.monotonic() + self.poll_s
        playing = False
        while True:
            await asyncio.sleep(self.poll_s)
            now = time.monotonic()
            if now - expected > 0.02:
                self.events.append((now, f"loop late by {1000 * (now - expected):.0f} ms"))
            expected = now + self.poll_s
            self._wrap_guard()
            self._read_mic_timeline(now)
            counters = self._read_counters()
            for name, value in counters.items():
                old = self._counters.get(name)
                if old is not None and value != old:
                    self.events.append((now, f"{name} {old} -> {value}"))
            self._counters = counters
            if self.engine.queue.is_playing != playing:
                playing = not playing
                self.events.append((now, "assistant playing" if playing else "assistant silent"))
            if now - last_load >= 5.0:
                last_load = now
                self._sample_load()

    def _read_mic_timeline(self, now: float) -> None:
        """The microphone's callbacks since the last poll: a block whose ADC time does not follow on
        from the samples before it means samples were lost (or added) on the way in."""
        capture = self.engine.capture
        if capture is None or capture.samplerate == 0:
            return
        seen = self._mic
        start = seen[1] if seen is not None and seen[0] is capture else max(0, capture.callbacks - 1)
        origin = seen[2] if seen is not None and seen[0] is capture else float("nan")
        newest = capture.callbacks
        for k in range(max(start, newest - 120), newest):  # the capture keeps the last 128 stamps
            slot = k % len(capture._stamp_adc)
            implied = float(capture._stamp_adc[slot]) - int(capture._stamp_pos[slot]) / capture.samplerate
            if abs(implied - origin) > 0.0003:
                self.events.append((now, f"microphone timeline jumped {1000 * (implied - origin):+.2f} ms"))
            origin = implied
        self._mic = (capture, newest, origin)

    def _sample_load(self) -> None:
        busy = float("nan")
        try:
            with open("/proc/stat", encoding="ascii") as stat:
                fields = [float(v) for v in stat.readline().split()[1:]]
            idle, total = fields[3] + fields[4], sum(fields)
            if self._cpu is not None and total > self._cpu[1]:
                busy = 1.0 - (idle - self._cpu[0]) / (total - self._cpu[1])
            self._cpu = (idle, total)
        except (OSError, ValueError, IndexError):  # not Linux: the load average alone
            pass
        self.loads.append((time.monotonic(), os.getloadavg(), busy))

    def _sent_at(self, input_ms: float) -> float:
        """When the client sent the audio at ``input_ms`` of the server's input timeline."""
        sent = self._sent[: self._sents]
        if not len(sent):
            return float("nan")
        k = min(int(np.searchsorted(sent[:, 1], input_ms)), len(sent) - 1)
        return float(sent[k, 0])

    # --- what it recorded (read by tests.helpers.audio_probe_report) --------------------------------

    @property
    def guard_frames(self) -> np.ndarray:
        """The echo guard's decisions so far, a row per frame: t, far, near, res, excess, score,
        speaking, warm, distrust, gain, erle."""
        return self._trace[: self._traced]

    @property
    def output_blocks(self) -> np.ndarray:
        """The output callbacks so far, a row each: callback time, DAC time, frames."""
        return self._out[: self._outs]

    @property
    def counters(self) -> dict[str, int]:
        """The counters as last polled (underflows, overflows, the queue's, canceller's and guard's)."""
        return self._counters

    # --- the report (made in tests.helpers.audio_probe_report) -------------------------------------

    def summary(self) -> str:
        """One line of figures for a passing run (to compare runs)."""
        return audio_probe_report.summary(self)

    def report(self, focus: list[float] | None = None, window: tuple[float, float] = (-1.5, 0.4)) -> str:
        """The timeline as text: events, long collections, late callbacks, load; then the guard's
        decisions around each ``focus`` time (default: every unexpected speech start)."""
        return audio_probe_report.report(self, focus, window)
