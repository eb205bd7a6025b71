"""Which spellings of a feed URL name one feed, and which name another."""

from __future__ import annotations

import pytest

from bot.feeds.identity import duplicate_feeds, feed_identity

SAME = [
    ("https://news.example/rss", "http://news.example/rss"),
    ("https://news.example/rss/", "https://news.example/rss"),
    ("https://News.Example/rss", "https://news.example/rss"),
    ("https://news.example:443/rss", "https://news.example/rss"),
    ("http://news.example:80/rss", "https://news.example/rss"),
    ("https://news.example/rss#top", "https://news.example/rss"),
    ("https://news.example/rss?utm_source=x&utm_medium=email", "https://news.example/rss"),
    ("https://news.example/rss?fbclid=abc", "https://news.example/rss"),
    ("https://news.example/rss?b=2&a=1", "https://news.example/rss?a=1&b=2"),
    ("https://news.example/rss?a=1&utm_campaign=z", "https://news.example/rss?a=1"),
    ("  https://news.example/rss  ", "https://news.example/rss"),
    ("https://news.example", "https://news.example/"),
]
OTHER = [
    ("https://news.example/rss", "https://news.example/RSS"),  # paths are case-sensitive
    ("https://news.example/rss?section=ai", "https://news.example/rss?section=economy"),
    ("https://news.example/rss", "https://www.news.example/rss"),  # another host
    ("https://news.example:8443/rss", "https://news.example/rss"),
    ("https://news.example/a/rss", "https://news.example/rss"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_spellings_of_one_feed(a: str, b: str) -> None:
    assert feed_identity(a) == feed_identity(b)


@pytest.mark.parametrize(("a", "b"), OTHER)
def test_other_feeds(a: str, b: str) -> None:
    assert feed_identity(a) != feed_identity(b)


def test_duplicates_name_the_first_spelling() -> None:
    feeds = [
        ("yonhap", "https://www.yna.co.kr/rss/news.xml"),
        ("bbc", "https://feeds.bbci.co.uk/news/rss.xml"),
        ("yonhap-again", "http://www.yna.co.kr/rss/news.xml/?utm_source=opml"),
    ]
    assert duplicate_feeds(feeds) == [("yonhap", "yonhap-again", "www.yna.co.kr/rss/news.xml")]
