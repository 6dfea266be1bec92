"""Whether the WebRTC transport can be used here, and the sentence that says why not.

``aiortc`` (with PyAV's Opus codec) is the optional ``webrtc`` extra: ``pip install 'parley[webrtc]'``
(``make run``/``make test`` install it). Without it the settings offer WebRTC disabled, with
:func:`webrtc_unavailable` as the explanation, and a profile that asks for it connects over the
WebSocket instead (:func:`transport_factory` says so in the log). Nothing here imports aiortc until a
WebRTC call is actually opened, so the WebSocket-only app starts as fast as before.
"""

from __future__ import annotations

import importlib.util

from desktop_app.log import get_logger
from desktop_app.transport.base import Endpoint, FrameObserver, Transport, TransportFactory
from desktop_app.transport.socket import open_websocket

log = get_logger("transport")

_WHY_NOT = ("WebRTC needs the optional aiortc package, which this installation does not include; "
            "install Parley with the 'webrtc' extra to use it.")


def webrtc_unavailable() -> str | None:
    """None when WebRTC can be used; otherwise one sentence for the user saying why not."""
    for module in ("aiortc", "av"):
        if importlib.util.find_spec(module) is None:
            return _WHY_NOT
    return None


async def _open_webrtc(endpoint: Endpoint, observer: FrameObserver | None = None) -> Transport:
    from desktop_app.transport.webrtc import open_webrtc  # aiortc loads only for a WebRTC call

    return await open_webrtc(endpoint, observer)


def transport_factory(name: str) -> TransportFactory:
    """The factory for a profile's transport (``websocket`` | ``webrtc``). WebRTC without its extra
    falls back to the WebSocket, with a warning in the log (the settings already said why)."""
    if name == "webrtc":
        why = webrtc_unavailable()
        if why is None:
            return _open_webrtc
        log.warning("! %s Connecting over the WebSocket instead.", why)
    elif name != "websocket":
        log.warning("! unknown transport %r; connecting over the WebSocket", name)
    return open_websocket
