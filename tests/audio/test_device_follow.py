"""The decisions taken when devices come and go (no devices needed)."""

from __future__ import annotations

import dataclasses

from desktop_app.audio.device_follow import DeviceFollower, Move
from desktop_app.audio.devices import DeviceInfo


def sink(name: str, default: bool = False, server: bool = True) -> DeviceInfo:
    return DeviceInfo(1, name.title(), f"pulse:{name}" if server else f"ALSA:{name}", "PulseAudio" if server else "ALSA",
                      0, 2, 48000.0, is_default_output=default, server_name=name if server else "")


LAPTOP = sink("laptop", default=True)
HEADSET = sink("headset")


def test_a_working_stream_is_left_alone():
    follower = DeviceFollower("output")
    assert follower.update("pulse:headset", HEADSET, [LAPTOP, HEADSET]) is None
    assert follower.update("pulse:headset", HEADSET, [LAPTOP, HEADSET, sink("new")]) is None  # another device came


def test_the_chosen_server_device_goes_and_comes_back():
    follower = DeviceFollower("output")
    follower.update("pulse:headset", HEADSET, [LAPTOP, HEADSET])
    gone = follower.update("pulse:headset", HEADSET, [LAPTOP])
    assert gone == Move(None, False, "The speaker “Headset” was disconnected; using “Laptop” until it is back.",
                        "warning")  # the server already moved the stream: nothing is reopened
    assert follower.update("pulse:headset", HEADSET, [LAPTOP]) is None  # said once
    back = follower.update("pulse:headset", HEADSET, [LAPTOP, HEADSET])
    assert back == Move("pulse:headset", False, "The speaker “Headset” is back; using it again.",
                        server_name="headset")  # moved back on the server, not reopened
    assert follower.update("pulse:headset", HEADSET, [LAPTOP, HEADSET]) is None


def test_a_failed_portaudio_device_is_reopened_on_the_default_and_back():
    usb = sink("usb", server=False)
    card = sink("card", default=True, server=False)
    follower = DeviceFollower("output")
    gone = follower.update("ALSA:usb", usb, [card], failed=True)
    assert gone is not None and gone.reopen and gone.target is None and "“Card”" in gone.sentence
    back = follower.update("ALSA:usb", card, [card, usb])
    assert back is not None and back.reopen and back.target == "ALSA:usb"


def test_nothing_open_means_nothing_to_say():
    follower = DeviceFollower("input")
    assert follower.update("pulse:headset", None, [LAPTOP]) is None


def test_no_device_left_is_said_plainly():
    follower = DeviceFollower("output")
    follower.update("pulse:headset", HEADSET, [HEADSET])
    move = follower.update("pulse:headset", HEADSET, [])
    assert move is not None and move.sentence == "The speaker “Headset” was disconnected and no other speaker is available."


def test_following_the_default():
    follower = DeviceFollower("output")
    followed = dataclasses.replace(LAPTOP, server_name="")  # opened without a target: the server follows
    assert follower.update("", followed, [LAPTOP, HEADSET]) is None
    now_headset = [dataclasses.replace(LAPTOP, is_default_output=False), dataclasses.replace(HEADSET, is_default_output=True)]
    move = follower.update("", followed, now_headset)
    assert move == Move(None, False, "Following the system default: now “Headset”.")
    # A PortAudio stream on the old default is reopened on the new one.
    card, usb = sink("card", default=True, server=False), sink("usb", server=False)
    pa = DeviceFollower("output")
    assert pa.update("", card, [card, usb]) is None
    move = pa.update("", card, [dataclasses.replace(card, is_default_output=False), dataclasses.replace(usb, is_default_output=True)])
    assert move is not None and move.reopen and move.target is None
