"""Echo canceller benchmark: ERLE, convergence time, added latency and CPU per second of audio.

Two parts:

* **synthetic room** (no devices): eSpeak assistant speech through a 30 ms, −3 dB echo path with a
  reverberant tail, fed exactly as the devices do (output blocks with DAC times, microphone blocks
  through the real capture chain). Convergence is the canceller's own (the warm-up gate is off):
  the time from the first echo until 200 ms windows of echo first show ≥ 30 dB of cancellation and
  keep ≥ 25 dB for the next second. Added latency is the module's algorithmic delay (found by
  cross-correlating its input and output on near-end noise) plus the re-chunking FIFO's average hold.
  CPU is process time in ``EchoControl.process`` (canceller + guard) per second of audio.
* **PipeWire room** (real devices, as in the tests): the audio engine in ``speakers`` mode plays
  assistant speech that comes back into the microphone 30 ms later at −3 dB. ERLE is the raw
  microphone (a second capture) over what the engine sent, after 3 s; CPU is the whole process's
  CPU time per second, speakers mode against headset mode on the same audio (the difference is the
  canceller's cost including its reference tap).

Run: ``.venv/bin/python bench/aec.py [--seconds 20]`` (about 1 minute).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop_app.audio.aec import FRAME, EchoCanceller, load_processor  # noqa: E402
from desktop_app.audio.echo_control import EchoControl  # noqa: E402
from desktop_app.audio.codecs import pcm16_to_float  # noqa: E402
from desktop_app.audio.echo_guard import EchoGuard  # noqa: E402

R = 24000


def db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


def window_erle(raw: np.ndarray, out: np.ndarray, start: int, win: int = R // 5) -> list[tuple[float, float]]:
    """(seconds from ``start``, ERLE dB) per window where the raw microphone holds echo."""
    rows = []
    for a in range(start, min(len(raw), len(out)) - win, win):
        if db(raw[a : a + win]) > -45:
            rows.append(((a - start) / R, db(raw[a : a + win]) - db(out[a : a + win])))
    return rows


def convergence_s(rows: list[tuple[float, float]]) -> float:
    for k, (t, erle) in enumerate(rows):
        later = [e for s, e in rows[k + 1 :] if s <= t + 1.0]
        if erle >= 30.0 and later and min(later) >= 25.0:
            return t
    return float("nan")


def algorithmic_delay_ms() -> float:
    processor, reason = load_processor(0)
    assert processor is not None, reason
    x = (np.random.default_rng(0).standard_normal(3 * R) * 0.05).astype(np.float32)
    far = np.zeros(FRAME, np.float32)
    y = np.concatenate([processor.process(x[i : i + FRAME], far) for i in range(0, len(x) - FRAME + 1, FRAME)])
    seg = slice(R, 2 * R)
    lags = range(0, 1200)
    best = max(lags, key=lambda lag: float(np.dot(y[R + lag : 2 * R + lag], x[seg])))
    return 1000 * best / R


def synthetic(seconds: float) -> None:
    from tests.audio.test_aec import DEV, T0, assistant_story

    import soxr

    from desktop_app.audio.capture_chain import CaptureChain

    story = assistant_story()
    far24 = np.concatenate([np.zeros(R // 2, np.float32)] + [story] * int(np.ceil(seconds * R / len(story))))
    far24 = far24[: int((seconds + 0.5) * R)]
    far = soxr.resample(far24, R, DEV).astype(np.float32)
    n = len(far)
    d = int(0.030 * DEV)
    h = np.zeros(d + DEV // 10, np.float32)
    h[d] = 1.0
    rng = np.random.default_rng(3)
    h[d:] += (rng.standard_normal(DEV // 10) * np.exp(-np.arange(DEV // 10) / (0.02 * DEV)) * 0.05).astype(np.float32)
    echo = (np.convolve(far, h)[:n] * 0.7).astype(np.float32)
    mic = echo + (rng.standard_normal(n) * 10 ** (-70 / 20)).astype(np.float32)
    control = EchoControl("headset")
    processor, _ = load_processor(0)
    control.canceller = EchoCanceller(control.far, EchoGuard("speakers", warmup_ms=0.0), processor)
    control.mode = "speakers"
    control.far.set_rate(DEV)
    frames: list[bytes] = []
    held: list[int] = []
    cpu = 0.0

    def timed(x: np.ndarray, t: float | None) -> np.ndarray:
        nonlocal cpu
        c0 = time.process_time()
        y = control.process(x, t)
        cpu += time.process_time() - c0
        held.append(len(control.canceller._fifo))  # type: ignore[union-attr]
        return y

    chain = CaptureChain(DEV, frames.append, processor=timed)
    block = DEV // 50
    for i in range(0, n - block + 1, block):
        j = i + 2 * block
        control.output_hook(np.pad(far[j : j + block], (0, max(0, j + block - n))), T0 + j / DEV)
        chain.process(mic[i : i + block], T0 + i / DEV)
    out = pcm16_to_float(b"".join(frames))
    raw = soxr.resample(mic, DEV, R)
    rows = window_erle(raw, out, R // 2)
    steady = slice(int(3.5 * R), min(len(raw), len(out)) - R // 2)
    audio_s = n / DEV
    print(f"synthetic room ({audio_s:.0f} s of eSpeak speech, 30 ms / −3 dB, reverberant tail):")
    print(f"  ERLE after 3 s             {db(raw[steady]) - db(out[steady]):5.1f} dB")
    print(f"  convergence                {convergence_s(rows) * 1000:5.0f} ms  (≥ 30 dB, then ≥ 25 dB for 1 s)")
    print(f"  added latency              {algorithmic_delay_ms():5.1f} ms module + {np.mean(held) / R * 1000:.1f} ms"
          " average re-chunk hold")
    print(f"  CPU, assistant speaking    {100 * cpu / audio_s:5.2f} % of a core  "
          f"(module alone {100 * control.canceller.cpu_s / audio_s:.2f} %)")  # type: ignore[union-attr]
    print(f"  CPU, speaker silent        {quiet_cpu():5.2f} % of a core  (the light path: NS + high-pass)")


def quiet_cpu(seconds: float = 10.0) -> float:
    """CPU per second of microphone audio while nothing plays (after the first second)."""
    from tests.audio.test_aec import T0

    control = EchoControl("speakers")
    control.far.set_rate(R)
    x = (np.random.default_rng(2).standard_normal(int(seconds * R)) * 0.01).astype(np.float32)
    block = R // 50
    for i in range(0, R, block):  # the first second: the full module, until the light path takes over
        control.output_hook(np.zeros(block, np.float32), T0 + i / R)
        control.process(x[i : i + block], T0 + i / R)
    c0 = time.process_time()
    for i in range(R, len(x) - block + 1, block):
        control.output_hook(np.zeros(block, np.float32), T0 + i / R)
        control.process(x[i : i + block], T0 + i / R)
    return 100 * (time.process_time() - c0) / (seconds - 1.0)


async def device_run(mode: str, seconds: float) -> tuple[float, float, float]:
    from desktop_app.audio.capture import Capture
    from desktop_app.audio.codecs import float_to_pcm16
    from desktop_app.audio.engine import AudioEngine
    from tests.audio.test_aec_loopback import long_answer

    engine = AudioEngine(audio_mode=mode)
    sent: list[bytes] = []
    heard: list[bytes] = []
    engine.on_mic_frame = sent.append
    raw = Capture(None, on_frame=heard.append)
    raw.start()
    engine.start()
    try:
        answer = long_answer(seconds)
        c0, w0 = time.process_time(), time.monotonic()
        engine.queue.enqueue("a", float_to_pcm16(answer).tobytes())
        engine.queue.finish("a")
        while engine.queue.is_playing:
            await asyncio.sleep(0.1)
        cpu = (time.process_time() - c0) / (time.monotonic() - w0)
    finally:
        engine.stop()
        raw.stop()
    x, y = pcm16_to_float(b"".join(heard)), pcm16_to_float(b"".join(sent))
    n = min(len(x), len(y))
    steady = slice(3 * R, n - 2 * R)
    erle = db(x[steady]) - db(y[steady])
    return erle, 100 * cpu, convergence_s(window_erle(x, y, 0))


def devices(seconds: float) -> None:
    from tests.audio.test_aec_loopback import EchoRoom
    from tests.plugins.pipewire import PipeWireSession

    session = PipeWireSession()
    session.start()
    try:
        with EchoRoom(session, delay_ms=30.0, gain=0.7):
            erle, cpu_on, conv = asyncio.run(device_run("speakers", seconds))
            _, cpu_off, _ = asyncio.run(device_run("headset", seconds))
    finally:
        session.stop()
    print(f"PipeWire room ({seconds:.0f} s of assistant speech through real devices, 30 ms / −3 dB):")
    print(f"  ERLE after 3 s             {erle:5.1f} dB")
    print(f"  first ≥ 30 dB window       {conv * 1000:5.0f} ms  (the warm-up gate mutes the first 300 ms)")
    print(f"  process CPU, full duplex   {cpu_on:5.2f} % with the canceller, {cpu_off:.2f} % headset mode "
          f"(+{cpu_on - cpu_off:.2f} %)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--no-devices", action="store_true", help="skip the PipeWire part")
    args = parser.parse_args()
    synthetic(args.seconds)
    if not args.no_devices:
        devices(args.seconds)


if __name__ == "__main__":
    main()
