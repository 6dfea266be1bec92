"""Keeps a conversation going when the audio devices are missing or fail to open.

:class:`GuardedPort` wraps the real :class:`~desktop_app.controller.audio_port.AudioPort`: if
``start`` raises :class:`~desktop_app.errors.AudioDeviceError` (no microphone, a busy device, no
PortAudio at all) it reports one sentence and carries on as a port with no microphone and no
speaker, so the session still connects and typed messages still get (text) answers. Assistant audio
is then dropped rather than queued, so no turn waits for playback that can never happen.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop_app.controller.audio_port import AudioPort
from desktop_app.errors import AudioDeviceError
from desktop_app.log import get_logger

log = get_logger("ui")

FLOOR_DBFS = -120.0
NO_DEVICES = "No microphone or speaker was found; connect one and choose it under Audio."


class NoAudioPort:
    """An :class:`~desktop_app.controller.audio_port.AudioPort` for a computer without audio:
    starting it raises the sentence to show; everything else does nothing."""

    def __init__(self, sentence: str = NO_DEVICES) -> None:
        self.sentence = sentence

    def start(self, on_mic_frame: Callable[[bytes], None]) -> list[str]:
        raise AudioDeviceError(self.sentence, detail="no audio engine")

    def stop(self) -> None:
        pass

    def set_gate(self, open_: bool) -> None:
        pass

    def set_muted(self, muted: bool) -> None:
        pass

    def enqueue(self, item_id: str, pcm16: bytes) -> None:
        pass

    def finish(self, item_id: str) -> None:
        pass

    def flush(self) -> tuple[str, int] | None:
        return None

    def unheard(self) -> tuple[str, ...]:
        return ()

    def drop(self, item_id: str) -> tuple[str, int] | None:
        return None

    def played_ms(self, item_id: str) -> int:
        return 0

    def pause_playback(self, paused: bool) -> None:
        pass

    def near_end_speech(self, window_ms: float = 300.0) -> bool | None:
        return None

    def set_onset_callback(self, callback: Callable[[], None] | None) -> None:
        pass

    @property
    def is_playing(self) -> bool:
        return False

    @property
    def mic_level_dbfs(self) -> float:
        return FLOOR_DBFS

    @property
    def output_level_dbfs(self) -> float:
        return FLOOR_DBFS


class GuardedPort:
    """Delegates every :class:`AudioPort` capability to ``inner`` while it works; silent and empty
    once its devices failed. A test checks that it forwards each member of the protocol."""

    def __init__(self, inner: AudioPort, on_problem: Callable[[str], None]) -> None:
        self.inner = inner
        self._on_problem = on_problem
        self.working = False
        self._onset: Callable[[], None] | None = None

    def start(self, on_mic_frame: Callable[[bytes], None]) -> list[str]:
        try:
            notices = self.inner.start(on_mic_frame)
        except AudioDeviceError as exc:
            self.working = False
            log.warning("! audio unavailable: %s", exc)
            self._on_problem(f"{exc.user_message} You can still type messages.")
            return []
        self.working = True
        for notice in notices:
            self._on_problem(notice)
        return []  # already told

    def stop(self) -> None:
        if self.working:
            self.working = False
            self.inner.stop()

    def set_gate(self, open_: bool) -> None:
        if self.working:
            self.inner.set_gate(open_)

    def set_muted(self, muted: bool) -> None:
        if self.working:
            self.inner.set_muted(muted)

    def enqueue(self, item_id: str, pcm16: bytes) -> None:
        if self.working:
            self.inner.enqueue(item_id, pcm16)

    def finish(self, item_id: str) -> None:
        if self.working:
            self.inner.finish(item_id)

    def flush(self) -> tuple[str, int] | None:
        return self.inner.flush() if self.working else None

    def unheard(self) -> tuple[str, ...]:
        return self.inner.unheard() if self.working else ()

    def drop(self, item_id: str) -> tuple[str, int] | None:
        return self.inner.drop(item_id) if self.working else None

    def played_ms(self, item_id: str) -> int:
        return self.inner.played_ms(item_id) if self.working else 0

    def pause_playback(self, paused: bool) -> None:
        if self.working:
            self.inner.pause_playback(paused)

    def near_end_speech(self, window_ms: float = 300.0) -> bool | None:
        return self.inner.near_end_speech(window_ms) if self.working else None

    def set_onset_callback(self, callback: Callable[[], None] | None) -> None:
        # Forwarded at once (the engine keeps it across restarts); harmless before start.
        self.inner.set_onset_callback(callback)

    @property
    def is_playing(self) -> bool:
        return self.working and self.inner.is_playing

    @property
    def mic_level_dbfs(self) -> float:
        return self.inner.mic_level_dbfs if self.working else FLOOR_DBFS

    @property
    def output_level_dbfs(self) -> float:
        return self.inner.output_level_dbfs if self.working else FLOOR_DBFS
