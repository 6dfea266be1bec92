"""Types and lint are part of the suite (issue #15 item 5): mypy — strict on ``realtime/``,
``controller/``, ``transport/`` and ``audio/``, normal elsewhere (``[tool.mypy]`` in pyproject.toml)
— and ruff with the rules the code's ``noqa`` comments name, so no such comment points at a tool
nobody runs and every ``type: ignore`` is still needed (``warn_unused_ignores``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.timeout(300)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=280)


def test_mypy_finds_no_type_errors():
    result = _run("mypy", "--no-error-summary", "--cache-dir", str(ROOT / ".mypy_cache"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_finds_no_lint_errors_and_no_needless_noqa():
    result = _run("ruff", "check", "--no-cache", "--output-format", "concise", "desktop_app")
    assert result.returncode == 0, result.stdout + result.stderr
