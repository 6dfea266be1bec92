"""Decoded WebRTC audio → PCM16 24 kHz mono, with lost packets concealed — for both ends of a call.

aiortc decodes Opus to 48 kHz stereo frames whose ``pts`` follows the RTP timestamps, and simply
skips a packet that never came (and its jitter buffer used to throw four good packets away with each
lost one: :class:`AudioJitterBuffer` fixes that). Skipping shortens the audio: the assistant's item would be shorter
here than on the server (truncation off by 20 ms per loss) and a lost piece of a word vanishes from
the speech recogniser's input. :class:`TrackPcm` keeps the timeline whole: a gap in ``pts`` is filled
with the last frame repeated at falling gain (classic packet-repetition concealment; silence beyond
:data:`CONCEAL_MS`), then the frame is resampled to 24 kHz mono.

Used by the client's transport and by the local server, which may not import each other; it imports
nothing of Parley.
"""

from __future__ import annotations

import fractions
from collections.abc import Callable

import aiortc
import numpy as np
from aiortc import MediaStreamTrack, RTCRtpReceiver
from aiortc.mediastreams import MediaStreamError
from aiortc.jitterbuffer import MAX_MISORDER, JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_add
from av import AudioFrame, AudioResampler

RATE = 24_000
#: Lost audio up to this long is concealed by repetition; the rest of a longer gap is silence.
CONCEAL_MS = 60
_FADE = 0.6  # gain per repeated frame


_TIME_BASE = fractions.Fraction(1, RATE)


def pcm16_frame(pcm: bytes, pts: int) -> AudioFrame:
    """PCM16 24 kHz mono as the frame an outgoing track hands aiortc, stamped at ``pts`` samples."""
    frame = AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
    frame.planes[0].update(pcm)
    frame.sample_rate = RATE
    frame.pts = pts
    frame.time_base = _TIME_BASE
    return frame


class TrackPcm:
    """One remote track's frames, in order, as PCM16 24 kHz mono bytes (gaps concealed)."""

    def __init__(self) -> None:
        self._resampler = AudioResampler(format="s16", layout="mono", rate=RATE)
        self._next_pts: int | None = None
        self._last = b""
        self.concealed_ms = 0.0

    def convert(self, frame: AudioFrame) -> bytes:
        """The frame's PCM, preceded by concealment for any frames lost just before it."""
        out = b""
        if frame.pts is not None and frame.sample_rate:
            if self._next_pts is not None and frame.pts > self._next_pts:
                out += self._conceal((frame.pts - self._next_pts) * 1000.0 / frame.sample_rate)
            self._next_pts = frame.pts + frame.samples
        pcm = b"".join(bytes(p.planes[0])[: p.samples * 2] for p in self._resampler.resample(frame))
        if pcm:
            self._last = pcm
        return out + pcm

    def _conceal(self, ms: float) -> bytes:
        self.concealed_ms += ms
        need = int(ms * RATE / 1000) * 2
        if not self._last:
            return bytes(need)
        last = np.frombuffer(self._last, dtype=np.int16).astype(np.float32)
        pieces, gain, made = [], _FADE, 0
        while made < need and made < CONCEAL_MS * 48:
            piece = (last * gain).astype(np.int16).tobytes()[: need - made]
            pieces.append(piece)
            made += len(piece)
            gain *= _FADE
        return b"".join(pieces) + bytes(need - made)


async def pump_track(track: MediaStreamTrack, deliver: Callable[[bytes], None],
                     each_frame: Callable[[], None] | None = None) -> None:
    """Read a remote audio track until it ends, handing each decoded frame's PCM16 24 kHz mono
    (lost packets concealed: the timeline stays whole) to ``deliver``; ``each_frame`` after every
    frame."""
    pcm = TrackPcm()
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        if not isinstance(frame, AudioFrame):
            continue  # an audio track yields audio frames only
        data = pcm.convert(frame)
        if data:
            deliver(data)
        if each_frame is not None:
            each_frame()


class AudioJitterBuffer(JitterBuffer):
    """aiortc's audio jitter buffer, except that a lost packet costs only itself.

    aiortc's own (capacity 16, prefetch 4) releases a frame only when the four after it are all
    there, so a gap stalls it; when it fills it drops the oldest *received* packets one by one until
    it is past the gap: each lost packet took the four before it along (a 100 ms hole, measured),
    and 5 % loss on the wire became ~25 % lost audio. Here a frame is released once ``prefetch``
    newer packets have arrived, whether or not the ones between came; a slot still empty by then is
    skipped (:class:`TrackPcm` conceals it from the ``pts`` gap). One Opus packet is one frame.
    """

    def __init__(self, capacity: int = 16, prefetch: int = 4) -> None:
        super().__init__(capacity=capacity, prefetch=prefetch)
        self._newest: int | None = None

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        seq = packet.sequence_number
        if self._origin is None or self._newest is None:
            self._origin = self._newest = seq
        ahead = uint16_add(seq, -self._origin)
        if ahead >= 0x8000:  # behind what was released: too late to play
            if 0x10000 - ahead < MAX_MISORDER:
                return False, None
            self.remove(self.capacity)  # far behind: the sender restarted its sequence
            self._origin = self._newest = seq
            ahead = 0
        if ahead >= self.capacity:  # far ahead (a long outage): make room, skipping the oldest
            self.remove(min(ahead - self.capacity + 1, self.capacity))
            self._origin = uint16_add(seq, 1 - self.capacity)
        self._packets[seq % self.capacity] = packet
        if uint16_add(seq, -self._newest) < 0x8000:
            self._newest = seq
        return False, self._release()

    def _release(self) -> JitterFrame | None:
        assert self._origin is not None and self._newest is not None
        while uint16_add(self._newest, -self._origin) >= self._prefetch:
            packet = self._packets[self._origin % self.capacity]
            self.remove(1)
            if packet is not None:
                data = packet._data  # type: ignore[attr-defined]  # the depayloaded payload, set by the receiver
                return JitterFrame(data=data, timestamp=packet.timestamp)
        return None


def use_audio_jitter_buffer(receiver: RTCRtpReceiver) -> None:
    """Give an audio receiver the :class:`AudioJitterBuffer` (aiortc has no option for it: the
    receiver keeps its buffer in a private attribute, checked here so an aiortc that renames it
    fails loudly instead of quietly keeping the lossy one)."""
    name = "_RTCRtpReceiver__jitter_buffer"
    if not isinstance(vars(receiver).get(name), JitterBuffer):
        raise RuntimeError(f"aiortc {aiortc.__version__}: RTCRtpReceiver has no {name} to replace")
    setattr(receiver, name, AudioJitterBuffer())
