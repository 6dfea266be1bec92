"""Offline speech for the local server: recognition (:mod:`.asr`), synthesis (:mod:`.tts`) and the
worker pools (:class:`SpeechPool`) that keep both away from the event loop.

Both run at a lower CPU priority than the server, on one of two kinds of workers:

* threads (the default in-process: tests, the app's offline demo) — daemon threads, so a server
  embedded in another program never keeps it alive;
* processes (``processes=True``; what ``parley serve`` uses) — spawned, so nothing is forked from a
  threaded parent. Under load threads share the GIL with the event loop: measured with 50 sessions
  on 2 busy cores, a low-priority model thread holding the GIL while the OS had it descheduled
  stalled the loop for up to 2.6 s (priority inversion). Separate processes remove the shared lock,
  and their nice level lets the loop win the CPU whenever it has an event due.

Each worker loads its model lazily, once, and the pools are shared by every server in the process
(tests start many servers; they pay the start-up once).
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import os
import queue
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

import numpy as np

from desktop_app.local_server.speech import asr, tts

#: Nice increments of the workers. The event loop (0) wins the CPU whenever it has an event to send;
#: synthesis (5) beats recognition (12) because a late sentence stalls an answer that is already
#: playing, while a late transcript only delays the start of the next one.
NICE = {"tts": 5, "asr": 12}


def _lower_priority(increment: int, whole_process: bool) -> None:
    """Lower this worker's priority (a process, or on Linux one thread) by ``increment`` nice levels."""
    try:
        if whole_process:
            os.nice(increment)
        elif sys.platform.startswith("linux"):
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + increment))
    except (OSError, AttributeError):
        pass


def _load_engine(which: str, kind: str) -> str:
    """Load an engine in this worker and name it (``which``: "asr" or "tts")."""
    return (asr.get_recognizer if which == "asr" else tts.get_synthesizer)(kind).name


def _worker_priority() -> int:
    """The nice level of the worker this runs in (for tests)."""
    if sys.platform.startswith("linux"):
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    return os.getpriority(os.PRIO_PROCESS, 0)


class DaemonThreadPool(Executor):
    """A fixed pool of daemon threads (``ThreadPoolExecutor``'s are not daemons, and an idle one
    would keep a host program — or a test run — from exiting)."""

    def __init__(self, workers: int, name: str, initializer: Callable[..., object] | None = None,
                 initargs: tuple = ()) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        for i in range(workers):
            threading.Thread(target=self._work, args=(initializer, initargs), name=f"{name}-{i}", daemon=True).start()

    def _work(self, initializer: Callable[..., object] | None, initargs: tuple) -> None:
        if initializer is not None:
            initializer(*initargs)
        while True:
            job = self._jobs.get()
            if job is None:
                return
            future, fn, args, kwargs = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 — handed to whoever awaits the future
                future.set_exception(exc)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if self._closed:
            raise RuntimeError("the speech pool is shut down")
        future: Future = Future()
        self._jobs.put((future, fn, args, kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._closed = True
        if cancel_futures:
            while True:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    job[0].cancel()
        for _ in range(64):
            self._jobs.put(None)


_shared: dict[tuple[str, int, bool], Executor] = {}
_shared_lock = threading.Lock()


def _executor(kind: str, workers: int, processes: bool) -> Executor:
    key = (kind, workers, processes)
    with _shared_lock:
        executor = _shared.get(key)
        if executor is None or getattr(executor, "_broken", False):
            if processes:
                executor = ProcessPoolExecutor(
                    workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_lower_priority, initargs=(NICE[kind], True),
                )
            else:
                executor = DaemonThreadPool(workers, f"parley-{kind}", _lower_priority, (NICE[kind], False))
            _shared[key] = executor
        return executor


@atexit.register
def shutdown_workers(wait: bool = False) -> None:
    """End every worker (queued work is dropped); runs at exit. ``wait`` joins them, e.g. in tests."""
    with _shared_lock:
        executors = list(_shared.values())
        _shared.clear()
    for executor in executors:
        executor.shutdown(wait=wait, cancel_futures=True)


class SpeechPool:
    """Recognition and synthesis for one server, on the shared worker pools of its settings."""

    def __init__(self, workers: int = 2, asr_engine: str = "auto", tts_engine: str = "auto",
                 processes: bool = False) -> None:
        self.workers = max(1, workers)
        self.asr_engine = asr_engine
        self.tts_engine = tts_engine
        self.processes = bool(processes) and not getattr(sys, "frozen", False)

    def _pool(self, kind: str) -> Executor:
        return _executor(kind, self.workers, self.processes)

    async def transcribe(self, pcm: np.ndarray) -> str:
        """Text of ``pcm`` (int16 24 kHz), from the configured recognizer, off the loop."""
        return await asyncio.get_running_loop().run_in_executor(
            self._pool("asr"), asr.transcribe, pcm, self.asr_engine
        )

    async def synthesize(self, text: str, voice: str, speed: float = 1.0) -> tuple[np.ndarray, list[tts.WordTiming]]:
        """Speech for ``text`` (int16 24 kHz) at ``speed`` and its word timings, off the loop."""
        return await asyncio.get_running_loop().run_in_executor(
            self._pool("tts"), tts.synthesize, text, voice, self.tts_engine, speed
        )

    def warm_up(self) -> None:
        """Start the workers and load the configured models in each now (blocking)."""
        jobs = [self._pool("asr").submit(_load_engine, "asr", self.asr_engine) for _ in range(self.workers)]
        jobs += [self._pool("tts").submit(_load_engine, "tts", self.tts_engine) for _ in range(self.workers)]
        for job in jobs:
            job.result()

    def engines(self) -> tuple[str, str]:
        """The names of the recognizer and synthesizer the workers use."""
        return (self._pool("asr").submit(_load_engine, "asr", self.asr_engine).result(),
                self._pool("tts").submit(_load_engine, "tts", self.tts_engine).result())

    def close(self) -> None:
        """Nothing to do per server: the workers are shared and end at exit (:func:`shutdown_workers`)."""
