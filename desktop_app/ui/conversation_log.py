"""What the app keeps of its conversations: the observatory (event log, connection monitor, usage,
spending, errors) and the history, fed from every controller the session builds.

The session calls three things here (:class:`~desktop_app.ui.session.ConversationSession`):

* :meth:`ConversationLog.controller_options` — what a new controller is built with: the frame
  observer (the observatory's, plus the audio tap while recording) and the observatory as its
  metrics port;
* :meth:`ConversationLog.started` — a conversation begins (a new controller, after "clear", a
  continued one): per-conversation figures start at zero, a history recorder begins, the spending
  stop carries over if the day's limit still holds;
* :meth:`ConversationLog.ended` — it ends: the last turn, the usage and the final transcript are saved.

A continued conversation's saved lines are shown again but not saved twice: the new conversation
records only its own lines and points at the one it continues. Nothing here blocks the loop: the
history queues its writes on its own thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desktop_app.controller.controller import Controller
from desktop_app.controller.record import NOTHING_EARLIER, Earlier
from desktop_app.controller.view_state import TranscriptEntry
from desktop_app.history.audio_tap import AudioTap
from desktop_app.history.records import SavedConversation
from desktop_app.history.service import ConversationRecorder, History
from desktop_app.log import get_logger
from desktop_app.observe.observatory import Observatory
from desktop_app.observe.spend import local_day
from desktop_app.settings.profiles import LocalProfile
from desktop_app.settings.schema import Settings

log = get_logger("ui")


def earlier_from(saved: SavedConversation, items: list[dict[str, Any]]) -> Earlier:
    """A saved conversation as the controller's seed: its replay items, and its lines to show
    (echo lines stay out, as they did in the window)."""
    entries = tuple(TranscriptEntry(item_id=e.item_id, role=e.role, text=e.text, final=True, truncated=e.truncated,
                                    heard=e.tool_output or e.heard if e.role == "tool" else e.heard, tool_name=e.tool_name,
                                    tool_status=e.tool_status, echo=e.echo)
                    for e in saved.entries if not e.echo)
    return Earlier(items=tuple(items), entries=entries)


class ConversationLog:
    """The observatory and the history around the session's controllers. Build it in the
    composition root; ``await open()`` once the loop runs; ``await close()`` at shutdown."""

    def __init__(self, observatory: Observatory, history: History) -> None:
        self.observatory = observatory
        self.history = history
        self._audio = AudioTap()
        self._controller: Controller | None = None
        self._recorder: ConversationRecorder | None = None
        self._stop_watching: Callable[[], None] | None = None
        self._seeded: frozenset[str] = frozenset()
        self._transcript: tuple[TranscriptEntry, ...] = ()
        self._tools: dict[str, tuple[str | None, str, str | None]] = {}
        self._tokens: tuple[int, float] = (0, 0.0)  # tokens and billed seconds as last saved

    @property
    def recorder(self) -> ConversationRecorder | None:
        """The current conversation's recorder (None while history is off)."""
        return self._recorder

    # --- lifetime ------------------------------------------------------------------------------

    async def open(self) -> list[str]:
        """Open the history and restore today's spending; returns the history's notices."""
        notices = await self.history.open()
        today = local_day()
        self.observatory.spend.restore_day(today, await self.history.day_spend(today))
        return notices

    async def close(self) -> None:
        """Save the conversation under way, finish the history's writes, remove the event spill."""
        self.ended()
        await self.history.close()
        self.observatory.close()

    # --- what the session calls ----------------------------------------------------------------

    def controller_options(self, earlier: Earlier | None = None) -> dict[str, Any]:
        """Keyword arguments for a new :class:`Controller` (``earlier``: a saved conversation it continues)."""
        return {"frame_observer": self.frame_observer, "metrics": self.observatory,
                "replay": earlier or NOTHING_EARLIER}

    def frame_observer(self, direction: str, text: str) -> None:
        self.observatory.frame_observer(direction, text)
        if self._audio.active:
            self._audio.frame(direction, text)

    def started(self, controller: Controller, settings: Settings, *, earlier: Earlier | None = None,
                continued_from: str | None = None) -> None:
        """``controller`` holds a new conversation under ``settings`` (the session's: command-line
        overrides included); ``earlier`` is the saved conversation it continues."""
        self.ended()
        obs = self.observatory
        obs.new_conversation()
        obs.billed = not isinstance(settings.profile(), LocalProfile)  # the offline demo costs nothing
        self._controller = controller
        self._seeded = frozenset(e.item_id for e in (earlier or NOTHING_EARLIER).entries)
        self._transcript, self._tools, self._tokens = (), {}, (0, 0.0)
        self._recorder = None
        if settings.history_enabled:
            config = controller.config
            self._recorder = self.history.begin(model=config.model, voice=config.voice,
                                                endpoint=settings.active_profile, continued_from=continued_from,
                                                record_audio=settings.history_record_audio)
        obs.turns.on_turn = self._recorder.turn if self._recorder is not None else None
        self._audio.sink = self._recorder
        self._stop_watching = controller.watch(self._view_changed)
        if obs.spend.stopped:  # today's limit still holds in the new conversation
            controller.spending.set(True, obs.spend.status.sentence)

    def ended(self) -> None:
        """The conversation ends: its last turn, usage, audio and final transcript are saved."""
        controller, self._controller = self._controller, None
        if controller is None:
            return
        if self._stop_watching is not None:
            self._stop_watching()
            self._stop_watching = None
        self.observatory.turns.finish()  # the turn under way goes to this conversation's recorder
        self.observatory.turns.on_turn = None
        self._audio.flush()
        recorder = self._recorder
        if recorder is not None:
            transcript = controller.transcript()
            self._save_tools(transcript)
            recorder.usage(self.observatory.usage.snapshot(), billed=self.observatory.billed)
            recorder.finish(self._own(transcript))
        self._recorder = self._audio.sink = None

    # --- following the conversation ------------------------------------------------------------

    def _own(self, entries: tuple[TranscriptEntry, ...]) -> list[TranscriptEntry]:
        return [e for e in entries if e.item_id not in self._seeded]

    def _view_changed(self) -> None:
        controller, recorder = self._controller, self._recorder
        if controller is None or recorder is None:
            return
        view = controller.view
        if view.transcript is not self._transcript:
            self._transcript = view.transcript
            recorder.transcript(self._own(view.transcript))
            self._save_tools(view.transcript)
        if (view.total_tokens, view.usage_seconds) != self._tokens:  # GPT-Live's seconds grow without tokens
            self._tokens = (view.total_tokens, view.usage_seconds)
            recorder.usage(self.observatory.usage.snapshot(), billed=self.observatory.billed)

    def _save_tools(self, entries: tuple[TranscriptEntry, ...]) -> None:
        """A tool call's arguments and result (the transcript line holds them as text / heard)."""
        recorder = self._recorder
        if recorder is None:
            return
        for entry in entries:
            if entry.role != "tool" or not entry.final or entry.item_id in self._seeded:
                continue
            details = (entry.tool_status, entry.text, entry.heard)
            if self._tools.get(entry.item_id) != details:
                self._tools[entry.item_id] = details
                recorder.tool_call(entry.item_id, entry.tool_name or "", arguments=entry.text or None,
                                   output=entry.heard, status=entry.tool_status)
