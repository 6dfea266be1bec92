"""Keeps a conversation going when the audio devices are missing or fail to open.

:class:`GuardedPort` wraps the real :class:`~desktop_app.controller.audio_port.AudioPort`: if
``start`` raises :class:`~desktop_app.errors.AudioDeviceError` (no microphone, a busy device, no
PortAudio at all) it reports one sentence and carries on as a port with no microphone and no
speaker, so the session still connects and typed messages still get (text) answers. Assistant audio
is then dropped rather than queued, so no turn waits for playback that can never happen.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop_app.errors import AudioDeviceError
from desktop_app.log import get_logger

log = get_logger("ui")

FLOOR_DBFS = -120.0
NO_DEVICES = "No microphone or speaker was found; connect one and choose it under Audio."


class NoAudioPort:
    """A port for a computer without audio: starting it raises the sentence to show."""

    def __init__(self, sentence: str = NO_DEVICES) -> None:
        self.sentence = sentence

    def start(self, on_mic_frame: Callable[[bytes], None]) -> None:
        raise AudioDeviceError(self.sentence, detail="no audio engine")

    def stop(self) -> None:
        pass


class GuardedPort:
    """Delegates to ``inner`` while it works; silent and empty once its devices failed."""

    def __init__(self, inner: object, on_problem: Callable[[str], None]) -> None:
        self.inner = inner
        self._on_problem = on_problem
        self.working = False

    def start(self, on_mic_frame: Callable[[bytes], None]) -> None:
        try:
            self.inner.start(on_mic_frame)
        except AudioDeviceError as exc:
            self.working = False
            log.warning("! audio unavailable: %s", exc)
            self._on_problem(f"{exc.user_message} You can still type messages.")
            return
        self.working = True
        for notice in getattr(self.inner, "notices", ()) or ():
            self._on_problem(notice)

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

    @property
    def is_playing(self) -> bool:
        return self.working and self.inner.is_playing

    @property
    def mic_level_dbfs(self) -> float:
        return self.inner.mic_level_dbfs if self.working else FLOOR_DBFS

    @property
    def output_level_dbfs(self) -> float:
        return self.inner.output_level_dbfs if self.working else FLOOR_DBFS
