"""Endpoints are added and edited in the app: Azure, custom servers, ephemeral keys."""

from __future__ import annotations

from desktop_app.settings.profiles import AzureProfile, LocalProfile
from desktop_app.settings.store import SettingsStore
from desktop_app.ui.dialogs.endpoint_dialog import EndpointDialog


def make(qtbot, tmp_path):
    store = SettingsStore(tmp_path / "settings.ini")
    dialog = EndpointDialog(store)
    qtbot.addWidget(dialog)
    return store, dialog


def test_an_azure_endpoint_is_added_saved_and_connects_with_its_deployment(qtbot, tmp_path):
    store, dialog = make(qtbot, tmp_path)
    dialog._add()
    dialog.name.setText("Work Azure")
    dialog.kind.setCurrentIndex(dialog.kind.findData("azure"))
    assert dialog.inputs["resource"].isVisibleTo(dialog) and not dialog.inputs["url"].isVisibleTo(dialog)
    dialog.inputs["resource"].setText("contoso")
    dialog.inputs["deployment"].setText("rt-prod")
    dialog.save()
    assert dialog.result() == EndpointDialog.DialogCode.Accepted
    azure = next(p for p in store.settings.profiles if p.name == "Work Azure")
    assert isinstance(azure, AzureProfile)
    target = azure.connect_target("0123456789abcdef0123456789abcdef", "gpt-realtime-2.1")
    assert target.url == "wss://contoso.openai.azure.com/openai/v1/realtime?model=rt-prod"
    assert dict(target.headers) == {"api-key": "0123456789abcdef0123456789abcdef"}
    reloaded = SettingsStore(tmp_path / "settings.ini").settings.profiles
    assert [p.name for p in reloaded] == [p.name for p in store.settings.profiles]


def test_an_invalid_custom_url_is_explained_and_nothing_is_saved(qtbot, tmp_path):
    store, dialog = make(qtbot, tmp_path)
    before = store.settings.profiles
    dialog._add()
    dialog.name.setText("My server")
    dialog.kind.setCurrentIndex(dialog.kind.findData("custom"))
    dialog.inputs["url"].setText("http://example.test/realtime")
    dialog.save()
    assert "ws://" in dialog.problem.text()
    assert dialog.result() != EndpointDialog.DialogCode.Accepted
    assert store.settings.profiles == before
    dialog.inputs["url"].setText("ws://127.0.0.1:8765/v1/realtime")
    dialog.save()
    assert any(p.name == "My server" for p in store.settings.profiles)


def test_the_built_in_offline_demo_cannot_be_edited_or_removed(qtbot, tmp_path):
    store, dialog = make(qtbot, tmp_path)
    row = next(i for i, p in enumerate(dialog.profiles) if isinstance(p, LocalProfile))
    dialog.list.setCurrentRow(row)
    assert not dialog.remove_button.isEnabled() and not dialog.name.isEnabled()
    dialog._remove()
    assert any(isinstance(p, LocalProfile) for p in dialog.profiles)


def test_the_profile_menu_offers_edit_endpoints_as_an_action(qtbot):
    from desktop_app.ui.theme import LIGHT
    from desktop_app.ui.widgets.connection_bar import EDIT_ENDPOINTS, ConnectionBar

    bar = ConnectionBar(LIGHT)
    qtbot.addWidget(bar)
    bar.set_profiles(["OpenAI", "Local server"], "Local server")
    chosen = []
    bar.profile_chosen.connect(chosen.append)
    with qtbot.waitSignal(bar.endpoints_requested, timeout=1000):
        index = bar.profile.findText(EDIT_ENDPOINTS)
        bar.profile.setCurrentIndex(index)
        bar.profile.activated.emit(index)
    assert bar.profile.currentText() == "Local server" and chosen == []


def test_the_audio_panel_offers_the_audio_modes_and_room_tuning(qtbot):
    from desktop_app.ui.theme import LIGHT
    from desktop_app.ui.widgets.devices_panel import DevicesPanel

    panel = DevicesPanel(LIGHT)
    qtbot.addWidget(panel)
    panel.set_audio_mode("headset")
    assert panel.mode.currentData() == "headset"
    with qtbot.waitSignal(panel.mode_chosen, timeout=1000) as chosen:
        panel.mode.setCurrentIndex(panel.mode.findData("speakers"))
        panel.mode.activated.emit(panel.mode.currentIndex())
    assert chosen.args == ["speakers"]
    with qtbot.waitSignal(panel.tune_requested, timeout=1000):
        panel.tune.click()
    panel.set_audio_mode("ducking", aec_available=False)
    assert "could not load" in panel.mode_note.text()


def test_each_endpoint_chooses_its_transport_and_the_choice_is_saved(qtbot, tmp_path):
    store, dialog = make(qtbot, tmp_path)
    dialog._add()
    dialog.name.setText("Work Azure")
    dialog.kind.setCurrentIndex(dialog.kind.findData("azure"))
    dialog.inputs["resource"].setText("contoso")
    assert dialog.transport.currentData() == "websocket"  # the default
    dialog.transport.setCurrentIndex(dialog.transport.findData("webrtc"))
    local_row = next(i for i, p in enumerate(dialog.profiles) if isinstance(p, LocalProfile))
    dialog.list.setCurrentRow(local_row)  # keeps the Azure edits
    assert dialog.transport.isEnabled() and not dialog.name.isEnabled()  # the demo: only its transport
    dialog.transport.setCurrentIndex(dialog.transport.findData("webrtc"))
    dialog.save()
    reloaded = {p.name: p for p in SettingsStore(tmp_path / "settings.ini").settings.profiles}
    assert reloaded["Work Azure"].transport == "webrtc" and reloaded["Local server"].transport == "webrtc"
    assert all(p.transport == "websocket" for n, p in reloaded.items() if n not in ("Work Azure", "Local server"))


def test_without_the_webrtc_extra_the_choice_is_disabled_and_says_why(qtbot, tmp_path, monkeypatch):
    from desktop_app.ui.dialogs import endpoint_dialog

    monkeypatch.setattr(endpoint_dialog, "webrtc_unavailable", lambda: "WebRTC needs the optional aiortc package.")
    store, dialog = make(qtbot, tmp_path)
    item = dialog.transport.model().item(dialog.transport.findData("webrtc"))
    assert not item.isEnabled() and "aiortc" in item.toolTip()
    assert "aiortc" in dialog.transport_note.text() and dialog.transport_note.isVisibleTo(dialog)
