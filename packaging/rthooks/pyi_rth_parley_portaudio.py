"""PyInstaller runtime hook: make ``sounddevice`` load the PortAudio library shipped in the bundle.

sounddevice asks ``ctypes.util.find_library("portaudio")``. Frozen on Linux that answers from the
system (``ldconfig``) or not at all (it falls back to ``gcc``/``ld``, absent on most desktops), so
the bundled ``libportaudio.so.2`` would be ignored — or PortAudio reported missing on a machine
without ``libportaudio2``. This hook answers with the bundled file whenever there is one.
(On Windows and macOS sounddevice ships and finds its own copy; this hook then does nothing.)
"""


def _pyi_rthook():
    import ctypes.util
    import glob
    import os
    import sys

    bundled = sorted(glob.glob(os.path.join(sys._MEIPASS, "libportaudio.so*")))
    if not bundled:
        return
    original = ctypes.util.find_library

    def find_library(name):
        if name == "portaudio":
            return bundled[0]
        return original(name)

    ctypes.util.find_library = find_library


_pyi_rthook()
del _pyi_rthook
