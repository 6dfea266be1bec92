"""An embedded, protocol-faithful GA Realtime server (asyncio + websockets) with offline speech.

It is the offline demo's assistant and the peer of every end-to-end test and benchmark. It never
imports ``ui/`` or ``controller/``, and from ``realtime/`` only the model list.

    async with LocalServer(port=0) as srv:      # on the running loop
        connect(srv.url)                        # ws://127.0.0.1:PORT/v1/realtime?model=…
    with LocalServer(port=0) as srv:            # on its own thread
        AsyncOpenAI(api_key="x", websocket_base_url=srv.url_base)
"""

from desktop_app.local_server.faults import FaultPlan, FaultSpecError, parse_faults
from desktop_app.local_server.options import Options
from desktop_app.local_server.server import LocalServer

__all__ = ["FaultPlan", "FaultSpecError", "LocalServer", "Options", "parse_faults"]
