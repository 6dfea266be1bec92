"""The link's ordered writes (issue #23): a frame goes straight to the transport when nothing is
queued or in the writer's hands, and waits behind the writer otherwise; a transport that fails in
``send_nowait`` ends the link as a crashed writer task would."""

from __future__ import annotations

import asyncio
from typing import Any

from desktop_app.controller.link import DEAD_LINK_CODE, Link
from desktop_app.transport.base import AudioSink, TransportStats


class Core:
    """The part of a dialect core the link uses: frames out, the close in."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.closed: tuple[int, str] | None = None

    def frames_to_send(self) -> list[str]:
        frames, self.out = self.out, []
        return frames

    def events_received(self) -> list[Any]:
        return []

    def receive_message(self, text: str) -> None:
        pass

    def receive_closed(self, code: int, reason: str = "") -> None:
        self.closed = (code, reason)

    def close_session(self) -> bool:
        return False  # a Realtime core: the link closes the socket itself


class Wire:
    """A transport whose ``send`` waits until the test lets it go and whose ``send_nowait`` can
    decline (``busy``) or fail (``broken``); it records what left, and how."""

    kind = "test"
    url = "test://"

    def __init__(self) -> None:
        self.close_code: int | None = None
        self.close_reason = ""
        self.sent: list[tuple[str, str]] = []  # (how, frame)
        self.busy = False
        self.broken = False
        self.release = asyncio.Event()
        self._inbox: asyncio.Queue[str | None] = asyncio.Queue()

    @property
    def is_open(self) -> bool:
        return self.close_code is None

    @property
    def carries_audio(self) -> bool:
        return False

    async def send(self, text: str) -> None:
        await self.release.wait()
        self.sent.append(("send", text))

    def send_nowait(self, text: str) -> bool:
        if self.broken:
            raise RuntimeError("the socket library failed")
        if self.busy:
            return False
        self.sent.append(("now", text))
        return True

    async def recv(self) -> str | None:
        return await self._inbox.get()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self._inbox.put_nowait(None)

    def send_audio(self, pcm16: bytes) -> None:
        raise NotImplementedError

    def set_audio_sink(self, sink: AudioSink | None) -> None:
        pass

    def stats(self) -> TransportStats:
        return TransportStats(kind=self.kind)


def make_link(wire: Wire, core: Core, dead: list[BaseException]) -> Link:
    return Link(wire, core, lambda events: None, dead.append)  # type: ignore[arg-type]  # a stand-in core


async def test_frames_go_straight_out_while_the_writer_holds_nothing_and_queue_behind_it_otherwise():
    wire, core, dead = Wire(), Core(), []
    link = make_link(wire, core, dead)
    core.out = ["a1", "a2"]
    link.flush()
    assert wire.sent == [("now", "a1"), ("now", "a2")]  # no task switch, no queue

    wire.busy = True  # e.g. the socket's write buffer holds data: the writer must take it
    core.out = ["b"]
    link.flush()
    await asyncio.sleep(0)  # the writer picks "b" up and waits in send()
    wire.busy = False
    core.out = ["c", "d"]
    link.flush()  # the writer still holds "b": these must not overtake it
    assert wire.sent == [("now", "a1"), ("now", "a2")]
    wire.release.set()
    await asyncio.wait_for(link.drain(), 5)
    assert wire.sent[2:] == [("send", "b"), ("send", "c"), ("send", "d")]

    core.out = ["e"]
    link.flush()  # the writer is idle again: straight out
    assert wire.sent[-1] == ("now", "e")
    await link.close()
    assert not dead


async def test_a_failing_send_nowait_ends_the_link_like_a_crashed_writer():
    wire, core, dead = Wire(), Core(), []
    link = make_link(wire, core, dead)
    wire.broken = True
    core.out = ["a"]
    link.flush()  # does not raise into the caller (the microphone's frame path)
    assert link.dead and isinstance(dead[0], RuntimeError)
    assert core.closed is not None and core.closed[0] == DEAD_LINK_CODE
    await asyncio.wait_for(link.finished.wait(), 5)
