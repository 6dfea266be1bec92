"""The Tools tab, the permission prompt and the activity strip, offscreen with pytest-qt."""

from __future__ import annotations

import asyncio
import json
import textwrap

import pytest
from PySide6.QtCore import Qt

from desktop_app.settings.store import SettingsStore
from desktop_app.settings.tools import McpServerConfig, ToolPrefs
from desktop_app.tools import Decision, Permission, Status, ToolBox, ToolCall, ToolRegistry
from desktop_app.tools.approval import ApprovalRequest, display_arguments
from desktop_app.tools.builtins import BuiltinProviders, builtin_tools
from desktop_app.tools.secrets import MemorySecrets
from desktop_app.tools.toolbox import ToolActivity
from desktop_app.ui.dialogs.tool_permission import DialogApprover, ToolPermissionDialog
from desktop_app.ui.theme import LIGHT
from desktop_app.ui.widgets.tool_activity import ToolActivityStrip
from desktop_app.ui.widgets.tools_tab import ToolsTab

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True, scope="module")
def none_refcount_guard(qapp):
    from desktop_app.ui.qt_workarounds import guard_none_refcount

    guard_none_refcount()
    # As in the app (ui/bootstrap.py): closing a prompt must not quit the loop when no window is open.
    before = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    yield
    qapp.setQuitOnLastWindowClosed(before)


def request(timeout_s: float = 60.0, **arguments) -> ApprovalRequest:
    args = arguments or {"text": "I need milk"}
    return ApprovalRequest(call_id="c1", tool="append_note", label="Write a note", description="Save a short note.",
                           arguments=args, arguments_text=display_arguments(args), side_effecting=True,
                           timeout_s=timeout_s)


def test_the_prompt_shows_the_exact_arguments_and_allow_once_decides(qtbot):
    dialog = ToolPermissionDialog(LIGHT, request(text="pay \u202e 100"))
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.arguments.toPlainText() == '{\n  "text": "pay \\u202e 100"\n}'
    assert "Denied automatically in 60 s" in dialog.countdown.text()
    assert dialog.deny_button.isDefault()
    with qtbot.waitSignal(dialog.decided, timeout=2000) as signal:
        qtbot.mouseClick(dialog.once_button, Qt.MouseButton.LeftButton)
    assert signal.args == [Decision.ALLOW_ONCE] and not dialog.isVisible()


@pytest.mark.parametrize("how", ["escape", "enter", "close"])
def test_escape_enter_and_closing_the_prompt_deny(qtbot, how):
    dialog = ToolPermissionDialog(LIGHT, request())
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.decided, timeout=2000) as signal:
        if how == "close":
            dialog.close()
        else:
            qtbot.keyClick(dialog, Qt.Key.Key_Escape if how == "escape" else Qt.Key.Key_Return)
    assert signal.args == [Decision.DENY]


def test_an_unanswered_prompt_denies_when_its_countdown_ends(qtbot):
    dialog = ToolPermissionDialog(LIGHT, request(timeout_s=0.3))
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.decided, timeout=5000) as signal:
        pass
    assert signal.args == [Decision.DENY]


def prompting_approver() -> tuple[DialogApprover, asyncio.Future]:
    """An approver, and a future that holds its dialog once the prompt is open."""
    opened: asyncio.Future = asyncio.get_running_loop().create_future()
    return DialogApprover(LIGHT, on_prompt=lambda d: opened.done() or opened.set_result(d)), opened


async def test_always_allow_in_the_dialog_runs_the_call_and_is_remembered(qloop, qtbot, tmp_path):
    registry = ToolRegistry(builtin_tools(BuiltinProviders(notes_dir=tmp_path)))
    stored: list[ToolPrefs] = []
    box = ToolBox(registry, on_prefs_changed=stored.append)
    approver, opened = prompting_approver()
    task = asyncio.ensure_future(box.run_calls([ToolCall("c1", "append_note", '{"text": "milk"}')], approver))
    dialog = await opened
    assert json.loads(dialog.arguments.toPlainText()) == {"text": "milk"}
    qtbot.mouseClick(dialog.always_button, Qt.MouseButton.LeftButton)
    [result] = await task
    assert result.ok and registry.permission("append_note") is Permission.ALLOW
    assert stored[-1].permissions == {"append_note": "allow"}
    assert "milk" in (tmp_path / "notes.md").read_text()


async def test_a_cancelled_call_withdraws_its_prompt(qloop, qtbot, tmp_path):
    box = ToolBox(ToolRegistry(builtin_tools(BuiltinProviders(notes_dir=tmp_path))))
    approver, opened = prompting_approver()
    task = asyncio.ensure_future(box.run_calls([ToolCall("c1", "append_note", '{"text": "milk"}')], approver))
    dialog = await opened
    closed: list[int] = []
    dialog.finished.connect(closed.append)
    box.cancel()
    [result] = await task
    assert result.status is Status.CANCELLED and closed == [0] and approver.current is None


@pytest.fixture
def tab(qtbot, tmp_path):
    store = SettingsStore(tmp_path / "settings.ini")
    secrets = MemorySecrets()
    registry = ToolRegistry(builtin_tools(BuiltinProviders(notes_dir=tmp_path / "notes")),
                            prefs=ToolPrefs.from_settings(store.settings), secrets=secrets)
    opened: list = []
    widget = ToolsTab(LIGHT, registry, store, tools_file=tmp_path / "tools" / "tools.toml", secrets=secrets,
                      open_file=lambda path: opened.append(path) or True)
    qtbot.addWidget(widget)
    widget.opened = opened
    return widget


def test_switching_a_tool_off_and_changing_a_permission_are_stored(tab, qtbot):
    with qtbot.waitSignal(tab.tools_changed, timeout=1000):
        tab.enabled_boxes["calculate"].setChecked(False)
    combo = tab.permission_boxes["append_note"]
    assert combo.currentText() == "Ask first (default)"
    combo.setCurrentIndex(combo.findData("allow"))
    prefs = ToolPrefs.from_settings(SettingsStore(tab.store.path).settings)
    assert prefs.disabled == frozenset({"calculate"}) and prefs.permissions == {"append_note": "allow"}
    assert "calculate" not in [t["name"] for t in tab.registry.function_tools()]
    assert not tab.enabled_boxes["read_clipboard"].isEnabled()  # no clipboard given: not available


def test_tool_choice_is_offered_and_stored(tab):
    texts = [tab.choice.itemText(i) for i in range(tab.choice.count())]
    assert texts[:3] == ["Let the assistant decide", "Never use tools", "Always use a tool"]
    tab.choice.setCurrentIndex(tab.choice.findData("current_time"))
    assert tab.store.settings.tool_choice == "current_time"
    assert tab.registry.tool_choice() == {"type": "function", "name": "current_time"}


def test_edit_creates_the_file_and_reload_lists_tools_and_broken_entries(tab, tmp_path):
    path = tab.edit_file()
    assert tab.opened == [path] and path.read_text().startswith("# Parley user tools")
    path.write_text(textwrap.dedent("""\
        [[tool]]
        name = "weather"
        type = "http"
        description = "Weather for a city."
        url = "https://api.example.com/weather?city={city}"
        [tool.params.city]
        type = "string"

        [[tool]]
        name = "broken"
        type = "http"
        description = "Broken."
        url = "https://{host}/x"
        """))
    loaded = tab.reload()
    assert [e.name for e in loaded.entries] == ["weather", "broken"]
    assert "weather" in tab.enabled_boxes and "broken" not in tab.enabled_boxes
    [label] = tab.problem_labels
    assert label.text() == ("tools.toml:13: tool “broken”, field “url”: placeholders are allowed in the path and "
                            "query only, never in the host")
    assert [t["name"] for t in tab.registry.function_tools()][-1] == "weather"


def test_an_mcp_server_is_added_with_its_token_in_the_keyring_and_removed(tab, qtbot):
    dialog = tab.add_server()
    dialog.label.setText("docs")
    dialog.url.setText("http://docs.example.com/mcp")
    dialog.token_name.setText("docs-token")
    dialog.token.setText("tok-123456789")
    dialog.save()
    assert "must use https" in dialog.problem.text() and tab.store.settings.mcp_servers == ()
    dialog.url.setText("https://docs.example.com/mcp")
    dialog.save()
    assert tab.store.settings.mcp_servers == (McpServerConfig(label="docs", url="https://docs.example.com/mcp",
                                                              token_name="docs-token"),)
    assert tab.secrets.get("docs-token") == "tok-123456789"
    tools, problems = tab.registry.session_tools()
    assert tools[-1]["authorization"] == "tok-123456789" and problems == []
    assert tab.mcp_list.count() == 1 and tab.mcp_list.item(0).text().startswith("docs — https://docs.example.com/mcp")
    tab.mcp_list.setCurrentRow(0)
    tab.remove_server()
    assert tab.store.settings.mcp_servers == () and tab.mcp_list.count() == 0


def test_an_mcp_server_without_its_token_is_explained(tab):
    tab.registry.with_mcp_servers([McpServerConfig(label="cal", url="https://cal.example.com/mcp", token_name="cal")])
    tab.rebuild()
    assert [label.text() for label in tab.mcp_problems] == [
        "MCP server “cal” is not offered: its token “cal” is not in the keyring; set it in the Tools tab"]


def test_the_activity_strip_shows_elapsed_time_and_cancels_by_call_id(qtbot):
    now = [100.0]
    cancelled: list[str] = []
    strip = ToolActivityStrip(cancelled.append, clock=lambda: now[0])
    qtbot.addWidget(strip)
    strip.on_activity(ToolActivity("c1", "weather", "Weather", "approval", 98.0))
    assert strip.isVisibleTo(None) or not strip.isHidden()
    assert strip.texts() == ["Weather: waiting for your permission · 2 s"]
    strip.on_activity(ToolActivity("c1", "weather", "Weather", "running", 98.0))
    now[0] = 105.0
    strip._refresh()
    assert strip.texts() == ["Weather: running · 7 s"]
    [(_, _, button, _)] = strip._rows.values()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert cancelled == ["c1"]
    strip.on_activity(ToolActivity("c1", "weather", "Weather", "finished", 98.0))
    assert strip.texts() == [] and strip.isHidden()


def test_a_secret_a_user_tool_needs_is_flagged_and_can_be_set(tab):
    tab.tools_file.parent.mkdir(parents=True, exist_ok=True)
    tab.tools_file.write_text(textwrap.dedent("""\
        [[tool]]
        name = "weather"
        type = "http"
        description = "Weather."
        url = "https://api.example.com/weather"
        [tool.headers]
        Authorization = "Bearer {secret:weather-token}"
        """))
    tab.reload()
    button = tab.secret_buttons["weather-token"]
    assert button.text() == "Set…"
    dialog = tab.ask_secret("weather-token")
    dialog.setTextValue("tok-weather-42")
    dialog.accept()
    assert tab.secrets.get("weather-token") == "tok-weather-42"
    assert tab.secret_buttons["weather-token"].text() == "Replace…"
