"""When the next poll happens: explicit intervals kept, hints stretch chosen ones, backoff."""

from __future__ import annotations

import random

import pytest

from bot.feeds.fetch import max_age_seconds, parse_retry_after
from bot.feeds.schedule import FAILING_RETRY, Hints, next_delay, on_slot, slot_offset


def delay(interval: float, explicit: bool, failures: int = 0, **hints: float) -> float:
    return next_delay(
        interval,
        explicit=explicit,
        hints=Hints(**hints),
        failures=failures,
        floor=60,
        ceiling=3600,
        rng=random.Random(1),
    )


def test_an_operator_interval_is_kept_as_written_down_to_one_second() -> None:
    assert delay(5, explicit=True) == 5
    assert delay(5, explicit=True, max_age=600, ttl=900) == 5


def test_a_chosen_interval_has_a_floor_and_follows_hints_up_to_the_ceiling() -> None:
    assert delay(5, explicit=False) == 60
    assert delay(300, explicit=False, max_age=900) == 900
    assert delay(300, explicit=False, ttl=99999) == 3600


def test_retry_after_always_wins() -> None:
    assert delay(5, explicit=True, retry_after=120) == 120


@pytest.mark.parametrize("failures", [1, 2, 3, 5, 30])
def test_failures_back_off_exponentially_with_a_cap(failures: int) -> None:
    value = delay(300, explicit=False, failures=failures)
    base = min(300 * 2 ** (failures - 1), FAILING_RETRY)
    assert base <= value <= base * 1.2


def test_feeds_of_one_interval_spread_evenly_over_it_by_url() -> None:
    urls = [f"https://outlet{n % 7}.example/feed/{n}.xml" for n in range(1000)]
    offsets = [slot_offset(url, 300.0) for url in urls]
    assert offsets == [slot_offset(url, 300.0) for url in urls], "stable across calls"
    tenths = [sum(1 for o in offsets if k * 30 <= o < (k + 1) * 30) for k in range(10)]
    assert all(70 <= count <= 130 for count in tenths), tenths


@pytest.mark.parametrize("late", [0.0, 3.0, 40.0, 149.0, 299.0])
def test_a_feed_goes_to_its_slot_never_sooner_than_asked(late: float) -> None:
    url = "https://news.example/rss"
    slot = on_slot(1_000_000.0, 300.0, url, reach=300.0)
    assert 1_000_000.0 <= slot < 1_000_300.0
    assert (slot - slot_offset(url, 300.0)) % 300.0 == pytest.approx(0.0, abs=1e-6)
    when = slot + 300.0 - late
    assert on_slot(when, 300.0, url, reach=300.0) == pytest.approx(slot + 300.0)
    near = on_slot(when, 300.0, url, reach=30.0)
    assert near == pytest.approx(min(slot + 300.0, when + 30.0)), "a step of at most the reach"
    other = on_slot(1_000_000.0, 300.0, "https://other.example/rss", reach=300.0)
    assert other != pytest.approx(slot), "another feed has another slot"


def test_polls_off_their_slot_come_to_it_within_ten_polls_never_sooner_than_the_interval() -> None:
    url = "https://news.example/rss"
    polled = 1_000_000.0
    for _ in range(10):
        upcoming = on_slot(polled + 300.0, 300.0, url, reach=30.0)
        assert 300.0 <= upcoming - polled <= 330.0
        polled = upcoming
    assert (polled - slot_offset(url, 300.0)) % 300.0 == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("value", ["\u00b2", "\u0661\u0662", "1" * 400, "-5", "1.5"])
def test_a_header_count_in_other_digits_is_no_count(value: str) -> None:
    """`²` passed isdigit and broke float(): the poll that read it failed, every time."""
    assert parse_retry_after(value, now=0.0) is None
    assert max_age_seconds(f"public, max-age={value}") is None


def test_header_counts_in_ascii_digits_are_read() -> None:
    assert parse_retry_after(" 120 ", now=0.0) == 120.0
    assert max_age_seconds("public, max-age=300") == 300.0
