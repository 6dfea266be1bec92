"""CaptureChain: fixed frames at any input rate, downmix, mute/PTT gating with fades and pre-roll."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.audio.capture_chain import FRAME_BYTES, PRE_ROLL_MS, CaptureChain
from desktop_app.audio.codecs import float_to_pcm16
from tests.audio.signals import dominant_hz, frame_sink, frames_to_float, tone


def feed(chain: CaptureChain, x: np.ndarray, rate: int, block_ms: float = 20.0) -> None:
    n = int(rate * block_ms / 1000)
    for i in range(0, len(x), n):
        chain.process(x[i : i + n])


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 24000, 44100, 48000, 96000])
def test_every_frame_is_960_bytes_and_a_1khz_tone_stays_1khz(rate: int) -> None:
    frames: list[bytes] = []
    chain = CaptureChain(rate, frame_sink(frames))
    feed(chain, tone(1000, rate, 1.0), rate)
    assert {len(f) for f in frames} == {FRAME_BYTES}
    assert len(frames) >= 48  # 1 s minus the resampler's look-ahead
    x = frames_to_float(frames)
    assert abs(dominant_hz(x[2400:], 24000) - 1000) < 0.5


def test_stereo_is_downmixed() -> None:
    frames: list[bytes] = []
    chain = CaptureChain(48000, frame_sink(frames))
    left = tone(1000, 48000, 0.5, level=0.4)
    feed(chain, np.stack([left, left], axis=1), 48000)
    x = frames_to_float(frames)[2400:]
    assert np.abs(x).max() == pytest.approx(0.4, abs=0.02)


def test_muted_sends_nothing_but_still_meters() -> None:
    frames: list[bytes] = []
    chain = CaptureChain(48000, frame_sink(frames))
    chain.set_muted(True)
    feed(chain, tone(1000, 48000, 0.5, level=0.5), 48000)
    assert frames == []
    assert chain.level_dbfs == pytest.approx(-9.03, abs=0.2)


def test_mute_fades_out_pads_the_last_frame_and_stops() -> None:
    frames: list[bytes] = []
    chain = CaptureChain(24000, frame_sink(frames), fade_ms=5)
    x = np.full(24000, 0.5, dtype=np.float32)  # DC so any step is visible
    feed(chain, x[:4800], 24000)
    sent_before = len(frames)
    chain.set_muted(True)
    feed(chain, x[4800:], 24000)
    y = frames_to_float(frames)
    assert len(frames) == sent_before + 1 or len(frames) == sent_before + 2
    tail = y[np.nonzero(y)[0][-1] - 200 :]
    assert np.max(np.abs(np.diff(tail))) < 0.02  # a fade, not a click
    assert y[-1] == 0.0


def test_push_to_talk_press_mid_word_sends_the_240ms_pre_roll_first() -> None:
    frames: list[bytes] = []
    chain = CaptureChain(24000, frame_sink(frames))  # the default pre-roll: 240 ms, 12 whole frames
    chain.set_gate(False)
    word = np.zeros(24000, dtype=np.float32)
    word[12000:] = tone(500, 24000, 0.5, level=0.5)  # the word starts at 500 ms
    feed(chain, word[:14400], 24000)  # press comes 100 ms into the word
    assert frames == []
    chain.set_gate(True)
    feed(chain, word[14400:], 24000)
    y = frames_to_float(frames)
    onset = np.nonzero(np.abs(y) > 0.05)[0][0]
    # pre-roll = 240 ms before the press block's end (the press block included, 20 ms), so the word's
    # start — 100 ms before the press — arrives 140 ms into what was sent
    assert onset / 24 == pytest.approx(140, abs=2)
    assert np.max(np.abs(np.diff(y[:200]))) < 0.02  # faded in


@pytest.mark.parametrize("pre_roll_ms", [240.0, 250.0, 233.0])
@pytest.mark.parametrize("block", [480, 240, 720])
@pytest.mark.parametrize("press_after", [1, 7, 40])
def test_after_a_press_every_block_leaves_no_partial_frame_waiting(pre_roll_ms: float, block: int,
                                                                   press_after: int) -> None:
    """Issue #24: a pre-roll of 12.5 frames left half a frame in the FIFO, so the second half of every
    later 20 ms block waited 20 ms for the next one. The pre-roll is trimmed to end the press's block
    on a frame boundary: from then on each block that completes frames leaves nothing behind."""
    frames: list[bytes] = []
    chain = CaptureChain(24000, frame_sink(frames), pre_roll_ms=pre_roll_ms)
    chain.set_gate(False)
    x = tone(300, 24000, 2.0, level=0.3)
    blocks = [x[i : i + block] for i in range(0, len(x) - block + 1, block)]
    for b in blocks[:press_after]:
        chain.process(b)
    chain.set_gate(True)
    pending = []  # samples in the FIFO after each block (resampled = what came out of the resampler)
    for b in blocks[press_after : press_after + 20]:
        chain.process(b)
        pending.append(chain.resampled - chain.last_frame_end)
    history = min(int(pre_roll_ms * 24), press_after * block)
    assert len(frames) * 480 >= history - 480 + 20 * block  # the pre-roll went out, at most a frame shorter
    # 0 after the press, then each block's own remainder (0 for 20 ms blocks, 0/240 for 10 or 30 ms)
    assert all(p == (i * block) % 480 for i, p in enumerate(pending)), pending


def test_the_default_pre_roll_is_whole_frames() -> None:
    assert PRE_ROLL_MS * 24 % 480 == 0


def test_pre_roll_is_not_sent_on_unmute() -> None:
    frames: list[bytes] = []
    chain = CaptureChain(24000, frame_sink(frames))
    chain.set_muted(True)
    loud = tone(500, 24000, 0.5, level=0.5)
    feed(chain, loud, 24000)
    chain.set_muted(False)
    feed(chain, np.zeros(4800, dtype=np.float32), 24000)
    assert np.abs(frames_to_float(frames)).max() < 0.05


def test_flush_sends_the_tail_padded() -> None:
    frames: list[bytes] = []
    chain = CaptureChain(44100, frame_sink(frames))
    feed(chain, tone(300, 44100, 0.31), 44100)
    chain.flush()
    assert {len(f) for f in frames} == {FRAME_BYTES}
    assert len(frames) * 20 >= 310


def test_speech_energy_rises_for_speech_over_a_noise_floor() -> None:
    chain = CaptureChain(24000)
    rng = np.random.default_rng(1)
    noise = (rng.standard_normal(48000) * 0.003).astype(np.float32)
    feed(chain, noise, 24000)
    assert chain.speech_energy < 0.1
    feed(chain, noise[:4800] + tone(200, 24000, 0.2, level=0.3), 24000)
    assert chain.speech_energy > 0.9


def test_the_plots_speech_meter_runs_after_the_frames_have_gone() -> None:
    """The meter (Silero, ~0.2 ms a 32 ms window) only draws the plot: a barge-in's 400 ms released at
    once must not wait for it (#24). Each block's frames are out before the meter sees the block."""
    frames: list[bytes] = []
    chain = CaptureChain(24000, frame_sink(frames))
    seen: list[tuple[int, int]] = []

    class Meter:
        probability = 0.0

        def update(self, x: np.ndarray) -> None:
            seen.append((len(frames), len(x)))

        def reset(self) -> None:
            pass

    chain.speech_meter = Meter()  # type: ignore[assignment]
    feed(chain, tone(300, 24000, 0.1), 24000)
    assert seen == [(i + 1, 480) for i in range(5)]


def test_the_frames_a_block_completes_go_out_in_one_piece() -> None:
    """A hold's release (the onset pre-roll's 400 ms) is one message, not 20 before its newest frame
    — a barge-in's first sound (#24); a block that completes one frame hands on one."""
    pieces: list[bytes] = []
    chain = CaptureChain(24000, pieces.append)
    x = tone(300, 24000, 0.5, level=0.3)
    for a, b in ((0, 480), (480, 5280), (5280, 5760), (5760, 6000), (6000, 6240)):
        chain.process(x[a:b])
    assert [len(p) for p in pieces] == [FRAME_BYTES, 10 * FRAME_BYTES, FRAME_BYTES, FRAME_BYTES]
    # the same audio as ever (after the start's fade-in), in order
    assert chain.frames_sent == 13 and b"".join(pieces)[960:] == float_to_pcm16(x[480:6240]).tobytes()
