"""Echo cancellation and the echo guard without devices: a simulated room in front of the real module.

``simulate()`` plays assistant speech through a synthetic echo path (delay, gain, an optional
reverberant tail) into a microphone, adds near-end speech where asked, and drives the production
pieces exactly as the devices would: the output callback's blocks with their DAC times into
``EchoControl.output_hook`` (the callback runs ~40 ms ahead of the DAC, as PortAudio's does), and
the microphone's blocks with their ADC times through a real :class:`CaptureChain`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pytest
import soxr

from desktop_app.audio.aec import FRAME, EchoCanceller, FarEnd, load_processor, module_lags
from desktop_app.audio.echo_control import EchoControl
from desktop_app.audio.capture_chain import CaptureChain
from desktop_app.audio.codecs import pcm16_to_float
from desktop_app.audio.echo_guard import EchoGuard

R = 24000
DEV = 48000
T0 = 5000.0  # monotonic seconds at the start of a simulation


@lru_cache(maxsize=None)
def voice(text: str, who: str = "alloy", engine: str = "espeak") -> np.ndarray:
    """Synthesized speech (float32, 24 kHz). eSpeak, because it is deterministic (Piper's timing
    varies from run to run) and fast; ``alloy`` is the assistant, ``shimmer`` the user."""
    from desktop_app.local_server.speech.tts import synthesize

    pcm, _ = synthesize(text, who, engine)
    return pcm.astype(np.float32) / 32768.0


def assistant_story() -> np.ndarray:
    return voice("Once upon a time there was a small village by the sea. The people there fished every morning "
                 "and sang every night. One day a stranger arrived with a map of the stars, and he asked the "
                 "fishermen to take him to the island beyond the fog.")


def user_interruption() -> np.ndarray:
    return voice("Stop, wait a moment please, I have a question about that.", "shimmer")


def frame_levels(x: np.ndarray) -> np.ndarray:
    frames = x[: len(x) // FRAME * FRAME].reshape(-1, FRAME).astype(np.float64)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-20)


def audible_onset(user: np.ndarray, echo: np.ndarray, start: float) -> float:
    """Seconds at which the user (starting at ``start``) first rises above the echo at the
    microphone: before that, a word's weak first consonant is masked by the assistant's voice."""
    a = int(start * R) // FRAME * FRAME
    mine = frame_levels(user)
    theirs = frame_levels(echo[a : a + len(user)])
    k = int(np.argmax((mine[: len(theirs)] > theirs) & (mine > -45)))
    return start + k * FRAME / R


def db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


@dataclass
class Sim:
    out: np.ndarray  # what the chain sent (24 kHz)
    mic: np.ndarray  # the raw microphone (24 kHz)
    echo: np.ndarray
    control: EchoControl
    onsets: list[float] = field(default_factory=list)  # signal seconds at each onset callback
    speaking: list[float] = field(default_factory=list)  # signal seconds of blocks judged near-end speech
    holds: list[tuple[float, bool]] = field(default_factory=list)  # (signal seconds, pause?) of each hold call
    verdicts: list[bool | None] = field(default_factory=list)  # near_end_speech() right after each pause

    @property
    def guard(self) -> EchoGuard:
        assert self.control.guard is not None
        return self.control.guard


def simulate(far24: np.ndarray, near: list[tuple[float, np.ndarray]] = (), *, gain: float = 0.5,
             delay_ms: float = 12.0, reverb: bool = False, noise_dbfs: float = -70.0, mode: str = "speakers",
             lead_s: float = 0.0, ahead_blocks: int = 2, stall_at: float | None = None,
             mic_loss: tuple[float, int] | None = None) -> Sim:
    """Run ``far24`` (assistant, 24 kHz) through the room; ``near`` lists (start seconds, 24 kHz speech).
    ``stall_at``: the speaker stalls for one block there (an underflow): a block of silence is played
    and everything handed after it leaves the DAC one block later, as its DAC times say.
    ``mic_loss`` (seconds, samples at 48 kHz): the microphone's stream loses that many samples there,
    as PipeWire's did with no overflow reported; the blocks after it carry their true ADC times."""
    far24 = np.concatenate((np.zeros(int(lead_s * R), np.float32), far24, np.zeros(R // 2, np.float32)))
    far = soxr.resample(far24, R, DEV).astype(np.float32)
    block = DEV // 50
    handed = far
    if stall_at is not None:  # what the speaker really played: a block of silence at the stall
        cut = int(stall_at * DEV) // block * block
        far = np.concatenate((far[:cut], np.zeros(block, np.float32), far[cut:-block]))
    n = len(far)
    d = int(delay_ms * DEV / 1000)
    tail = DEV // 10 if reverb else 1
    h = np.zeros(d + tail, np.float32)
    h[d] = 1.0
    if reverb:
        rng = np.random.default_rng(3)
        h[d : d + tail] += (rng.standard_normal(tail) * np.exp(-np.arange(tail) / (0.02 * DEV)) * 0.08).astype(np.float32)
    echo = (np.convolve(far, h)[:n] * gain).astype(np.float32)
    mic = echo + (np.random.default_rng(1).standard_normal(n) * 10 ** (noise_dbfs / 20)).astype(np.float32)
    for start, x in near:
        x48 = soxr.resample(x, R, DEV).astype(np.float32)
        a = int(start * DEV)
        mic[a : a + len(x48)] += x48[: n - a]
    control = EchoControl(mode)
    control.far.set_rate(DEV)
    frames: list[bytes] = []
    chain = CaptureChain(DEV, frames.append, processor=control.process)
    sim = Sim(np.zeros(0), soxr.resample(mic, DEV, R), soxr.resample(echo, DEV, R), control)
    clock = {"t": 0.0}
    control.on_near_end_onset = lambda: sim.onsets.append(clock["t"])

    def hold(pause: bool) -> None:
        sim.holds.append((clock["t"], pause))
        if pause:
            sim.verdicts.append(control.near_end_speech())

    control.on_hold = hold
    lost_at, lost = (int(mic_loss[0] * DEV) // block * block, mic_loss[1]) if mic_loss else (n, 0)
    for i in range(0, n - block - lost + 1, block):
        j = i + ahead_blocks * block  # the output callback fills blocks ahead of their DAC time
        late = block if stall_at is not None and j >= int(stall_at * DEV) // block * block else 0
        control.output_hook(np.pad(handed[j : j + block], (0, max(0, j + block - n))), T0 + (j + late) / DEV)
        clock["t"] = i / DEV
        src = i + lost if i >= lost_at else i  # the microphone's sample (and ADC time) this block starts at
        chain.process(mic[src : src + block], T0 + src / DEV)
        if control.guard is not None and control.guard.speaking:
            sim.speaking.append(i / DEV)
    sim.out = pcm16_to_float(b"".join(frames))
    return sim


# --- the far-end timeline --------------------------------------------------------------------------


def test_far_end_places_blocks_at_their_dac_time_and_reads_silence_where_nothing_played() -> None:
    far = FarEnd()
    far.set_rate(R)
    t = far.origin + 1.0
    far.write(np.full(480, 0.5, np.float32), t)
    far.write(np.full(480, 0.25, np.float32), t + 0.02)  # continues the run
    far.write(np.full(240, 0.75, np.float32), t + 0.5)  # the speaker paused and resumed
    far.sync()
    out = np.empty(FRAME, np.float32)
    far.read(far.slot(t), out)
    assert np.all(out == 0.5)
    far.read(far.slot(t + 0.02), out)
    assert np.all(out == 0.25)
    far.read(far.slot(t + 0.1), out)
    assert np.all(out == 0.0)  # the gap
    far.read(far.slot(t + 0.5), out)
    assert np.all(out == 0.75)
    far.read(far.slot(t + 0.51), out)
    assert np.all(out == 0.0)  # beyond what was played


def test_far_end_resampled_from_48k_keeps_an_impulse_at_its_time_plus_the_microphones_1_ms() -> None:
    far = FarEnd()
    far.set_rate(DEV)
    t = far.origin + 2.0
    x = np.zeros(DEV // 2, np.float32)
    x[DEV // 4] = 1.0  # 250 ms into the run
    for k in range(0, len(x), 960):
        far.write(x[k : k + 960], t + k / DEV)
    far.sync()
    out = np.empty(R // 2, np.float32)
    far.read(far.slot(t), out)
    # the reference goes through the microphone path's low-delay decimator, so both lag by its 1 ms
    assert int(np.argmax(np.abs(out))) - R // 4 == 24


def test_far_end_write_never_allocates_and_a_lagging_reader_loses_only_old_blocks() -> None:
    far = FarEnd(ring_seconds=0.1)
    far.set_rate(R)
    t = far.origin + 1.0
    for k in range(30):  # 600 ms into a 100 ms ring without a read
        far.write(np.full(480, k / 100, np.float32), t + k * 0.02)
    far.sync()
    assert far.lost_blocks > 0
    out = np.empty(FRAME, np.float32)
    far.read(far.slot(t + 29 * 0.02), out)
    assert np.allclose(out, 0.29)


# --- the canceller ---------------------------------------------------------------------------------


def test_canceller_removes_speech_echo_by_more_than_35_db_after_convergence() -> None:
    sim = simulate(assistant_story(), gain=1.0, delay_ms=12.0)  # echo as loud as played (the null sink's)
    converged = slice(2 * R, len(sim.out) - R)
    erle = db(sim.mic[converged]) - db(sim.out[converged])
    assert erle >= 35.0, erle
    assert sim.guard.measured_erle_db >= 30.0
    assert sim.control.canceller is not None and sim.control.canceller.far_late == 0


def test_echo_from_the_cancellers_first_frames_is_cancelled_as_deeply_as_echo_that_comes_later() -> None:
    """AEC3 settles for good in its first ~150 ms: echo arriving then used to leave it at ~35 dB
    (the loopback room's first answer after the engine started: 36 or 72 dB by timing luck)."""
    def erle(lead_s: float) -> float:
        sim = simulate(assistant_story(), gain=0.7, delay_ms=30.0, lead_s=lead_s)
        steady = slice(int((lead_s + 2.0) * R), len(sim.out) - R)
        return db(sim.mic[steady]) - db(sim.out[steady])

    late = erle(1.5)
    for lead_s in (0.0, 0.1):
        early = erle(lead_s)
        assert early >= 50.0 and abs(early - late) < 6.0, (lead_s, early, late)


@pytest.mark.parametrize("delay_ms", [0.0, 40.0, 150.0])
@pytest.mark.parametrize("reverb", [False, True])
def test_assistant_speech_alone_is_never_judged_near_end_speech(delay_ms: float, reverb: bool) -> None:
    sim = simulate(assistant_story(), gain=1.0, delay_ms=delay_ms, reverb=reverb, lead_s=1.5)
    assert sim.speaking == [] and sim.onsets == [] and sim.holds == []  # not one pause of the assistant
    assert sim.control.near_end_speech(10_000) is False
    erl = 20 * np.log10(1.0) + (6.0 if reverb else 0.0)  # the synthetic tail adds ~6 dB of echo
    assert sim.guard.erl_db == pytest.approx(erl, abs=2.5)


def test_a_speaker_underflow_mid_answer_is_distrusted_not_taken_for_the_user() -> None:
    """The speaker stalls for a block mid-sentence: the reference starts a new run and the canceller
    reconverges; for a second the guard trusts no cancellation, so the assistant is neither paused
    nor interrupted by what leaks meanwhile."""
    sim = simulate(assistant_story(), gain=1.0, lead_s=1.5, stall_at=6.0)
    assert sim.guard.rewarms == 1 and sim.control.canceller.far.runs >= 2
    assert sim.speaking == [] and sim.onsets == [] and sim.holds == []


def test_rewarm_mutes_a_frame_the_canceller_let_through_and_still_hears_a_louder_user() -> None:
    from desktop_app.audio.echo_guard import EchoGuard

    rng = np.random.default_rng(5)
    ref = (rng.standard_normal(FRAME) * 0.1).astype(np.float32)

    def run(guard: EchoGuard, frames: int, residual: float, t0: float) -> list[float]:
        gains = []
        for k in range(frames):  # the echo at the microphone is the reference itself (ERL 0 dB)
            gains.append(guard.frame(t0 + k * 0.01, ref, (ref * residual).astype(np.float32), ref, 0.0))
        return gains

    for distrusted in (False, True):
        guard = EchoGuard("speakers", erl_db=0.0)
        run(guard, 200, 0.001, 0.0)  # two seconds of echo cancelled by 60 dB: learned
        if distrusted:
            guard.rewarm()
        leaked = run(guard, 5, 0.8, 2.0)  # the canceller lets the echo through at −2 dB
        assert (guard.evidence_frames > 0) is (not distrusted)
        assert (leaked == [0.0] * 5) is distrusted  # muted, not sent to the server as speech
    # a user 10 dB over the echo still gets through during the re-warm-up
    loud = run(guard, 6, 4.0, 2.05)
    assert guard.evidence_frames >= 4 and loud[-1] == 1.0


@pytest.mark.parametrize("gain", [0.3, 1.0])
def test_user_talking_over_the_assistant_is_detected_within_100_ms_and_passes_the_canceller(gain: float) -> None:
    user = user_interruption()
    start = 5.25  # the assistant is mid-sentence
    sim = simulate(assistant_story(), [(start, 0.5 * user)], gain=gain)
    voiced = audible_onset(0.5 * user, sim.echo, start)
    # the onset fires while the block ending at onsets[0] + 20 ms is processed: ≤ 100 ms of audio
    # after the user rose above the echo (15 ms of it is the module's own delay, 40 ms the evidence)
    assert sim.onsets and voiced < sim.onsets[0] + 0.02 <= voiced + 0.1, (voiced, sim.onsets)
    # a step earlier, playback is paused: at the first frame of evidence, ≤ 80 ms after the user rose
    # above the echo (the module's 15 ms, the 10 ms frame, the rest of the 20 ms block it arrives in,
    # a word's first few ms, which stand above the echo at the microphone but not above the
    # threshold the residual must clear, and ~20 ms for AEC3's suppressor to open from the −90 dBFS
    # it holds a settled canceller's echo to — it held it to −60 when it had settled on echo, and
    # let the voice in 20 ms sooner)
    pauses = [t for t, pause in sim.holds if pause]
    assert pauses and pauses[0] < sim.onsets[0] and voiced < pauses[0] + 0.02 <= voiced + 0.08, (voiced, sim.holds)
    # while a pause waits for its verdict the guard does not call it echo: a server speech_started
    # arriving then is trusted, not ignored
    assert sim.verdicts[0] is None
    assert not [t for t in sim.speaking if t < start]
    during = slice(int(start * R), int(start * R) + len(user))
    # the user's words reach the server — here with the assistant talking over all 3.6 s of them as
    # loud as it is played (nothing pauses it in this simulation; the engine would at the first
    # evidence): a settled AEC3 suppresses double talk harder, measured −5.2 dB at gain 1.0 (−2.9
    # unsettled), −2.5 at 0.3
    assert db(sim.out[during]) > db(0.5 * user) - 6.0


def test_warm_up_mutes_echo_in_the_first_second_after_silence_but_not_the_user() -> None:
    story = assistant_story()
    first, second = story[: 3 * R], story[3 * R :]
    gap = np.zeros(int(1.5 * R), np.float32)
    answers = np.concatenate((first, gap, second))
    resumes = 4.5  # seconds: the second answer starts after a 1.5 s silence
    window = slice(int(resumes * R) + 480, int((resumes + 0.98) * R) + 480)  # + the chain's own delay
    sim = simulate(answers, gain=1.0)
    assert sim.guard.gated_frames == 2 * 100  # both answers' first second
    assert db(sim.out[window]) < -80.0
    user = 1.5 * user_interruption()  # during warm-up the user must stand ≥ 5 dB above the raw echo
    both = simulate(answers, [(resumes - 0.1, user)], gain=1.0)
    spoken = np.zeros(len(both.out), np.float32)
    a = int((resumes - 0.1) * R)
    spoken[a : a + len(user)] = user
    assert db(both.out[window]) > db(spoken[window]) - 6.0  # the user's first words go through


# --- ducking and modes ------------------------------------------------------------------------------


def test_ducking_gates_the_microphone_while_the_assistant_is_audible_unless_the_user_is_louder() -> None:
    sim = simulate(assistant_story(), gain=0.3, mode="ducking", lead_s=1.0)
    assistant = slice(int(1.2 * R), len(sim.out) - R // 2)
    assert np.max(np.abs(sim.out[assistant])) < 1e-3
    assert sim.control.near_end_speech(10_000) is False
    loud = simulate(assistant_story(), [(5.0, 1.5 * user_interruption())], gain=0.3, mode="ducking", lead_s=1.0)
    assert loud.onsets and 5.0 < loud.onsets[0] < 5.2
    assert db(loud.out[5 * R : 8 * R]) > -30.0


def test_headset_mode_passes_audio_untouched_and_cannot_judge() -> None:
    control = EchoControl("headset")
    x = np.linspace(-0.5, 0.5, 480, dtype=np.float32)
    assert control.process(x, 1.0) is x
    assert control.near_end_speech() is None and control.mode == "headset"


def test_speakers_mode_falls_back_to_ducking_with_a_reason_when_the_module_cannot_load() -> None:
    control = EchoControl("speakers", factory=lambda delay: (None, "Echo cancellation is not available (no module)."))
    assert control.mode == "ducking" and control.requested_mode == "speakers"
    assert control.aec_available is False and "not available" in control.aec_reason
    assert control.near_end_speech() is False
    with pytest.raises(ValueError):
        control.set_mode("loud")


def test_module_is_told_the_measured_delay_plus_the_lead() -> None:
    processor, reason = load_processor(0)
    assert processor is not None, reason
    guard = EchoGuard()
    canceller = EchoCanceller(FarEnd(), guard, processor, delay_ms=25.0)
    assert processor.stream_delay_ms == 45


def test_chain_hands_the_processor_the_adc_time_of_each_24k_chunk() -> None:
    seen: list[tuple[int, float | None]] = []

    def processor(x: np.ndarray, t: float | None) -> np.ndarray:
        seen.append((len(x), t))
        return x

    chain = CaptureChain(DEV, None, processor=processor)
    total = 0
    for k in range(20):
        chain.process(np.zeros(960, np.float32), 100.0 + k * 0.02)
    for n, t in seen:
        assert t == pytest.approx(100.0 + total / R, abs=1e-9)
        total += n
    assert total > 8000


def test_a_room_calibration_sets_the_delay_and_the_guards_starting_echo_level() -> None:
    control = EchoControl("speakers")
    control.calibrate(35.0, 12.0)  # 35 ms, echo 12 dB below what is played
    assert control.canceller is not None and control.canceller.processor is not None
    assert control.canceller.processor.stream_delay_ms == 55
    assert control.guard is not None and control.guard.erl_db == -12.0
    control.set_mode("ducking")  # a new guard starts from the calibration too
    assert control.guard is not None and control.guard.erl_db == -12.0


def best_lag(out: np.ndarray, x: np.ndarray, start_s: float, max_lag: int = 1200) -> int:
    a, n = int(start_s * R), R // 4
    return max(range(max_lag), key=lambda lag: float(np.dot(out[a + lag : a + lag + n], x[a : a + n])))


def test_the_light_path_takes_over_while_the_speaker_is_silent_undelayed_and_switching_never_clicks() -> None:
    """The light path runs without a delay line (issue #24: it cost every turn spoken after the
    assistant fell silent ~8 ms): its output lags the microphone by the light module's own delay,
    AEC3's by its own; each switch moves the timeline by the difference, cross-faded."""
    rng = np.random.default_rng(11)
    talk = np.tile(user_interruption(), 3)[: 7 * R] * 0.5
    talk = (talk + rng.standard_normal(len(talk)).astype(np.float32) * 0.002).astype(np.float32)
    answer = np.concatenate((np.zeros(2 * R, np.float32), assistant_story()[: 2 * R], np.zeros(3 * R, np.float32)))
    sim = simulate(answer, [(0.0, talk)], gain=0.05)  # a faint echo: the user dominates throughout
    canceller = sim.control.canceller
    assert canceller is not None and canceller.light is not None
    assert 150 <= canceller.light_frames <= 400  # ~1 s before the answer, ~1.5 s after it
    # light, full (past the answer's 1 s warm-up, which mutes the echo, and before the ~400 ms the
    # onset pre-roll may rewrite ahead of the guard's onset at 3.92 s), full, light
    lags = {when: best_lag(sim.out, sim.mic, when) for when in (1.5, 3.1, 3.25, 6.0)}
    module = module_lags()
    assert module is not None
    light, full = lags[1.5], lags[3.1]
    assert abs(lags[6.0] - light) <= 2 and abs(lags[3.25] - full) <= 2, lags
    assert abs((full - light) - (module[0] - module[1])) <= 2, (lags, module)  # no delay line on the light path
    assert module[1] <= 48, module  # the high-pass filter alone: NS would look 6-7 ms ahead (#24)
    assert light < full - 150, lags
    frames = sim.out[: len(sim.out) // FRAME * FRAME].reshape(-1, FRAME)
    peaks = np.abs(frames).max(axis=1)
    assert peaks.max() < 1.0  # no click


def test_a_switch_between_the_paths_is_cross_faded_not_a_jump_and_going_light_waits_for_a_pause() -> None:
    """The timeline moves by the paths' lag difference (14 ms) at each switch. Going full (the echo is
    coming) happens over whatever the user says: over a steady tone a bare jump is a step many times
    the tone's own, the one-frame cross-fade keeps it smooth. Going light waits for a pause in the
    user's voice, three quiet frames in a row (the skip takes the two frames before the switch): over a
    tone that never pauses it never happens, nor in a 25 ms gap, and in a 150 ms gap it does."""
    t = np.arange(7 * R) / R
    tone = (0.3 * np.sin(2 * np.pi * 310.0 * t)).astype(np.float32)
    answer = np.concatenate((np.zeros(2 * R, np.float32), assistant_story()[: 2 * R], np.zeros(3 * R, np.float32)))
    sim = simulate(answer, [(0.0, tone)], gain=0.02)
    canceller = sim.control.canceller
    assert canceller is not None and canceller.light_deferred > 250  # from ~5 s on: the tone never paused
    steps = np.abs(np.diff(sim.out))
    for when in (2.0, 5.0):  # the answer starts at 2 s (going full); the light path wanted in at ~5 s
        own = float(steps[int((when - 0.6) * R) : int((when - 0.35) * R)].max())
        around = float(steps[int((when - 0.3) * R) : int((when + 0.3) * R)].max())
        assert around <= 2.0 * own, (when, around, own)
    # a 25 ms gap (a stop consonant's closure) holds at most two quiet frames: the 14 ms skip would
    # reach into the tone before it, so not there; a 150 ms gap, yes, once three frames were quiet
    gap = tone.copy()
    gap[int(5.3 * R) : int(5.325 * R)] = 0.0
    gap[int(5.5 * R) : int(5.65 * R)] = 0.0
    paused = simulate(answer, [(0.0, gap)], gain=0.02)
    canceller = paused.control.canceller
    assert canceller is not None and canceller.light_deferred > 30
    went_light = (canceller.frames - canceller.light_frames) / 100  # seconds of microphone, light after
    assert 5.5 + 0.03 <= went_light <= 5.65, went_light
    assert canceller.switches == 1  # on the full path from the start (the tone never paused before), light once: in the gap
