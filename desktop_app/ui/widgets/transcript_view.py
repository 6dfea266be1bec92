"""The conversation as chat bubbles: user on the right, assistant on the left, tool calls between.

Entries arrive as whole snapshots (``ViewState.transcript``); the view diffs them by item id and
touches only bubbles whose entry changed, so a transcript delta re-lays out one label. Interim text
(words still arriving) is drawn in italics with a dashed outline; a truncated answer shows the part
that was heard and strikes through the rest. The view follows new text while the scroll bar is at
the bottom and stops following as soon as the user scrolls up (a "Latest" button jumps back).
An image the user sent shows as a thumbnail in its message's bubble (:meth:`TranscriptView.show_image`).

Only the pages near what is on screen hold bubbles: a bubble costs ~100 KiB of native memory (Qt's
widgets and text layout), and a busy hour of talk (~720 bubbles) grew the window by ~70 MiB. A page
further than :data:`AWAKE_SCREENS` screens from the viewport gives its bubbles up and keeps its
height (it *sleeps*); scrolling near it builds them again from the entries. A sleeping page keeps
its messages' text for screen readers: its accessible name says which messages it holds, its
description what they say (as Copy would), kept up to date while it sleeps.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QScrollArea, QToolButton, QVBoxLayout, QWidget

from desktop_app.controller.states import Conn, Mic
from desktop_app.controller.view_state import TranscriptEntry, ViewState
from desktop_app.ui import icons
from desktop_app.ui.theme import Theme
from desktop_app.ui.widgets.bubble import Bubble

FOLLOW_SLACK_PX = 24
#: Bubbles are grouped into pages of this many, each its own widget: a bubble that grows re-lays out
#: its page and the list of pages (whose size hints are cached), not every bubble of a long talk.
PAGE_SIZE = 16
BUBBLE_WIDTH_FRACTION = 0.78
#: A sent image is shown at most this big in its bubble.
THUMBNAIL = QSize(240, 180)
#: Pages within this many viewport heights above or below what is shown keep their bubbles (and
#: the last two pages always: they are the ones still changing).
AWAKE_SCREENS = 2.0


def _told(entry: TranscriptEntry) -> tuple[str, str | None, bool, str | None]:
    """What a reader is told of an entry that can change (an item keeps its role and tool name); a
    cheaper comparison than the whole entry's, made for every sleeping entry on every transcript change."""
    return entry.text, entry.heard, entry.truncated, entry.tool_status


EMPTY_HINTS = {
    "disconnected": "Connect, then talk or type a message below.",
    "connecting": "Connecting…",
    "hands_free": "Just start talking, or type a message below.",
    "push_to_talk": "Hold {key} (or the talk button) while you speak, or type a message below.",
    "muted": "Your microphone is muted (Ctrl+M unmutes it); you can type a message below.",
    "no_microphone": "There is no microphone; type a message below.",
}


def empty_hint(view: ViewState, audio_ok: bool, talk_key: str) -> str:
    """The empty conversation's invitation for this moment (never "when you are connected" while connected)."""
    if view.connection in (Conn.CONNECTING, Conn.RECONNECTING):
        return EMPTY_HINTS["connecting"]
    if view.connection is not Conn.CONNECTED:
        return EMPTY_HINTS["disconnected"]
    if not audio_ok:
        return EMPTY_HINTS["no_microphone"]
    if view.mic is Mic.MUTED:
        return EMPTY_HINTS["muted"]
    if view.mic is Mic.HANDS_FREE:
        return EMPTY_HINTS["hands_free"]
    return EMPTY_HINTS["push_to_talk"].format(key=html.escape(talk_key))


class TranscriptView(QScrollArea):
    """Chat bubbles for ``set_entries``; ``copy_text()`` and ``clear()`` for the toolbar."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._rows: dict[str, Bubble] = {}
        self._order: list[str] = []
        self._entries: tuple[TranscriptEntry, ...] = ()
        self._hidden: set[str] = set()
        self._images: dict[str, tuple[QPixmap, QSize]] = {}
        self.following = True
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Conversation")
        body = QWidget(self)
        body.setObjectName("transcriptBody")
        self._layout = QVBoxLayout(body)
        self._layout.setContentsMargins(20, 16, 20, 16)
        self._layout.setSpacing(12)
        self.placeholder = QLabel(body)
        self.placeholder.setWordWrap(True)
        self._hint = ""
        self.set_empty_hint(EMPTY_HINTS["disconnected"])
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout.addStretch(1)  # new messages sit at the bottom, next to the talk controls
        self._layout.addWidget(self.placeholder, 10)
        self._pages: list[QWidget] = []
        self._asleep: dict[int, list[TranscriptEntry]] = {}  # pages holding no bubbles: the entries told to readers
        self._sweep = QTimer(self)  # pages to put to sleep or wake, once the layout has settled
        self._sweep.setSingleShot(True)
        self._sweep.setInterval(0)
        self._sweep.timeout.connect(self._sweep_pages)
        self.setWidget(body)
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range)
        self.latest = QToolButton(self)
        self.latest.setText("Latest")
        self.latest.setIcon(icons.icon("arrow-down", theme.accent_text))
        self.latest.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.latest.setProperty("role", "latest")
        self.latest.setToolTip("Jump to the latest message and follow the conversation again")
        self.latest.clicked.connect(self.scroll_to_latest)
        self.latest.hide()

    def set_empty_hint(self, hint: str) -> None:
        """What the empty conversation invites the person to do (it follows the connection and mode)."""
        if hint != self._hint:
            self._hint = hint
            self.placeholder.setText("<div style='font-size:13pt; font-weight:600'>Say hello</div>"
                                     f"<div style='color:{self._theme.muted}'>{hint}</div>")

    @property
    def empty_hint(self) -> str:
        return self._hint

    # --- content ------------------------------------------------------------------------------

    def set_entries(self, entries: tuple[TranscriptEntry, ...]) -> None:
        if entries is self._entries or entries == self._entries:
            return
        visible = [e for e in entries if e.item_id not in self._hidden]
        order = [e.item_id for e in visible]
        kept = next((i for i, (a, b) in enumerate(zip(order, self._order, strict=False)) if a != b),
                    min(len(order), len(self._order)))  # the rows before this stay where they are
        moving = sorted(n for n in self._asleep if (n + 1) * PAGE_SIZE > kept)
        if moving:  # their rows move or go: they must exist (a woken page sleeps again later)
            known = {e.item_id: e for e in self._entries} | {e.item_id: e for e in entries}
            for number in moving:
                self._wake(number, known)
        self._entries = entries
        changed: set[int] = set()  # sleeping pages whose entries changed
        for index, entry in enumerate(visible):  # (a sleeping page lies before ``kept``: same index)
            row = self._rows.get(entry.item_id)
            if row is not None:
                row.show_entry(entry)
            elif (told := self._asleep.get(index // PAGE_SIZE)) is None:
                self._rows[entry.item_id] = self._bubble(entry)
            elif (was := told[index % PAGE_SIZE]) is not entry and _told(was) != _told(entry):
                told[index % PAGE_SIZE] = entry
                changed.add(index // PAGE_SIZE)
        for number in changed:
            self._tell_readers(number)
        gone = set(self._rows) - set(order)
        for item_id in gone:
            self._rows.pop(item_id).deleteLater()
        if order != self._order:
            for index in range(kept, len(order)):
                self._column(index // PAGE_SIZE).insertWidget(index % PAGE_SIZE, self._rows[order[index]])
            self._order = order
            if not self.following:
                self.latest.show()
            self._sweep.start()
        self.placeholder.setVisible(not order)

    def _bubble(self, entry: TranscriptEntry) -> Bubble:
        row = Bubble(self._theme, entry, self.widget())
        row.set_max_bubble_width(self._bubble_width())
        if entry.item_id in self._images:
            row.set_image(*self._images[entry.item_id])
        return row

    def _column(self, number: int) -> QVBoxLayout:
        column = self._page(number).layout()
        assert isinstance(column, QVBoxLayout)  # every page is built with one
        return column

    # --- pages far from the viewport sleep --------------------------------------------------------

    def _sweep_pages(self) -> None:
        """Put to sleep the pages far from the viewport, wake the ones near it."""
        last = (len(self._order) - 1) // PAGE_SIZE
        top = self.verticalScrollBar().value()
        reach = int(AWAKE_SCREENS * max(self.viewport().height(), 100))
        entries: dict[str, TranscriptEntry] = {}  # looked up only when a page wakes
        for number, page in enumerate(self._pages[: last + 1]):
            near = page.y() + page.height() >= top - reach and page.y() <= top + self.viewport().height() + reach
            if number in self._asleep and near:
                entries = entries or {e.item_id: e for e in self._entries}
                self._wake(number, entries)
            elif number not in self._asleep and not near and number < last - 1 and page.sizeHint().height() > 0:
                self._sleep(number)

    def _sleep(self, number: int) -> None:
        page = self._pages[number]
        page.setFixedHeight(page.sizeHint().height())  # (its geometry can lag, squeezed, while the talk grows)
        told = []
        for item_id in self._order[number * PAGE_SIZE : (number + 1) * PAGE_SIZE]:
            row = self._rows.pop(item_id)
            assert row.entry is not None  # every bubble is built showing its entry
            told.append(row.entry)
            self._column(number).removeWidget(row)
            row.deleteLater()
        self._asleep[number] = told
        self._tell_readers(number)

    def _tell_readers(self, number: int) -> None:
        """A sleeping page's messages, for screen readers: which ones (name) and what they say."""
        page, told = self._pages[number], self._asleep[number]
        first = number * PAGE_SIZE + 1
        page.setAccessibleName(f"Messages {first} to {first + len(told) - 1} (scroll to show them)")
        page.setAccessibleDescription("\n\n".join(self._line(entry) for entry in told))

    def _wake(self, number: int, entries: dict[str, TranscriptEntry]) -> None:
        """Build the page's bubbles again, from its entries as they are now."""
        del self._asleep[number]
        page = self._pages[number]
        page.setAccessibleName("")
        page.setAccessibleDescription("")
        page.setMinimumHeight(0)
        page.setMaximumHeight(16777215)  # QWIDGETSIZE_MAX: the page takes its bubbles' height again
        for slot, item_id in enumerate(self._order[number * PAGE_SIZE : (number + 1) * PAGE_SIZE]):
            row = self._rows[item_id] = self._bubble(entries[item_id])
            self._column(number).insertWidget(slot, row)
            row.show()  # now, not when the layout's queued show runs: the page keeps its height meanwhile

    def _page(self, number: int) -> QWidget:
        while len(self._pages) <= number:  # stretch first, then the pages, then the placeholder
            page = QWidget(self.widget())
            column = QVBoxLayout(page)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(self._layout.spacing())
            self._layout.insertWidget(1 + len(self._pages), page)
            self._pages.append(page)
        return self._pages[number]

    def show_image(self, item_id: str, data: bytes) -> None:
        """Show ``data`` (the PNG/JPEG sent as item ``item_id``) as a thumbnail in that message's bubble,
        now or when the message arrives."""
        image = QImage.fromData(data)
        if image.isNull():
            return
        thumbnail = QPixmap.fromImage(image)
        if image.width() > THUMBNAIL.width() or image.height() > THUMBNAIL.height():
            thumbnail = thumbnail.scaled(THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.SmoothTransformation)
        self._images[item_id] = (thumbnail, image.size())
        row = self._rows.get(item_id)
        if row is not None:
            row.set_image(thumbnail, image.size())
        elif item_id in self._order and (number := self._order.index(item_id) // PAGE_SIZE) in self._asleep:
            self._tell_readers(number)  # its line now names the image

    def entries(self) -> list[TranscriptEntry]:
        """The entries shown now (cleared ones left out)."""
        return [e for e in self._entries if e.item_id not in self._hidden]

    def copy_text(self) -> str:
        """The visible conversation as plain text, one speaker per paragraph."""
        return "\n\n".join(self._line(entry) for entry in self.entries())

    def _line(self, entry: TranscriptEntry) -> str:
        """One entry as plain text: "You: …", "Assistant: …" (what was heard of a cut answer), a tool call."""
        if entry.role == "tool":
            return f"[tool {entry.tool_name}({entry.text}) → {entry.heard or entry.tool_status}]"
        who = "You" if entry.role == "user" else "Assistant"
        text = entry.heard + " […]" if entry.truncated and entry.heard is not None else entry.text
        if entry.item_id in self._images:
            size = self._images[entry.item_id][1]
            text = f"[image {size.width()}×{size.height()}] {text}".rstrip()
        return f"{who}: {text}"

    def clear(self) -> None:
        """Hide everything said so far from the window (the assistant still remembers it)."""
        self._hidden.update(e.item_id for e in self._entries)
        entries, self._entries = self._entries, ()
        self.set_entries(entries)

    def bubble(self, item_id: str) -> Bubble | None:
        return self._rows.get(item_id)

    # --- following ----------------------------------------------------------------------------

    def scroll_to_latest(self) -> None:
        self.following = True
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
        self.latest.hide()

    def _on_scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self.following = value >= bar.maximum() - FOLLOW_SLACK_PX
        if self.following:
            self.latest.hide()
        self._sweep.start()

    def _on_range(self, _minimum: int, maximum: int) -> None:
        if self.following:
            self.verticalScrollBar().setValue(maximum)

    def _bubble_width(self) -> int:
        return max(240, int(self.viewport().width() * BUBBLE_WIDTH_FRACTION))

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802
        """The viewport resized — with the window, or narrower when the scroll bar appears: the
        bubbles take the new width (a sleeping page keeps its height until it wakes)."""
        if event.type() == QEvent.Type.Resize:
            width = self._bubble_width()
            for row in self._rows.values():
                row.set_max_bubble_width(width)
            self._sweep.start()
            hint = self.latest.sizeHint()
            self.latest.setGeometry(self.viewport().width() - hint.width() - 16,
                                    self.viewport().height() - hint.height() - 12, hint.width(), hint.height())
        return super().viewportEvent(event)
