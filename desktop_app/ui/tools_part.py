"""The window's tools: the Tools tab, the permission prompt as the ToolBox's approver, and the strip
that shows what runs (elapsed time, Cancel).

:class:`SessionTools` holds the tools the GUI offers (the clipboard and the browser through Qt, the
user's tools file, secrets in the same keyring as the API keys; choices stored in the settings) for the
conversation session, which offers them in every session config (:meth:`SessionTools.offer`).
:class:`WindowTools` is a part the window owns (``window.tools``): it is given the window and uses its
public members (session, theme, ``raise_``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from desktop_app import paths
from desktop_app.log import get_logger
from desktop_app.realtime.dialect import REALTIME_TRAITS, DialectTraits
from desktop_app.realtime.session_config import SessionConfig
from desktop_app.settings.secrets import KeyStore
from desktop_app.settings.store import SettingsStore
from desktop_app.settings.tools import ToolPrefs
from desktop_app.tools.assembly import build_toolkit, with_tools
from desktop_app.tools.builtins import BuiltinProviders
from desktop_app.tools.secrets import ToolSecrets
from desktop_app.tools.user_tools import FILE_NAME
from desktop_app.ui.dialogs.tool_permission import DialogApprover, ToolPermissionDialog
from desktop_app.ui.widgets import dialect_notes
from desktop_app.ui.widgets.tool_activity import ToolActivityStrip
from desktop_app.ui.widgets.tool_providers import QtClipboard, QtUrlOpener
from desktop_app.ui.widgets.tools_tab import ToolsTab

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow

log = get_logger("ui")

CANCELLED_BY_USER = "The user pressed Cancel, so the tool was stopped."


class PrefsRelay(QObject):
    """Tells the window that a prompt changed the stored tool choices ("Always allow")."""

    changed = Signal()


class SessionTools:
    """The GUI's registry and ToolBox (its approver is set by the window), the tools' secret store, and
    ``prefs.changed`` when a prompt stored a choice."""

    def __init__(self, store: SettingsStore, keys: KeyStore, parent: QObject | None = None) -> None:
        self.store = store
        self.secrets = ToolSecrets(chosen_by=lambda: keys.backend)  # chosen when a tool first needs one
        self.prefs = PrefsRelay(parent)
        providers = BuiltinProviders(clipboard=QtClipboard(), opener=QtUrlOpener())
        self.kit = build_toolkit(store.settings, providers=providers, secrets=self.secrets,
                                 tools_file=paths.tools_dir() / FILE_NAME, on_prefs_changed=self._stored)
        self.registry, self.box = self.kit.registry, self.kit.box

    def _stored(self, prefs: ToolPrefs) -> None:
        self.store.update(**prefs.settings_changes())
        self.prefs.changed.emit()

    def offer(self, config: SessionConfig, tell: Callable[[str, str], object] | None = None,
              traits: DialectTraits = REALTIME_TRAITS) -> tuple[SessionConfig, list[str]]:
        """``config`` offering the tools ``traits`` take, and one sentence per thing left out (told, when
        ``tell``)."""
        config, problems = with_tools(config, self.registry, traits)
        for sentence in problems:
            if tell is not None:
                tell(sentence, "warning")
        return config, problems


class WindowTools:
    """The Tools tab, the permission prompt and the activity strip of one window."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        session = window.session
        kit = session.tools.kit
        self.box = kit.box
        self.strip = ToolActivityStrip(self._cancel, window)
        self.strip.setAccessibleName("Tools running")
        self.tab = ToolsTab(window.theme, kit.registry, session.store, tools_file=kit.user_tools.path,
                            secrets=session.tools.secrets, user_tools=kit.user_tools)
        self.approver = DialogApprover(window.theme, window, on_prompt=self._prompted)
        self.box.approver = self.approver
        self.box.subscribe(self.strip.on_activity)
        self.tab.tools_changed.connect(session.tools_changed)
        window.view_rendered.connect(lambda view: self.tab.show_dialect_note(dialect_notes.mcp(view.traits)))
        session.tools.prefs.changed.connect(self._prefs_changed)

    def _cancel(self, call_id: str) -> None:
        self.box.cancel(call_id, reason=CANCELLED_BY_USER)

    def _prompted(self, dialog: ToolPermissionDialog) -> None:
        """A prompt is open: the window comes to the front so the user sees it."""
        self.window.raise_()
        dialog.raise_()  # above the window it belongs to
        dialog.activateWindow()
        log.info("= ui: asking permission for %s", dialog.request.tool)

    def _prefs_changed(self) -> None:
        for info in self.box.registry.infos():
            self.tab.set_permission_shown(info.name, info.permission)
