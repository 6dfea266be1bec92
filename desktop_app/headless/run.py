"""``parley --headless``: one conversation from files, driven by the same controller as the GUI.

The input WAV is streamed as a microphone would (real time; ``--fast`` as fast as the loop allows),
then silence follows, as from a live microphone. In ``vad`` mode the server's turn detection decides
the turns; in ``ptt`` mode the whole recording is one held push-to-talk press. The run ends when
every answer has finished playing, after a short bounded wait for late user transcriptions.

Exit codes (a contract): 0 done, 2 usage error, 3 auth error, 4 connection/server error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable
from dataclasses import replace
from typing import TYPE_CHECKING

from desktop_app.controller.controller import Controller
from desktop_app.controller.dialects import dialect_for
from desktop_app.controller.ports import FilePort
from desktop_app.controller.states import Conn, Turn
from desktop_app.errors import AuthError, ConfigError, CredentialError, ParleyError
from desktop_app.headless.options import add_arguments  # noqa: F401  (re-exported)
from desktop_app.headless.outputs import EventLog, WavWriter, write_transcript
from desktop_app.headless.tools import headless_tools, tool_calls
from desktop_app.log import get_logger, register_secret
from desktop_app.realtime.models import is_live_model
from desktop_app.realtime.session_config import ServerVad, SessionConfig, Transcription
from desktop_app.settings.launch import RunOverride
from desktop_app.settings.profiles import live_session_url

if TYPE_CHECKING:
    from desktop_app.controller.reconnector import Target
    from desktop_app.local_server.server import LocalServer

log = get_logger("app")

EXIT_OK, EXIT_USAGE, EXIT_AUTH, EXIT_SERVER = 0, 2, 3, 4

#: After the last answer, wait this long at most for user transcriptions still on their way.
LATE_TRANSCRIPT_WAIT_S = 3.0


def run(args: argparse.Namespace) -> int:
    """Run the headless conversation; returns the exit code and prints one line on failure."""
    if args.input is None:
        print("parley: --headless needs --input WAV", file=sys.stderr)
        return EXIT_USAGE
    if not args.input.is_file():
        print(f"parley: input file not found: {args.input}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        return EXIT_SERVER


async def _run(args: argparse.Namespace) -> int:
    local = None
    try:
        target, config, local, transport = _target_and_config(args)
        if local is not None:  # the configured endpoint is the offline demo: run it here, like the GUI
            await local.start()
            target = _local_target(local, config.model)
        wav = WavWriter(args.output) if args.output else None
        port = FilePort(args.input, realtime=not args.fast, on_played=wav.write if wav else None)
    except (ConfigError, CredentialError) as exc:
        print(f"parley: {exc.user_message}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_AUTH
    except (OSError, ValueError, EOFError) as exc:
        print(f"parley: cannot read {args.input}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return await _converse_with_files(args, target, config, port, wav, args.transport or transport)
    finally:
        if local is not None:
            await local.stop()


def _local_target(server: LocalServer, model: str) -> Target:
    async def target() -> tuple[str, dict[str, str]]:
        return (server.live_url if is_live_model(model) else server.url), {}
    return target


async def _converse_with_files(args: argparse.Namespace, target: Target, config: SessionConfig, port: FilePort,
                               wav: WavWriter | None, transport: str) -> int:
    from desktop_app.transport.webrtc_support import transport_factory

    events = EventLog(args.events) if args.events else None
    box, config, left_out = headless_tools(args.tools, config, dialect_for(config.model).traits)
    for sentence in left_out:
        print(f"parley: warning: {sentence}", file=sys.stderr)
    ctl = Controller(target=target, audio=port, config=config, frame_observer=events, max_retries=0,
                     open_transport=transport_factory(transport), tools=box, make_core=dialect_for(config.model))
    code = EXIT_OK
    try:
        code = await asyncio.wait_for(_converse(ctl, port, args.mode), args.timeout)
    except asyncio.TimeoutError:
        print(f"parley: no finished answer within {args.timeout:.0f} s", file=sys.stderr)
        code = EXIT_SERVER
    except (AuthError, CredentialError) as exc:
        print(f"parley: {exc.user_message}", file=sys.stderr)
        code = EXIT_AUTH
    except ParleyError as exc:
        print(f"parley: {exc.user_message}", file=sys.stderr)
        code = EXIT_SERVER
    finally:
        # Nothing is lost: whatever was received is written, whatever the outcome.
        await ctl.close()
        port.stop()
        if args.transcript:
            write_transcript(args.transcript, _turns(ctl), _usage(ctl), tool_calls(ctl) if box else None)
        if wav is not None:
            wav.close()
        if events is not None:
            events.close()
    return code


async def _converse(ctl: Controller, port: FilePort, mode: str) -> int:
    await ctl.connect()
    await _first(ctl.wait_for(lambda: ctl.view.connection is Conn.CONNECTED), ctl.closed_event.wait())
    if ctl.fatal_error:
        return _failure(ctl)
    if mode == "ptt":
        ctl.press_talk()
    await asyncio.wait([port.input_done, asyncio.ensure_future(ctl.closed_event.wait())],
                       return_when=asyncio.FIRST_COMPLETED)
    if mode == "ptt" and not ctl.closed_event.is_set():
        # The button is no finger: held until the press counts (a slip under 150 ms sends nothing).
        await _first(ctl.wait_for(lambda: ctl.view.turn is Turn.USER_SPEAKING), ctl.closed_event.wait())
        ctl.release_talk()
        notice = ctl.view.notice
        if notice is not None and notice.cause == "push_to_talk":  # too little audio to send
            print(f"parley: the recording is too short to send: {notice.sentence}", file=sys.stderr)
            return EXIT_USAGE
    # Done when an answer has finished and nothing more is on its way.
    while not ctl.closed_event.is_set():
        ctl.idle.clear()
        if ctl.responses_finished and ctl.settled:
            break
        await _first(ctl.idle.wait(), ctl.closed_event.wait())
    if ctl.closed_event.is_set():
        return _failure(ctl)
    # User transcriptions may still be on their way: wait for them, boundedly.
    await _first(ctl.wait_for(lambda: all(e.final for e in ctl.view.transcript if e.role == "user"),
                              LATE_TRANSCRIPT_WAIT_S), ctl.closed_event.wait())
    return EXIT_OK


def _failure(ctl: Controller) -> int:
    message = ctl.fatal_error or "The connection closed before the conversation finished."
    print(f"parley: {message}", file=sys.stderr)
    close = ctl.connection.last_close
    auth = ctl.connection.fatal_code == "invalid_api_key" or (close is not None and close.code == 3000)
    return EXIT_AUTH if auth else EXIT_SERVER


async def _first(*aws: Awaitable[object]) -> None:
    """Wait for the first of ``aws`` to finish; cancel the others."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def _target_and_config(args: argparse.Namespace):
    """Endpoint and session config from the arguments, or from the configured profile and key."""
    local, transport = None, "websocket"
    if args.url:
        headers = {}
        key = args.api_key or _env_key()
        if key:
            register_secret(key)
            headers["Authorization"] = f"Bearer {key}"
        model = _model_from_url(args.url)
        url = live_session_url(args.url) if is_live_model(model) else args.url  # Live: the model goes in session.start

        async def target():
            return url, headers
    else:
        target, model, local, transport = _configured_target(args.run_override)
    config = SessionConfig(model=model, transcription=Transcription())
    if args.mode == "ptt":
        config = replace(config, turn_detection=None)
    else:
        config = replace(config, turn_detection=ServerVad(silence_duration_ms=500))
    if args.voice:
        config = replace(config, voice=args.voice)
    if args.instructions is not None:
        config = replace(config, instructions=args.instructions)
    problems = config.problems()
    if problems:
        raise ConfigError(str(problems[0]))
    return target, config, local, transport


def _configured_target(override: RunOverride | None = None):
    """The GUI's endpoint: active profile and its key (keyring or environment); ``--model`` without
    ``--url`` replaces the saved model for this run."""
    from desktop_app.controller.endpoint import make_target
    from desktop_app.settings.profiles import LocalProfile
    from desktop_app.settings.secrets import KeyStore
    from desktop_app.settings.store import SettingsStore

    settings = SettingsStore().settings
    if override is not None:
        settings = override.apply(settings)
    profile = settings.profile()
    if isinstance(profile, LocalProfile):
        from desktop_app.local_server.server import LocalServer

        return None, settings.model, LocalServer(port=0, model=settings.model), profile.transport
    return make_target(profile, KeyStore(), settings.model), settings.model, None, profile.transport


def _env_key() -> str | None:
    import os

    return os.environ.get("OPENAI_API_KEY") or None


def _model_from_url(url: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    from desktop_app.realtime.models import DEFAULT_MODEL

    from desktop_app.realtime.models import DEFAULT_LIVE_MODEL

    parts = urlsplit(url)
    default = DEFAULT_LIVE_MODEL if parts.path.rstrip("/").endswith("/live/sessions") else DEFAULT_MODEL
    return (parse_qs(parts.query).get("model") or [default])[0]


def _turns(ctl: Controller) -> list[dict]:
    # "heard": what was played of an interrupted answer (as the history's export says it), else all of it
    return [{"role": e.role, "item_id": e.item_id, "text": e.text, "truncated": e.truncated,
             "heard": e.heard if e.truncated and e.heard is not None else e.text}
            for e in ctl.transcript() if e.role in ("user", "assistant")]


def _usage(ctl: Controller) -> dict:
    usage = ctl.usage()
    return {"total_tokens": usage.total_tokens, "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens, "responses": usage.responses, "seconds": usage.live_seconds,
            "cost_usd": round(usage.cost(ctl.config.model) or 0.0, 6)}
