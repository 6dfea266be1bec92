"""What left the app's speaker, recorded by someone else: ``parec`` on the sink's monitor.

The app's own counters say what it handed to PortAudio; this says what the output device played,
as a listener in the room (another PulseAudio client of the private PipeWire session) heard it.

    with SpeakerRecording(tmp_path / "speaker.raw") as speaker:   # the default sink of the PipeWire room
        ...                                  # the app plays something
    pcm = speaker.pcm()                      # int16, 24 kHz mono
    speaker.audible_s(-45.0)                 # seconds of it above -45 dBFS (20 ms windows)
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from tests.plugins.pipewire import SINK

RATE = 24000


class SpeakerRecording:
    """Records ``sink``'s monitor to a raw file from ``__enter__`` to ``__exit__`` (its own process,
    ended by its handle)."""

    def __init__(self, path: Path, sink: str = SINK) -> None:
        self.sink = sink
        self.path = path
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> SpeakerRecording:
        with open(self.path, "wb") as out:
            self._proc = subprocess.Popen(
                ["parec", f"--device={self.sink}.monitor", f"--rate={RATE}", "--channels=1", "--format=s16le",
                 "--latency-msec=20"], stdout=out, stderr=subprocess.PIPE)
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        alive = proc.poll() is None
        if alive:
            proc.terminate()
        _, stderr = proc.communicate(timeout=5)
        assert alive, f"parec ended early ({proc.returncode}): {stderr.decode(errors='replace').strip()}"

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pcm(self) -> np.ndarray:
        data = self.path.read_bytes()
        return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").copy()

    def audible_s(self, dbfs: float = -40.0) -> float:
        """Seconds of the recording whose 20 ms windows are louder than ``dbfs``."""
        pcm = self.pcm()
        win = RATE // 50
        n = len(pcm) // win
        if n == 0:
            return 0.0
        frames = pcm[: n * win].astype(np.float32).reshape(n, win) / 32768.0
        loud = 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-12) > dbfs
        return float(loud.sum()) * win / RATE
