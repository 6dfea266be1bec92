"""An embedded, protocol-faithful GA Realtime server (asyncio + websockets) with offline speech.

It is the offline demo's assistant and the peer of every end-to-end test and benchmark. It never
imports ``ui/`` or ``controller/``, and from ``realtime/`` only the model list.
"""
