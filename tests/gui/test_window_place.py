"""The window (and the mini window) come back where they were: size and screen, and onto a screen
that still exists when that one is gone. Offscreen with configured screens, in a subprocess (the
test process has one offscreen platform with one screen)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREEN = {"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}


def run(tmp_path: Path, mode: str, screens: list[dict]) -> dict[str, list[str]]:
    config = tmp_path / f"screens-{len(screens)}.json"
    config.write_text(json.dumps({"screens": [{**SCREEN, **s} for s in screens]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}", PYTHONPATH=str(ROOT),
               PARLEY_HOME=str(tmp_path / "home"))
    out = subprocess.run([sys.executable, "tests/gui/window_place_probe.py", mode, str(tmp_path / "settings.ini")],
                         env=env, capture_output=True, text=True, timeout=90, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines() if line.split()}


TWO = [{"name": "left", "x": 0, "y": 0, "width": 1280, "height": 800},
       {"name": "right", "x": 1280, "y": 0, "width": 1920, "height": 1080}]


def test_the_window_comes_back_on_its_screen_with_its_size(tmp_path):
    placed = run(tmp_path, "place", TWO)
    assert placed["window"][0] == "right"
    shown = run(tmp_path, "show", TWO)
    assert shown["window"] == placed["window"]  # same screen, place and size
    assert shown["mini"][0] == "right" and int(shown["mini"][1]) > 2800


def test_a_screen_that_is_gone_puts_the_window_on_one_that_is_there(tmp_path):
    run(tmp_path, "place", TWO)
    shown = run(tmp_path, "show", TWO[:1])
    name = shown["window"][0]
    x, y, width, _height = map(int, shown["window"][1:])
    assert name == "left" and 0 <= x and x + width <= 1280 and 0 <= y < 800  # its title bar can be grabbed
    assert shown["mini"][0] == "left" and int(shown["mini"][1]) < 1280
