"""Issue #22, devices that come and go, on the PipeWire room with the window users run while a
conversation streams: a new device is listed without Refresh and nothing is reopened; the chosen
speaker disappears → the banner says the default is used (the server moved the stream, the
conversation never stopped); it comes back → the stream is moved back; "System default" follows
the default when it changes."""

from __future__ import annotations

import asyncio

import pytest

from desktop_app.audio.engine import AudioEngine
from desktop_app.audio.sound_server import own_streams
from desktop_app.ui.desktop import DesktopShell
from tests.controller.peer import ScriptedPeer
from tests.gui.harness import Gui, wait_until

pytestmark = [pytest.mark.gui, pytest.mark.audio]


def appends(peer: ScriptedPeer) -> int:
    return sum(1 for f in peer.all_frames if f["type"] == "input_audio_buffer.append")


async def streaming(peer: ScriptedPeer, engine: AudioEngine) -> None:
    """The microphone still reaches the assistant and the speaker still runs its callbacks."""
    sent, played = appends(peer), engine.playback.callbacks if engine.playback is not None else 0
    await wait_until(lambda: appends(peer) >= sent + 10 and engine.playback is not None
                     and engine.playback.callbacks > played, 5)


def notice(gui: Gui) -> str:
    return gui.view.notice.sentence if gui.view.notice is not None else ""


def sinks_of_ours() -> set[str]:
    return {sink for _index, sink in own_streams("output")}


async def test_a_headset_comes_goes_and_comes_back_while_the_conversation_streams(
        qloop, qtbot, tmp_path, pipewire_session):
    engine = AudioEngine(asyncio.get_running_loop())
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, engine=engine,
                                           settings={"turn_mode": "hands_free", "audio_mode": "headset"}) as gui:
        shell = gui.window.findChild(DesktopShell)
        assert shell is not None and shell.devices._watch is not None and shell.devices._watch.how == "server"
        await gui.connect()
        await wait_until(lambda: engine.playback is not None and engine.capture is not None, 5)
        playback, capture = engine.playback, engine.capture
        await streaming(peer, engine)
        outputs = gui.window.devices_panel.outputs

        headset = pipewire_session.add_sink("headset")
        await wait_until(lambda: outputs.findData("pulse:headset") >= 0, 5)  # listed; nobody pressed Refresh
        assert engine.playback is playback and engine.capture is capture  # nothing was reopened
        await streaming(peer, engine)

        outputs.setCurrentIndex(outputs.findData("pulse:headset"))
        outputs.activated.emit(outputs.currentIndex())  # the person picks it
        await wait_until(lambda: sinks_of_ours() == {"headset"}, 5)
        assert gui.store.settings.output_device == "pulse:headset"
        on_headset = engine.playback
        await streaming(peer, engine)

        pipewire_session.remove_sink(headset)
        await wait_until(lambda: "was disconnected" in notice(gui), 5)
        assert notice(gui) == "The speaker “headset Audio/Sink sink” was disconnected; using “ParleyTestSink” until it is back."
        await wait_until(lambda: sinks_of_ours() == {"vsink"}, 5)  # the server moved it to the default
        assert engine.playback is on_headset and engine.capture is capture  # the conversation never stopped
        await streaming(peer, engine)
        assert outputs.findData("pulse:headset") >= 0  # still the choice, shown as not connected
        assert "not connected" in outputs.itemText(outputs.findData("pulse:headset"))

        headset = pipewire_session.add_sink("headset")
        try:
            await wait_until(lambda: "is back" in notice(gui), 5)
            await wait_until(lambda: sinks_of_ours() == {"headset"}, 5)  # moved back, not reopened
            assert engine.playback is on_headset
            await streaming(peer, engine)
        finally:
            pipewire_session.remove_sink(headset)
        await wait_until(lambda: sinks_of_ours() == {"vsink"}, 5)


async def test_system_default_follows_the_default_when_it_changes(qloop, qtbot, tmp_path, pipewire_session):
    engine = AudioEngine(asyncio.get_running_loop())
    async with ScriptedPeer() as peer, Gui(tmp_path, peer, engine=engine,
                                           settings={"turn_mode": "hands_free", "audio_mode": "headset"}) as gui:
        await gui.connect()
        await wait_until(lambda: engine.playback is not None, 5)
        playback = engine.playback
        await streaming(peer, engine)
        speakers = pipewire_session.add_sink("speakers")
        try:
            pipewire_session.pactl("set-default-sink", "speakers")
            await wait_until(lambda: "Following the system default" in notice(gui), 5)
            await wait_until(lambda: sinks_of_ours() == {"speakers"}, 5)  # the server moved our stream
            assert engine.playback is playback
            await streaming(peer, engine)
        finally:
            pipewire_session.pactl("set-default-sink", "vsink")
            pipewire_session.remove_sink(speakers)


async def test_a_bluetooth_microphone_is_flagged_and_the_laptop_one_offered(qloop, qtbot, tmp_path, pipewire_session):
    """A headset's microphone (a source the server says is on the Bluetooth bus, in its music profile)
    gets the call-profile warning, and the offered built-in microphone is one click away."""
    modules = [pipewire_session.pactl("load-module", "module-remap-source", "master=vsink.monitor", f"source_name={name}",
                                      f"source_properties={props}").strip()
               for name, props in (("laptopmic", "device.form_factor=internal"), ("btmic", "device.bus=bluetooth"))]
    engine = AudioEngine(asyncio.get_running_loop())
    try:
        async with ScriptedPeer() as peer, Gui(tmp_path, peer, engine=engine,
                                               settings={"turn_mode": "hands_free", "audio_mode": "headset"}) as gui:
            await gui.connect()
            panel = gui.window.devices_panel
            await wait_until(lambda: panel.inputs.findData("pulse:btmic") >= 0, 5)
            assert panel.alternative.isHidden()
            panel.input_chosen.emit("pulse:btmic")
            await wait_until(lambda: "call profile" in notice(gui), 5)
            assert "switches the headset to its call profile" in panel.status.text()
            assert not panel.alternative.isHidden() and panel.alternative.property("device") == "pulse:laptopmic"
            panel.alternative.click()
            await wait_until(lambda: gui.store.settings.input_device == "pulse:laptopmic", 5)
            await wait_until(lambda: engine.capture is not None and engine.capture.device is not None
                             and engine.capture.device.server_name == "laptopmic", 5)
            assert panel.alternative.isHidden()
            await streaming(peer, engine)
    finally:
        for module in modules:
            pipewire_session.pactl("unload-module", module)
