"""Offline speech for the local server: recognition (:mod:`.asr`), synthesis (:mod:`.tts`) and the
worker pool (:class:`SpeechPool`) that keeps both off the event loop.

Models are loaded lazily, once per process, and shared by every session and every server in it.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from desktop_app.local_server.speech import asr, tts


def _lower_priority() -> None:
    """Run this worker thread at a lower CPU priority (Linux: per-thread nice +10).

    The event loop's thread then wins the CPU whenever it has an event to send, so a long
    recognition or synthesis never delays another session's paced audio. Threads the models start
    from here (ctranslate2's, onnxruntime's) inherit the lower priority.
    """
    if sys.platform.startswith("linux"):
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + 10))
        except OSError:
            pass


class SpeechPool:
    """Two small thread pools, one for recognition and one for synthesis, at a lower CPU priority.

    ctranslate2, onnxruntime and eSpeak release the GIL, so sessions ``await`` these methods while
    every other session's pacing goes on. Synthesis has its own threads so the next sentence of an
    answer never waits behind a queue of recognitions.
    """

    def __init__(self, workers: int = 2, asr_engine: str = "auto", tts_engine: str = "auto") -> None:
        self.workers = max(1, workers)
        self.asr_engine = asr_engine
        self.tts_engine = tts_engine
        self._executors: dict[str, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()

    def _pool(self, kind: str) -> ThreadPoolExecutor:
        with self._lock:
            if kind not in self._executors:
                self._executors[kind] = ThreadPoolExecutor(
                    self.workers, thread_name_prefix=f"parley-{kind}", initializer=_lower_priority
                )
            return self._executors[kind]

    async def transcribe(self, pcm: np.ndarray) -> str:
        """Text of ``pcm`` (int16 24 kHz), from the configured recognizer, off the loop."""
        return await asyncio.get_running_loop().run_in_executor(
            self._pool("asr"), asr.transcribe, pcm, self.asr_engine
        )

    async def synthesize(self, text: str, voice: str) -> tuple[np.ndarray, list[tts.WordTiming]]:
        """Speech for ``text`` (int16 24 kHz) and its word timings, off the loop."""
        return await asyncio.get_running_loop().run_in_executor(
            self._pool("tts"), tts.synthesize, text, voice, self.tts_engine
        )

    def warm_up(self) -> None:
        """Load the configured models now (blocking), so the first turn is not slow.

        Each loads on its own pool's thread, so the threads it starts share the lower priority.
        """
        asr_done = self._pool("asr").submit(asr.get_recognizer, self.asr_engine)
        self._pool("tts").submit(tts.get_synthesizer, self.tts_engine).result()
        asr_done.result()

    def engines(self) -> tuple[str, str]:
        """The names of the recognizer and synthesizer actually in use (loads them)."""
        return asr.get_recognizer(self.asr_engine).name, tts.get_synthesizer(self.tts_engine).name

    def close(self) -> None:
        """Stop the worker threads (queued work is dropped)."""
        with self._lock:
            executors, self._executors = list(self._executors.values()), {}
        for executor in executors:
            executor.shutdown(wait=False, cancel_futures=True)
