"""The history sidebar over a real history database: by date, search, open read-only, continue,
rename, delete, export, and reloading when the history changes."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest

from desktop_app.history.service import History
from desktop_app.ui.observe.history_sidebar import HistorySidebar, day_label
from desktop_app.ui.theme import LIGHT
from tests.helpers.wait import wait_until
from tests.history.conftest import Entry

NOW = dt.datetime.now().replace(hour=12, minute=0, second=0, microsecond=0).timestamp()


async def saved(history: History, at: float, question: str, answer: str, **answer_kw) -> str:
    history._clock = lambda: at
    rec = history.begin(model="gpt-realtime-2.1", voice="marin")
    rec.transcript([Entry(f"u{at}", "user", question), Entry(f"a{at}", "assistant", answer, **answer_kw)])
    rec.finish()
    await history.flush()
    return rec.id


@pytest.fixture
def history(tmp_path):
    """A history, opened on the test's loop by :func:`with_history`."""
    return History(tmp_path / "h.sqlite3")


def with_history(test):
    """Open the history on the test's own loop first and always close it after."""
    import functools

    @functools.wraps(test)
    async def run(*args, **kwargs):
        history = kwargs["history"]
        await history.open()
        try:
            await test(*args, **kwargs)
        finally:
            await history.close()

    return run


class Loads:
    """Counts the sidebar's ``loaded`` signal; ``await loads.next()`` waits for the next one."""

    def __init__(self, sidebar: HistorySidebar) -> None:
        self.count = 0
        sidebar.loaded.connect(self._loaded)

    def _loaded(self) -> None:
        self.count += 1

    async def after(self, action) -> None:
        before = self.count
        result = action()
        if asyncio.iscoroutine(result):
            await result
        await wait_until(lambda: self.count > before, what="the sidebar to load")


async def sidebar_for(qtbot, history) -> HistorySidebar:
    sidebar = HistorySidebar(history, LIGHT)
    qtbot.addWidget(sidebar)
    sidebar.resize(320, 600)
    sidebar.loads = Loads(sidebar)
    await sidebar.loads.after(sidebar.show)
    return sidebar


def rows(sidebar: HistorySidebar) -> list[tuple[str, list[str]]]:
    tree = sidebar.tree
    return [(tree.topLevelItem(i).text(0), [tree.topLevelItem(i).child(j).text(0).split("\n")[0]
                                            for j in range(tree.topLevelItem(i).childCount())])
            for i in range(tree.topLevelItemCount())]


def test_day_labels():
    today = dt.date(2026, 12, 6)
    at = lambda d: dt.datetime.combine(d, dt.time(9)).timestamp()  # noqa: E731
    assert day_label(at(today), today) == "Today"
    assert day_label(at(dt.date(2026, 12, 5)), today) == "Yesterday"
    assert day_label(at(dt.date(2026, 12, 2)), today) == "Wednesday"
    assert day_label(at(dt.date(2026, 11, 2)), today) == "2 November 2026"


@with_history
async def test_conversations_are_listed_by_date_newest_first(qtbot, qloop, history):
    await saved(history, NOW - 86400 * 1, "Yesterday's question", "Answer.")
    await saved(history, NOW - 60, "Earlier today", "Answer.")
    await saved(history, NOW, "Just now", "Answer.")
    sidebar = await sidebar_for(qtbot, history)
    assert rows(sidebar) == [("Today", ["Just now", "Earlier today"]), ("Yesterday", ["Yesterday's question"])]
    assert not sidebar.open_button.isEnabled()
    sidebar.tree.setCurrentItem(sidebar.tree.topLevelItem(0).child(0))
    assert sidebar.open_button.isEnabled() and sidebar.continue_button.isEnabled()


@with_history
async def test_search_shows_matching_lines_under_their_conversation(qtbot, qloop, history):
    paris = await saved(history, NOW - 60, "Tell me about Paris", "Paris has lovely cafés.")
    await saved(history, NOW, "What about Rome?", "Rome is old.")
    sidebar = await sidebar_for(qtbot, history)
    await sidebar.loads.after(lambda: sidebar.search.setText("cafes"))
    assert sidebar.tree.topLevelItemCount() == 1
    top = sidebar.tree.topLevelItem(0)
    assert top.text(0).startswith("Tell me about Paris") and top.data(0, 256) == paris
    assert top.child(0).text(0) == "Assistant: Paris has lovely [cafés]."
    assert sidebar.status.text() == "1 conversation found."
    await sidebar.loads.after(lambda: sidebar.search.setText("zanzibar"))
    assert sidebar.tree.topLevelItemCount() == 0 and "Nothing found" in sidebar.status.text()
    await sidebar.loads.after(sidebar.search.clear)
    assert [name for name, _ in rows(sidebar)] == ["Today"]


@with_history
async def test_open_shows_the_conversation_read_only_and_continue_asks_the_window(qtbot, qloop, history):
    conv = await saved(history, NOW, "What's the capital of France?", "Paris, a city famous for its cafés.",
                       truncated=True, heard="Paris,")
    sidebar = await sidebar_for(qtbot, history)
    assert sidebar.select(conv)
    await sidebar.open_conversation(conv)
    (viewer,) = sidebar.viewers
    assert viewer.isVisible() and viewer.text.isReadOnly()
    html = viewer.text.toHtml()
    assert "capital of France" in html and "<s" not in viewer.text.toPlainText()
    assert "city famous for its cafés" in viewer.text.toPlainText() and "interrupted" in viewer.text.toPlainText()
    assert "line-through" in html  # the unheard rest is struck through
    asked: list[str] = []
    sidebar.continue_requested.connect(asked.append)
    viewer.continue_button.click()
    assert asked == [conv] and not viewer.isVisible()
    sidebar.continue_button.click()
    assert asked == [conv, conv]


@with_history
async def test_rename_delete_and_export(qtbot, qloop, history, tmp_path):
    keep = await saved(history, NOW - 60, "Keep me", "Fine.")
    gone = await saved(history, NOW, "Delete me", "Sure.")
    sidebar = await sidebar_for(qtbot, history)
    await sidebar.rename(keep, "Kept conversation")
    assert rows(sidebar) == [("Today", ["Delete me", "Kept conversation"])]
    await sidebar.delete(gone)
    assert rows(sidebar) == [("Today", ["Kept conversation"])] and sidebar.status.text() == "Deleted."
    await sidebar.export(keep, tmp_path / "keep.md")
    assert (tmp_path / "keep.md").read_text().startswith("# Kept conversation")
    await sidebar.export(keep, tmp_path / "keep.json")
    assert json.loads((tmp_path / "keep.json").read_text())["conversation"]["title"] == "Kept conversation"
    assert sidebar.status.text() == f"Exported to {tmp_path / 'keep.json'}."


@with_history
async def test_the_list_follows_the_history_and_a_hidden_sidebar_waits(qtbot, qloop, history):
    sidebar = await sidebar_for(qtbot, history)
    assert rows(sidebar) == [] and "kept here" in sidebar.status.text()
    await sidebar.loads.after(lambda: saved(history, NOW, "A new one", "Hello."))
    assert rows(sidebar) == [("Today", ["A new one"])]
    sidebar.hide()
    await saved(history, NOW + 1, "While hidden", "Hi.")
    for _ in range(3):  # let the writer's change notice reach the loop
        await asyncio.sleep(0)
    assert sidebar._dirty and not sidebar._search_timer.isActive()  # noted, not reloaded while hidden
    assert rows(sidebar) == [("Today", ["A new one"])]
    await sidebar.loads.after(sidebar.show)
    assert rows(sidebar) == [("Today", ["While hidden", "A new one"])]
