"""A lossy network between a WebRTC client and the local server, on loopback: a UDP relay that drops
(and optionally delays) a share of the RTP packets, as Wi-Fi would.

Install it with ``server.sdp_filter = relay.rewrite``: the offer and the answer then name relay ports
instead of the peers' own, so neither peer can reach the other but through the relay: ICE checks,
DTLS, SCTP and media all pass through it (each side sees the relay as a peer-reflexive candidate). Packets are told apart as RFC 7983 says: first
byte 0–3 STUN, 20–63 DTLS (the data channel rides in it), 128–191 RTP or RTCP (RTCP when the payload
type byte, marker bit aside, is 64–95). Only RTP is dropped or delayed; everything else passes, so
the call stays up and the data channel keeps its events. Deterministic with a seed.
"""

from __future__ import annotations

import asyncio
import random
import re
from dataclasses import dataclass, field

_CANDIDATE = re.compile(r"^(a=candidate:\S+ \d+ udp \d+ )(127\.0\.0\.1) (\d+)( typ host.*)$", re.M)


def is_rtp(packet: bytes) -> bool:
    return len(packet) >= 2 and 128 <= packet[0] <= 191 and not 64 <= (packet[1] & 0x7F) <= 95


@dataclass
class Counts:
    rtp: int = 0
    dropped: int = 0
    delayed: int = 0


@dataclass
class LossyRelay:
    """Drops ``loss`` of the RTP packets each way and delays the others by up to ``jitter_ms``."""

    loss: float = 0.05
    jitter_ms: float = 0.0
    seed: int = 1
    up: Counts = field(default_factory=Counts)  # client → server
    down: Counts = field(default_factory=Counts)  # server → client

    def __post_init__(self) -> None:
        # one random stream per direction: each direction's drops do not depend on the other's timing
        self._rngs = {id(self.up): random.Random(self.seed), id(self.down): random.Random(self.seed + 1)}
        self._transports: list[asyncio.DatagramTransport] = []

    async def rewrite(self, sdp: str) -> str:
        """Put a relay port in front of each loopback candidate of an offer (the client's) or an
        answer (the server's)."""
        loop = asyncio.get_running_loop()
        offer = "a=setup:actpass" in sdp
        forward, backward = (self.down, self.up) if offer else (self.up, self.down)
        ports: dict[str, str] = {}
        for match in _CANDIDATE.finditer(sdp):
            peer = ("127.0.0.1", int(match.group(3)))
            front, _ = await loop.create_datagram_endpoint(lambda p=peer: _Front(self, p, forward, backward),
                                                           local_addr=("127.0.0.1", 0))
            self._transports.append(front)
            ports[match.group(3)] = str(front.get_extra_info("sockname")[1])
        sdp = _CANDIDATE.sub(lambda m: m.group(1) + m.group(2) + " " + ports[m.group(3)] + m.group(4), sdp)
        for old, new in ports.items():  # the m= line's default port too
            sdp = re.sub(rf"^(m=\S+ ){old}( )", rf"\g<1>{new}\g<2>", sdp, flags=re.M)
        return sdp

    def close(self) -> None:
        for transport in self._transports:
            transport.close()
        self._transports.clear()

    def _pass(self, counts: Counts, send: asyncio.DatagramTransport, packet: bytes, addr: tuple[str, int]) -> None:
        if is_rtp(packet):
            counts.rtp += 1
            rng = self._rngs[id(counts)]
            if rng.random() < self.loss:
                counts.dropped += 1
                return
            if self.jitter_ms > 0:
                counts.delayed += 1
                delay = rng.uniform(0, self.jitter_ms) / 1000.0
                asyncio.get_running_loop().call_later(delay, _send, send, packet, addr)
                return
        _send(send, packet, addr)


def _send(transport: asyncio.DatagramTransport, packet: bytes, addr: tuple[str, int]) -> None:
    if not transport.is_closing():
        transport.sendto(packet, addr)


class _Front(asyncio.DatagramProtocol):
    """The port standing in for one peer candidate; one back socket per address that sends to it."""

    def __init__(self, relay: LossyRelay, target: tuple[str, int], forward: Counts, backward: Counts) -> None:
        self.relay, self.server = relay, target
        self.forward, self.backward = forward, backward
        self.transport: asyncio.DatagramTransport | None = None
        self.backs: dict[tuple[str, int], asyncio.DatagramTransport] = {}
        self.pending: dict[tuple[str, int], list[bytes]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        back = self.backs.get(addr)
        if back is None:
            if addr not in self.pending:
                self.pending[addr] = []
                asyncio.get_running_loop().create_task(self._open_back(addr))
            self.pending[addr].append(data)
            return
        self.relay._pass(self.forward, back, data, self.server)

    async def _open_back(self, client: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        back, _ = await loop.create_datagram_endpoint(lambda: _Back(self, client), local_addr=("127.0.0.1", 0))
        self.relay._transports.append(back)
        self.backs[client] = back
        for data in self.pending.pop(client, []):
            self.relay._pass(self.forward, back, data, self.server)


class _Back(asyncio.DatagramProtocol):
    def __init__(self, front: _Front, client: tuple[str, int]) -> None:
        self.front, self.client = front, client

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.front.transport is not None:
            self.front.relay._pass(self.front.backward, self.front.transport, data, self.client)
