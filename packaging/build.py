"""Build the Parley bundle with PyInstaller and report what it weighs.

    .venv/bin/python packaging/build.py                    # dist/Parley (+ dist/Parley-<ver>-linux-x86_64.tar.gz)
    .venv/bin/python packaging/build.py --dist /tmp/d --work /tmp/w --archive none

Checks the build tools first (binutils on Linux: PyInstaller and the spec call ``objdump``,
``strip``, ``nm``, ``as``, ``ld``), runs ``pyinstaller packaging/parley.spec``, then prints the
unpacked size, the archive size and the ten biggest contributors. ``make package`` runs this.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "parley.spec"
LINUX_TOOLS = ("objdump", "strip", "nm", "as", "ld", "ldd")


def missing_tools() -> list[str]:
    """Build tools this platform needs that are not on PATH."""
    if not sys.platform.startswith("linux"):
        return []
    return [tool for tool in LINUX_TOOLS if shutil.which(tool) is None]


def bundle_dir(dist: Path) -> Path:
    """Where the bundle lands: the one-dir folder (the .app on macOS), or the one-file executable."""
    if os.environ.get("PARLEY_ONEFILE") == "1":
        return dist / ("parley.exe" if sys.platform == "win32" else "parley")
    return dist / ("Parley.app" if sys.platform == "darwin" else "Parley")


def tree_size(path: Path) -> int:
    """Bytes of all regular files under ``path`` (symlinks not followed, not counted), or of the file."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def top_contributors(root: Path, count: int = 10) -> list[tuple[int, str]]:
    """The biggest items: Qt libraries, plugins and Python packages one by one, other files as they are."""
    groups: dict[str, int] = {}
    internal = root / "_internal" if (root / "_internal").is_dir() else root
    for path in root.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        rel = path.relative_to(internal) if path.is_relative_to(internal) else path.relative_to(root)
        parts = rel.parts
        if parts[:3] == ("PySide6", "Qt", "lib") or parts[0] == "numpy.libs":
            key = "/".join(parts)  # each big Qt/BLAS library on its own line
        elif parts[:3] == ("PySide6", "Qt", "plugins"):
            key = "PySide6/Qt/plugins/"
        elif parts[0] == "PySide6":
            key = "PySide6/ (Python bindings)"
        elif len(parts) > 1:
            key = parts[0] + "/"
        else:
            key = parts[0]
        groups[key] = groups.get(key, 0) + path.stat().st_size
    return sorted(((size, name) for name, size in groups.items()), reverse=True)[:count]


def make_archive(bundle: Path, dist: Path, kind: str) -> Path:
    """Pack the bundle as ``Parley-<version>-<os>-<arch>.tar.gz`` / ``.tar.xz`` beside it."""
    sys.path.insert(0, str(ROOT))
    from desktop_app import __version__

    name = f"Parley-{__version__}-{platform.system().lower()}-{platform.machine().lower()}.{kind}"
    target = dist / name
    mode = {"tar.gz": "w:gz", "tar.xz": "w:xz"}[kind]
    # gzip -6: within 1 % of -9 here at a third of the time.
    with tarfile.open(target, mode, **({"compresslevel": 6} if kind == "tar.gz" else {"preset": 6})) as tar:
        tar.add(bundle, arcname=bundle.name)
    return target


def build(dist: Path, work: Path, archive: str) -> dict:
    """Run PyInstaller and return the figures printed by :func:`report`."""
    missing = missing_tools()
    if missing:
        raise SystemExit(
            f"packaging needs {', '.join(missing)} (binutils): sudo apt-get install -y binutils"
        )
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(dist), "--workpath", str(work), str(SPEC)],
        check=True, cwd=ROOT,
    )
    built = time.monotonic() - started
    bundle = bundle_dir(dist)
    if sys.platform.startswith("linux") and bundle.is_dir():  # for tarball users: adds Parley to their menu
        shutil.copy2(ROOT / "packaging" / "linux" / "install-desktop-entry.sh", bundle)
    top = top_contributors(bundle) if bundle.is_dir() else []
    figures = {"bundle": bundle, "seconds": built, "unpacked": tree_size(bundle), "top": top}
    if archive != "none":
        started = time.monotonic()
        figures["archive"] = make_archive(bundle, dist, archive)
        figures["archive_seconds"] = time.monotonic() - started
    return figures


def report(figures: dict) -> str:
    """A short human-readable size report."""
    lines = [
        f"bundle   {figures['bundle']}  built in {figures['seconds']:.0f} s",
        f"unpacked {figures['unpacked'] / 1e6:.1f} MB",
    ]
    if "archive" in figures:
        archive = figures["archive"]
        lines.append(f"archive  {archive.stat().st_size / 1e6:.1f} MB  {archive.name} ({figures['archive_seconds']:.0f} s)")
    lines.append("biggest:")
    lines.extend(f"  {size / 1e6:6.1f} MB  {name}" for size, name in figures["top"])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--work", type=Path, default=ROOT / "build")
    parser.add_argument("--archive", choices=["tar.gz", "tar.xz", "none"],
                        default="tar.gz" if sys.platform.startswith("linux") else "none")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONHASHSEED", "0")  # reproducible bytecode ordering
    print(report(build(args.dist.resolve(), args.work.resolve(), args.archive)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
