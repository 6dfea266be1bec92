"""Sans-I/O GPT-Live protocol core (``/v1/live/sessions``), the second dialect beside ``realtime/``.

Standard library only, plus the shared vocabulary of :mod:`desktop_app.realtime` (a test enforces
both). :class:`~.connection.LiveConnection` is a :class:`~desktop_app.realtime.dialect.Dialect`: the
controller drives it exactly like the Realtime core and reads what differs from :data:`LIVE_TRAITS`.

Modules: :mod:`.connection` (the core), :mod:`.events` (Live's server events), :mod:`.commands`
(client events), :mod:`.config` (settings ↔ Live session), :mod:`.turns` (fragments and the output
track → turns), :mod:`.delegation` (backend Responses streams → tool calls), :mod:`.energy` (voice or
silence), :mod:`.closing` (``session.closed`` reasons in plain words).
"""

from .connection import LIVE_TRAITS, LiveConnection

__all__ = ["LIVE_TRAITS", "LiveConnection"]
