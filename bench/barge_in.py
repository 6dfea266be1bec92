"""Barge-in latency on real devices: from the user's first audible sound to a silent speaker.

The audio engine in ``speakers`` mode plays the assistant's story into a PipeWire room (its output
comes back into the microphone 30 ms later at −3 dB, as in the tests); after 2.5–4 s a second voice
starts a question over it. The engine does what the app does: the echo guard's first frame of
near-end evidence pauses playback (the *hold*), the confirmed onset flushes it (the controller's
barge-in). For every interruption it prints, from the **onset** — the first 10 ms in which the
user's voice stands above the echo at the microphone (found by aligning the known question in the
raw microphone signal, ADC time):

* **decision**: the hold callback (on the loop);
* **handed**: the output callback that handed the last non-silent sample to the device (PortAudio
  runs it ~one block + the device latency ahead of the DAC);
* **at the DAC**: when that last sample leaves the converter (PortAudio's DAC time, the same
  monotonic clock as the ADC times) — what a person hears;
* **onset → flush**: the four-frame confirmation the controller barges in on (truncation point).

Then how the user's voice rises after the onset, at the raw microphone and in the canceller's output
(what the guard judges): the canceller's suppressor lets it through only gradually (measured ~9 dB
per 10 ms), which is most of the decision time; and in what is sent to the server, where the onset
pre-roll (``audio/onset_preroll.py``) puts the voice back from its onset.

Then the fixed parts of the chain: the canceller's algorithmic delay, block sizes and the output
latency PortAudio reports. Run: ``.venv/bin/python bench/barge_in.py [--runs 8]`` (about 1 minute).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

R = 24000
FRAME = 240
RISE_FRAMES = (0, 2, 4, 6, 8)  # frames after the onset at which the voice's level is shown


def frame_db(x: np.ndarray) -> np.ndarray:
    frames = x[: len(x) // FRAME * FRAME].reshape(-1, FRAME).astype(np.float64)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-20)


async def interruption(engine, room, answer: np.ndarray, user: np.ndarray, lead_s: float, item: str) -> dict:
    from desktop_app.audio.codecs import float_to_pcm16
    from tests.plugins.pipewire import wait_for

    guard = engine.echo.guard
    frames: list[tuple[float, np.ndarray]] = []  # (ADC time, raw microphone frame)
    cleaned_db: list[float] = []  # the canceller's output for the same frames (what the guard judges)
    judged_after: list[float] = []  # how long after its ADC time each frame was judged
    original = guard.frame

    def frame(t, near, cleaned, ref, prob):
        judged_after.append(time.monotonic() - t)
        frames.append((t, near.copy()))
        cleaned_db.append(float(frame_db(cleaned)[0]) if len(cleaned) >= FRAME else -120.0)
        return original(t, near, cleaned, ref, prob)

    guard.frame = frame
    sent: list[bytes] = []  # what the microphone path hands on for the server (20 ms pcm16 frames)
    engine.on_mic_frame = sent.append
    handed: list[tuple[float, float, np.ndarray]] = []  # (callback time, DAC time, block)
    engine.output_hook = lambda block, dac: handed.append((time.monotonic(), dac, block.copy()))
    marks: dict[str, float] = {}

    def hold(pause: bool) -> None:
        if pause:
            marks.setdefault("hold", time.monotonic())
        engine._hold(pause)

    def onset() -> None:
        marks.setdefault("flush", time.monotonic())
        engine.flush(8.0)

    engine.echo.on_hold = hold
    engine.on_near_end_onset = onset
    try:
        engine.queue.enqueue(item, float_to_pcm16(answer).tobytes())
        engine.queue.finish(item)
        await wait_for(lambda: engine.queue.report(item).played_ms >= lead_s * 1000, timeout=10)
        room.talk(user)
        await wait_for(lambda: not engine.queue.is_playing, timeout=5)
        await asyncio.sleep(len(user) / R + 0.5)  # the whole question on record
    finally:
        guard.frame = original
        engine.on_mic_frame = None
        engine.output_hook = None
        engine.echo.on_hold = engine._hold
        engine.on_near_end_onset = None
        engine.flush(0.0)
    # the raw microphone on its ADC timeline, and the question found in it
    t0 = frames[0][0]
    mic = np.concatenate([f for _, f in frames])
    times = np.array([t for t, _ in frames])
    probe = user[: R // 2]
    score = np.correlate(mic, probe, "valid")
    at = int(np.argmax(np.abs(score)))
    gain = float(np.dot(mic[at : at + len(probe)], probe) / np.dot(probe, probe))
    voice = np.zeros_like(mic)
    voice[at : at + len(user)] = (gain * user)[: len(mic) - at]
    echo = mic - voice
    mine, theirs = frame_db(voice), frame_db(echo)
    k0 = at // FRAME
    k = k0 + int(np.argmax((mine[k0:] > theirs[k0:]) & (mine[k0:] > -45)))
    onset_t = float(times[k]) if k < len(times) else t0 + k * FRAME / R
    # the last non-silent sample handed after the onset
    after = [(cb, dac, b) for cb, dac, b in handed if cb >= onset_t]
    last = None
    for cb, dac, block in after:
        nz = np.nonzero(block)[0]
        if len(nz):
            last = (cb, dac + (nz[-1] + 1) / engine.echo.far.rate)
        elif last is not None:
            break
    rate = engine.echo.far.rate
    block_s = len(handed[0][2]) / rate if handed else float("nan")
    out_latency = float(np.median([dac - cb for cb, dac, _ in handed])) if handed else float("nan")
    # what reached the server: the question found in the sent stream by its later words, the voice's
    # level there from the same onset on (the onset pre-roll restores what the canceller let through)
    out = np.frombuffer(b"".join(sent), "<i2").astype(np.float64) / 32768.0
    probe = user[R // 2 : R]
    corr = np.fft.irfft(np.fft.rfft(out, 1 << 22) * np.conj(np.fft.rfft(probe, 1 << 22)), 1 << 22)[: len(out)]
    s0 = int(np.argmax(np.abs(corr))) - R // 2 + k * FRAME - at
    sent_db = frame_db(out[s0 : s0 + FRAME * 10]) if s0 >= 0 else np.full(10, np.nan)
    preroll = engine.echo.canceller.preroll if engine.echo.canceller is not None else None
    return {
        "sent_rise": [float(sent_db[j]) if j < len(sent_db) else np.nan for j in RISE_FRAMES],
        "restored": preroll.restored if preroll is not None else 0,
        "decision": marks.get("hold", float("nan")) - onset_t,
        "handed": (last[0] - onset_t) if last else float("nan"),
        "dac": (last[1] - onset_t) if last else float("nan"),
        "flush": marks.get("flush", float("nan")) - onset_t,
        "gain": gain,
        "block_s": block_s,
        "out_latency": out_latency,
        "judged": float(np.median(judged_after)),
        # the user's voice after the onset: at the raw microphone, and in the canceller's output
        "rise": [(float(mine[k + j]), cleaned_db[k + j]) if k + j < len(cleaned_db) else (np.nan, np.nan)
                 for j in RISE_FRAMES],
    }


async def run(runs: int) -> list[dict]:
    from desktop_app.audio.engine import AudioEngine
    from tests.audio.test_aec_loopback import EchoRoom, long_answer, speech
    from tests.plugins.pipewire import PipeWireSession

    session = PipeWireSession()
    session.start()
    results = []
    try:
        with EchoRoom(session, delay_ms=30.0, gain=0.7) as room:
            engine = AudioEngine(audio_mode="speakers")
            engine.start()
            try:
                answer = long_answer(8.0)
                user = speech("Wait, what is the capital of France?", "shimmer")
                # the first answer teaches the guard the room (as any conversation's first seconds do)
                await interruption(engine, room, answer, user, 4.0, "warm-up")
                rng = np.random.default_rng(7)
                for k in range(runs):
                    results.append(await interruption(engine, room, answer, user, float(rng.uniform(2.5, 4.0)), f"a{k}"))
            finally:
                engine.stop()
    finally:
        session.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()
    results = asyncio.run(run(args.runs))
    from desktop_app.audio.aec import load_processor

    print(f"barge-in on the PipeWire room ({len(results)} interruptions, 30 ms / −3 dB echo path, speakers mode)")
    print("  from the user's audible onset (ms):   decision   handed    at the DAC   onset→flush")
    for r in results:
        print(f"                                        {r['decision'] * 1000:6.0f}   {r['handed'] * 1000:6.0f}"
              f"      {r['dac'] * 1000:6.0f}       {r['flush'] * 1000:6.0f}")
    for key, name in (("decision", "decision"), ("handed", "handed"), ("dac", "at the DAC"), ("flush", "onset→flush")):
        values = np.array([r[key] for r in results]) * 1000
        print(f"  {name:12s} p50 {np.nanmedian(values):5.0f} ms   max {np.nanmax(values):5.0f} ms")
    rise = np.array([r["rise"] for r in results])  # runs × frames × (voice at the mic, canceller output)
    print("  the user's voice after the onset, median dBFS:  " + "   ".join(f"+{10 * j} ms" for j in RISE_FRAMES))
    print("    at the raw microphone                       " + "  ".join(f"{v:6.1f}" for v in np.nanmedian(rise[:, :, 0], 0)))
    print("    in the canceller's output (judged)          " + "  ".join(f"{v:6.1f}" for v in np.nanmedian(rise[:, :, 1], 0)))
    sent = np.array([r["sent_rise"] for r in results])
    print("    sent to the server (onset pre-roll)         " + "  ".join(f"{v:6.1f}" for v in np.nanmedian(sent, 0))
          + f"   (onsets restored: {results[-1]['restored']})")
    r = results[0]
    processor, _ = load_processor(0)
    print(f"  fixed parts: 10 ms frames, {r['block_s'] * 1000:.0f} ms device blocks, output latency "
          f"(DAC − callback) {r['out_latency'] * 1000:.0f} ms, canceller delay ~15 ms "
          f"({'AEC3 + noise suppression' if processor is not None else 'no canceller'}); a frame is judged "
          f"{np.median([x['judged'] for x in results]) * 1000:.0f} ms after its first sample left the ADC (median)")


if __name__ == "__main__":
    main()
