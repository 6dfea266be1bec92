"""Replaces pyinstaller-hooks-contrib's hook for ``webrtcvad``, which asks for the metadata of a
distribution called ``webrtcvad``; Parley installs it as ``webrtcvad-wheels`` (the module reads its
version from that name, and copes without it)."""

from PyInstaller.utils.hooks import copy_metadata

try:
    datas = copy_metadata("webrtcvad-wheels")
except Exception:  # noqa: BLE001 - another distribution of the module: it still works without
    datas = []
