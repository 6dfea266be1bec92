"""eSpeak NG through ctypes (the library and its data ship inside the ``espeakng-loader`` wheel).

The light speech engine: about 5 ms per sentence, robotic but intelligible, and it reports where
every word starts in the audio (``espeakEVENT_WORD``), so transcript deltas line up with the sound.
eSpeak keeps global state, so one lock serialises every call in the process.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

import numpy as np

SAMPLE_RATE = 22050

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_PARAM_RATE = 1
_PARAM_PITCH = 3


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


class ESpeak:
    """One process-wide eSpeak NG instance; :meth:`speak` returns samples and word offsets."""

    def __init__(self) -> None:
        # ImportError when the wheel is absent: the caller falls back.
        import espeakng_loader

        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self._lib.espeak_Initialize.restype = ctypes.c_int
        rate = self._lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), _INITIALIZE_DONT_EXIT
        )
        if rate <= 0:
            raise RuntimeError("eSpeak NG failed to initialise")
        self.sample_rate = rate
        self._lock = threading.Lock()
        self._chunks: list[np.ndarray] = []
        self._words: list[tuple[int, int, int]] = []  # (char offset, char length, sample offset)
        self._samples = 0
        self._callback = _CALLBACK(self._on_audio)  # kept alive as long as the instance
        self._lib.espeak_SetSynthCallback(self._callback)

    def _on_audio(self, wav: Any, count: int, events: Any) -> int:  # ctypes pointers
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _EVENT_WORD:
                # ``sample`` is the sample index of the word's start within the whole utterance.
                self._words.append((event.text_position - 1, event.length, int(event.sample)))
            i += 1
        if count > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
            self._samples += count
        return 0

    def speak(self, text: str, voice: str = "en-us", pitch: int = 50,
              rate: int = 175) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
        """``(int16 samples at :attr:`sample_rate`, [(char_offset, char_len, sample_offset), …])``."""
        data = text.encode("utf-8")
        with self._lock:
            self._chunks, self._words, self._samples = [], [], 0
            self._lib.espeak_SetVoiceByName(voice.encode())
            self._lib.espeak_SetParameter(_PARAM_PITCH, int(pitch), 0)
            self._lib.espeak_SetParameter(_PARAM_RATE, int(rate), 0)
            buf = ctypes.create_string_buffer(data)
            self._lib.espeak_Synth(buf, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            self._lib.espeak_Synchronize()
            audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
            words = list(self._words)
        return audio.astype(np.int16), words
