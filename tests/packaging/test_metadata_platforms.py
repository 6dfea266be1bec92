"""Each platform's packaging files are well-formed and say what the platform needs: the Linux desktop
entry, the macOS Info.plist and entitlements, the Inno Setup script, the CI workflow (all three
platforms, artifacts uploaded), the tarball's menu-entry installer and the AppImage recipe."""

from __future__ import annotations

import configparser
import os
import plistlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.packaging.test_metadata import PACKAGING, ROOT


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
