"""A local HTTP server on 127.0.0.1 for the HTTP tool tests (never the internet)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Peer:
    """Routes: /echo, /redirect?to=URL&code=N, /big, /slow, /loop, /status/N, /binary."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.release = threading.Event()
        self.slow_started = threading.Event()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _record(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                seen = {"method": self.command, "path": self.path, "headers": dict(self.headers.items()), "body": body}
                peer.requests.append(seen)
                return seen

            def do_GET(self) -> None:
                seen = self._record()
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                if parts.path.startswith("/echo"):
                    self._send(200, json.dumps(seen).encode(), "application/json")
                elif parts.path == "/redirect":
                    self.send_response(int(query.get("code", ["302"])[0]))
                    self.send_header("Location", query["to"][0])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif parts.path == "/loop":
                    self.send_response(302)
                    self.send_header("Location", "/loop")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif parts.path == "/big":
                    self._send(200, b"x" * 10_000_000, "text/plain; charset=utf-8")
                elif parts.path == "/slow":
                    peer.slow_started.set()
                    peer.release.wait(10)
                    self._send(200, b"late", "text/plain")
                elif parts.path.startswith("/status/"):
                    self._send(int(parts.path.rsplit("/", 1)[1]), b'{"detail": "nope"}', "application/json")
                elif parts.path == "/binary":
                    self._send(200, bytes(range(256)) * 10, "image/png")
                else:
                    self._send(404, b"not found", "text/plain")

            do_POST = do_GET
            do_DELETE = do_GET

            def _send(self, code: int, body: bytes, kind: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading at its cap: that is the point

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), name="http-peer", daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
