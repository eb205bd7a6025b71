"""Digest due times and quiet hours in a chat's timezone, table-driven, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.digest_times import (
    Cadence,
    DeliveryMode,
    QuietHours,
    hold_until,
    next_digest,
    parse_mode,
    parse_quiet,
    quiet_end,
)


def local(zone: str, *when: int) -> float:
    return datetime(*when, tzinfo=ZoneInfo(zone)).timestamp()


def shown(epoch: float | None, zone: str) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M %Z")


DAILY_8 = DeliveryMode(Cadence.DAILY, time(8, 0))
WEEKLY_MON_8 = DeliveryMode(Cadence.WEEKLY, time(8, 0), 0)
HOURLY = DeliveryMode(Cadence.HOURLY)


@pytest.mark.parametrize(
    ("mode", "zone", "after", "expected"),
    [
        (DAILY_8, "Asia/Seoul", (2026, 3, 1, 7, 59), "03-01 08:00 KST"),
        (DAILY_8, "Asia/Seoul", (2026, 3, 1, 8, 0), "03-02 08:00 KST"),
        # New York springs forward on 2026-03-08 and falls back on 2026-11-01
        (DAILY_8, "America/New_York", (2026, 3, 7, 12, 0), "03-08 08:00 EDT"),
        (DAILY_8, "America/New_York", (2026, 10, 31, 12, 0), "11-01 08:00 EST"),
        (WEEKLY_MON_8, "Asia/Seoul", (2026, 3, 2, 8, 0), "03-09 08:00 KST"),
        (WEEKLY_MON_8, "America/New_York", (2026, 3, 3, 9, 0), "03-09 08:00 EDT"),
        (HOURLY, "Asia/Seoul", (2026, 3, 1, 9, 10), "03-01 10:00 KST"),
        (HOURLY, "Asia/Kolkata", (2026, 3, 1, 9, 10), "03-01 10:00 IST"),
        # 01:30 EDT, then the clocks fall back: the next top of the hour is 01:00 EST, an hour on
        (HOURLY, "America/New_York", (2026, 11, 1, 1, 30), "11-01 01:00 EST"),
        (HOURLY, "America/New_York", (2026, 3, 8, 1, 30), "03-08 03:00 EDT"),
    ],
)
def test_next_digest(mode: DeliveryMode, zone: str, after: tuple[int, ...], expected: str) -> None:
    assert shown(next_digest(mode, local(zone, *after), zone), zone) == expected


def test_hourly_digests_are_an_hour_apart_through_both_dst_changes() -> None:
    zone = "America/New_York"
    for start in (local(zone, 2026, 3, 7, 22, 0), local(zone, 2026, 10, 31, 22, 0)):
        due = next_digest(HOURLY, start, zone)
        assert due is not None
        for _ in range(8):
            following = next_digest(HOURLY, due, zone)
            assert following == due + 3600
            due = following


def test_instant_has_no_digest() -> None:
    assert next_digest(DeliveryMode(), local("UTC", 2026, 3, 1), "UTC") is None


NIGHT = QuietHours(time(23, 0), time(7, 0))
NIGHT_BREAKING = QuietHours(time(23, 0), time(7, 0), except_breaking=True)
LUNCH = QuietHours(time(12, 0), time(13, 0))


@pytest.mark.parametrize(
    ("quiet", "zone", "when", "expected"),
    [
        (NIGHT, "Asia/Seoul", (2026, 3, 1, 22, 59), None),
        (NIGHT, "Asia/Seoul", (2026, 3, 1, 23, 0), "03-02 07:00 KST"),
        (NIGHT, "Asia/Seoul", (2026, 3, 2, 3, 0), "03-02 07:00 KST"),
        (NIGHT, "Asia/Seoul", (2026, 3, 2, 7, 0), None),
        (NIGHT, "America/New_York", (2026, 3, 7, 23, 30), "03-08 07:00 EDT"),
        (LUNCH, "UTC", (2026, 3, 1, 12, 30), "03-01 13:00 UTC"),
        (LUNCH, "UTC", (2026, 3, 1, 13, 0), None),
    ],
)
def test_quiet_end(
    quiet: QuietHours, zone: str, when: tuple[int, ...], expected: str | None
) -> None:
    assert shown(quiet_end(quiet, local(zone, *when), zone), zone) == expected


def test_hold_until() -> None:
    zone = "Asia/Seoul"
    night = local(zone, 2026, 3, 1, 23, 30)
    day = local(zone, 2026, 3, 1, 14, 0)
    assert hold_until(DeliveryMode(), None, night, zone) is None
    assert shown(hold_until(DeliveryMode(), NIGHT, night, zone), zone) == "03-02 07:00 KST"
    assert hold_until(DeliveryMode(), NIGHT, day, zone) is None
    breaking = ("ai", "breaking")
    assert hold_until(DeliveryMode(), NIGHT_BREAKING, night, zone, breaking) is None
    assert shown(hold_until(DeliveryMode(), NIGHT, night, zone, breaking), zone) == (
        "03-02 07:00 KST"
    )
    # a digest due in quiet hours waits for their end
    early = DeliveryMode(Cadence.DAILY, time(6, 0))
    assert shown(hold_until(early, NIGHT, day, zone), zone) == "03-02 07:00 KST"
    assert shown(hold_until(DAILY_8, NIGHT, night, zone, breaking), zone) == "03-02 08:00 KST"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("instant", "instant"),
        ("HOURLY", "hourly"),
        ("daily 8:00", "daily 08:00"),
        ("weekly Monday 08:30", "weekly mon 08:30"),
        ("weekly sun 23:59", "weekly sun 23:59"),
    ],
)
def test_parse_mode(words: str, expected: str) -> None:
    assert str(parse_mode(words.split())) == expected


@pytest.mark.parametrize(
    "words",
    ["", "daily", "daily 24:00", "daily 8", "weekly 08:00", "weekly xyz 08:00", "hourly 08:00"],
)
def test_parse_mode_refuses(words: str) -> None:
    with pytest.raises(ValueError):
        parse_mode(words.split())


def test_parse_quiet() -> None:
    assert str(parse_quiet(["23:00-07:00"])) == "23:00-07:00"
    assert str(parse_quiet(["23:00-7:00", "EXCEPT", "breaking"])) == ("23:00-07:00 except breaking")
    for wrong in ("23:00", "23:00-23:00", "23:00-07:00 except", "23:00-07:00 except ai", "a-b"):
        with pytest.raises(ValueError):
            parse_quiet(wrong.split())
