"""The echo judge: is what the server (or the audio side) heard the user, or the assistant's own
voice coming back through the speakers?

It keeps the state that answers this across events, and decides; the controller carries out the
decisions. Three checks, from earliest to latest:

* **speech_started during playback** — ignored when the echo-cancelled microphone holds only echo
  (the port's ``near_end_speech()`` is False; None, e.g. while a barge-in hold awaits its verdict,
  means trust the server). Such items are *suspects*: if the server cut its answer on them, the
  controller asks it to go on (:meth:`EchoJudge.resume_after`).
* **a local onset** (the audio side heard the user start over the assistant) — remembered, so an
  onset the server's VAD never confirms within :data:`FALSE_START_S` becomes a false start.
* **the transcript** — only speech that *started during playback* is judged, and only against what
  the assistant said *before* it (not the answer to it); see :func:`.echo.is_echo`. An echo item is
  deleted, and a response is cancelled only if it was created to answer that item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from desktop_app.controller.echo import is_echo
from desktop_app.log import get_logger
from desktop_app.realtime.conversation import Item

log = get_logger("controller")

#: A local onset the server's VAD has not confirmed by then was not speech (its VAD answers in ~0.3 s).
FALSE_START_S = 1.5


@dataclass(frozen=True, slots=True)
class EchoVerdict:
    """What to do about a user item that was the assistant's echo."""

    item_id: str  # delete it from the conversation
    cancel_response: str | None  # the response answering the echo: cancel it, drop its audio
    answer_items: tuple[str, ...]  # that response's items: never play, delete from the context


class EchoJudge:
    """Echo state across events; per-connection parts are cleared by :meth:`connection_ended`."""

    def __init__(self) -> None:
        self.echo_items: frozenset[str] = frozenset()  # kept across connections (never replayed)
        self._suspects: set[str] = set()  # speech_started items ignored as echo
        self._over_playback: set[str] = set()  # user items whose speech started during playback
        self._answers: dict[str, str | None] = {}  # response id → newest user item at its creation
        self._onset_at: float | None = None  # a local onset not yet confirmed by the server

    # --- the server's VAD -------------------------------------------------------------------------
    def speech_started(self, item_id: str, *, playing: bool, mic_only_echo: bool) -> bool:
        """True when this speech start is the assistant's echo and must be ignored."""
        self._onset_at = None  # the server heard it too: no false start
        if not playing:
            return False
        self._over_playback.add(item_id)  # its transcript may be echo: judged when it comes
        if mic_only_echo:
            log.info("= speech_started during playback ignored: the microphone holds only echo")
            self._suspects.add(item_id)
            return True
        return False

    def response_created(self, response_id: str, newest_user_item: str | None) -> None:
        self._answers[response_id] = newest_user_item

    def resume_after(self, response_id: str, *, cancelled_on_turn: bool, by_us: bool) -> bool:
        """``response.done``: True when the server cut its answer on echo we judged harmless, so
        the controller should ask it to continue (the text so far is kept)."""
        self._answers.pop(response_id, None)
        if cancelled_on_turn and not by_us and self._suspects:
            log.info("= answer cancelled by echo-triggered turn detection; asking it to continue")
            self._suspects.clear()
            return True
        return False

    # --- the transcript ---------------------------------------------------------------------------
    def judge(self, item_id: str, transcript: str, items: Sequence[Item],
              active_response_id: str | None) -> EchoVerdict | None:
        """A completed user transcription: an :class:`EchoVerdict` when it is the assistant's echo."""
        if item_id not in self._over_playback:
            return None
        self._over_playback.discard(item_id)
        ids = [i.id for i in items]
        before = items[: ids.index(item_id)] if item_id in ids else items
        recent = [i.display_text for i in before if i.role == "assistant"][-2:]
        if not is_echo(transcript, recent):
            return None
        log.warning("! echo: user item %s repeats the assistant (%r); removed from the conversation",
                    item_id, transcript[:80])
        self.echo_items = self.echo_items | {item_id}
        # Only the answer created *to* the echo is cancelled (one created before it — the answer
        # going on, a resume — is left alone).
        if active_response_id is None or self._answers.get(active_response_id) != item_id:
            return EchoVerdict(item_id, None, ())
        answer = tuple(i.id for i in items if i.response_id == active_response_id)
        return EchoVerdict(item_id, active_response_id, answer)

    # --- local onsets -----------------------------------------------------------------------------
    def local_onset(self, now: float) -> None:
        self._onset_at = now

    @property
    def onset_pending(self) -> bool:
        """A local onset awaits the server's verdict (speech, or a false start after 1.5 s)."""
        return self._onset_at is not None

    def false_start(self, now: float) -> float | None:
        """Seconds since an unconfirmed local onset once it is a false start (then forgotten)."""
        onset = self._onset_at
        if onset is None or now - onset < FALSE_START_S:
            return None
        self._onset_at = None
        return now - onset

    def connection_ended(self) -> None:
        """Per-connection bookkeeping ends with its responses and items (echo_items stay)."""
        self._suspects.clear()
        self._over_playback.clear()
        self._answers.clear()
        self._onset_at = None
