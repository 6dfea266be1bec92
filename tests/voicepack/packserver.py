"""A local HTTP server for voice-pack tests: serves a manifest and a pack built here, honours
``Range`` requests, and can drop the connection after a number of bytes (an interrupted transfer)."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from desktop_app.voicepack.manifest import platform_tag, python_tag

PROBE_MODULE = "parley_voicepack_probe"


def build_pack(payload_bytes: int = 600_000) -> bytes:
    """A pack archive: ``site/parley_voicepack_probe`` (a module saying where it was loaded from) and
    a model-sized incompressible blob."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as pack:
        pack.writestr(f"site/{PROBE_MODULE}/__init__.py",
                      "from pathlib import Path\nWHERE = str(Path(__file__).resolve())\nENGINE = 'probe'\n")
        pack.writestr(f"site/{PROBE_MODULE}/model.bin", hashlib.shake_256(b"parley").digest(payload_bytes))
    return out.getvalue()


def manifest_for(pack: bytes, name: str = "pack.zip", **overrides: object) -> bytes:
    manifest = {"format": 1, "version": "7", "python": python_tag(), "platform": platform_tag(),
                "engines": {"asr": "probe", "tts": "probe"},
                "files": [{"path": name, "size": len(pack), "sha256": hashlib.sha256(pack).hexdigest()}]}
    manifest.update(overrides)
    return json.dumps(manifest).encode()


@dataclass
class PackServer:
    """``files`` by path; ``drop_after``: bytes after which the next pack response is cut (once each)."""

    files: dict[str, bytes]
    drop_after: list[int] = field(default_factory=list)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)
    sent: int = 0  # pack bytes sent, over all requests
    ignore_ranges: bool = False
    gate: threading.Event | None = None  # when set: the pack body waits for it after the first chunk

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.lstrip("/")
                server.requests.append((path, self.headers.get("Range")))
                body = server.files.get(path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                ranged = self.headers.get("Range")
                if ranged and not server.ignore_ranges and path.endswith(".zip"):
                    start = int(ranged.removeprefix("bytes=").split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                rest = body[start:]
                if path.endswith(".zip") and server.drop_after:
                    cut = server.drop_after.pop(0)
                    self.wfile.write(rest[:cut])
                    server.sent += min(cut, len(rest))
                    self.wfile.flush()
                    self.connection.shutdown(2)  # the connection drops mid-transfer
                    return
                if server.gate is not None and path.endswith(".zip"):
                    self.wfile.write(rest[:65536])
                    self.wfile.flush()
                    server.sent += min(65536, len(rest))
                    server.gate.wait(10)
                    rest = rest[65536:]
                self.wfile.write(rest)
                if path.endswith(".zip"):
                    server.sent += len(rest)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{path}"

    def close(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()
