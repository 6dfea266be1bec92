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

from desktop_app.audio.aec import FRAME, EchoCanceller, FarEnd, load_processor
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
    mic48: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # as the device gave it
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
             mic_loss: tuple[float, int] | None = None, rt60_s: float | None = None,
             item_gap_s: float = 0.5, interrupted_at: float | None = None) -> Sim:
    """Run ``far24`` (assistant, 24 kHz) through the room; ``near`` lists (start seconds, 24 kHz speech).
    ``stall_at``: the speaker stalls for one block there (an underflow): a block of silence is played
    and everything handed after it leaves the DAC one block later, as its DAC times say.
    ``mic_loss`` (seconds, samples at 48 kHz): the microphone's stream loses that many samples there,
    as PipeWire's did with no overflow reported; the blocks after it carry their true ADC times.
    ``rt60_s``: a reverberant tail that long (decaying 60 dB over it) instead of ``reverb``'s 100 ms.
    The speaker is busy (the playback queue's ``is_playing``) while what it is handed has sound within
    ``item_gap_s``: a shorter silence is a pause inside an answer, a longer one the queue running dry.
    ``interrupted_at`` (seconds of ``far24``): the app flushed the queue there (a barge-in), as the
    engine's ``flush`` tells the echo control."""
    far24 = np.concatenate((np.zeros(int(lead_s * R), np.float32), far24, np.zeros(R // 2, np.float32)))
    far = soxr.resample(far24, R, DEV).astype(np.float32)
    block = DEV // 50
    handed = far
    if stall_at is not None:  # what the speaker really played: a block of silence at the stall
        cut = int(stall_at * DEV) // block * block
        far = np.concatenate((far[:cut], np.zeros(block, np.float32), far[cut:-block]))
    n = len(far)
    d = int(delay_ms * DEV / 1000)
    tail = int(rt60_s * DEV) if rt60_s else DEV // 10 if reverb else 1
    h = np.zeros(d + tail, np.float32)
    h[d] = 1.0
    if reverb or rt60_s:
        rng = np.random.default_rng(3)
        tau = rt60_s / 6.9 if rt60_s else 0.02  # amplitude e-folding: 60 dB over rt60_s
        h[d : d + tail] += (rng.standard_normal(tail) * np.exp(-np.arange(tail) / (tau * DEV)) * 0.08).astype(np.float32)
    echo = (np.convolve(far, h)[:n] * gain).astype(np.float32)
    mic = echo + (np.random.default_rng(1).standard_normal(n) * 10 ** (noise_dbfs / 20)).astype(np.float32)
    for start, x in near:
        x48 = soxr.resample(x, R, DEV).astype(np.float32)
        a = int(start * DEV)
        mic[a : a + len(x48)] += x48[: n - a]
    sounding = np.flatnonzero(np.abs(handed) > 0)
    gap = int(item_gap_s * DEV)
    position = {"j": 0}

    def busy() -> bool:  # sound handed at or after the position, within the gap
        k = int(np.searchsorted(sounding, position["j"]))
        return k < len(sounding) and sounding[k] < position["j"] + gap

    control = EchoControl(mode, speaker_busy=busy)
    control.far.set_rate(DEV)
    frames: list[bytes] = []
    chain = CaptureChain(DEV, frames.append, processor=control.process)
    sim = Sim(np.zeros(0), soxr.resample(mic, DEV, R), soxr.resample(echo, DEV, R), control, mic)
    clock = {"t": 0.0}
    control.on_near_end_onset = lambda: sim.onsets.append(clock["t"])

    def hold(pause: bool) -> None:
        sim.holds.append((clock["t"], pause))
        if pause:
            sim.verdicts.append(control.near_end_speech())

    control.on_hold = hold
    cut = None if interrupted_at is None else int((interrupted_at + lead_s) * DEV)
    lost_at, lost = (int(mic_loss[0] * DEV) // block * block, mic_loss[1]) if mic_loss else (n, 0)
    for i in range(0, n - block - lost + 1, block):
        j = i + ahead_blocks * block  # the output callback fills blocks ahead of their DAC time
        position["j"] = j
        if cut is not None and j >= cut:
            control.interrupted()
            cut = None
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
