"""The listening server: handshake checks, limits and the per-connection reader/writer.

Safe by default: it binds 127.0.0.1 and refuses a non-loopback host without an API key; it answers a
handshake whose ``Origin`` names a web page with HTTP 403 unless that origin is allowed (a browser
tab must not be able to talk to it: cross-site WebSocket hijacking); it caps frame size, concurrent
sessions and per-session event rate.

Like the real service, the upgrade itself always succeeds (101) on the Realtime path; refusals come
as one ``error`` event followed at once by a close (realtime-protocol.md §1.1, §4.3):

* no credentials → ``error`` (code null) + close 3000 ``invalid_request_error``
* a wrong key (``Authorization: Bearer`` or Azure's ``api-key``) → ``invalid_api_key`` + 3000
* ``OpenAI-Beta: realtime=v1`` → ``beta_api_shape_disabled`` + 4000
* no ``model`` / an unknown one → ``missing_model`` / ``invalid_model`` + 4000
* too many sessions → ``rate_limit_exceeded`` + 1013

WebRTC (the ``webrtc`` extra): ``POST /v1/realtime/calls`` on the same port starts a call that runs
the same session over a data channel and audio tracks (:mod:`.webrtc`, :mod:`.http_front`); the
same credential, origin and capacity checks answer with the service's HTTP errors. Without the extra
such a POST gets a 501 that says so.

Use it in-process with ``async with LocalServer(port=0) as srv`` on the caller's loop, or
``with LocalServer(port=0) as srv`` to run it on its own thread.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import random
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from desktop_app.local_server.conversation import Ids
from desktop_app.local_server.faults import FaultPlan, parse_faults
from desktop_app.local_server.live.session import LiveSession
from desktop_app.local_server.options import MIB, Options
from desktop_app.local_server.session import Session
from desktop_app.local_server.speech import SpeechPool
from desktop_app.log import RedactingFilter, get_logger, register_secret
from desktop_app.realtime.models import DEFAULT_MODEL, is_known_model

# websockets logs request headers (Authorization, api-key) at DEBUG: redact where records are made.
_ws_log = get_logger("server.websockets")
_ws_log.addFilter(RedactingFilter())

REALTIME_PATHS = frozenset({"/v1/realtime", "/openai/v1/realtime", "/realtime"})
CALLS_PATHS = frozenset(path + "/calls" for path in REALTIME_PATHS)
LIVE_PATHS = frozenset({"/v1/live/sessions", "/openai/v1/live/sessions"})  # GPT-Live (live-protocol.md §1)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _ConnectionLog(logging.LoggerAdapter):
    """Prefixes each line with the connection's number, ``[3] > response.done …``."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        return f"[{(self.extra or {})['n']}] {msg}", kwargs


class LocalServer:
    """An embedded GA Realtime server. ``url`` connects with ``?model=``; ``url_base`` is for SDKs.

    Keyword options are those of :class:`~.options.Options` (``api_key``, ``allowed_origins``,
    ``session_limit_s``, ``max_sessions``, ``max_frame_bytes``, ``events_per_second``, ``pace``,
    ``chunk_ms``, ``text_word_ms``, ``ping_interval``, ``asr``, ``tts``, ``speech_workers``,
    ``speech_processes``, ``seed``, ``audio_budget_s``), plus ``faults`` (a spec string or
    :class:`~.faults.FaultPlan`), ``model`` (the one ``url`` names) and ``collect_pacing`` (record
    each audio chunk's lateness in :attr:`pacing_delays`, for the load benchmark).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8765,
        *,
        faults: str | FaultPlan | None = None,
        model: str = DEFAULT_MODEL,
        collect_pacing: bool = False,
        logger: logging.Logger | None = None,
        **options: Any,
    ) -> None:
        self.options = Options(**options)
        if not is_loopback(host) and not self.options.api_key:
            raise ValueError(f"refusing to listen on {host}: a non-loopback address needs an API key (--api-key)")
        register_secret(self.options.api_key)
        self.host = host
        self.port = port
        self.model = model
        self.faults = faults if isinstance(faults, FaultPlan) else parse_faults(faults)
        self.log = logger or get_logger("server")
        self.pool = SpeechPool(self.options.speech_workers, self.options.asr, self.options.tts,
                               self.options.speech_processes)
        self.pacing_delays: list[float] | None = [] if collect_pacing else None
        self.sessions: set[Session | LiveSession] = set()
        self._rng = random.Random(self.options.seed) if self.options.seed is not None else None
        self._server: Server | None = None
        self._connections = 0
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self.calls: Any = None  # webrtc.RealtimeCalls once started with the webrtc extra
        #: Rewrites each WebRTC offer and answer (tests put a lossy relay in the media path with it).
        self.sdp_filter: Callable[[str], Any] | None = None

    # --- addresses -------------------------------------------------------------------------------

    @property
    def _authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url_base(self) -> str:
        """``ws://host:port/v1`` — the SDK's ``websocket_base_url``."""
        return f"ws://{self._authority}/v1"

    @property
    def url(self) -> str:
        """The full Realtime URL, ``ws://host:port/v1/realtime?model=…``."""
        return f"{self.url_base}/realtime?model={self.model}"

    @property
    def calls_url(self) -> str:
        """Where WebRTC offers go, ``http://host:port/v1/realtime/calls``."""
        return f"http://{self._authority}/v1/realtime/calls"

    @property
    def live_url(self) -> str:
        """The GPT-Live URL, ``ws://host:port/v1/live/sessions`` (the model goes in ``session.start``)."""
        return f"{self.url_base}/live/sessions"

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> LocalServer:
        """Listen (``port=0`` picks a free port, then :attr:`port` is the real one)."""
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._check_request,
            max_size=self.options.max_frame_bytes + 16 * MIB,
            ping_interval=self.options.ping_interval,
            ping_timeout=20,
            logger=_ws_log,
            create_connection=self._connection_class(),
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self.log.info("= listening on %s", self.url)
        return self

    async def stop(self) -> None:
        """Close every session with 1001 and stop listening; nothing is left running."""
        if self._server is None:
            return
        server, self._server = self._server, None
        if self.calls is not None:
            await self.calls.close_all()
        server.close(close_connections=True)
        try:
            await asyncio.wait_for(server.wait_closed(), 5.0)
        except asyncio.TimeoutError:
            self.log.warning("! some connections did not close in time")
        self.pool.close()
        self.log.info("= stopped")

    async def __aenter__(self) -> LocalServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def __enter__(self) -> LocalServer:
        """Run on a private thread and loop (for synchronous callers and cross-loop tests)."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._thread_loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # noqa: BLE001 — reported to the caller below
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="parley-local-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread_loop is not None and self._thread is not None:
            self._thread_loop.call_soon_threadsafe(self._thread_loop.stop)
            self._thread.join(10.0)
            self._thread = self._thread_loop = None

    # --- WebRTC calls (plain HTTP on the same port) ----------------------------------------------

    def _connection_class(self) -> Any:
        """websockets' connection, answering ``POST …/calls`` too when h11 (and aiortc) are there."""
        try:
            from desktop_app.local_server.http_front import HttpResponse, http_connection
        except ImportError:  # no h11: WebSocket only, as before the webrtc extra existed
            return None
        routes: dict[str, Any] = {}
        try:
            from desktop_app.local_server.webrtc import RealtimeCalls
        except ImportError:
            async def unavailable(request: Any) -> Any:
                return HttpResponse.error(501, "WebRTC is not available on this server: it needs the optional "
                                          "aiortc package (the 'webrtc' extra).", "webrtc_unavailable")
            route: Any = unavailable
        else:
            self.calls = route = RealtimeCalls(self, self._filter_sdp)
        routes.update({path: route for path in CALLS_PATHS})
        return http_connection(routes, lambda path: HttpResponse.error(
            404, f"Not found: {path}. WebRTC calls start at /v1/realtime/calls.", "not_found"))

    async def _filter_sdp(self, sdp: str) -> str:
        return await self.sdp_filter(sdp) if self.sdp_filter is not None else sdp

    def call_problem(self, request: Any) -> Any:
        """A WebRTC offer's credentials, origin and the session cap: the HTTP refusal, or None."""
        from desktop_app.local_server.http_front import HttpResponse

        origin = request.headers.get("Origin")
        if origin is not None and origin not in self.options.allowed_origins:
            self.log.warning("! refused a call from origin %s (cross-site)", origin)
            return HttpResponse.error(403, f"Origin {origin} is not allowed to start a call.")
        auth = self._auth_problem(request.headers)
        if auth is not None:
            return HttpResponse.error(401, auth[1], auth[0])
        if len(self.sessions) >= self.options.max_sessions:
            return HttpResponse.error(429, f"Too many concurrent sessions: this server allows "
                                      f"{self.options.max_sessions}. Close one and try again.", "rate_limit_exceeded")
        return None

    def new_session(self, *, model: str, kind: str, writer: Any, audio_out: Any, log: Any) -> Session:
        """A session for a WebRTC call, counted among this server's until :meth:`session_ended`."""
        session = Session(model=model, kind=kind, options=self.options, pool=self.pool, writer=writer,
                          faults=self.faults.for_session(), log=log, rng=self._rng, pacing_delays=self.pacing_delays,
                          audio_out=audio_out)
        self.sessions.add(session)
        log.info("= session open over WebRTC (%s, %s)", kind, model)
        return session

    def session_ended(self, session: Session) -> None:
        self.sessions.discard(session)

    def connection_log(self) -> logging.LoggerAdapter:
        """The logger of the next connection (numbered like WebSocket connections)."""
        self._connections += 1
        return _ConnectionLog(self.log, {"n": self._connections})

    # --- handshake -------------------------------------------------------------------------------

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path not in REALTIME_PATHS | LIVE_PATHS:
            return connection.respond(404, f"Not found: {path}. The endpoints are /v1/realtime and /v1/live/sessions.\n")
        origin = request.headers.get("Origin")
        if origin is not None and origin not in self.options.allowed_origins:
            self.log.warning("! refused a handshake from origin %s (cross-site WebSocket)", origin)
            return connection.respond(403, f"Origin {origin} is not allowed to connect.\n")
        return None

    def _auth_problem(self, headers: Any) -> tuple[str | None, str] | None:
        key = self.options.api_key
        if not key:
            return None
        bearer = headers.get("Authorization", "")
        azure = headers.get("api-key")
        if not bearer and azure is None:
            return None, ("You didn't provide an API key. You need to provide your API key in an Authorization header "
                          "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). Missing bearer or basic "
                          "authentication in header.")
        given = azure if azure is not None else bearer.partition(" ")[2] if bearer.lower().startswith("bearer ") else ""
        if hmac.compare_digest(given.encode(), key.encode()):
            return None
        shown = (given[:3] + "*" * 8 + given[-4:]) if len(given) > 8 else "***"
        return "invalid_api_key", (f"Incorrect API key provided: {shown}. You can find your API key at "
                                   "https://platform.openai.com/account/api-keys.")

    async def _refuse(self, ws: ServerConnection, code: str | None, message: str, close_code: int) -> None:
        event = {"type": "error", "event_id": Ids(self._rng).event(), "error": {
            "type": "invalid_request_error", "code": code, "message": message, "param": None, "event_id": None}}
        reason = "invalid_request_error" + (f".{code}" if code else "")
        self.log.info("! refused: %s (%d %s)", message, close_code, reason)
        try:
            await ws.send(json.dumps(event))
            await ws.close(close_code, reason)
        except ConnectionClosed:
            pass

    def _handshake_problem(self, ws: ServerConnection) -> tuple[str | None, str, int] | None:
        request = ws.request
        assert request is not None
        auth = self._auth_problem(request.headers)
        if auth is not None:
            return auth[0], auth[1], 3000
        if request.headers.get("OpenAI-Beta", "").replace(" ", "").lower().startswith("realtime=v1"):
            return ("beta_api_shape_disabled", "The Realtime beta API shape is no longer supported. "
                    "Use the GA interface at /v1/realtime without the OpenAI-Beta header.", 4000)
        query = parse_qs(urlsplit(request.path).query)
        intent = (query.get("intent") or [""])[0]
        model = (query.get("model") or [""])[0]
        if intent and intent not in ("realtime", "transcription"):
            return "invalid_value", f"Invalid value: '{intent}'. Supported values are: 'realtime' and 'transcription'.", 4000
        if intent != "transcription" and urlsplit(request.path).path not in LIVE_PATHS:  # Live: model in session.start
            if not model:
                return "missing_model", "You must provide a model parameter.", 4000
            if not is_known_model(model):
                return "invalid_model", f"Model \"{model}\" is not supported in realtime mode.", 4000
        if len(self.sessions) >= self.options.max_sessions:
            return ("rate_limit_exceeded", f"Too many concurrent sessions: this server allows "
                    f"{self.options.max_sessions}. Close one and try again.", 1013)
        return None

    # --- connection ------------------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        self._connections += 1
        log = _ConnectionLog(self.log, {"n": self._connections})
        problem = self._handshake_problem(ws)
        if problem is not None:
            await self._refuse(ws, *problem)
            return
        assert ws.request is not None
        query = parse_qs(urlsplit(ws.request.path).query)
        kind = "transcription" if (query.get("intent") or [""])[0] == "transcription" else "realtime"
        model = (query.get("model") or [self.model])[0]
        queue: asyncio.Queue[tuple] = asyncio.Queue()
        live = urlsplit(ws.request.path).path in LIVE_PATHS  # GPT-Live (its model comes in session.start)
        session = (LiveSession if live else Session)(
            model=model, kind="live" if live else kind, options=self.options, pool=self.pool, writer=queue.put_nowait,
            faults=self.faults.for_session(), log=log, rng=self._rng, pacing_delays=self.pacing_delays)
        self.sessions.add(session)
        log.info("= session open (%s, %s)", session.kind, "model in session.start" if live else model)
        writer = asyncio.get_running_loop().create_task(self._write(ws, queue, log))
        try:
            session.open()
            async for frame in ws:
                session.receive(frame)
                if writer.done():
                    break
        except ConnectionClosed:
            pass
        finally:
            session.close()
            self.sessions.discard(session)
            if not writer.done():
                queue.put_nowait(("end",))
                try:
                    await asyncio.wait_for(writer, 2.0)
                except (asyncio.TimeoutError, ConnectionClosed):
                    writer.cancel()
            log.info("= session closed (%s %s)", ws.close_code, ws.close_reason or "")

    async def _write(self, ws: ServerConnection, queue: asyncio.Queue[tuple], log: _ConnectionLog) -> None:
        while True:
            action = await queue.get()
            try:
                if action[0] == "text":
                    await ws.send(action[1])
                elif action[0] == "drop":
                    log.info("! fault: dropping the connection")
                    ws.transport.abort()
                    return
                elif action[0] == "close":
                    await ws.close(action[1], action[2])
                    return
                else:  # "end": the reader is done
                    return
            except ConnectionClosed:
                return
