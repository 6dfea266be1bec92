"""A saved conversation, read-only: what was said, what was heard (the unheard rest struck through),
tool calls, and the timings — with "Continue" and "Export…" at hand."""

from __future__ import annotations

import datetime as dt
import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget

from desktop_app.history.export import title_of
from desktop_app.history.records import SavedConversation, SavedEntry
from desktop_app.ui.observe import format as fmt
from desktop_app.ui.theme import Theme
from desktop_app.ui.widgets.parts import text_label

_NAMES = {"user": "You", "assistant": "Assistant", "tool": "Tool"}


def facts_line(conversation: SavedConversation) -> str:
    """Date, length, model, voice and cost in one line."""
    s = conversation.summary
    facts = [dt.datetime.fromtimestamp(s.started_at).strftime("%A %d %B %Y, %H:%M")]
    if s.ended_at:
        facts.append(fmt.seconds(s.ended_at - s.started_at))
    facts += [x for x in (s.model, f"voice {s.voice}" if s.voice else "") if x]
    if s.cost_usd is not None:
        facts.append(fmt.usd(s.cost_usd))
    if s.continued_from:
        facts.append("continued from an earlier conversation")
    return " · ".join(facts)


def entry_html(entry: SavedEntry, theme: Theme) -> str:
    """One line of the conversation as HTML (escaped)."""
    if entry.role == "tool":
        status = f" ({html.escape(entry.tool_status)})" if entry.tool_status else ""
        args = f" <code>{html.escape(entry.tool_arguments)}</code>" if entry.tool_arguments else ""
        out = f" → <code>{html.escape(entry.tool_output)}</code>" if entry.tool_output else ""
        return (f'<p style="color:{theme.muted}"><i>Tool <b>{html.escape(entry.tool_name or "?")}</b>'
                f"{status}{args}{out}</i></p>")
    colour = theme.accent if entry.role == "user" else theme.assistant
    name = _NAMES.get(entry.role, entry.role.title())
    body = html.escape(entry.heard_text)
    rest = entry.unheard_text
    if rest:
        body += f'<s style="color:{theme.muted}">{html.escape(rest)}</s>'
    notes = []
    if entry.truncated:
        notes.append("interrupted")
    if entry.echo:
        notes.append("the assistant's own voice, ignored")
    if not entry.final:
        notes.append("unfinished")
    note = f' <span style="color:{theme.muted}">({", ".join(notes)})</span>' if notes else ""
    style = f' style="color:{theme.muted}"' if entry.echo else ""
    return f'<p{style}><b style="color:{colour}">{name}</b><br>{body}{note}</p>'


def conversation_html(conversation: SavedConversation, theme: Theme) -> str:
    parts = [entry_html(e, theme) for e in conversation.entries]
    if conversation.turns:
        firsts = sorted(t.speech_to_first_byte_ms for t in conversation.turns
                        if t.speech_to_first_byte_ms is not None)
        if firsts:
            parts.append(f'<p style="color:{theme.muted}"><small>{len(conversation.turns)} turns · first '
                         f"answer audio after {fmt.ms(firsts[len(firsts) // 2])} (median)</small></p>")
    return "".join(parts) or f'<p style="color:{theme.muted}">Nothing was said.</p>'


class ConversationViewer(QDialog):
    """Shows one saved conversation; ``continue_requested`` / ``export_requested`` carry its id."""

    continue_requested = Signal(str)
    export_requested = Signal(str)

    def __init__(self, conversation: SavedConversation, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.conversation = conversation
        self.setWindowTitle(title_of(conversation))
        self.resize(640, 640)
        column = QVBoxLayout(self)
        column.setContentsMargins(16, 14, 16, 12)
        title = QLabel(title_of(conversation), self)
        title.setProperty("role", "heading")
        title.setWordWrap(True)
        column.addWidget(title)
        column.addWidget(text_label(facts_line(conversation), self, "muted", wrap=True))
        self.text = QTextBrowser(self)
        self.text.setOpenLinks(False)
        self.text.setHtml(conversation_html(conversation, theme))
        self.text.setAccessibleName("Saved conversation")
        column.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.continue_button = buttons.addButton("Continue this conversation", QDialogButtonBox.ButtonRole.ActionRole)
        self.continue_button.setProperty("role", "primary")
        self.export_button = buttons.addButton("Export…", QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        conv_id = conversation.summary.id
        self.continue_button.clicked.connect(self._continue)
        self.export_button.clicked.connect(lambda: self.export_requested.emit(conv_id))
        column.addWidget(buttons)

    def _continue(self) -> None:
        self.continue_requested.emit(self.conversation.summary.id)
        self.accept()
