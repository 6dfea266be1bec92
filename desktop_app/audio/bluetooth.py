"""Bluetooth headsets and their call profile: warn before the microphone drags a headset out of
its high-quality profile, and offer a better microphone.

A Bluetooth headset plays music in A2DP (stereo, 44.1/48 kHz) but has no microphone there; using
its microphone switches the whole headset to the call profile (HSP/HFP: mono, 8–16 kHz), so the
assistant's voice suddenly sounds like a phone line. The sound server says which bus a device is
on (``device.bus = bluetooth``) and which profile its card uses now.
"""

from __future__ import annotations

from desktop_app.audio.devices import DeviceInfo

#: Card profiles that are the call profile already (PipeWire and PulseAudio spellings).
CALL_PROFILES = ("headset-head-unit", "headset_head_unit", "handsfree_head_unit", "hfp", "hsp", "audio-gateway")


def in_call_profile(profile: str) -> bool:
    return any(profile.startswith(name) or name in profile for name in CALL_PROFILES)


def better_microphone(devices: list[DeviceInfo]) -> DeviceInfo | None:
    """A microphone that is not Bluetooth: the built-in one first, then any on the computer."""
    usable = [d for d in devices if d.has("input") and not d.monitor and d.transport != "bluetooth"]
    for rank in (lambda d: d.form_factor == "internal", lambda d: d.transport == "pci",
                 lambda d: d.is_default_input, lambda d: True):
        for device in usable:
            if rank(device):
                return device
    return None


def call_profile_warning(mic: DeviceInfo, devices: list[DeviceInfo]) -> tuple[str, DeviceInfo | None] | None:
    """``(sentence, alternative)`` when opening ``mic`` switches a headset to its call profile, else None."""
    if mic.transport != "bluetooth" or mic.monitor or in_call_profile(mic.profile):
        return None
    other = better_microphone(devices)
    sentence = (f"Using the microphone of “{mic.name}” switches the headset to its call profile: it will sound "
                "like a phone line while Parley listens.")
    if other is not None:
        sentence += f" Use “{other.name}” as the microphone instead?"
    return sentence, other
