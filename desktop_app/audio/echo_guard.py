"""Is the user talking, or is the microphone only hearing the assistant? Decided every 10 ms.

The server's VAD cannot tell the assistant's voice coming back through the speakers from the user.
:class:`EchoGuard` can, because it sees both sides: the far-end reference (what the speaker played),
the raw microphone and — with the canceller on — the residual after it. A frame is *near-end
evidence* when the residual stands clear of both the noise floor and the echo that could still be in
it: the reference level plus the echo return loss (ERL: echo over reference, learned while only the
assistant talks) minus the cancellation the canceller achieves (ERLE, learned the same way). Evidence
feeds a leaky count; enough of it in a row (two frames far clear: :data:`STRONG_DB`) is speech.

It also holds the policy built on that verdict: two gains on the outgoing audio and two callbacks:

* **warm-up gate** (canceller on): for the first ``warmup_ms`` (1 s) of assistant audio after a silence,
  frames without near-end evidence are muted, so echo the canceller has not yet learned is never sent
  as speech; meanwhile the evidence must clear the echo as if the canceller removed 10 dB less than it
  has shown (nothing at all before the first answer). :meth:`rewarm` does the same after the echo
  path jumped mid-answer (a re-paired reference), trusting no cancellation at all until the
  canceller shows on 200 ms of echo that it cancels again (at least 0.3 s, at most 3 s, of the
  assistant speaking: a jump at the end of an answer is still distrusted at the next one);
* **ducking** (no canceller): while the assistant is audible the microphone is gated unless the raw
  level rises ``duck_margin_db`` above the echo it could be — a higher threshold that still lets a
  real interruption through;
* the **onset** callback: near-end speech that starts while the assistant is audible calls
  ``on_onset`` (on the loop) once, so playback can stop before the server's ``speech_started``
  (while the assistant spoke within the last 2 s: a pause between its sentences still counts);
* the **hold** callback, a step earlier: the first frame of near-end evidence while the assistant
  is audible calls ``on_hold(True)`` — playback pauses, losing nothing — and ``on_hold(False)``
  when the evidence dies away (it was not the user, or the user has finished) or when it has not
  become speech within ``hold_ms``. Echo never reaches the evidence threshold once the canceller
  has converged (measured: 10 dB short of it at worst over 22 s in the loopback room), so a pause
  costs the assistant nothing unless someone really makes a sound.

All figures are in dB of a 10 ms frame's mean power; the cost is three dot products a frame.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from desktop_app.audio.levels import frame_db, noise_floor
from desktop_app.log import get_logger

log = get_logger("audio")

FRAME_S = 0.01
SILENT_DBFS = -70.0  # a reference frame below this is silence
FAR_ACTIVE_DBFS = -60.0
# The warm-up at the start of each answer after a silence. Each one is a new run of the reference
# (the speaker resumed), and AEC3 can meet a slightly moved echo path there: after a 1-10 ms jump it
# leaks 3-27 dB under the echo for 0.75-2 s. 300 ms was too short: in a CI run of the 2-minute echo
# conversation the canceller removed only 4-17 dB of a word's echo 0.45-0.55 s into an answer (its
# learned figure was 13 dB); six frames stood up to 8 dB over the threshold and were taken for the
# user, the assistant interrupting itself. Trusting 10 dB less for the whole first second would have
# kept all of them ~2 dB under it. The price: in an answer's first second a barge-in must stand 10 dB
# higher above the echo (the pre-roll still sends its first words), and that echo is muted.
WARMUP_MS = 1000.0
# A re-warm-up ends once this many frames in a row of the assistant alone show the residual back
# down: within 10 dB of the cancellation shown before the jump (at most 40 dB under the echo), or at
# the noise floor. AEC3 reconverging from a 1-10 ms echo-path jump leaks at 3-27 dB under the echo
# for 0.75-2 s (the loopback room's recordings, offline) - a fixed second was too short for that.
RECONVERGED_FRAMES = 20
# A warm-up that ends with the learned cancellation this far under what earlier answers proved
# becomes a re-warm-up (the canceller did not converge in this answer's first second).
FELL_DB = 20.0
# A room with no echo worth the name: the learned echo return this far under the reference (a headset
# or distant speakers left in speakers mode; the bench's room). AEC3 still suppresses a barge-in's first
# 50-200 ms there — its residual shows the user late — so the raw microphone is evidence too, when it
# stands RAW_MARGIN_DB over the echo the learned path allows (and 12 dB over its own noise floor).
NO_ECHO_ERL_DB = -30.0
RAW_MARGIN_DB = 15.0
# Speech on the second frame, not the fourth (its audio goes out 20 ms sooner, #24): two frames this
# far over the threshold, the second not this much weaker (a knock dies at once); stopping playback
# still takes ``onset_frames``.
STRONG_DB = 20.0
STRONG_FALL_DB = 6.0


class EchoGuard:
    """Near-end speech detection and the outgoing gain for one mode (``speakers`` or ``ducking``).

    ``frame(t, near, cleaned, ref, prob)`` is called for every 10 ms frame with its ADC time; it
    returns the gain for the cleaned frame. ``prob`` is the canceller's speech probability of the
    residual (negative when there is none). :meth:`near_end_speech` is the cheap question the
    controller asks when the server says someone started speaking.
    """

    def __init__(
        self,
        mode: str = "speakers",
        *,
        warmup_ms: float = WARMUP_MS,
        margin_db: float = 10.0,
        duck_margin_db: float = 10.0,
        floor_margin_db: float = 12.0,
        min_speech_dbfs: float = -60.0,
        speech_frames: float = 4.0,
        onset_frames: float = 4.0,
        erl_db: float = 0.0,
        assumed_erle_db: float = 15.0,
        silence_before_warmup_s: float = 1.0,
        hold_ms: float = 300.0,
    ) -> None:
        self.mode = mode
        self.warmup_frames = int(round(warmup_ms / 10))
        self.margin_db = margin_db
        self.duck_margin_db = duck_margin_db
        self.floor_margin_db = floor_margin_db
        self.min_speech_dbfs = min_speech_dbfs
        self.speech_frames = speech_frames
        self.onset_frames = onset_frames
        self.assumed_erle_db = assumed_erle_db
        self.silence_before_warmup = int(silence_before_warmup_s / FRAME_S)
        self.on_onset: Callable[[], None] | None = None
        self.on_hold: Callable[[bool], None] | None = None
        self.hold_frames = int(round(hold_ms / 10))
        self._held_for = -1  # frames since the hold was asked for (-1: not holding, -2: timed out)
        self.erl_db = erl_db  # echo level − reference level (learned; the calibration may set it)
        self.erle_db = 20.0  # cancellation achieved on echo-only frames (smoothed; AEC3 starts near this)
        self.floor_db: float | None = None  # noise floor of the signal judged
        self.near_floor_db: float | None = None  # noise floor of the raw microphone
        self._still_floor_db: float | None = None  # … learned only where nothing can echo (for the ERL)
        self.raw_evidence_frames = 0  # frames taken for the user on the raw microphone (no echo)
        self.excess_db = -120.0
        self.near_db = -120.0  # the raw microphone's level in the last frame judged
        self.audible = False  # the last frame could hold the assistant's echo (its reference envelope)
        self._decay_db = 1.5  # reference envelope release per frame: covers a room's echo tail
        self._ref_env = -120.0
        self._score = 0.0
        self._strong = -math.inf  # the last frame's excess when it was strong evidence
        self._speaking = False
        self._onset_fired = False
        self._last_onset = -math.inf
        self._quiet_frames = 10**9  # frames since the reference was last active
        self._warm_left = 0
        self._distrust_left = 0  # frames of a re-warm-up in which the canceller is not trusted at all
        self._distrust_min = 0  # frames of it still to go before it may end
        self._clean = 0  # consecutive echo frames the canceller cleaned during a re-warm-up
        self._erle_before = 0.0  # the cancellation it had shown when the echo path jumped
        self._erle_at_warmup = 0.0  # the cancellation earlier answers had proved, when a warm-up began
        self.rewarms = 0
        self.warmups = 0
        self.last_speech = -math.inf  # ADC time of the newest frame judged near-end speech
        self.last_far = -math.inf  # ADC time of the newest frame with an active reference
        # statistics (tests, bench, calibration)
        self.frames = 0
        self.evidence_frames = 0
        self.onsets = 0
        self.holds = 0
        self.gated_frames = 0
        self.echo_frames = 0
        self._echo_near = 0.0
        self._echo_res = 0.0
        self._p_near = self._p_env = self._p_res = 0.0
        self._learned = 0
        self.set_delay(10.0)

    def set_delay(self, delay_ms: float) -> None:
        """The echo arrives ``delay_ms`` after its reference: the envelope must hold that long."""
        self._hold = int(math.ceil(delay_ms / 10.0)) + 1
        self._ref_hist = [-120.0] * (self._hold + 1)

    def reset_stats(self) -> None:
        self.echo_frames = 0
        self._echo_near = self._echo_res = 0.0
        self.evidence_frames = self.onsets = self.gated_frames = self.holds = 0

    @property
    def measured_erle_db(self) -> float:
        """ERLE over every echo-only frame since :meth:`reset_stats`: raw energy over residual energy."""
        if self._echo_res <= 0.0 or self._echo_near <= 0.0:
            return float("nan")
        return 10.0 * math.log10(self._echo_near / self._echo_res)

    @property
    def speaking(self) -> bool:
        return self._speaking

    def rewarm(self, min_ms: float = 300.0, max_ms: float = 3000.0, proven_db: float | None = None) -> None:
        """The echo path jumped under the canceller (the speaker's stream glitched, the reference was
        re-paired): judge as in the warm-up, trusting no cancellation at all — echo the canceller
        lets through while it reconverges is neither sent as speech nor taken for the user (a real
        interruption must then stand 10 dB above the echo itself) — for at least ``min_ms``, and
        then until :data:`RECONVERGED_FRAMES` of the assistant alone show it cancelling again, or
        ``max_ms`` have passed; only time the assistant is speaking counts. ``proven_db``: the
        cancellation to get back to within 10 dB (default: what it showed until now)."""
        if self._distrust_left == 0:
            self._erle_before = self.erle_db if proven_db is None else proven_db
        self._distrust_left = max(self._distrust_left, round(max_ms / 10.0))
        self._distrust_min = max(self._distrust_min, round(min_ms / 10.0))
        self._clean = 0
        self.rewarms += 1

    @property
    def no_echo(self) -> bool:
        """The learned echo return says the microphone hardly hears the speaker (speakers mode)."""
        return self.mode == "speakers" and self._learned >= 20 and self.erl_db <= NO_ECHO_ERL_DB

    def warm_up(self) -> None:
        """Judge the next second as the start of an answer after a long silence: the reference
        became active after a second of silence, or the canceller resumes after the light path ran
        (AEC3 idled, maybe for less than that second)."""
        if self.mode == "speakers":
            if self._warm_left == 0:  # what earlier answers proved (nothing before 200 ms of echo was learned)
                self._erle_at_warmup = self.erle_db if self._learned >= 20 else -math.inf
                self.warmups += 1
            self._warm_left = self.warmup_frames

    @property
    def holding(self) -> bool:
        """A hold is in progress: the first evidence is in, the verdict is not."""
        return self._held_for >= 0 and not self._speaking

    def near_end_speech(self, window_ms: float = 300.0, now: float | None = None) -> bool:
        """True when near-end speech was heard within the last ``window_ms``."""
        now = time.monotonic() if now is None else now
        return self._speaking or now - self.last_speech <= window_ms / 1000.0

    def far_active(self, window_ms: float = 300.0, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return now - self.last_far <= window_ms / 1000.0

    # --- per frame ---------------------------------------------------------------------------

    def frame(self, t: float, near: np.ndarray, cleaned: np.ndarray, ref: np.ndarray, prob: float) -> float:
        self.frames += 1
        far_db, near_db = frame_db(ref), frame_db(near)
        self.near_db = near_db
        res_db = near_db if cleaned is near else frame_db(cleaned)
        hist = self._ref_hist
        hist.pop(0)
        hist.append(far_db)
        env = max(max(hist), self._ref_env - self._decay_db)  # held over the delay, then released
        self._ref_env = env
        audible = self.audible = env > SILENT_DBFS
        if far_db > FAR_ACTIVE_DBFS:
            self.last_far = t
            if self._quiet_frames >= self.silence_before_warmup:
                self.warm_up()
            self._quiet_frames = 0
        else:
            self._quiet_frames += 1
        judged = res_db if self.mode == "speakers" else near_db
        self._track_floor(judged, near_db, audible)
        near_floor = self.near_floor_db = noise_floor(self.near_floor_db, near_db)
        if not audible:
            self._still_floor_db = noise_floor(self._still_floor_db, near_db)
        floor = self.floor_db if self.floor_db is not None else -120.0
        echo_db = env + self.erl_db  # the raw echo this frame could hold
        distrusted = self._distrust_left > 0
        if self.mode == "speakers":
            cancel = min(self.erle_db, self.assumed_erle_db)
            if distrusted:  # the echo path just jumped: the canceller is reconverging
                self._reconverging(far_db, res_db, echo_db, floor)
                cancel = 0.0
            elif self._warm_left > 0:  # converging: trust only what an earlier answer proved, less 10 dB
                cancel = max(0.0, cancel - 10.0) if self._learned >= 20 else 0.0
            threshold = max(floor + self.floor_margin_db, self.min_speech_dbfs,
                            (echo_db - cancel + self.margin_db) if audible else -120.0)
        else:
            threshold = max(floor + self.floor_margin_db, self.min_speech_dbfs,
                            (echo_db + self.duck_margin_db) if audible else -120.0)
        evidence = judged > threshold
        self.excess_db = judged - threshold  # how far this frame stands above what echo and noise explain
        if self.no_echo and self._warm_left == 0 and not distrusted:
            raw = near_db - max(near_floor + self.floor_margin_db, self.min_speech_dbfs,
                                (echo_db + RAW_MARGIN_DB) if audible else -120.0)
            self.raw_evidence_frames += raw > 0.0 and not evidence
            evidence = evidence or raw > 0.0
            self.excess_db = max(self.excess_db, raw)
        self.speech_probability = prob
        strong = evidence and self.excess_db >= STRONG_DB
        quick = strong and self._strong >= STRONG_DB and self.excess_db >= self._strong - STRONG_FALL_DB
        self._strong = self.excess_db if strong else -math.inf
        self._count(evidence, t, quick)
        if audible and not self._speaking and self._score == 0.0 and far_db > FAR_ACTIVE_DBFS:
            self._learn(near_db, res_db, env)
        return self._gain(audible, distrusted)

    def _reconverging(self, far_db: float, res_db: float, echo_db: float, floor: float) -> None:
        """One frame of a re-warm-up: count the assistant-alone frames the canceller cleaned; end it
        (from the next frame on) when enough in a row were clean and the minimum has passed. Only
        frames of the assistant speaking count, so a jump near the end of an answer is still
        distrusted when the next one starts (the canceller learns nothing in between)."""
        if far_db <= FAR_ACTIVE_DBFS:
            return
        self._distrust_left -= 1
        self._distrust_min = max(0, self._distrust_min - 1)
        if self._score == 0.0:  # the assistant alone
            depth = min(max(self._erle_before - 10.0, 0.0), 40.0)
            clean = res_db <= max(echo_db - depth, floor + 6.0)
            self._clean = self._clean + 1 if clean else 0
        if self._distrust_min == 0 and self._clean >= RECONVERGED_FRAMES:
            self._distrust_left = 0

    def _track_floor(self, level: float, near_db: float, audible: bool) -> None:
        """The residual's noise floor, from frames nothing can echo in: AEC3's suppressor gates
        the noise under an answer (−90 to −106 dBFS), and its first frames are digital silence
        where the microphone is not; a floor learned there stays 30–40 dB low for 10 s at 3 dB/s,
        and a noisy room's noise (−55 dBFS) then passes for the user's voice after every answer.
        A microphone that is itself digitally silent between words (a virtual device, a driver's
        gate) does set it: else the floor is learned from the user's quietest words, and the next
        barge-in must stand that much higher."""
        if not audible and (level > -120.0 or near_db <= -120.0):
            self.floor_db = noise_floor(self.floor_db, level)

    def _count(self, evidence: bool, t: float, quick: bool = False) -> None:
        if evidence:
            self.evidence_frames += 1
            self._score = min(self._score + 1.0, 12.0)
        else:
            self._score = max(self._score - 0.5, 0.0)
        self._tentative(evidence, t)
        if self._score >= self.speech_frames or quick:
            self._speaking = True
        elif self._score == 0.0:
            self._speaking = False
            self._onset_fired = False
        if self._speaking:
            self.last_speech = t
            # once per interruption: a later onset needs assistant audio heard since (what was
            # already handed to the speaker when playback stopped still sounds for ~50 ms)
            if (not self._onset_fired and self._score >= self.onset_frames and t - self.last_far <= 2.0
                    and self.last_far > self._last_onset + 0.15 and self.on_onset is not None):
                self._onset_fired = True
                self._last_onset = t
                self.onsets += 1
                self.on_onset()

    def _tentative(self, evidence: bool, t: float) -> None:
        """Pause playback on the first sign of the user; resume when the evidence is gone, or when it
        has not become speech within ``hold_frames`` (then no new pause until it is gone)."""
        callback = self.on_hold
        if callback is None:
            return
        if self._held_for == -1:  # not holding
            # not while the canceller is still unproven (the first half second of echo it has ever
            # seen, or a warm-up): there a long echo path can leave a frame or two of evidence
            proven = self._learned >= 50 and self._warm_left == 0 and self._distrust_left == 0
            if evidence and proven and not self._speaking and t - self.last_far <= 2.0:
                self._held_for = 0
                self.holds += 1
                callback(True)
            return
        if self._held_for == -2:  # released without becoming speech: wait for quiet
            if self._score == 0.0:
                self._held_for = -1
            return
        self._held_for += 1
        if self._score == 0.0:
            self._held_for = -1
            callback(False)
        elif not self._speaking and self._held_for >= self.hold_frames:
            self._held_for = -2
            callback(False)

    def _learn(self, near_db: float, res_db: float, env: float) -> None:
        """Echo-only frame with a clear reference: learn ERL and ERLE as ratios of exponentially
        weighted powers (~2 s), so loud frames count most and word edges or pauses do not skew them."""
        if env < -50.0:
            return
        a = 0.005
        near_p, env_p, res_p = 10 ** (near_db / 10), 10 ** (env / 10), 10 ** (res_db / 10)
        self._p_near += a * (near_p - self._p_near)
        self._p_env += a * (env_p - self._p_env)
        self._p_res += a * (res_p - self._p_res)
        self._learned += 1
        if self._learned >= 20:  # 200 ms of echo before trusting the figures
            # the room's noise is not echo (a microphone hearing no speaker read −8 dB at −50 dBFS)
            noise = 10 ** (self._still_floor_db / 10) if self._still_floor_db is not None else 0.0
            self.erl_db = min(15.0, 10.0 * math.log10(max(self._p_near - noise, 1e-3 * self._p_near) / self._p_env))
            if self.mode == "speakers" and self._distrust_left == 0:  # not from a reconverging canceller
                self.erle_db = 10.0 * math.log10(self._p_near / max(self._p_res, 1e-12))
        if self.mode == "speakers":
            self.echo_frames += 1
            self._echo_near += near_p
            self._echo_res += res_p

    def _gain(self, audible: bool, distrusted: bool) -> float:
        if self._warm_left > 0 or (distrusted and audible):  # (while the assistant is silent nothing can leak)
            if self._warm_left == 1 and self._erle_at_warmup - self.erle_db >= FELL_DB:
                # the warm-up ends with the canceller far below its proven form: not converged
                # (a fresh-clone run: an answer opened by a 213 ms device stall, AEC3 at 5-60 dB
                # frame to frame, learned 67 → 19 dB, then passing everything 50 ms after the
                # warm-up — the assistant interrupted itself); distrust it until it is back
                log.info("= canceller %.0f dB under its proven %.0f dB after the warm-up: distrusted until it is back",
                         self.erle_db, self._erle_at_warmup)
                self.rewarm(proven_db=self._erle_at_warmup)
            self._warm_left = max(0, self._warm_left - 1)
            if not self._speaking:
                self.gated_frames += 1
                return 0.0
            return 1.0
        if self.mode == "ducking" and audible and not self._speaking:
            self.gated_frames += 1
            return 0.0
        return 1.0
