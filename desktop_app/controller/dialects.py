"""Which protocol core a conversation speaks: the one place a model id picks the dialect.

``gpt-live-*`` voice models speak GPT-Live (``/v1/live/sessions``, :class:`~desktop_app.live.LiveConnection`);
everything else Realtime GA (:class:`~desktop_app.realtime.connection.RealtimeConnection`). The
composition roots (the window's session, headless mode) pass the result to the controller as
``make_core``; the endpoint's URL follows the same model (``settings.profiles``).
"""

from __future__ import annotations

from desktop_app.live import LiveConnection
from desktop_app.realtime.connection import RealtimeConnection
from desktop_app.realtime.dialect import DialectFactory
from desktop_app.realtime.models import is_live_model


def dialect_for(model: str) -> DialectFactory:
    """The core factory for ``model`` (its ``traits`` say what the conversation can do)."""
    return LiveConnection if is_live_model(model) else RealtimeConnection
