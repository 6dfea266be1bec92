"""Offline speech for the local server: recognition (:mod:`.asr`), synthesis (:mod:`.tts`) and the
worker pool (:class:`SpeechPool`) that keeps both off the event loop.

Models are loaded lazily, once per process, and shared by every session and every server in it.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from desktop_app.local_server.speech import asr, tts


class SpeechPool:
    """A small thread pool for ASR and TTS (ctranslate2, onnxruntime and eSpeak release the GIL).

    Sessions ``await`` its methods; the pacing of every other session goes on while a model runs.
    """

    def __init__(self, workers: int = 2, asr_engine: str = "auto", tts_engine: str = "auto") -> None:
        self.workers = max(1, workers)
        self.asr_engine = asr_engine
        self.tts_engine = tts_engine
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="parley-speech")
            return self._executor

    async def transcribe(self, pcm: np.ndarray) -> str:
        """Text of ``pcm`` (int16 24 kHz), from the configured recognizer, off the loop."""
        return await asyncio.get_running_loop().run_in_executor(self._pool(), asr.transcribe, pcm, self.asr_engine)

    async def synthesize(self, text: str, voice: str) -> tuple[np.ndarray, list[tts.WordTiming]]:
        """Speech for ``text`` (int16 24 kHz) and its word timings, off the loop."""
        return await asyncio.get_running_loop().run_in_executor(
            self._pool(), tts.synthesize, text, voice, self.tts_engine
        )

    def warm_up(self) -> None:
        """Load the configured models now (blocking), so the first turn is not slow."""
        tts.get_synthesizer(self.tts_engine)
        asr.get_recognizer(self.asr_engine)

    def engines(self) -> tuple[str, str]:
        """The names of the recognizer and synthesizer actually in use (loads them)."""
        return asr.get_recognizer(self.asr_engine).name, tts.get_synthesizer(self.tts_engine).name

    def close(self) -> None:
        """Stop the worker threads (queued work is dropped)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
