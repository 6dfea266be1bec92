"""The banner's side of the main window (a mixin of :class:`~desktop_app.ui.main_window.MainWindow`):
what a notice's action does, what its button is called, and clearing a notice whose time is up or
whose cause is gone (:mod:`desktop_app.ui.notices` decides when)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from desktop_app.controller.view_state import Notice
from desktop_app.settings.profiles import LocalProfile
from desktop_app.ui.banner import Banner
from desktop_app.ui.session import ConversationSession
from desktop_app.ui.widgets.devices_panel import DevicesPanel
from desktop_app.ui.widgets.session_panel import SessionPanel

KEY_ERRORS = ("invalid_api_key", "missing_api_key", "insufficient_quota")


class NoticeActions:
    """Needs the window's ``session``, ``banner``, side-panel pages and dialogs."""

    session: ConversationSession
    banner: Banner
    devices_panel: DevicesPanel
    session_panel: SessionPanel

    # The window's own methods (annotations only: a mixin must not shadow them).
    run: Callable[[Coroutine[Any, Any, Any]], asyncio.Future]
    start_demo: Callable[[], asyncio.Future]
    open_side_panel: Callable[[QWidget], None]
    open_key_dialog: Callable[[], object]

    def _show_notice(self, notice: Notice | None) -> None:
        if notice is not None and notice.action == "settings":  # named after where it leads
            self.banner.set_action_label("settings", "Enter key" if self._key_problem() else "Session settings")
        self.banner.show_notice(notice)

    def _banner_action(self, action: str) -> None:
        if action == "retry":
            self.session.dismiss_notice()
            self.run(self.session.connect())
        elif action == "demo":
            self.start_demo()
        elif action == "audio":
            self.open_side_panel(self.devices_panel)
        elif action == "settings":
            if self._key_problem():
                self.open_key_dialog()
            else:
                self.open_side_panel(self.session_panel)

    def _key_problem(self) -> bool:
        """True when the failure on show is about this profile's key (the action opens the key dialog)."""
        controller = self.session.controller
        close = controller.last_close
        key_problem = (controller.fatal_code in KEY_ERRORS or (close is not None and close.code == 3000)
                       or self.session.needs_key())
        return key_problem and not isinstance(self.session.profile, LocalProfile)

    def _dismiss_notice(self, notice: Notice) -> None:
        """Clear ``notice`` if it is still the one on show — on the next loop turn, never inside the
        controller's own publishing."""
        def clear() -> None:
            if self.session.view.notice == notice:
                self.session.dismiss_notice()
        QTimer.singleShot(0, clear)
