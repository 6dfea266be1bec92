"""GPT-Live's continuous streams cut into the turns a person sees, as the shared events (sans I/O).

Live has no items, responses or speech events (live-protocol.md §4.4a): the user's and the
assistant's words come as timed fragments, the assistant's voice as one continuous track with silence
between replies. :class:`Turns` finds the turns and reports them in the Realtime vocabulary the
controller already understands, on synthetic ids:

* **The user's turn** opens with the first input fragment (``input_audio_buffer.speech_started`` and a
  user item with transcription deltas). No new words for :data:`USER_PAUSE_MS` of session time →
  ``speech_stopped`` (more words → ``speech_started`` again, same item). It ends when the assistant
  starts a reply (the transcription is ``completed``), or, if the assistant stays silent for
  :data:`USER_GIVE_UP_MS` (counted from the end of a reply that was talking over them), on its own
  (``completed`` and ``committed``: the model chose not to answer).
* **A reply** opens with the first voiced output chunk or output fragment (``response.created``, an
  assistant item, an audio part); its audio becomes ``response.output_audio.delta`` and its fragments
  transcript deltas. Silence inside a reply is passed on up to :data:`SILENCE_KEEP_MS` per pause (the
  pause is heard as it was; the track's silence beyond that is not queued, so playback ends with the
  voice), and :data:`REPLY_SILENCE_MS` of silent track, or :data:`STALL_MS` of session time with no
  output at all, ends it (``output_audio.done``, ``response.done``). Silence between replies is dropped.

The policy follows the SDK's own transcript grouping (``openai.lib.live``: turns change with the
speaker, the assistant's end is found by silence); the thresholds are Parley's. Time is the session
timeline the caller advances with the input audio it sends (:meth:`Turns.advance`), so tests drive it
exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from desktop_app.realtime.events import (ConversationItemAdded, ConversationItemDone, InputAudioCommitted,
                                         InputTranscriptionCompleted, InputTranscriptionDelta, ServerEvent,
                                         SpeechStarted, SpeechStopped)
from desktop_app.realtime.response_events import (ContentPartAdded, OutputAudioDelta, OutputAudioDone,
                                                  OutputAudioTranscriptDelta, OutputAudioTranscriptDone,
                                                  OutputItemAdded, OutputItemDone, ResponseCreated, ResponseDone)

USER_PAUSE_MS = 700.0
USER_GIVE_UP_MS = 3000.0
SILENCE_KEEP_MS = 400.0
REPLY_SILENCE_MS = 1000.0
STALL_MS = 2000.0

NewId = Callable[[str], str]
"""Makes a fresh synthetic id with the given prefix (``item_``, ``resp_``)."""


@dataclass(slots=True)
class _User:
    id: str
    text: str = ""
    end_ms: float = 0.0  # the newest fragment's end on the session timeline
    heard_at: float = 0.0  # session time when the newest fragment arrived
    stopped: bool = False
    talked_over_until: float = 0.0  # session time a reply spoken over these words ended (their answer waits for it)


@dataclass(slots=True)
class _Reply:
    response_id: str
    item_id: str
    text: str = ""
    output_at: float = 0.0  # session time of the newest output of any kind
    silent_ms: float = 0.0  # the current run of silent track
    audio_ms: float = 0.0


class Turns:
    """The open user turn and reply, and the session time (see the module docstring)."""

    def __init__(self, new_id: NewId) -> None:
        self._new_id = new_id
        self.now_ms = 0.0
        self._user: _User | None = None
        self._reply: _Reply | None = None
        self._audio_ms: dict[str, int] = {}

    # --- state ----------------------------------------------------------------------------------
    @property
    def replying(self) -> bool:
        """A reply is open (the assistant's voice is on the track)."""
        return self._reply is not None

    @property
    def response_id(self) -> str | None:
        """The open reply's synthetic response id."""
        return self._reply.response_id if self._reply is not None else None

    def received_ms(self, item_id: str) -> int:
        """Milliseconds of audio passed on for an assistant item."""
        return self._audio_ms.get(item_id, 0)

    # --- the streams ----------------------------------------------------------------------------
    def advance(self, ms: float) -> list[ServerEvent]:
        """``ms`` of input audio were sent: the session clock moves; pauses and stalls are judged."""
        self.now_ms += ms
        out: list[ServerEvent] = []
        user, reply = self._user, self._reply
        if user is not None and not user.stopped and self.now_ms - user.heard_at >= USER_PAUSE_MS:
            user.stopped = True
            out.append(SpeechStopped(audio_end_ms=int(user.end_ms), item_id=user.id))
        if (user is not None and reply is None
                and self.now_ms - max(user.heard_at, user.talked_over_until) >= USER_GIVE_UP_MS):
            out += self._end_user(committed=True)
        if reply is not None and self.now_ms - reply.output_at >= STALL_MS:
            out += self._end_reply()
        return out

    def user_words(self, delta: str, start_ms: int, end_ms: int) -> list[ServerEvent]:
        """An input transcript fragment."""
        out: list[ServerEvent] = []
        user = self._user
        if user is None:
            user = self._user = _User(self._new_id("item_"))
            item = {"id": user.id, "object": "realtime.item", "type": "message", "role": "user",
                    "content": [{"type": "input_audio", "transcript": None}]}
            out.append(SpeechStarted(audio_start_ms=start_ms, item_id=user.id))
            out.append(ConversationItemAdded(item=item))  # in arrival order, after any tool call item
        elif user.stopped:
            user.stopped = False
            out.append(SpeechStarted(audio_start_ms=start_ms, item_id=user.id))
        delta = delta if user.text else delta.lstrip()  # fragments keep their own space: not the first
        user.text += delta
        user.end_ms = max(user.end_ms, end_ms)
        user.heard_at = self.now_ms
        out.append(InputTranscriptionDelta(item_id=user.id, content_index=0, delta=delta))
        return out

    def assistant_words(self, delta: str) -> list[ServerEvent]:
        """An output transcript fragment (opens a reply if none is open)."""
        out = self._open_reply()
        reply = self._reply
        assert reply is not None
        delta = delta if reply.text else delta.lstrip()
        reply.text += delta
        reply.output_at = self.now_ms
        out.append(OutputAudioTranscriptDelta(response_id=reply.response_id, item_id=reply.item_id,
                                              output_index=0, content_index=0, delta=delta))
        return out

    def assistant_audio(self, delta: str, ms: float, voiced: bool) -> list[ServerEvent]:
        """A piece of the output track (``delta`` base64 as received; ``voiced``: not silence)."""
        reply = self._reply
        if reply is None and not voiced:
            return []  # the silence between replies
        out = self._open_reply() if reply is None else []
        reply = self._reply
        assert reply is not None
        reply.output_at = self.now_ms
        if voiced:
            reply.silent_ms = 0.0
        else:
            reply.silent_ms += ms
            if reply.silent_ms >= REPLY_SILENCE_MS:
                return out + self._end_reply()
            if reply.silent_ms > SILENCE_KEEP_MS:
                return out  # a long pause: nothing to queue, the next words play when they come
        reply.audio_ms += ms
        self._audio_ms[reply.item_id] = int(reply.audio_ms)
        out.append(OutputAudioDelta(response_id=reply.response_id, item_id=reply.item_id, output_index=0,
                                    content_index=0, delta=delta))
        return out

    def finish(self) -> list[ServerEvent]:
        """The session ended: whatever is open is complete."""
        return self._end_reply() + self._end_user(committed=True)

    # --- opening and closing --------------------------------------------------------------------
    def _open_reply(self) -> list[ServerEvent]:
        if self._reply is not None:
            return []
        out = self._end_user(committed=False)
        reply = self._reply = _Reply(self._new_id("resp_"), self._new_id("item_"), output_at=self.now_ms)
        item = _assistant_item(reply, "in_progress")
        out.append(ResponseCreated(response={"id": reply.response_id, "object": "realtime.response",
                                             "status": "in_progress", "output": []}))
        out.append(OutputItemAdded(response_id=reply.response_id, output_index=0, item=item))
        out.append(ConversationItemAdded(item=item))
        out.append(ContentPartAdded(response_id=reply.response_id, item_id=reply.item_id, output_index=0,
                                    content_index=0, part={"type": "audio", "transcript": ""}))
        return out

    def _end_reply(self) -> list[ServerEvent]:
        reply, self._reply = self._reply, None
        if reply is None:
            return []
        if self._user is not None:  # the user spoke over this reply: the answer to them can only start now
            self._user.talked_over_until = self.now_ms
        rid, iid = reply.response_id, reply.item_id
        item = _assistant_item(reply, "completed")
        return [OutputAudioDone(response_id=rid, item_id=iid, output_index=0, content_index=0),
                OutputAudioTranscriptDone(response_id=rid, item_id=iid, output_index=0, content_index=0,
                                          transcript=reply.text),
                OutputItemDone(response_id=reply.response_id, output_index=0, item=item),
                ConversationItemDone(item=item),
                ResponseDone(response={"id": reply.response_id, "object": "realtime.response",
                                       "status": "completed", "output": [item]})]

    def _end_user(self, *, committed: bool) -> list[ServerEvent]:
        user, self._user = self._user, None
        if user is None:
            return []
        out: list[ServerEvent] = []
        if not user.stopped:
            out.append(SpeechStopped(audio_end_ms=int(user.end_ms), item_id=user.id))
        out.append(InputTranscriptionCompleted(item_id=user.id, content_index=0, transcript=user.text, usage={}))
        if committed:  # nobody answered: the turn is over without a reply
            out.append(InputAudioCommitted(item_id=user.id))
        return out


def _assistant_item(reply: _Reply, status: str) -> dict[str, Any]:
    content = [{"type": "output_audio", "transcript": reply.text}] if status == "completed" else []
    return {"id": reply.item_id, "object": "realtime.item", "type": "message", "role": "assistant",
            "status": status, "content": content}
