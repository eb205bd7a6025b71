"""A single article with YAML front matter read as a feed of one item (`bot.feeds.post`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.feeds.parse import ParseError
from bot.feeds.post import looks_like_post, parse_post


def test_front_matter_fields_become_the_item() -> None:
    body = (
        "\ufeff\n---\ntitle: 'Title'\ndate: 2026-03-02 09:30:00 +09:00\ncategories: a b\n"
        "tags: [x]\nimage: /relative.png\ndescription: The lead.\n---\n"
        '<p><img src="https://img.example/a.png" alt="속보"></p><p>Body text.</p>\n'
    ).encode()
    assert looks_like_post(body)
    (item,) = parse_post(body).items
    assert item.title == "Title" and item.summary == "The lead."
    assert item.content == "Body text."
    assert item.published == datetime(2026, 3, 2, 0, 30, tzinfo=UTC)
    assert item.published.utcoffset() == timezone(timedelta(hours=9)).utcoffset(None)
    assert item.categories == ("a", "b", "x")
    assert item.image == "https://img.example/a.png", "a relative image gives way to the body's"
    assert item.image_alt == "속보"
    assert item.link is None and item.key


def test_a_feed_is_not_a_post() -> None:
    assert not looks_like_post(b'<?xml version="1.0"?><rss version="2.0"></rss>')
    assert not looks_like_post(b"--- not a fence\n")


def test_a_post_without_a_body_summarises_nothing_twice() -> None:
    (item,) = parse_post(b"---\ntitle: Only a title\n---\n").items
    assert (item.title, item.summary, item.content) == ("Only a title", "", "")


def test_front_matter_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(ParseError, match="no title"):
        parse_post(b"---\n- a list\n---\nbody\n")
