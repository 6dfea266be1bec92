"""The only package that imports ``websockets`` on the client side.

``RealtimeSocket`` opens a Realtime WebSocket with the right auth headers, logs frames with ``>``/``<``
prefixes (audio elided, secrets redacted), and turns handshake and network failures into the typed
errors of :mod:`desktop_app.errors`. Retry policy lives in :mod:`desktop_app.transport.backoff`.
"""

from desktop_app.transport.backoff import backoff
from desktop_app.transport.socket import FrameObserver, RealtimeSocket, summarize_frame

__all__ = ["FrameObserver", "RealtimeSocket", "backoff", "summarize_frame"]
