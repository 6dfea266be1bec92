"""Issue #24: with 10 ms microphone blocks (headset and ducking modes) a 20 ms frame waited for its
second block, so an onset in a frame's first half reached the server 10 ms late. The capture's
callback now wakes the loop at a block that rises over the noise floor after a quiet one, and the
frame being filled goes out at once, shorter; nothing else changes.

The real :class:`Capture` callback and drain are driven here with synthetic blocks (no device): the
callback as PortAudio calls it, the drain as the loop runs it.
"""

from __future__ import annotations

import asyncio
import types

import numpy as np
import sounddevice as sd

from desktop_app.audio.capture import Capture
from desktop_app.audio.capture_chain import FRAME_BYTES, CaptureChain
from desktop_app.audio.ringbuffer import SampleRing

RATE = 48000
BLOCK = RATE // 100  # 10 ms


def quiet(n: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(n) * 10 ** (-70 / 20)).astype(np.float32)


def loud(n: int) -> np.ndarray:
    return (0.1 * np.sin(2 * np.pi * 440 * np.arange(n) / RATE)).astype(np.float32)


class Fed:
    """A Capture opened on no device: its callback fed 10 ms blocks, its drains run by the loop."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.capture = Capture(None, 10.0, self.frames.append, asyncio.get_running_loop())
        capture = self.capture
        capture.samplerate, capture.blocksize_frames = RATE, BLOCK
        capture._ring = SampleRing(RATE, 1)
        capture._scratch = np.zeros((RATE, 1), np.float32)
        capture.chain = capture._new_chain(RATE)
        capture._stream = types.SimpleNamespace()  # the drain only asks whether a stream is open
        self.fed: list[np.ndarray] = []

    async def block(self, x: np.ndarray) -> None:
        self.fed.append(x)
        info = types.SimpleNamespace(currentTime=0.0, inputBufferAdcTime=0.0)
        self.capture._callback(x.reshape(-1, 1), len(x), info, sd.CallbackFlags())
        await asyncio.sleep(0)  # the loop runs the drain the callback asked for, if it did

    @property
    def halfway(self) -> bool:
        """The frame being filled has its first block (waiting in the ring for the second)."""
        ring = self.capture._ring
        assert ring is not None
        return ring.available > 0


async def test_an_onset_in_a_frames_first_half_goes_out_at_once_and_nothing_is_lost_or_moved() -> None:
    fed = Fed()
    for k in range(60):  # 600 ms of the room: the chain learns its floor
        await fed.block(quiet(BLOCK, k))
    if fed.halfway:  # the next block starts a frame
        await fed.block(quiet(BLOCK, 99))
    before = len(fed.frames)
    assert not fed.halfway
    await fed.block(loud(BLOCK))  # the first sound, in the frame's first half
    assert not fed.halfway
    assert len(fed.frames) == before + 1 and len(fed.frames[-1]) < FRAME_BYTES  # sent now, shorter
    first = np.frombuffer(fed.frames[-1], "<i2")
    assert np.abs(first[-100:]).max() > 0.05 * 32768  # and it holds the onset's sound
    assert fed.capture.early_sends == 1
    await fed.block(loud(BLOCK))  # the next block goes at once too: the resampler held 1 ms of the first
    assert len(fed.frames) == before + 2 and len(fed.frames[-1]) < FRAME_BYTES and fed.capture.early_sends == 2
    for _ in range(20):  # the words go on: whole frames again, no more early sends
        await fed.block(loud(BLOCK))
    assert fed.capture.early_sends == 2
    assert {len(f) for f in fed.frames[before + 2 :]} == {FRAME_BYTES}
    # the same samples in the same order as a chain that never sent early
    reference: list[bytes] = []
    chain = CaptureChain(RATE, reference.append, block_ms=20.0)
    for x in fed.fed:
        chain.process(x)
    sent, whole = b"".join(fed.frames), b"".join(reference)
    assert len(sent) - len(whole) < FRAME_BYTES and sent[: len(whole)] == whole


async def test_an_onset_that_completes_a_frame_and_a_quiet_room_send_whole_frames_only() -> None:
    fed = Fed()
    for k in range(60):
        await fed.block(quiet(BLOCK, k))
    if not fed.halfway:  # the next block ends a frame
        await fed.block(quiet(BLOCK, 99))
    assert fed.halfway
    await fed.block(loud(BLOCK))
    assert fed.capture.early_sends == 0 and {len(f) for f in fed.frames} == {FRAME_BYTES}
    # a room with nothing in it: one wake-up a frame, as before
    drains, sent = fed.capture.drains, len(fed.frames)
    for k in range(40):
        await fed.block(quiet(BLOCK, 200 + k))
    assert fed.capture.drains - drains == len(fed.frames) - sent == 20
    assert fed.capture.early_sends == 0
