"""The core's logger and the helpers that keep log lines short: base64 audio is never logged.

The summariser itself is :mod:`desktop_app.logtext` (one for the core, the transport and the local
server); this module re-exports it and adds :func:`short`, one field's value for an event's text.

Prefixes follow websockets: ``>`` frame sent, ``<`` event received, ``=`` state change, ``!`` error.
Arguments are ``%``-style so nothing is formatted unless the level is enabled.
"""

from __future__ import annotations

import logging
from typing import Any

# The summariser is shared with the transport and the local server (one implementation, standard
# library only); re-exported here so the core's modules keep importing it from their own package.
from desktop_app.logtext import AUDIO_DELTA_TYPES, elide, elide_b64, elide_text, summarize

__all__ = ["AUDIO_DELTA_TYPES", "elide", "elide_b64", "elide_text", "logger", "short", "summarize"]

logger = logging.getLogger("parley.realtime")

_MAX_TEXT = 80


def short(value: Any) -> str:
    """One field's value for an event's ``__str__``: long text cut, containers summarized."""
    if isinstance(value, str):
        return repr(value) if len(value) <= _MAX_TEXT else repr(value[: _MAX_TEXT - 1] + "…")
    if isinstance(value, (dict, list)):
        return summarize(value, limit=120)
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return str(value)  # small value objects (ErrorInfo, exceptions) have readable __str__
