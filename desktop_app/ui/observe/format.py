"""How the observe widgets write numbers: durations, sizes, money, times of day."""

from __future__ import annotations

import datetime as dt


def ms(value: float | None) -> str:
    """``"0.3 ms"`` below 10 ms (a loopback ping), ``"420 ms"``, ``"1.25 s"`` from 1 s up, ``"—"`` for no value."""
    if value is None:
        return "—"
    if value < 10:
        return f"{value:.1f} ms"
    return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.2f} s"


def seconds(value: float | None) -> str:
    """A duration as ``"42 s"``, ``"12:05"`` or ``"1:02:03"``; ``"—"`` for no value."""
    if value is None:
        return "—"
    whole = int(value)
    if whole < 60:
        return f"{whole} s"
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def size(n: int) -> str:
    """Bytes as ``"812 B"``, ``"3.4 kB"``, ``"12.1 MB"``."""
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1_000_000:.1f} MB"


def usd(value: float | None) -> str:
    """Money: ``"$0.042"`` below ten cents, else ``"$1.25"``; ``"price unknown"`` for None."""
    if value is None:
        return "price unknown"
    return f"${value:.3f}" if 0 < value < 0.1 else f"${value:.2f}"


def clock(t: float | None) -> str:
    """Unix seconds as the local time of day."""
    return "—" if t is None else dt.datetime.fromtimestamp(t).strftime("%H:%M:%S")


def count(n: int) -> str:
    return f"{n:,}"


def loss(percent: float | None, packets: int | None) -> str:
    """Packet loss as ``"1.2 % (6)"`` (share, then packets); ``"—"`` before anything was counted."""
    if percent is None:
        return "—"
    share = f"{percent:.1f} %" if percent < 10 else f"{percent:.0f} %"
    return share if packets is None else f"{share} ({packets:,})"


def kbps(value: float | None) -> str:
    """A bitrate as ``"31 kbit/s"``; ``"—"`` for no value."""
    return "—" if value is None else f"{value:.0f} kbit/s"
