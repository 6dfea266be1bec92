"""The composer: what the user types or pastes instead of speaking — text and images.

A typed message interrupts the assistant, goes in as a user item and asks for an answer. An image
goes in as an ``input_image`` part of a user message (with the user's words about it, when given);
without words it waits in the context for what the user says next, so nothing is asked yet.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from desktop_app.controller.states import TurnEvent
from desktop_app.controller.turns import TurnKeeper
from desktop_app.controller.view import ViewModel
from desktop_app.log import get_logger
from desktop_app.realtime import commands
from desktop_app.realtime.dialect import Dialect

log = get_logger("controller")


class Composer:
    """Typed text and images into the conversation."""

    def __init__(self, *, core: Callable[[], Dialect | None], view: ViewModel, turns: TurnKeeper,
                 interrupt: Callable[[bool], None], flush: Callable[[], None]) -> None:
        self._core = core
        self._view = view
        self._turns = turns
        self._interrupt = interrupt
        self._flush = flush

    def _open(self) -> Dialect | None:
        core = self._core()
        return core if core is not None and not core.closed and core.traits.text_messages else None

    def send_text(self, text: str) -> None:
        """A typed message instead of speech; the assistant answers as usual."""
        text = text.strip()
        core = self._open()
        if not text or core is None:
            return
        self._interrupt(False)
        core.send_text(text)
        self._flush()
        self._asked()

    def send_image(self, data: bytes, mime: str, text: str = "") -> str | None:
        """An image (PNG/JPEG bytes) into the conversation; with ``text`` the assistant answers now.
        Returns the item id, or None (nothing sent: not connected, or the image was refused)."""
        core = self._open()
        if core is None:
            self._view.notify("Connect first to show the assistant a picture.", "warning", cause="composer")
            return None
        if not core.traits.images:
            self._view.notify("This kind of conversation (GPT-Live) cannot take pictures; use a Realtime model to "
                              "show one.", "warning", cause="composer")
            return None
        try:
            url = commands.image_data_url(data, mime)
        except ValueError as exc:
            log.warning("! image refused: %s", exc)
            self._view.notify(f"That picture cannot be sent: {exc}.", "warning", cause="composer")
            return None
        item_id = f"item_img_{secrets.token_hex(6)}"
        text = text.strip()
        if text:
            self._interrupt(False)
        core.create_item(dict(commands.user_image_item(url, text=text or None), id=item_id))
        if text:
            core.create_response()
        self._flush()
        if text:
            self._asked()
        log.info("= image %s sent (%s, %d bytes)%s", item_id, mime, len(data), " with words" if text else "")
        return item_id

    def _asked(self) -> None:
        self._turns.asked()
        self._turns.step(TurnEvent.SPEECH_STARTED)
        self._turns.step(TurnEvent.COMMITTED)
