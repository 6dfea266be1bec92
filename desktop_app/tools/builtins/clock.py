"""Date, time and time zones (``zoneinfo``): "what time is it in Tokyo", "9 am in New York in Berlin".

Zones are accepted as IANA names (``Asia/Tokyo``), case-insensitively, as the city part of one
(``tokyo``, ``new york``), or as a few common names a voice request uses (``Beijing``, ``PST``).
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timezone, tzinfo
from typing import Any

from desktop_app.tools.spec import CallContext, ToolError, ToolSpec

Now = Callable[[], datetime]

ALIASES = {
    "utc": "UTC", "gmt": "UTC", "z": "UTC", "zulu": "UTC",
    "beijing": "Asia/Shanghai", "china": "Asia/Shanghai", "mumbai": "Asia/Kolkata", "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata", "bangalore": "Asia/Kolkata", "india": "Asia/Kolkata", "japan": "Asia/Tokyo",
    "san francisco": "America/Los_Angeles", "seattle": "America/Los_Angeles", "washington": "America/New_York",
    "boston": "America/New_York", "miami": "America/New_York", "dallas": "America/Chicago",
    "houston": "America/Chicago", "montreal": "America/Toronto", "rio": "America/Sao_Paulo",
    "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles", "pacific": "America/Los_Angeles",
    "mst": "America/Denver", "mountain": "America/Denver", "cst": "America/Chicago", "central": "America/Chicago",
    "est": "America/New_York", "edt": "America/New_York", "eastern": "America/New_York",
    "cet": "Europe/Paris", "cest": "Europe/Paris", "bst": "Europe/London", "uk": "Europe/London",
    "munich": "Europe/Berlin", "frankfurt": "Europe/Berlin", "hamburg": "Europe/Berlin", "milan": "Europe/Rome",
    "barcelona": "Europe/Madrid", "geneva": "Europe/Zurich", "st petersburg": "Europe/Moscow",
    "jst": "Asia/Tokyo", "kst": "Asia/Seoul", "aest": "Australia/Sydney", "hawaii": "Pacific/Honolulu",
}


@functools.cache
def _zone_names() -> dict[str, str]:
    """lower-case key → IANA name, for full names and their city parts (the first zone wins a city)."""
    names: dict[str, str] = {}
    for name in sorted(zoneinfo.available_timezones()):
        names.setdefault(name.lower(), name)
    for name in sorted(zoneinfo.available_timezones()):
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            city = name.rsplit("/", 1)[1].replace("_", " ").lower()
            names.setdefault(city, name)
    return names


def zones_available() -> bool:
    return bool(_zone_names())


def resolve_zone(text: str) -> zoneinfo.ZoneInfo:
    """The zone ``text`` names; :class:`ToolError` naming it when it is none."""
    key = " ".join(text.strip().replace("_", " ").split()).lower()
    name = ALIASES.get(key) or _zone_names().get(key) or _zone_names().get(key.replace(" ", "_"))
    if name is None:
        raise ToolError(f"{text!r} is not a time zone or a city with one; use an IANA name like Europe/Paris.")
    return zoneinfo.ZoneInfo(name)


def _describe(moment: datetime, zone_name: str) -> dict[str, Any]:
    offset = moment.strftime("%z")
    return {
        "timezone": zone_name,
        "iso": moment.isoformat(timespec="seconds"),
        "date": f"{moment:%A} {moment.day} {moment:%B %Y}",
        "time": moment.strftime("%H:%M"),
        "utc_offset": f"{offset[:3]}:{offset[3:]}" if offset else "+00:00",
        "abbreviation": moment.tzname() or "",
    }


def _zone_label(zone: tzinfo) -> str:
    return zone.key if isinstance(zone, zoneinfo.ZoneInfo) else "local time"


def make_clock_tools(now: Now | None = None) -> list[ToolSpec]:
    """``current_time`` and ``convert_time``; ``now`` returns an aware datetime (tests pin it)."""
    clock: Now = now or (lambda: datetime.now(timezone.utc))
    unavailable = "" if zones_available() else "this computer has no time zone data (install tzdata)"

    async def current_time(args: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
        where = args.get("timezone")
        zone: tzinfo = resolve_zone(where) if where else (clock().astimezone().tzinfo or timezone.utc)
        return _describe(clock().astimezone(zone), _zone_label(zone))

    async def convert_time(args: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
        source, target = resolve_zone(args["from_timezone"]), resolve_zone(args["to_timezone"])
        try:
            hours, minutes = (int(part) for part in args["time"].split(":"))
            at = time(hours, minutes)
            day = date.fromisoformat(args["date"]) if args.get("date") else clock().astimezone(source).date()
        except ValueError:
            raise ToolError("Give the time as HH:MM (24-hour) and the date as YYYY-MM-DD.") from None
        moment = datetime.combine(day, at, tzinfo=source)
        return {"from": _describe(moment, source.key), "to": _describe(moment.astimezone(target), target.key)}

    zone_text = {"type": "string", "maxLength": 64,
                 "description": "IANA time zone (Asia/Tokyo) or a city name (Tokyo)"}
    return [
        ToolSpec(
            name="current_time", title="Date and time", run=current_time, unavailable=unavailable,
            description="The current date and time, here or in a time zone or city. Use it for any question "
                        "about today's date, the day of the week or the time somewhere.",
            parameters={"type": "object", "properties": {"timezone": zone_text}},
        ),
        ToolSpec(
            name="convert_time", title="Time zone conversion", run=convert_time, unavailable=unavailable,
            description="Convert a clock time from one time zone or city to another (e.g. 09:00 in New York "
                        "to Berlin time).",
            parameters={"type": "object", "properties": {
                "time": {"type": "string", "pattern": r"^\d{1,2}:\d{2}$", "description": "HH:MM, 24-hour"},
                "from_timezone": zone_text, "to_timezone": zone_text,
                "date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$",
                         "description": "YYYY-MM-DD; today in the source zone if omitted"},
            }, "required": ["time", "from_timezone", "to_timezone"]},
        ),
    ]
