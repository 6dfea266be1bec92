"""The banner's side of the main window: a part the window owns (``window.banner_actions``). What a
notice's action does, what its button is called, and clearing a notice whose time is up or whose
cause is gone (:mod:`desktop_app.ui.notices` decides when)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer

from desktop_app.controller.view_state import Notice

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow


class BannerActions:
    """Shows notices in the window's banner and carries out their actions."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.session = window.session

    def show(self, notice: Notice | None) -> None:
        banner = self.window.banner
        if notice is not None and notice.action == "settings":  # named after where it leads
            banner.set_action_label("settings", "Enter key" if self.session.key_problem else "Session settings")
        banner.show_notice(notice)

    def act(self, action: str) -> None:
        window = self.window
        if action == "retry":
            self.session.dismiss_notice()
            window.run(self.session.open_conversation())
        elif action == "demo":
            window.start_demo()
        elif action == "audio":
            window.fit.open_side_panel(window.devices_panel)
        elif action == "spend" and window.observe is not None:
            window.observe.ask_to_continue()
        elif action == "settings":
            if self.session.key_problem:
                window.dialogs.open_key_dialog()
            else:
                window.fit.open_side_panel(window.session_panel)

    def dismiss(self, notice: Notice) -> None:
        """Clear ``notice`` if it is still the one on show — on the next loop turn, never inside the
        controller's own publishing."""
        def clear() -> None:
            if self.session.view.notice == notice:
                self.session.dismiss_notice()
        QTimer.singleShot(0, clear)
