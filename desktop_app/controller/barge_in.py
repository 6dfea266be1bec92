"""Barge-in: the user talks over the assistant, and it stops at once.

:meth:`BargeIn.interrupt` silences the speaker (``AudioPort.flush``, a short fade), then tells the
server what was heard: the sounding item is truncated at ``min(played, received)`` and the items
queued behind it, never heard, at 0 (where the dialect truncates at all). The interrupted response
is *silenced*: its audio still in flight is dropped on arrival. The answer is cancelled first when
the server would not cancel it itself (push-to-talk, ``interrupt_response: false``, a local onset
ahead of the server's VAD) — a server truncates only an answer it has stopped making (§3.6 F2).
Over WebRTC the server plays the answer itself: unless its VAD cut it already, the answer is
cancelled, then ``output_audio_buffer.clear`` stops the server's buffer (§3.8), then the truncate
corrects the server's cut (what it sent) to what was heard, exactly as over a WebSocket.

A dialect without truncation (GPT-Live) is told nothing on a barge-in: the model hears the user and
stops by itself. What was heard is kept here (:attr:`BargeIn.heard_ms`) for the transcript and for the
next session's context. The Interrupt button (``stop``) asks such a model to stop speaking
(``stop_instruction``); the reply stays silenced until it ends, so the next one plays.
"""

from __future__ import annotations

from desktop_app.controller.audio_port import AudioPort
from desktop_app.controller.media_voice import MediaVoice
from desktop_app.log import get_logger
from desktop_app.realtime.dialect import Dialect

log = get_logger("controller")


class BargeIn:
    """The interrupted responses of the current connection, and the interruption itself."""

    def __init__(self, audio: AudioPort, media: MediaVoice | None = None) -> None:
        self._audio = audio
        self._media = media
        self._silenced: set[str] = set()
        self._in_flight = False  # interrupted while our response.create was on its way
        self.heard_ms: dict[str, int] = {}  # no truncation in the dialect: how much of an answer cut here was heard

    def interrupt(self, core: Dialect | None, *, server_cancels: bool, stop: bool = False) -> None:
        """Silence playback, truncate what was heard, cancel unless the server does it itself; ``stop``:
        the user's Interrupt button (a dialect with nothing to cancel is asked to stop speaking)."""
        flushed = self._audio.flush()
        if core is None or core.closed:
            return
        if core.active_response_id is not None:
            self._silenced.add(core.active_response_id)
        elif core.traits.responses and core.response_pending:
            # The answer asked for has not started yet: the one that starts next is that answer, and
            # the user has already talked over it (a best-effort cancel without an id may miss it).
            self._in_flight = True
        if not server_cancels and core.traits.responses and core.response_pending:
            core.cancel_response()
        if not server_cancels and self._media is not None and self._media.needs_clear(core):
            core.clear_output_audio()
        if stop and core.traits.stop_instruction and (flushed is not None or core.active_response_id is not None):
            core.ask_to_stop()
        if flushed is not None and not core.traits.truncation:
            item_id, played_ms = flushed
            self.heard_ms[item_id] = min(played_ms, self.heard_ms.get(item_id, played_ms))
        elif flushed is None and not core.traits.truncation and core.active_response_id is not None:
            # Nothing sounding at this instant (a pause inside the reply, or its audio not here yet): the
            # reply is silenced all the same, so what was heard of it is what had played.
            for item in core.conversation.items:
                if item.response_id == core.active_response_id and item.role == "assistant":
                    played_ms = self._audio.played_ms(item.id)
                    self.heard_ms[item.id] = min(played_ms, self.heard_ms.get(item.id, played_ms))
        if flushed is None or not core.traits.truncation:
            return
        item_id, played_ms = flushed
        end = core.truncate(item_id, played_ms)
        log.info("= barge-in: %s played %d ms, truncated at %s", item_id, played_ms, end)
        for unheard in self._audio.unheard():  # queued behind it, never sounded: nothing was heard
            core.truncate(unheard, 0)

    def started(self, response_id: str) -> bool:
        """``response.created``: True when it is an answer the user interrupted before it started
        (it is silenced; the caller cancels it)."""
        if not self._in_flight:
            return False
        self._in_flight = False
        self._silenced.add(response_id)
        return True

    def create_refused(self) -> None:
        """Our create was refused: no answer is on its way after all."""
        self._in_flight = False

    def silence(self, response_id: str) -> None:
        """Never play more of ``response_id`` (an answer to the assistant's own echo)."""
        self._silenced.add(response_id)

    def is_silenced(self, response_id: str | None) -> bool:
        return response_id in self._silenced

    def finished(self, response_id: str) -> bool:
        """``response.done``: forget it; True when it had been interrupted by us."""
        was = response_id in self._silenced
        self._silenced.discard(response_id)
        return was

    def connection_ended(self) -> None:
        self._silenced.clear()
        self._in_flight = False
