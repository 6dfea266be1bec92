"""The committed icons match their SVG, and the check that says so fails when they do not (an edited
SVG, a hand-updated hash, a retouched or missing file) yet tolerates another machine's rendering noise;
the .ico and .icns hold the sizes each platform asks for."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.test_metadata import PACKAGING, ROOT  # also puts packaging/ on sys.path (make_icons)


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
