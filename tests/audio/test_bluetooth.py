"""The Bluetooth call-profile warning (the logic; no headset is needed)."""

from __future__ import annotations

from desktop_app.audio.bluetooth import better_microphone, call_profile_warning, in_call_profile
from desktop_app.audio.devices import DeviceInfo


def source(name: str, transport: str = "", profile: str = "", form: str = "", monitor: bool = False,
           default: bool = False) -> DeviceInfo:
    return DeviceInfo(1, name, f"pulse:{name}", "PulseAudio", 1, 0, 48000.0, is_default_input=default,
                      server_name=name, transport=transport, profile=profile, form_factor=form, monitor=monitor)


HEADSET_MIC = source("WH-1000XM4", "bluetooth", "a2dp-sink")
LAPTOP_MIC = source("Built-in Audio Analog Stereo", "pci", "output:analog-stereo+input:analog-stereo", "internal")
USB_MIC = source("Blue Yeti", "usb", default=True)
MONITOR = source("Monitor of WH-1000XM4", "bluetooth", "a2dp-sink", monitor=True)


def test_a_headset_in_a2dp_warns_and_offers_the_laptop_microphone():
    sentence, other = call_profile_warning(HEADSET_MIC, [HEADSET_MIC, MONITOR, USB_MIC, LAPTOP_MIC])
    assert other == LAPTOP_MIC
    assert sentence == ("Using the microphone of “WH-1000XM4” switches the headset to its call profile: it will sound "
                        "like a phone line while Parley listens. Use “Built-in Audio Analog Stereo” as the microphone "
                        "instead?")


def test_without_a_laptop_microphone_another_non_bluetooth_one_is_offered():
    _sentence, other = call_profile_warning(HEADSET_MIC, [HEADSET_MIC, MONITOR, USB_MIC])
    assert other == USB_MIC


def test_no_alternative_still_warns():
    sentence, other = call_profile_warning(HEADSET_MIC, [HEADSET_MIC, MONITOR])
    assert other is None and sentence.endswith("while Parley listens.")


def test_no_warning_for_wired_mics_monitors_or_a_headset_already_in_its_call_profile():
    assert call_profile_warning(USB_MIC, [USB_MIC]) is None
    assert call_profile_warning(MONITOR, [MONITOR, USB_MIC]) is None
    for profile in ("headset-head-unit", "headset_head_unit", "handsfree_head_unit", "headset-head-unit-msbc"):
        assert in_call_profile(profile)
        assert call_profile_warning(source("H", "bluetooth", profile), [USB_MIC]) is None
    assert not in_call_profile("a2dp-sink-aac")


def test_monitors_and_bluetooth_are_never_the_better_microphone():
    assert better_microphone([HEADSET_MIC, MONITOR]) is None
