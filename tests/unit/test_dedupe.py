"""Which items are new: first poll primes, backlog, edits, duplicates, order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.dedupe import FINGERPRINT, candidate_keys, decide
from bot.feeds.parse import item_key
from bot.models import FeedItem


def item(key: str, day: int | None = None, title: str = "") -> FeedItem:
    published = datetime(2026, 1, day, tzinfo=UTC) if day else None
    return FeedItem(
        key=key, guid=key, link=None, title=title or key, summary="", published=published
    )


DOC = [item("c", 3), item("b", 2), item("a", 1)]  # feeds list the newest first


def keys(items: tuple[FeedItem, ...]) -> list[str]:
    return [i.key for i in items]


def test_first_poll_primes_and_sends_nothing() -> None:
    decision = decide(DOC, set(), primed=False, backlog=0)
    assert decision.primes and decision.alert == ()
    assert {k for k in decision.listed if not k.startswith(FINGERPRINT)} == {"a", "b", "c"}
    assert decision.new_items == 0


@pytest.mark.parametrize(
    ("backlog", "expected"), [(1, ["c"]), (2, ["b", "c"]), (9, ["a", "b", "c"])]
)
def test_backlog_sends_the_newest_oldest_first(backlog: int, expected: list[str]) -> None:
    assert keys(decide(DOC, set(), primed=False, backlog=backlog).alert) == expected


def test_only_unseen_items_alert_oldest_first() -> None:
    doc = [item("e", 5), item("d", 4), *DOC]
    decision = decide(doc, {"a", "b", "c"}, primed=True, backlog=0)
    assert keys(decision.alert) == ["d", "e"] and not decision.primes


def test_an_edited_item_does_not_alert_again() -> None:
    edited = [item("c", 3, title="c, corrected headline"), *DOC[1:]]
    assert decide(edited, {"a", "b", "c"}, primed=True, backlog=0).alert == ()


def test_duplicate_keys_in_one_document_alert_once() -> None:
    assert keys(decide([item("x"), item("x")], set(), primed=True, backlog=0).alert) == ["x"]


def linked(guid: str, link: str, title: str, day: int | None = 1) -> FeedItem:
    published = datetime(2026, 1, day, tzinfo=UTC) if day else None
    return FeedItem(key=guid, guid=guid, link=link, title=title, summary="", published=published)


def test_an_item_whose_guid_changes_on_every_fetch_alerts_once() -> None:
    """A generated feed gave its five old items new guids on each fetch: five alerts a poll."""
    first = [linked(f"g1-{n}", f"https://a.example/{n}", f"Story {n}") for n in range(5)]
    seen = set(decide(first, set(), primed=False, backlog=0).listed)
    again = [linked(f"g2-{n}", f"https://a.example/{n}", f"Story {n}") for n in range(5)]
    assert set(candidate_keys(again)) & seen, "the fingerprints are looked up"
    decision = decide(again, seen, primed=True, backlog=0)
    assert decision.alert == () and decision.new_items == 0
    # the guid and a session in the link both change: the dated headline still knows it
    moved = [linked(f"g3-{n}", f"https://a.example/{n}?sid=9", f"Story {n}") for n in range(5)]
    assert decide(moved, seen | set(decision.listed), primed=True, backlog=0).alert == ()


def test_a_renamed_item_whose_link_only_gains_a_tracking_or_session_parameter_is_known() -> None:
    """A new guid, `?utm_source=rssN` or `?sid=N`, and a date (or a view count in the title)
    that changes on every fetch: each poll alerted the same story again."""
    first = [linked("g1", "https://a.example/1?sid=1", "Story (views 1)", day=1)]
    seen = set(decide(first, set(), primed=False, backlog=0).listed)
    for n, link in enumerate(["https://a.example/1?utm_source=rss2", "https://a.example/1?sid=3"]):
        again = [linked(f"g{n + 2}", link, f"Story (views {n + 2})", day=n + 2)]
        assert decide(again, seen, primed=True, backlog=0).alert == (), link
    other = [linked("g9", "https://a.example/2?sid=1", "Story (views 1)", day=1)]
    assert keys(decide(other, seen, primed=True, backlog=0).alert) == [], "same dated headline"


def test_an_item_keyed_by_a_link_whose_session_changes_is_known() -> None:
    def unguided(link: str) -> FeedItem:
        return FeedItem(key=link, guid=None, link=link, title="Story", summary="")

    seen = set(
        decide([unguided("https://a.example/1?sid=1")], set(), primed=False, backlog=0).listed
    )
    assert decide([unguided("https://a.example/1?sid=2")], seen, primed=True, backlog=0).alert == ()


def test_an_undated_item_under_a_shared_link_is_known_by_its_headline_and_summary() -> None:
    def notice(guid: str, summary: str) -> FeedItem:
        return FeedItem(
            key=guid, guid=guid, link="https://a.example/", title="Notice", summary=summary
        )

    home = [notice("h1", "Road closed"), notice("h2", "Office moved")]
    seen = set(decide(home, set(), primed=False, backlog=0).listed)
    renamed = [notice("h3", "Road closed"), notice("h4", "Office moved")]
    assert decide(renamed, seen, primed=True, backlog=0).alert == ()
    assert keys(decide([notice("h5", "New hours")], seen, primed=True, backlog=0).alert) == ["h5"]


def test_fingerprints_do_not_merge_items_that_differ() -> None:
    """Every item linking the site's home page, or one headline on two days, are other items."""
    home = [linked(f"h{n}", "https://a.example/", f"Story {n}", day=None) for n in range(3)]
    seen = set(decide(home[1:], set(), primed=False, backlog=0).listed)
    assert keys(decide(home, seen, primed=True, backlog=0).alert) == ["h0"]
    column = [linked("c1", "https://a.example/c1", "Morning briefing", day=1)]
    seen = set(decide(column, set(), primed=False, backlog=0).listed)
    tomorrow = [linked("c2", "https://a.example/c2", "Morning briefing", day=2)]
    assert keys(decide(tomorrow, seen, primed=True, backlog=0).alert) == ["c2"]


def test_one_story_listed_twice_under_two_guids_alerts_once() -> None:
    doc = [linked("x1", "https://a.example/x", "X"), linked("x2", "https://a.example/x?r=1", "X")]
    assert keys(decide(doc, set(), primed=True, backlog=0).alert) == ["x1"]


def test_undated_items_keep_feed_order_reversed() -> None:
    doc = [item("new"), item("mid"), item("old")]
    assert keys(decide(doc, set(), primed=True, backlog=0).alert) == ["old", "mid", "new"]


@pytest.mark.parametrize(
    ("guid", "link", "expected_prefix"),
    [
        ("tag:x,2026:1", "https://a/1", "tag:x,2026:1"),
        (None, "https://a/1", "https://a/1"),
        ("", "", "sha256:"),
        (None, None, "sha256:"),
        ("g" * 600, None, "sha256:"),
    ],
)
def test_item_key_prefers_guid_then_link_then_hash(
    guid: str | None, link: str | None, expected_prefix: str
) -> None:
    assert item_key(guid, link, "title", "body").startswith(expected_prefix)


def test_hash_key_depends_on_title_and_content() -> None:
    assert item_key(None, None, "t", "a") != item_key(None, None, "t", "b")
    assert item_key(None, None, "t", "a") == item_key(None, None, "t", "a")
