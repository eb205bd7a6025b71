"""When a chat's alerts go out: its delivery mode (`/mode`) and quiet hours (`/quiet`), read from
what the chat typed and turned into due instants in the chat's timezone.

Every time is wall-clock time in the chat's IANA zone, computed with zoneinfo: `daily 08:00` is
08:00 there before and after a daylight-saving change, never 07:00 or 09:00. Pure functions over
epoch seconds; nothing here reads a clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.text.zones import zone_or_utc

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BREAKING = "breaking"
"""The topic `/quiet ... except breaking` lets through."""
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class Cadence(StrEnum):
    """How often a chat's alerts go out."""

    INSTANT = "instant"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"


@dataclass(frozen=True, slots=True)
class DeliveryMode:
    """`instant`, `hourly`, `daily 08:00` or `weekly mon 08:00`."""

    cadence: Cadence = Cadence.INSTANT
    at: time = time(0, 0)
    """The local time of a daily or weekly digest."""
    weekday: int = 0
    """Monday 0 ... Sunday 6, for a weekly digest."""

    def __str__(self) -> str:
        if self.cadence is Cadence.DAILY:
            return f"daily {self.at:%H:%M}"
        if self.cadence is Cadence.WEEKLY:
            return f"weekly {WEEKDAYS[self.weekday]} {self.at:%H:%M}"
        return self.cadence.value


@dataclass(frozen=True, slots=True)
class QuietHours:
    """`23:00-07:00`, optionally `except breaking`."""

    start: time
    end: time
    except_breaking: bool = False

    @property
    def span(self) -> str:
        """`23:00-07:00`."""
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def __str__(self) -> str:
        return f"{self.span} except {BREAKING}" if self.except_breaking else self.span


def parse_clock(text: str) -> time:
    """`08:00` or `8:00`; ValueError otherwise."""
    match = _CLOCK.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a time like 08:00")
    return time(int(match.group(1)), int(match.group(2)))


def parse_mode(words: list[str] | tuple[str, ...]) -> DeliveryMode:
    """The mode of `/mode` arguments (`daily 08:00`); ValueError when they are not one."""
    args = [w.lower() for w in words]
    if args in (["instant"], ["hourly"]):
        return DeliveryMode(Cadence(args[0]))
    if len(args) == 2 and args[0] == "daily":
        return DeliveryMode(Cadence.DAILY, parse_clock(args[1]))
    if len(args) == 3 and args[0] == "weekly" and args[1][:3] in WEEKDAYS:
        return DeliveryMode(Cadence.WEEKLY, parse_clock(args[2]), WEEKDAYS.index(args[1][:3]))
    raise ValueError("not a delivery mode")


def parse_quiet(words: list[str] | tuple[str, ...]) -> QuietHours:
    """Quiet hours of `/quiet` arguments (`23:00-07:00 except breaking`); ValueError otherwise."""
    args = [w.lower() for w in words]
    except_breaking = args[1:] == ["except", BREAKING]
    if not args or not (len(args) == 1 or except_breaking):
        raise ValueError("not quiet hours")
    start, sep, end = args[0].partition("-")
    if not sep:
        raise ValueError("not quiet hours")
    hours = QuietHours(parse_clock(start), parse_clock(end), except_breaking)
    if hours.start == hours.end:
        raise ValueError("quiet hours must not be empty")
    return hours


def mode_setting(text: str) -> str:
    """A mode as typed (`Daily 8:00`) as the store keeps it (`daily 08:00`, '' for instant);
    ValueError naming the forms otherwise."""
    try:
        mode = parse_mode(text.split())
    except ValueError:
        forms = "instant, hourly, daily HH:MM or weekly DAY HH:MM"
        raise ValueError(f"{text!r} is not a delivery mode (use {forms})") from None
    return "" if mode.cadence is Cadence.INSTANT else str(mode)


def quiet_setting(text: str) -> str:
    """Quiet hours as typed (`23:00-7:00`, `off`) as the store keeps them ('' for off);
    ValueError naming the form otherwise."""
    if text.strip().lower() == "off":
        return ""
    try:
        return str(parse_quiet(text.split()))
    except ValueError:
        form = "HH:MM-HH:MM, optionally followed by `except breaking`, or off"
        raise ValueError(f"{text!r} are not quiet hours (use {form})") from None


def stored_mode(text: str) -> DeliveryMode:
    """The mode as the store keeps it (`''`: instant)."""
    return parse_mode(text.split()) if text else DeliveryMode()


def stored_quiet(text: str) -> QuietHours | None:
    """Quiet hours as the store keeps them (`''`: none)."""
    return parse_quiet(text.split()) if text else None


def _instant(day: date, at: time, tz: ZoneInfo) -> float:
    """Epoch seconds of wall time `at` on `day` in `tz` (a time skipped by DST counts as the
    same wall time on the other side of the change)."""
    return datetime.combine(day, at, tzinfo=tz).timestamp()


def _local(epoch: float, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).astimezone(tz)


def next_digest(mode: DeliveryMode, after: float, timezone: str) -> float | None:
    """The first digest strictly after `after` (None: `instant` has no digests)."""
    tz = zone_or_utc(timezone)
    local = _local(after, tz)
    if mode.cadence is Cadence.INSTANT:
        return None
    if mode.cadence is Cadence.HOURLY:
        # the next local top of the hour, counted in elapsed time: a DST change (whole hours)
        # neither skips an hour nor repeats one, and half-hour zones get their own tops
        into_hour = local.minute * 60 + local.second + local.microsecond / 1e6
        return after - into_hour + 3600
    for days in range(9):
        day = local.date() + timedelta(days=days)
        if mode.cadence is Cadence.WEEKLY and day.weekday() != mode.weekday:
            continue
        due = _instant(day, mode.at, tz)
        if due > after:
            return due
    raise AssertionError("a daily or weekly digest is always due within eight days")


def quiet_end(quiet: QuietHours, when: float, timezone: str) -> float | None:
    """When the quiet hours that `when` falls in end (None: `when` is not in quiet hours)."""
    tz = zone_or_utc(timezone)
    local = _local(when, tz)
    now = local.time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        inside = quiet.start <= now < quiet.end
    else:  # across midnight
        inside = now >= quiet.start or now < quiet.end
    if not inside:
        return None
    for days in range(3):
        end = _instant(local.date() + timedelta(days=days), quiet.end, tz)
        if end > when:
            return end
    raise AssertionError("quiet hours always end within two days")


def hold_until(
    mode: DeliveryMode,
    quiet: QuietHours | None,
    created: float,
    timezone: str,
    topics: tuple[str, ...] | frozenset[str] = (),
) -> float | None:
    """When an alert queued at `created` goes out in a digest (None: at once, on its own).

    A digest chat's alert waits for the next digest; a digest due in quiet hours waits for their
    end. An instant chat's alert found in quiet hours waits for their end, and goes out in one
    digest with the others held then, unless it is `breaking` and the chat lets that through.
    """
    due = next_digest(mode, created, timezone)
    if quiet is None:
        return due
    if due is not None:
        return quiet_end(quiet, due, timezone) or due
    if quiet.except_breaking and BREAKING in topics:
        return None
    return quiet_end(quiet, created, timezone)
