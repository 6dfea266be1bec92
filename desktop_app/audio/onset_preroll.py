"""The first words of a barge-in, whole: a short hold-back while the assistant is audible, and a
better estimate of the user's voice for the onset once the echo guard has decided.

Two things cut the start of a word spoken over the assistant before it reaches the server (issue #16
item 6, "Stop, what is two plus two?" arrived as "What is 2 plus 2?"):

* the echo guard's **gate** (the warm-up at an answer's start, the re-warm-up after the echo path
  jumped) sends zeros until the guard is sure it hears the user — 40 to 230 ms after the onset;
* **AEC3's suppressor** opens only gradually once the user starts: measured −82/−67/−50/−33/−21 dBFS
  at +0/20/40/60/80 ms after the onset while the voice is at −26/−21/−20/−18/−17 at the microphone.
  A first consonant ("St…") is gone, the first vowel comes through at −15 dB.

:class:`OnsetPreRoll` sits after the canceller. While the assistant is audible (or the gate is closed)
and nobody is judged to be talking, it holds the outgoing 10 ms frames back, up to ``hold_ms``: nobody
listens to them in real time — they are the canceller's residual of the assistant's voice, or zeros.
When the guard decides the user is speaking, the held frames from where the voice begins (found
walking back from the guard's first evidence in the estimate below, with 50 ms lead; else
``lead_ms`` before that evidence) are replaced by the *linear* echo estimate — the raw microphone
minus the reference through an echo path fitted on the last 1.5 s of echo-only audio
(:class:`EchoPath`), with a light suppressor on what the fit leaves — which keeps the user's voice at
full level from its first sample; then everything held goes out at once. The live frames after the decision stay on that estimate (the *bridge*) until AEC3's own output
has caught up (at most ``bridge_ms``; ``no_echo_bridge_ms`` on the microphone itself, below), then
cross-fade back to it. When no echo path is proven to cancel ``min_erle_db`` —
on the audio it was fitted on and on the held frames before the onset — the onset's stretch goes out
as AEC3 gave it, without the guard's gate (the first answer's first 300 ms; a pairing that keeps
moving on an overloaded machine: a re-warm-up's gate would have sent the first word as zeros, and the
decision opens the gate from there on anyway) — unless the guard has learned that the microphone
hardly hears the speaker (``no_echo``: a headset left in speakers mode), where the estimate is the
microphone itself (:data:`~.echo_path.NULL_PATH`): AEC3 hid a barge-in's first 200-300 ms there.
:class:`~.echo_path.EchoPath` (the fit) lives in :mod:`.echo_path`.

The hold adds no latency to a normal turn: it only exists while the assistant is audible, and when
it stops being audible (or the user is heard) everything held goes out at once. Push-to-talk and mute
switch it off (:attr:`OnsetPreRoll.enabled`): a press has its own pre-roll in the capture chain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from desktop_app.audio.codecs import PCM_RATE
from desktop_app.audio.echo_path import FRAME, MAX_LAG, NULL_PATH, TAPS, EchoPath
from desktop_app.audio.levels import frame_db


class _History:
    """The newest ``n`` samples of a stream, by absolute sample index."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._buf = np.zeros(2 * n, np.float32)
        self._end = n  # the newest sample is _buf[_end - 1]; _buf[_end - n:_end] are the last n
        self.total = 0  # samples pushed so far

    def push(self, x: np.ndarray) -> None:
        k = len(x)
        if self._end + k > len(self._buf):
            self._buf[: self.n] = self._buf[self._end - self.n : self._end]
            self._end = self.n
        self._buf[self._end : self._end + k] = x
        self._end += k
        self.total += k

    def take(self, a: int, b: int) -> np.ndarray:
        """Samples ``[a, b)`` (absolute); what is older than the history or not yet pushed reads 0."""
        out = np.zeros(max(0, b - a), np.float32)
        lo, hi = max(a, self.total - self.n, 0), min(b, self.total)
        if hi > lo:
            out[lo - a : hi - a] = self._buf[self._end - (self.total - lo) : self._end - (self.total - hi)]
        return out


def _crossfade(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    w = (0.5 - 0.5 * np.cos(np.pi * np.arange(len(a)) / len(a))).astype(np.float32)
    out: np.ndarray = (a * (1.0 - w) + b * w).astype(np.float32)
    return out


@dataclass
class _Held:
    k: int  # the frame's index in the stream
    sent: np.ndarray  # what it would have been (the canceller's output through the guard's gain)
    clean: np.ndarray  # the canceller's output, ungated
    evidence: bool


class OnsetPreRoll:
    """Holds frames back while the assistant is audible; restores the onset when the user speaks.

    ``module_lag`` is how many samples the canceller's output lags its input (AEC3's own delay): the
    linear estimate is delayed by as much, so the stream stays continuous across the seams.
    :meth:`frame` takes each 10 ms frame and returns the frames to send now (none, one, or many).
    """

    def __init__(self, module_lag: int, *, hold_ms: float = 400.0, lead_ms: float = 150.0,
                 history_s: float = 1.5, bridge_ms: float = 200.0, no_echo_bridge_ms: float = 600.0,
                 min_erle_db: float = 12.0) -> None:
        self.module_lag = int(module_lag)
        self.hold_frames = int(round(hold_ms / 10))
        self.lead_frames = int(round(lead_ms / 10))
        self.fit_samples = int(history_s * PCM_RATE)
        self.bridge_frames = int(round(bridge_ms / 10))
        # With no echo to cancel AEC3 kept a barge-in's voice down for 240-300 ms (the suite's room;
        # 200 ms cut it 4-25 dB for 10-60 ms); the microphone itself has nothing to leak meanwhile.
        self.no_echo_bridge_frames = int(round(no_echo_bridge_ms / 10))
        self.min_erle_db = min_erle_db
        self.enabled = True  # hands-free and unmuted (push-to-talk has its own pre-roll)
        keep = self.fit_samples + (self.hold_frames + self.lead_frames + 2) * FRAME + MAX_LAG + TAPS + module_lag
        self._near = _History(keep)
        self._ref = _History(keep)
        self._held: list[_Held] = []
        self._k = 0  # frames seen
        self._path: EchoPath | None = None  # while bridging: the fitted path
        self._known: EchoPath | None = None  # fitted when the last answer ended
        self._fitted_at = -(10**9)  # frame of that fit
        self._steady_since = 0  # microphone sample since which the pairing has not moved
        self._bridge_left = 0
        self._gain = 1.0  # the residual suppressor's gain on the last estimated frame
        self._was_speaking = False
        # what happened (tests, bench, log)
        self.restored = 0  # onsets restored
        self.restored_ms = 0.0  # the last restored stretch (before the decision)
        self.fit_erle_db = float("nan")  # the last fit's cancellation (nan: none was possible)
        self.max_held = 0
        self.releases: dict[str, int] = {}  # how held frames went out, by cause (see _released)

    def jumped(self) -> None:
        """The canceller re-paired the reference (samples lost, an underflow): fit what came after."""
        self._steady_since = self._near.total

    def frame(self, sent: np.ndarray, clean: np.ndarray, near: np.ndarray, ref: np.ndarray, *,
              audible: bool, evidence: bool, speaking: bool, no_echo: bool = False) -> list[np.ndarray]:
        """One frame: ``sent`` (the canceller's output through the guard's gain), ``clean`` (ungated),
        the raw ``near`` and its paired ``ref``, and the guard's view of it: ``audible`` (the assistant
        could be in it, or the gate muted it), ``evidence`` (near-end evidence), ``speaking``,
        ``no_echo`` (the learned echo return says the microphone hardly hears the speaker: an onset
        is restored from the microphone itself, see :data:`NULL_PATH`)."""
        k = self._k
        self._k += 1
        self._near.push(near)
        self._ref.push(ref)
        onset = speaking and not self._was_speaking
        self._was_speaking = speaking
        if onset and self._held and self.enabled:
            return self._restore(k, sent, clean, no_echo)
        if self._bridge_left > 0:
            return [self._bridge(k, clean)]
        if self.enabled and not speaking and audible:
            self._held.append(_Held(k, sent.copy(), clean.copy(), evidence))
            self.max_held = max(self.max_held, len(self._held))
            if len(self._held) > self.hold_frames:
                oldest = self._held.pop(0)
                if oldest.evidence:
                    self._released("overflow")
                return [oldest.sent]
            return []
        if self._held:  # the assistant is no longer audible: everything held goes out now
            self._released("not audible" if any(h.evidence for h in self._held) else "quiet")
            out = [h.sent for h in self._held]
            self._held.clear()
            self._remember_path(k)
            return [*out, sent]
        return [sent]

    def _released(self, cause: str) -> None:
        """Count how held frames went out: ``restored`` (an onset); at an onset with no estimate
        proven, because ``no path`` cancelled or the ``pairing moved``; with near-end evidence in them
        but no decision yet, because the assistant was ``not audible`` any more or the hold was full
        (``overflow``, per frame); ``quiet`` (no evidence: an answer's end)."""
        self.releases[cause] = self.releases.get(cause, 0) + 1

    def _remember_path(self, k: int) -> None:
        """The assistant just fell silent: fit the echo path on what it said (at most every 5 s), for
        an onset early in its next answer, when too little of that answer is there to fit on."""
        if k - self._fitted_at < 500:
            return
        self._fitted_at = k
        end = k * FRAME
        start = max(0, end - self.fit_samples, self._near.total - self._near.n)
        path = EchoPath.fit(self._ref.take(start, end), self._near.take(start, end))
        if path is not None and path.erle_db >= self.min_erle_db:
            self._known = path

    # --- the decision ----------------------------------------------------------------------------

    def _onset_start(self, held: list[_Held]) -> int:
        """Index in ``held`` where this onset's stretch begins: ``lead_frames`` before the first
        evidence of the run that became speech (a gap of 8 frames ends a run: the guard's count has
        died away by then)."""
        first = len(held)
        gap = 0
        for i in range(len(held) - 1, -1, -1):
            if held[i].evidence:
                first, gap = i, 0
            else:
                gap += 1
                if gap > 8 and first < len(held):
                    break
        return max(0, min(first, len(held) - 1) - self.lead_frames)

    def _restore(self, k: int, sent: np.ndarray, clean: np.ndarray, no_echo: bool) -> list[np.ndarray]:
        held, self._held = self._held, []
        start = self._onset_start(held)
        self._path = self._fit(held[0].k)
        self._gain = 1.0
        if self._path is None and no_echo:
            self._path = NULL_PATH
        if self._path is None:  # nothing better proven than the canceller's own output
            self._released("no path")
            return self._ungated(held, start, clean)
        linear, echo = self._linear(held[0].k, len(held) + 1)
        # still cancelling in the held frames before the onset? (the pairing may have moved since)
        pre = slice(0, start * FRAME)
        if (self._path is not NULL_PATH and start >= 10
                and frame_db(linear[pre] + echo[pre]) - frame_db(linear[pre]) < self.min_erle_db):
            self._path = None
            self._released("pairing moved")
            return self._ungated(held, start, clean)
        start = self._voice_start(linear, echo, start + self.lead_frames, start)
        better = self._suppressed(linear[start * FRAME :], echo[start * FRAME :])
        out = [h.sent for h in held[:start]]
        out.append(_crossfade(held[start].sent, better[0]))
        out += better[1:]
        self.restored += 1
        self._released("restored")
        self.restored_ms = (len(held) - start) * 10.0
        self._bridge_left = (0 if self._path is None else self.no_echo_bridge_frames if self._path is NULL_PATH
                             else self.bridge_frames)
        return out

    @staticmethod
    def _ungated(held: list[_Held], start: int, clean: np.ndarray) -> list[np.ndarray]:
        """No estimate is proven: what was held goes out as it was up to the onset's stretch, and from
        there as the canceller's output without the guard's gate — the decision opens the gate for the
        frames after it anyway, and a gate closed by a warm-up or a re-warm-up would otherwise have
        sent the first 100–230 ms of the user's words as zeros."""
        out = [h.sent for h in held[:start]]
        out.append(_crossfade(held[start].sent, held[start].clean))
        out += [h.clean for h in held[start + 1 :]]
        out.append(clean)
        return out

    def _fit(self, k: int) -> EchoPath | None:
        """The echo path that best cancels the audio before output frame ``k`` (before anything held:
        echo alone): fitted on it, on what came after the pairing last moved (samples lost on the way
        in), or the one the last answer showed (an onset early in an answer); None when none cancels
        ``min_erle_db``."""
        end = k * FRAME - self.module_lag
        begin = max(0, end - self.fit_samples, self._near.total - self._near.n)
        candidates = [self._fit_between(begin, end)]
        if begin < self._steady_since < end:
            candidates.append(self._fit_between(self._steady_since, end))
        if self._known is not None:
            recent = max(begin, self._steady_since)
            candidates.append(self._known.rated(self._ref.take(recent, end), self._near.take(recent, end)))
        rated = [c for c in candidates if c is not None]
        path = max(rated, key=lambda c: c.erle_db) if rated else None
        self.fit_erle_db = path.erle_db if path is not None else float("nan")
        return path if path is not None and path.erle_db >= self.min_erle_db else None

    def _fit_between(self, begin: int, end: int) -> EchoPath | None:
        return EchoPath.fit(self._ref.take(begin, end), self._near.take(begin, end)) if end > begin else None

    def _linear(self, k: int, frames: int) -> tuple[np.ndarray, np.ndarray]:
        """The microphone minus the echo estimate, and that estimate, for output frames ``k…k+frames``
        (delayed like the canceller's output)."""
        path = self._path
        assert path is not None
        a = k * FRAME - self.module_lag
        b = a + frames * FRAME
        echo = path.echo(self._ref.take(a - path.span, b))
        return self._near.take(a, b) - echo, echo

    def _voice_start(self, linear: np.ndarray, echo: np.ndarray, first: int, start: int) -> int:
        """Where the voice begins in the linear estimate, walking back from the first evidence (held
        frame ``first``): the guard sees a soft first consonant late, up to 200 ms when it distrusts
        the canceller, but the estimate shows it. Frames stand 6 dB over the echo left and over
        -60 dBFS; a pause of 60 ms (a stop's closure) does not end the word; 50 ms lead."""
        assert self._path is not None
        left = 10.0 ** (-self._path.erle_db / 10.0)
        voiced = first
        gap = 0
        for i in range(min(first, len(linear) // FRAME) - 1, -1, -1):
            x, e = linear[i * FRAME : (i + 1) * FRAME], echo[i * FRAME : (i + 1) * FRAME]
            p = float(np.dot(x, x)) / FRAME
            if p > 1e-6 and p > 4.0 * (left * float(np.dot(e, e)) / FRAME + 1e-7):
                voiced, gap = i, 0
            else:
                gap += 1
                if gap > 6:
                    break
        return max(0, min(start, voiced - 5))

    def _suppressed(self, linear: np.ndarray, echo: np.ndarray) -> list[np.ndarray]:
        """``linear`` as frames, where what the fit leaves of the echo (its ERLE below it) is turned
        down where it is most of the frame — in a word's pauses, a stop's closure — as a canceller's
        residual suppressor would: left there, Whisper heard "Scott" for "Stop"."""
        assert self._path is not None
        left = 10.0 ** (-self._path.erle_db / 10.0) * 2.0
        out = []
        for i in range(len(linear) // FRAME):
            e, x = echo[i * FRAME : (i + 1) * FRAME], linear[i * FRAME : (i + 1) * FRAME]
            gain = float(np.sqrt(max(0.01, 1.0 - left * float(np.dot(e, e)) / max(float(np.dot(x, x)), 1e-12))))
            out.append((x * np.linspace(self._gain, gain, FRAME)).astype(np.float32))
            self._gain = gain
        return out

    def _bridge(self, k: int, clean: np.ndarray) -> np.ndarray:
        """After the decision: the linear estimate until AEC3's suppressor has opened (its output
        within 3 dB of the estimate), then back to AEC3 across one frame."""
        (linear,) = self._suppressed(*self._linear(k, 1))
        self._bridge_left -= 1
        if self._bridge_left == 0 or frame_db(clean) >= frame_db(linear) - 3.0:
            self._bridge_left = 0
            self._path = None
            return _crossfade(linear, clean)
        return linear
