"""The desktop: read the clipboard and open a web page, each only after the user says yes.

Qt stays out of here: the window supplies a :class:`ClipboardReader` and a :class:`UrlOpener`
(``QClipboard``, ``QDesktopServices``); headless mode supplies none, and the tools say they are
not available.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from desktop_app.tools.spec import CallContext, Permission, ToolError, ToolSpec

MAX_URL = 2048
MAX_CLIPBOARD = 8_000


class ClipboardReader(Protocol):
    """The system clipboard's text."""

    def read_text(self) -> str | None:
        """The clipboard's text, or None when it holds none (an image, nothing)."""
        ...


class UrlOpener(Protocol):
    """The user's web browser."""

    def open_url(self, url: str) -> bool:
        """Open ``url`` in the default browser; False when that failed."""
        ...


def check_web_url(url: str) -> str:
    """``url`` normalised if it is an http(s) address to show in a browser; else :class:`ToolError`.

    Refused: other schemes (``file:``, ``javascript:``, ``data:``, custom app handlers), a user name
    or password (``https://bank.com@evil.net`` shows one host and opens another), whitespace or
    control characters, no host, and addresses over 2048 characters.
    """
    text = url.strip(" ")
    if len(text) > MAX_URL:
        raise ToolError(f"The address is longer than {MAX_URL} characters.", kind="refused")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ToolError("The address contains spaces or control characters.", kind="refused")
    if "://" not in text and not text.lower().startswith(("http:", "https:")) and ":" not in text.split("/")[0]:
        text = "https://" + text  # "example.com" as said aloud
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise ToolError(f"Only web addresses (http, https) can be opened, not {parts.scheme or 'this'}.", kind="refused")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ToolError("Addresses with a user name or password in them are refused.", kind="refused")
    if not parts.hostname:
        raise ToolError("The address has no host.", kind="refused")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment))


def make_desktop_tools(clipboard: ClipboardReader | None, opener: UrlOpener | None) -> list[ToolSpec]:
    async def read_clipboard(args: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
        assert clipboard is not None  # not offered without one
        text = clipboard.read_text()
        if not text:
            return {"text": "", "note": "The clipboard holds no text."}
        return {"text": text[:MAX_CLIPBOARD], "characters": len(text),
                **({"note": f"Only the first {MAX_CLIPBOARD:,} characters are shown."} if len(text) > MAX_CLIPBOARD else {})}

    async def open_url(args: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
        assert opener is not None
        url = check_web_url(args["url"])
        if not opener.open_url(url):
            raise ToolError("The browser could not be opened.")
        return {"opened": url}

    return [
        ToolSpec(
            name="read_clipboard", title="Read the clipboard", run=read_clipboard,
            permission=Permission.ASK, max_output_chars=MAX_CLIPBOARD + 400,
            unavailable="" if clipboard is not None else "there is no clipboard in this mode",
            description="Read the text the user copied to the clipboard, when they refer to it ('what I copied', "
                        "'my clipboard'). The user is asked first.",
            parameters={"type": "object", "properties": {}},
        ),
        ToolSpec(
            name="open_url", title="Open a web page", run=open_url, side_effecting=True,
            unavailable="" if opener is not None else "there is no browser in this mode",
            description="Open a web page (http or https) in the user's browser. The user is asked first.",
            parameters={"type": "object", "properties": {
                "url": {"type": "string", "maxLength": MAX_URL, "description": "e.g. https://example.com"},
            }, "required": ["url"]},
        ),
    ]
