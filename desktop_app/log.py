"""Logging setup and redaction of secrets.

Log lines use websockets' prefixes so a session reads at a glance:
``>`` sent, ``<`` received, ``=`` state change, ``!`` error, ``%`` ping/pong, ``-`` timeout.

Every handler installed here carries :class:`RedactingFilter`, so API keys, ephemeral client secrets
and ``Authorization``/``api-key`` header values never reach a log file or the console, whatever
library emitted the record (websockets' DEBUG log prints request headers).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
from pathlib import Path

AREAS = ("app", "audio", "realtime", "transport", "controller", "ui", "settings", "server", "tools")

_SECRET_PATTERNS = [
    # OpenAI-style keys and ephemeral client secrets.
    re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,})"),
    re.compile(r"\b(ek_[A-Za-z0-9_\-]{8,})"),
    # Header values, in any of the shapes libraries print them.
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|basic)\s+)([^\s'\",}]+)"),
    re.compile(r"(?i)(api-key['\"]?\s*[:=]\s*['\"]?)([^\s'\",}]+)"),
    re.compile(r"(?i)(openai-insecure-api-key\.)([^\s'\",}]+)"),
]

REDACTED = "[REDACTED]"
#: ``PARLEY_LOG_FRAMES=1`` logs every audio frame and websockets' own frame records (see :func:`log_frames`).
FRAMES_ENV = "PARLEY_LOG_FRAMES"
#: The loggers that write a record per frame: the transport's audio frames, websockets' frame records.
FRAME_LOGGERS = ("parley.transport.audio", "parley.transport.websockets")

_extra_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Make ``value`` redacted wherever it appears in a log line, whatever its shape.

    Keys that do not look like OpenAI keys (Azure keys are 32 hex digits) are only caught this way.
    """
    if value and len(value) >= 6:
        _extra_secrets.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every known secret shape replaced by ``[REDACTED]``."""
    for secret in _extra_secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _SECRET_PATTERNS:
        if pattern.groups == 1:
            text = pattern.sub(REDACTED, text)
        else:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message with :func:`redact` before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 — a broken %-format must not lose the record
            message = str(record.msg)
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def get_logger(area: str) -> logging.Logger:
    """The named logger of one area (``parley.audio``, ``parley.transport`` …)."""
    return logging.getLogger(f"parley.{area}")


def setup_logging(level: int | str = logging.INFO, log_file: Path | None = None) -> None:
    """Console logging at ``level``, plus a rotating DEBUG file when ``log_file`` is given."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    for handler in list(root.handlers):
        if getattr(handler, "_parley", False):
            root.removeHandler(handler)
    fmt = logging.Formatter("%(asctime)s %(levelname).1s %(name)s: %(message)s")
    console = logging.StreamHandler()
    console.setLevel(level)
    console.setFormatter(fmt)
    handlers: list[logging.Handler] = [console]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
        file_handler.setLevel(logging.DEBUG)
        file_handler.setFormatter(fmt)
        handlers.append(file_handler)
    for handler in handlers:
        handler.addFilter(RedactingFilter())
        handler._parley = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    # websockets logs every frame at DEBUG; our transport logs the frames it cares about itself.
    logging.getLogger("websockets").setLevel(logging.INFO)
    log_frames(os.environ.get(FRAMES_ENV, "") not in ("", "0"))


def log_frames(on: bool) -> None:
    """A DEBUG record for every audio frame and every websockets frame (``PARLEY_LOG_FRAMES=1``), or
    none: 50 a second each way, they cost more than everything else in the log file together (the
    transport logs each connection's frame counts at its close instead)."""
    for name in FRAME_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if on else logging.INFO)
