"""One chat bubble of the conversation (:class:`Bubble`), its text block and what it says.

A bubble is a caption (who, and what state the words are in), a frame styled by role and a
:class:`TextBlock` painted from a laid-out rich-text document, plus an optional image thumbnail.
:class:`~.transcript_view.TranscriptView` lays them out.
"""

from __future__ import annotations

import html
import math

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QAbstractTextDocumentLayout, QColor, QPainter, QPaintEvent, QPalette, QPixmap, QTextDocument
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from desktop_app.controller.view_state import TranscriptEntry
from desktop_app.ui import icons
from desktop_app.ui.theme import Theme, restyle

#: A tool entry's status in words.
TOOL_STATUS = {"running": "running", "approval": "waiting for your permission", "done": "done", "error": "failed",
               "cancelled": "cancelled", "denied": "not allowed"}


def entry_caption(entry: TranscriptEntry) -> str:
    """The small line above a bubble: who, and what state the words are in."""
    if entry.role == "tool":
        return ""
    who = "You" if entry.role == "user" else "Assistant"
    if entry.truncated:
        return f"{who} · interrupted"
    if entry.echo:
        return f"{who} · possibly the assistant's echo"
    if not entry.final:
        return f"{who} · {'transcribing' if entry.role == 'user' else 'speaking'}…"
    return who


def entry_html(entry: TranscriptEntry, theme: Theme) -> str:
    """The bubble's text as rich text (escaped), marking interim and unheard words."""
    text = entry.text or ""
    if entry.role == "tool":
        status = entry.tool_status or "running"
        color = {"done": theme.success, "error": theme.danger, "denied": theme.danger,
                 "cancelled": theme.muted}.get(status, theme.warning)
        call = f"<b>{html.escape(entry.tool_name or 'tool')}</b>({html.escape(_short(text, 200))})"
        out = f"<br><span style='color:{theme.muted}'>→ {html.escape(_short(entry.heard or '', 200))}</span>" \
            if entry.heard else ""
        return f"{call} &nbsp;<span style='color:{color}'>● {TOOL_STATUS.get(status, status)}</span>{out}"
    if not text and not entry.final:
        return "<i>…</i>"
    if entry.truncated and entry.heard is not None and len(entry.heard) < len(text):
        rest = text[len(entry.heard):]
        muted = theme.user_text if entry.role == "user" else theme.muted
        return f"{html.escape(entry.heard)}<s style='color:{muted}'>{html.escape(rest)}</s>"
    body = html.escape(text).replace("\n", "<br>")
    return body if entry.final else f"<i>{body}</i>"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class TextBlock(QWidget):
    """Rich text laid out once per change, at a fixed size, and painted from that layout.

    A word-wrapped QLabel is asked for its height-for-width on every layout pass of the conversation,
    re-laying out its text each time: with a hundred bubbles one changed word cost tens of
    milliseconds. This block lays its text out when the text or the width limit changes, and only then.
    """

    def __init__(self, color: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._color = QColor(color)
        self._html = ""
        self._limit = 480
        self._doc = QTextDocument(self)
        self._doc.setDocumentMargin(0)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def text(self) -> str:
        return self._html

    def set_text(self, html_text: str, limit: int | None = None) -> None:
        if limit is not None:
            self._limit = limit
        self._html = html_text
        doc = self._doc
        doc.setDefaultFont(self.font())
        doc.setHtml(html_text)
        doc.setTextWidth(-1)
        width = max(24, min(math.ceil(doc.idealWidth()) + 2, self._limit))
        doc.setTextWidth(width)
        self.setFixedSize(width, math.ceil(doc.size().height()))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt naming)
        painter = QPainter(self)
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(QPalette.ColorRole.Text, self._color)
        context.clip = QRectF(event.rect())
        self._doc.documentLayout().draw(painter, context)
        painter.end()


class Bubble(QWidget):
    """One row: caption and bubble, aligned by role."""

    def __init__(self, theme: Theme, entry: TranscriptEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.role = entry.role
        self.entry: TranscriptEntry | None = None
        self._max_width = 480
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(3)
        self.caption = QLabel(self)
        self.caption.setProperty("role", "hint")
        self.frame = QFrame(self)
        self.frame.setProperty("bubble", entry.role)
        inner = QHBoxLayout(self.frame)
        inner.setContentsMargins(14, 9, 14, 9)
        inner.setSpacing(8)
        if entry.role == "tool":
            glyph = QLabel(self.frame)
            glyph.setPixmap(icons.icon("wrench", theme.muted).pixmap(QSize(16, 16)))
            inner.addWidget(glyph, 0, Qt.AlignmentFlag.AlignTop)
        self.label = TextBlock(theme.user_text if entry.role == "user" else theme.text, self.frame)
        content = QVBoxLayout()
        content.setSpacing(6)
        content.addWidget(self.label)
        self.image = QLabel(self.frame)
        self.image.hide()
        content.addWidget(self.image)
        inner.addLayout(content, 1)
        align = {"user": Qt.AlignmentFlag.AlignRight, "assistant": Qt.AlignmentFlag.AlignLeft}.get(
            entry.role, Qt.AlignmentFlag.AlignHCenter)
        outer.addWidget(self.caption, 0, align)
        outer.addWidget(self.frame, 0, align)
        self.caption.setVisible(entry.role != "tool")
        self.show_entry(entry)

    def _text_limit(self) -> int:
        return self._max_width - 28 - (24 if self.role == "tool" else 0)

    def show_entry(self, entry: TranscriptEntry) -> None:
        if entry == self.entry:
            return
        previous, self.entry = self.entry, entry
        caption = entry_caption(entry)
        if previous is None or caption != entry_caption(previous):
            self.caption.setText(caption)
        self.label.set_text(entry_html(entry, self._theme), self._text_limit())
        self.label.setAccessibleName(f"{caption or 'Tool call'}: {entry.text}")
        self.label.setVisible(bool(entry.text) or not entry.final or self.image.isHidden())
        restyle(self.frame, interim="false" if entry.final else "true")

    def set_image(self, thumbnail: QPixmap, size: QSize) -> None:
        """Show a sent image's thumbnail under the message text (alone when there is no text)."""
        self.image.setPixmap(thumbnail)
        self.image.setAccessibleName(f"Image you sent, {size.width()}×{size.height()}")
        self.image.setToolTip(f"Image you sent ({size.width()}×{size.height()} px)")
        self.image.show()
        entry = self.entry
        self.label.setVisible(entry is None or bool(entry.text) or not entry.final)

    def set_max_bubble_width(self, width: int) -> None:
        if width != self._max_width:
            self._max_width = width
            self.label.set_text(self.label.text(), self._text_limit())
