"""A session without a socket, for tests that need to control exactly when events arrive."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import numpy as np

from desktop_app.local_server.faults import parse_faults
from desktop_app.local_server.options import Options
from desktop_app.local_server.session import Session
from desktop_app.local_server.speech import SpeechPool
from tests.realtime.oracle import validate_server_event


def turn_detection(td: dict[str, Any] | None, **input_fields: Any) -> dict[str, Any]:
    """A ``session.update`` setting ``audio.input.turn_detection`` (and any other input fields)."""
    return {"type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"turn_detection": td, **input_fields}}}}


NO_TURN_DETECTION = turn_detection(None)


class Talk:
    """A session without a socket (tone voice, no recognizer, unpaced); every event it sends is checked
    against the SDK oracle. Push-to-talk unless ``td`` gives a turn detection object."""

    def __init__(self, budget_s: float | None = 900.0, td: dict[str, Any] | None = None, **input_fields: Any) -> None:
        self.out: list[tuple] = []
        options = Options(tts="tone", asr="none", pace=0, text_word_ms=0, audio_budget_s=budget_s)
        self.session = Session(model="gpt-realtime", kind="realtime", options=options,
                               pool=SpeechPool(1, "none", "tone"), writer=self.out.append,
                               faults=parse_faults("").for_session(), log=logging.getLogger("parley.server.test"))
        self.session.open()
        self._seen = 0
        self.send(turn_detection(td, **input_fields))
        self.events()  # session.created, session.updated

    def send(self, event: dict) -> None:
        self.session.receive(json.dumps(event))

    def events(self, errors: bool = False) -> list[dict]:
        """The events since the last call, each validated (and none an ``error`` unless ``errors``)."""
        events = [json.loads(a[1]) for a in self.out[self._seen:] if a[0] == "text"]
        self._seen = len(self.out)
        for event in events:
            validate_server_event(event)
        if not errors:
            assert not [e for e in events if e["type"] == "error"], events
        return events

    def append(self, payload: bytes) -> None:
        """One ``input_audio_buffer.append`` of a wire payload (in the session's input format)."""
        self.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(payload).decode()})

    async def respond(self, **response: Any) -> dict:
        """``response.create``; the finished response."""
        self.send({"type": "response.create", **({"response": response} if response else {})})
        await self.session.active.task
        return next(e for e in self.events() if e["type"] == "response.done")["response"]

    async def spoken_turn(self, seconds: float = 1.0) -> dict:
        """The user speaks (append + commit), the assistant answers in audio."""
        pcm = (np.sin(np.arange(int(24000 * seconds)) / 5) * 8000).astype("<i2")
        self.append(pcm.tobytes())
        self.send({"type": "input_audio_buffer.commit"})
        return await self.respond()

    def retrieve_audio(self, item_id: str) -> bytes:
        """The pcm ``conversation.item.retrieve`` shows for ``item_id``."""
        self.send({"type": "conversation.item.retrieve", "item_id": item_id})
        content = self.events()[-1]["item"]["content"][0]
        return base64.b64decode(content.get("audio", ""))

    @property
    def stored_s(self) -> float:
        return self.session.conversation.stored_audio_bytes / 48000.0

    @property
    def talked_s(self) -> float:
        return sum(item.audio_ms for item in self.session.conversation) / 1000.0
