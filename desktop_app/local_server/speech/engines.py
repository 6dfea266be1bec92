"""Choosing a speech engine: the best one that loads, each loaded once per process.

Both :mod:`.asr` and :mod:`.tts` keep an :class:`EngineChoice`: engines in order of preference,
the last of which always loads. ``auto`` walks the order and says once in the log which engines are
missing and why; a named engine that cannot load raises (the user asked for it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from desktop_app.log import get_logger

log = get_logger("server")

E = TypeVar("E")


class EngineChoice(Generic[E]):
    """Engines of one kind (``what``: "speech recognizer"), best first."""

    def __init__(self, what: str, engines: dict[str, Callable[[], E]], last_resort_note: str = "") -> None:
        self.what = what
        self.engines = engines
        self.order = tuple(engines)
        self.last_resort_note = last_resort_note
        self._loaded: dict[str, E] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def get(self, kind: str = "auto") -> E:
        """The shared engine of ``kind`` (``auto``: the best one that loads)."""
        if kind not in ("auto", *self.order):
            raise ValueError(f"unknown {self.what} {kind!r}; pick one of auto, {', '.join(self.order)}")
        with self._lock:
            for name in self.order if kind == "auto" else (kind,):
                try:
                    engine = self._load(name)
                except (ImportError, OSError, RuntimeError) as exc:
                    if kind != "auto":
                        raise
                    self._warn(name, f"unavailable ({exc}); trying the next one")
                    continue
                if kind == "auto" and name == self.order[-1] and self.last_resort_note:
                    self._warn(name, self.last_resort_note)
                return engine
        raise RuntimeError(f"no {self.what} could be loaded")  # unreachable: the last one always loads

    def _load(self, name: str) -> E:
        if name not in self._loaded:
            self._loaded[name] = self.engines[name]()
        return self._loaded[name]

    def _warn(self, name: str, message: str) -> None:
        if name not in self._warned:
            self._warned.add(name)
            log.warning("! %s %s: %s", self.what, name, message)
