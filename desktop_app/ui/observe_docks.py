"""The window's "what happened" part (``window.observe``): the event log, connection-and-usage and
history docks, their View menu entries and shortcuts, the spending stop's question, and "continue"
from the history.

All three docks start hidden. A hidden dock costs nothing per event: its widgets poll their models
on timers that run only while shown. The spend governor's level changes arrive here (on the loop,
never inside the transport's receive path): 80 % shows a warning, 100 % stops the microphone through
the controller's spending stop and asks the user (:class:`SpendStopDialog`); their "Continue" is the
governor's acknowledgement, which lifts the stop when the level drops.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QTabWidget, QWidget

from desktop_app.controller.spend_hold import SPEND
from desktop_app.history.export import replay_items
from desktop_app.log import get_logger
from desktop_app.observe.observatory import spend_limits_from
from desktop_app.observe.spend import Level, SpendLimits, SpendStatus
from desktop_app.ui import shortcuts
from desktop_app.ui.conversation_log import ConversationLog, earlier_from
from desktop_app.ui.observe.event_log_view import EventLogDock
from desktop_app.ui.observe.history_sidebar import HistorySidebar
from desktop_app.ui.observe.monitor_panel import MonitorPanel
from desktop_app.ui.observe.usage_panel import SpendStopDialog, UsagePanel

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow

log = get_logger("ui")

#: The View menu: (shortcut action, menu text) in menu order.
MENU = (("event_log", "Event log"), ("monitor", "Connection and usage"), ("history", "Saved conversations"))


class ObserveDocks:
    """Builds the docks into ``window`` and carries out their actions."""

    def __init__(self, window: MainWindow, conversations: ConversationLog) -> None:
        self.window = window
        self.conversations = conversations
        self.session = window.session
        obs = conversations.observatory
        theme = window.theme
        self.event_log = EventLogDock(obs.events, theme, window, run=window.run)
        self.event_log.view.exported.connect(lambda sentence: self.session.notify(sentence, "info"))
        self.monitor = MonitorPanel(obs.monitor, obs.errors, theme,
                                    lambda: obs.diagnostic_text(self.session.store.settings),
                                    lambda: obs.diagnostic_zip(self.session.store.settings))
        self.usage = UsagePanel(obs.usage, obs.spend, theme, free=lambda: not obs.billed)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.monitor, "Connection")
        self.tabs.addTab(self.usage, "Usage")
        self.monitor_dock = self._dock("Connection and usage", "monitorDock", self.tabs)
        self.history = HistorySidebar(conversations.history, theme, run=window.run)
        self.history_dock = self._dock("Saved conversations", "historyDock", self.history)
        self.docks = {"event_log": self.event_log, "monitor": self.monitor_dock, "history": self.history_dock}
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.event_log)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.monitor_dock)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.history_dock)
        self._menu()
        self.spend_dialog: SpendStopDialog | None = None
        self.history.continue_requested.connect(lambda cid: window.run(self.continue_conversation(cid)))
        self.usage.limits_changed.connect(self._limits_changed)
        obs.on_spend = self._spend_changed
        window.run(self._open_history())

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.hide()
        return dock

    def _menu(self) -> None:
        keys = {s.action: s.keys[0] for s in shortcuts.SHORTCUTS}
        view = self.window.menuBar().addMenu("&View")
        for action, text in MENU:
            # The key is shown after a tab (not bound on the action: the window's shortcut table has it).
            item = view.addAction(f"{text}\t{shortcuts.key_text(keys[action])}")
            item.setCheckable(True)
            dock = self.docks[action]
            # The user's choice only (``triggered``): a dock tabbed behind another is not hidden.
            item.triggered.connect(lambda _checked=False, item=item, dock=dock: dock.setVisible(item.isChecked()))
            dock.visibilityChanged.connect(lambda _shown, item=item, dock=dock: item.setChecked(not dock.isHidden()))
        view.addSeparator()
        view.addAction(f"Keyboard shortcuts\t{shortcuts.key_text(keys['help'])}", self.window.dialogs.open_shortcuts)

    def shortcut_actions(self) -> dict[str, Callable[[], object]]:
        """The window's shortcut table entries for the docks."""
        return {name: partial(self.toggle, dock) for name, dock in self.docks.items()}

    def toggle(self, dock: QDockWidget) -> None:
        dock.setVisible(not dock.isVisible())
        if dock.isVisible():
            dock.raise_()

    # --- history -------------------------------------------------------------------------------

    async def _open_history(self) -> None:
        for sentence in await self.conversations.open():
            self.session.notify(sentence, "warning")

    async def continue_conversation(self, conversation_id: str) -> None:
        """A new conversation with the saved one as its context (replayed by the reconnect rules)."""
        saved = await self.conversations.history.load(conversation_id)
        if saved is None:
            self.session.notify("That conversation no longer exists.", "warning")
            return
        log.info("= continuing conversation %s (%d lines)", conversation_id, len(saved.entries))
        self.window.show_first_run(False)
        await self.session.close_conversation()
        await self.session.open_conversation(earlier_from(saved, replay_items(saved)), conversation_id)

    # --- spending ------------------------------------------------------------------------------

    def _limits_changed(self, limits: SpendLimits) -> None:
        if self.session.save_settings(spend_limit_session_usd=limits.session_usd, spend_limit_day_usd=limits.day_usd):
            self.conversations.observatory.spend.set_limits(spend_limits_from(self.session.store.settings))

    def _spend_changed(self, status: SpendStatus) -> None:
        controller = self.session.controller
        if status.level is Level.STOP:
            controller.spending.set(True, status.sentence)
            self.ask_to_continue()
            return
        if controller.spending.active:
            controller.spending.set(False)
        if self.spend_dialog is not None:
            self.spend_dialog.accept()  # the stop is over (limits raised): nothing left to ask
        if status.level is Level.WARNING:
            controller.notify(status.sentence, "warning", None, cause=SPEND)
        else:
            controller.resolve_notice(SPEND)

    def ask_to_continue(self) -> SpendStopDialog | None:
        """The question after a stop (also the banner's action): continue for a little more, or end."""
        spend = self.conversations.observatory.spend
        if not spend.stopped:
            return None
        if self.spend_dialog is not None and self.spend_dialog.isVisible():
            return self.spend_dialog
        dialog = SpendStopDialog(spend.status, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(spend.acknowledge)
        dialog.rejected.connect(lambda: self.window.run(self.session.close_conversation()))
        dialog.finished.connect(self._dialog_closed)
        self.spend_dialog = dialog
        dialog.open()
        return dialog

    def _dialog_closed(self) -> None:
        self.spend_dialog = None
