"""Render ``resources/icons/parley.svg`` into every icon file the platforms want.

    .venv/bin/python packaging/make_icons.py          # rewrite the generated files
    .venv/bin/python packaging/make_icons.py --check  # exit 1 if a generated file is stale

Outputs (all committed, so a build needs no image tools):

* ``resources/icons/hicolor/<N>x<N>/apps/parley.png`` for N in 16…512 — the freedesktop icon theme
  layout, copied as-is into ``/usr/share/icons`` or an AppDir;
* ``resources/icons/parley.png`` (256 px) — the window icon and the AppImage's top-level icon;
* ``resources/icons/parley.ico`` — Windows (16…256, PNG-compressed entries, Vista+);
* ``resources/icons/parley.icns`` — macOS (16…1024, PNG-compressed entries, 10.7+).

Rendering uses Qt's own SVG renderer (QtSvg, part of PySide6-Essentials) on a QGuiApplication
running offscreen. ICO and ICNS are written here by hand: both are a small header plus the PNGs,
which keeps the output byte-for-byte reproducible (PNG from Qt carries no timestamp).
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
SOURCE = ICONS / "parley.svg"
THEME_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, by pixel size (the @2x types share a size with a 1x one).
ICNS_TYPES = (
    (b"icp4", 16), (b"icp5", 32), (b"icp6", 64), (b"ic07", 128), (b"ic08", 256), (b"ic09", 512),
    (b"ic10", 1024), (b"ic11", 32), (b"ic12", 64), (b"ic13", 256), (b"ic14", 512),
)


def render_png(svg: Path, size: int) -> bytes:
    """The SVG rendered antialiased onto a transparent ``size``×``size`` canvas, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.convertToFormat(QImage.Format.Format_ARGB32).save(buffer, "PNG")
    buffer.close()
    return bytes(data)


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico whose entries are PNGs (a 256 px entry is stored as width/height 0)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        png = pngs[size]
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset)
        blobs += png
        offset += len(png)
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns made of PNG elements."""
    body = b"".join(struct.pack(">4sI", kind, 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES)
    return struct.pack(">4sI", b"icns", 8 + len(body)) + body


def outputs(svg: Path = SOURCE) -> dict[Path, bytes]:
    """Every generated file and its contents."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # QPainter on QImage wants one
    sizes = sorted(set(THEME_SIZES) | set(ICO_SIZES) | {size for _, size in ICNS_TYPES})
    pngs = {size: render_png(svg, size) for size in sizes}
    files = {ICONS / "hicolor" / f"{n}x{n}" / "apps" / "parley.png": pngs[n] for n in THEME_SIZES}
    files[ICONS / "parley.png"] = pngs[256]
    files[ICONS / "parley.ico"] = ico_bytes({n: pngs[n] for n in ICO_SIZES})
    files[ICONS / "parley.icns"] = icns_bytes(pngs)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only verify the committed files are current")
    args = parser.parse_args(argv)
    stale = []
    for path, data in outputs().items():
        if path.is_file() and path.read_bytes() == data:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'} {path.relative_to(ROOT)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
