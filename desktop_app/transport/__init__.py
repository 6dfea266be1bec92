"""The transports: the only client-side package that imports ``websockets`` (and, for WebRTC, ``aiortc``).

:mod:`.base` declares the :class:`~.base.Transport` seam the controller talks to. ``RealtimeSocket``
(:mod:`.socket`) is the WebSocket implementation: right auth headers, frames logged with ``>``/``<``
prefixes (audio elided, secrets redacted), handshake and network failures as the typed errors of
:mod:`desktop_app.errors`. Retry policy lives in :mod:`desktop_app.transport.backoff`.
"""

from desktop_app.transport.backoff import backoff
from desktop_app.transport.base import Endpoint, FrameObserver, Transport, TransportFactory, TransportStats
from desktop_app.logtext import summarize_frame
from desktop_app.transport.socket import RealtimeSocket, open_websocket

__all__ = ["Endpoint", "FrameObserver", "RealtimeSocket", "Transport", "TransportFactory", "TransportStats",
           "backoff", "open_websocket", "summarize_frame"]
