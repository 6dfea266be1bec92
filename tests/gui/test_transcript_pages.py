"""A long conversation in the transcript view: only the pages near what is on screen hold bubbles.

A bubble costs ~100 KiB of native memory; the 60-minute bench's window grew ~70 MiB an hour with
every bubble kept. Pages far from the viewport give their bubbles up and keep their height; scrolling
back builds them again from the entries as they are then.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from desktop_app.controller.view_state import TranscriptEntry
from desktop_app.ui.theme import LIGHT
from desktop_app.ui.widgets.bubble import Bubble
from desktop_app.ui.widgets.transcript_view import PAGE_SIZE, TranscriptView

pytestmark = pytest.mark.gui


def entries(n: int) -> tuple[TranscriptEntry, ...]:
    return tuple(TranscriptEntry(f"item_{i}", "user" if i % 2 else "assistant",
                                 f"Message number {i} with a few words in it.", True) for i in range(n))


def grown(view: TranscriptView, qtbot, n: int) -> None:  # noqa: ANN001
    """The conversation grows to ``n`` entries a turn at a time, as it does in a session."""
    have = len(view.entries())
    for k in range(have + 2, n + 1, 2):
        view.set_entries(entries(k))
        qtbot.wait(1)


@pytest.fixture
def view(qtbot) -> TranscriptView:  # noqa: ANN001
    view = TranscriptView(LIGHT)
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    return view


def test_a_long_conversation_keeps_bubbles_only_near_the_viewport_and_its_height(view, qtbot):
    bar = view.verticalScrollBar()
    grown(view, qtbot, 400)
    qtbot.waitUntil(lambda: bar.value() == bar.maximum() and view.bubble("item_0") is None)
    qtbot.wait(50)  # the deleted bubbles are gone
    alive = sum(view.bubble(e.item_id) is not None for e in entries(400))
    assert alive <= 6 * PAGE_SIZE, alive  # the pages within two screens, and the last two
    assert view.bubble("item_399") is not None and view.following
    assert len(view.widget().findChildren(Bubble)) == alive  # the others are deleted, not hidden
    # every page keeps its height: the scroll range is what the whole conversation needs
    assert view.widget().height() > 400 * 40  # ~50 px a bubble and 12 between
    assert abs(bar.maximum() + view.viewport().height() - view.widget().height()) <= 2


def test_scrolling_back_builds_the_first_bubbles_again_from_their_entries_as_they_are_now(view, qtbot):
    bar = view.verticalScrollBar()
    grown(view, qtbot, 300)
    qtbot.waitUntil(lambda: view.bubble("item_0") is None)
    # the first answer is marked interrupted while its page sleeps
    changed = list(entries(300))
    changed[0] = replace(changed[0], truncated=True, heard="Message number 0")
    view.set_entries(tuple(changed))
    body = view.widget()  # the last turn's bubbles laid out (Qt lays out later: 3 runs in 8 read 122 px short)
    qtbot.waitUntil(lambda: body.height() == body.sizeHint().height())
    maximum = bar.maximum()
    bar.setValue(0)  # the person scrolls to the start
    qtbot.waitUntil(lambda: view.bubble("item_0") is not None)
    first = view.bubble("item_0")
    assert "<s" in first.label.text() and "interrupted" in first.caption.text()
    assert view.bubble("item_1").label.text() == "Message number 1 with a few words in it."
    qtbot.waitUntil(lambda: abs(bar.maximum() - maximum) <= 2, timeout=2000)  # the same height as asleep
    assert bar.value() == 0
    assert not view.following
    # the latest page is still there, and the pages in between sleep again
    qtbot.waitUntil(lambda: view.bubble("item_150") is None)
    assert view.bubble("item_299") is not None
    view.scroll_to_latest()
    qtbot.waitUntil(lambda: view.bubble("item_0") is None)


def test_a_clear_and_a_turn_inserted_before_the_last_ones_touch_sleeping_pages_correctly(view, qtbot):
    grown(view, qtbot, 200)
    qtbot.waitUntil(lambda: view.bubble("item_0") is None)
    # a user's words arriving late: their item goes before the last answer
    late = TranscriptEntry("item_late", "user", "Said a while ago.", True)
    many = entries(200)
    view.set_entries((*many[:199], late, many[199]))
    assert [e.item_id for e in view.entries()][-2:] == ["item_late", "item_199"]
    assert view.bubble("item_late") is not None and view.bubble("item_199") is not None
    view.clear()
    assert view.entries() == [] and view.placeholder.isVisibleTo(view)
    qtbot.wait(50)
    assert view.widget().findChildren(Bubble) == []
    view.set_entries((*many[:199], late, many[199], TranscriptEntry("item_new", "user", "Hello again.", True)))
    assert [e.item_id for e in view.entries()] == ["item_new"]
    assert view.bubble("item_new").label.text() == "Hello again."


def reader_pages(view: TranscriptView) -> dict[str, str]:
    """What a screen reader finds in place of sleeping pages: accessible name → description."""
    return {w.accessibleName(): w.accessibleDescription() for w in view.widget().findChildren(QWidget)
            if w.accessibleName().startswith("Messages ")}


def test_a_screen_reader_still_finds_the_words_of_sleeping_pages_kept_up_to_date(view, qtbot):
    grown(view, qtbot, 200)
    qtbot.waitUntil(lambda: view.bubble("item_0") is None)
    told = reader_pages(view)
    first = told["Messages 1 to 16 (scroll to show them)"]
    assert first.split("\n\n") == [
        f"{'You' if i % 2 else 'Assistant'}: Message number {i} with a few words in it." for i in range(16)]
    assert "Messages 17 to 32 (scroll to show them)" in told
    assert not any(name.startswith(f"Messages {(200 // PAGE_SIZE) * PAGE_SIZE + 1} ") for name in told)  # the last page is awake
    # an answer cut while its page sleeps: the reader hears what was heard of it, as Copy gives it
    changed = list(entries(200))
    changed[2] = replace(changed[2], truncated=True, heard="Message number")
    view.set_entries(tuple(changed))
    assert reader_pages(view)["Messages 1 to 16 (scroll to show them)"].split("\n\n")[2] == "Assistant: Message number […]"
    assert view.copy_text().split("\n\n")[2] == "Assistant: Message number […]"
    # a picture arriving for a sleeping message: the reader hears of it too
    image = QImage(64, 48, QImage.Format.Format_RGB32)
    image.fill(0x336699)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    view.show_image("item_5", bytes(data.data()))
    assert reader_pages(view)["Messages 1 to 16 (scroll to show them)"].split("\n\n")[5] == (
        "You: [image 64×48] Message number 5 with a few words in it.")
    # woken, the page is bubbles again and tells nothing more of its own
    view.verticalScrollBar().setValue(0)
    qtbot.waitUntil(lambda: view.bubble("item_0") is not None)
    assert "Messages 1 to 16 (scroll to show them)" not in reader_pages(view)
    assert "<s" in view.bubble("item_2").label.text()
