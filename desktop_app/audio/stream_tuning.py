"""How the audio streams are opened and kept fed: the microphone's block per echo mode, the GIL
switch interval the callbacks need, and the garbage collector kept off the objects alive at start-up.
(The engine applies them at each start; split from it to keep it short.)"""

from __future__ import annotations

import atexit
import gc

from desktop_app.log import get_logger

log = get_logger("audio")

# PortAudio's callback threads need the GIL every 20 ms. With CPython's default 5 ms switch interval,
# busy Python code on the loop (layout, a big JSON parse) keeps them waiting long enough to starve the
# device: measured 13 device underruns in 12 s with the loop blocked 40 ms of every 100 ms, none at 2 ms.
GIL_SWITCH_INTERVAL_S = 0.002
# The microphone's block (issue #24). 10 ms blocks cut ADC → callback from ~20 to 7–11 ms p50 (PortAudio
# then reports 10 ms input latency on PipeWire's ALSA device instead of 20), but with the echo canceller
# the room test's echo path jumped under it 26–176 times per barge-in attempt against 1–30 with 20 ms
# (re-pairings + re-warm-ups, as the test counts them) and the onset pre-roll lost the first word with
# it (load ~3.3 both). Re-measured with the loop woken once per 20 ms frame (so the canceller is fed as
# with 20 ms blocks), the room test under one busy loop: 7, 4, 0, 2, 1 jumps per attempt and 2 of 5
# attempts lost the first word, against 1, 2, 1, 1, 0 and none with 20 ms blocks; with the callback
# clock's creep made per second (it was per callback: twice as fast at 10 ms), 5, 0, 9, 3, 6, 0, 0 and
# 3 of 7 lost — not the cause. So the canceller keeps 20 ms until its pairing tolerates 10 ms periods;
# without it (headset, ducking) nothing pairs blocks and the microphone takes 10 ms — the loop still
# wakes once per 20 ms frame (:class:`~.capture.Capture`), so the CPU does not rise.
CAPTURE_BLOCK_MS = 20.0  # with the echo canceller (speakers mode)
CAPTURE_BLOCK_MS_DIRECT = 10.0  # without it (headset and ducking modes)


def block_for_mode(mode: str) -> float:
    """The microphone's block in ``mode`` (the mode in effect: ``speakers``, ``headset`` or ``ducking``)."""
    return CAPTURE_BLOCK_MS if mode == "speakers" else CAPTURE_BLOCK_MS_DIRECT


_gc_unfreeze_at_exit = False


def freeze_startup_objects() -> int:
    """Move every object alive now out of the garbage collector's reach (each time the streams open).

    The audio callbacks are Python and need the GIL every 20 ms; a full (generation 2) collection
    walks every tracked object while holding it. Measured in the 2-minute echo conversation: one
    56 ms collection over ~85,000 objects — the modules, models and tables loaded before the streams
    opened, alive for the whole run — and the speaker underflowed 50 ms later. Frozen, they are never
    walked again (a frozen object that dies in a cycle is not freed: a few, once per start); what the
    conversation allocates is still collected. Returns how many objects are frozen now."""
    global _gc_unfreeze_at_exit
    gc.collect()
    gc.freeze()
    if not _gc_unfreeze_at_exit:  # at exit everything is the collector's again: extensions shut down clean
        atexit.register(gc.unfreeze)
        _gc_unfreeze_at_exit = True
    frozen = gc.get_freeze_count()
    log.info("= %d objects frozen out of the garbage collector", frozen)
    return frozen
