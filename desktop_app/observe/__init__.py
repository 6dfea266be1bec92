"""What happened in a conversation, for the user and for a support engineer.

Plain-Python models (no Qt) that the controller feeds and the widgets read:

* :mod:`.event_log` — every frame sent and received, summarised (audio as item/bytes/ms, secrets
  redacted), a bounded ring in memory and the whole session spilled to disk, exported as JSONL in the
  headless ``--events`` line format.
* :mod:`.monitor` — connection state history, ping round trips, traffic each way, reconnects, time
  left; :mod:`.turns` — per-turn latencies (end of speech → first byte → first sample played …).
* :mod:`.usage_meter` — tokens and cost per response and per conversation, rate limits;
  :mod:`.spend` — the spend governor (warning at 80 %, a stop verdict at 100 %).
* :mod:`.errors` — errors grouped by code; :mod:`.diagnostics` — the redacted bug-report bundle.
* :mod:`.observatory` — all of the above behind one frame observer for the transport.

Models never call widgets: a widget that is shown polls a snapshot on its own timer, so a closed
window costs nothing per event. Slow work (the spill file) runs on a :class:`.worker.SerialWorker`.
"""
