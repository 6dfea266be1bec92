"""The entry points start, report their version and exit cleanly."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from desktop_app import __version__
from desktop_app.app import main


def test_version_flag_prints_version_and_exits_zero(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert capsys.readouterr().out.strip() == f"parley {__version__}"


def test_module_entry_point_reports_version():
    out = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--version"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0
    assert out.stdout.strip() == f"parley {__version__}"


def test_gui_starts_and_quits_cleanly_offscreen():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--quit-after", "0.3"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert out.returncode == 0, out.stderr
    assert "window shown" in out.stderr
    assert "shut down cleanly" in out.stderr
    assert "Traceback" not in out.stderr


# --- parley --url URL [--model M]: a temporary endpoint for this run (issue #20) --------------------


def _parsed(argv):
    from desktop_app.app import apply_run_override, build_parser

    parser = build_parser()
    args = parser.parse_args(argv)
    apply_run_override(parser, args)
    return args


def test_url_and_model_make_a_temporary_profile_that_is_never_saved(tmp_path):
    from desktop_app.settings.launch import CommandLineProfile
    from desktop_app.settings.store import SettingsStore

    args = _parsed(["--url", "ws://127.0.0.1:9000/v1/realtime?model=gpt-realtime-2&x=1", "--model", "gpt-realtime-3"])
    override = args.run_override
    assert isinstance(override.profile, CommandLineProfile)
    assert override.profile.url == "ws://127.0.0.1:9000/v1/realtime?x=1" and override.model == "gpt-realtime-3"
    assert override.profile.name == "Command line · 127.0.0.1:9000"
    store = SettingsStore(tmp_path / "settings.ini")
    store.update(voice="ash")
    saved = store.settings
    run = override.apply(saved)
    assert run.profile() == override.profile and run.model == "gpt-realtime-3" and run.voice == "ash"
    target = run.profile().connect_target(None, run.model)
    assert target.url == "ws://127.0.0.1:9000/v1/realtime?x=1&model=gpt-realtime-3" and target.headers == {}
    assert store.settings is saved and SettingsStore(tmp_path / "settings.ini").settings == saved
    assert "Command line" not in (tmp_path / "settings.ini").read_text()


def test_the_urls_own_model_is_used_when_no_model_is_given():
    override = _parsed(["--url", "wss://api.openai.com/v1/realtime?model=gpt-realtime-2.1-mini"]).run_override
    assert override.model == "gpt-realtime-2.1-mini" and override.profile.url == "wss://api.openai.com/v1/realtime"
    assert override.profile.key_env_var == "OPENAI_API_KEY"
    target = override.profile.connect_target("sk-test-0123456789abcdef", override.model)
    assert target.headers == {"Authorization": "Bearer sk-test-0123456789abcdef"}
    bare = _parsed(["--url", "ws://localhost:8765/v1/realtime"]).run_override
    assert bare.model is None  # the saved model stays
    assert _parsed([]).run_override.profile is None


def test_headless_reads_the_model_from_the_url_so_model_is_written_into_it():
    args = _parsed(["--headless", "--url", "ws://127.0.0.1:9/v1/realtime?model=a", "--model", "gpt-live-1"])
    assert args.url == "ws://127.0.0.1:9/v1/realtime?model=gpt-live-1"


@pytest.mark.parametrize(("argv", "sentence"), [
    (["--url", "http://example.com/v1/realtime"], "--url must be a ws:// or wss:// address"),
    (["--url", "ws:///v1/realtime"], "--url must be a ws:// or wss:// address"),
    (["--url", "ws://h/v1/realtime", "--model", "gpt realtime"], "is not a model id"),
])
def test_a_bad_url_or_model_is_a_usage_error_with_one_sentence(argv, sentence, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert sentence in capsys.readouterr().err
