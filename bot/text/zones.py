"""IANA time zones by name: the one reader of the zone names config, commands and platforms give."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def known_zone(name: str) -> ZoneInfo | None:
    """The IANA zone `name`, or None when there is none by that name (`Mars/Base`; `America`, a
    folder of the zone database; a name too long for a file name)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def zone_or_utc(name: str) -> ZoneInfo:
    """The IANA zone `name`, UTC when it is empty or unknown."""
    return known_zone(name or "UTC") or ZoneInfo("UTC")
