"""Parsing golden files: each feed in tests/data/feeds/ beside the items it must give.

Regenerate the expected files after a deliberate change with UPDATE_GOLDENS=1 (the run then fails,
naming what it rewrote), read the diff, and run again without it.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path
from typing import Any

import ftfy.bad_codecs  # noqa: F401  (registers the sloppy-windows-1252 codec)
import pytest

from bot.feeds.parse import (
    MAX_INFLATED_BYTES,
    MAX_TITLE_CHARS,
    ParseError,
    parse_feed,
    strip_doctype_subset,
)
from bot.models import FeedItem
from bot.text.html import html_to_text
from bot.text.plain import clean_lines
from tests.helpers import check_goldens

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"
INPUTS = sorted(p for p in FEEDS.iterdir() if not p.name.endswith(".expected.json"))


def as_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [as_json(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@pytest.mark.parametrize("source", INPUTS, ids=lambda p: p.name)
def test_golden(source: Path) -> None:
    parsed = parse_feed(source.read_bytes(), source="golden", base_url="https://daily.example/feed")
    actual = as_json(parsed)
    expected_file = source.with_name(source.name + ".expected.json")
    check_goldens({expected_file: json.dumps(actual, ensure_ascii=False, indent=2) + "\n"})


def test_doctype_subset_is_cut_before_parsing() -> None:
    body = (FEEDS / "doctype_entities.xml").read_bytes()
    stripped = strip_doctype_subset(body)
    assert b"<!ENTITY" not in stripped and b"<rss" in stripped
    assert strip_doctype_subset(b"<rss><channel/></rss>") == b"<rss><channel/></rss>"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body>hello</body></html>",
        b"{}",
        b'{"version": "x"}',
        b"\x00\x01",
        b"\x1f\x8b\x08\x00broken",  # a gzip header over no gzip data
        gzip.compress(b" " * (MAX_INFLATED_BYTES + 1)),  # inflates beyond the cap
    ],
)
def test_non_feeds_are_refused_with_a_reason(body: bytes) -> None:
    with pytest.raises(ParseError, match="not a"):
        parse_feed(body)


def test_a_body_gzipped_without_saying_so_is_read() -> None:
    feed = b"<rss version='2.0'><channel><title>t</title><item><title>a</title></item></channel>"
    assert [item.title for item in parse_feed(gzip.compress(feed + b"</rss>")).items] == ["a"]


def test_a_json_feed_with_a_bare_version_number_is_read() -> None:
    body = b'{"version": "1.1", "title": "t", "items": [{"id": "1", "title": "a"}]}'
    assert [item.title for item in parse_feed(body).items] == ["a"]


def test_a_json_feed_items_links_are_web_addresses_made_absolute() -> None:
    items = [
        {"id": "1", "title": "a", "url": "javascript:alert(1)", "image": "data:image/png,x"},
        {"id": "2", "title": "b", "url": "/news/2", "image": "/img/2.png"},
    ]
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items}).encode()
    hostile, relative = parse_feed(body, base_url="https://daily.example/feed.json").items
    assert (hostile.link, hostile.image) == (None, None)
    assert relative.link == "https://daily.example/news/2"
    assert relative.image == "https://daily.example/img/2.png"


def _one_item(title: str, link: str = "https://daily.example/1", description: str = "") -> FeedItem:
    """The item of an RSS document that holds one, as written (its text not escaped)."""
    body = (
        f"<rss version='2.0'><channel><title>t</title><item><title>{title}</title>"
        f"<link>{link}</link><description>{description}</description></item></channel></rss>"
    ).encode()
    return parse_feed(body, source="one", base_url="https://daily.example/feed").items[0]


@pytest.mark.parametrize(
    "text", ["В Москве выпал снег", "Côte d’Ivoire : l’armée", "속보: 금리 동결"]
)
def test_text_its_publisher_encoded_twice_is_read_back(text: str) -> None:
    # as a publisher's pipeline does it: UTF-8 bytes read as Windows-1252, the bytes it leaves
    # undefined read as Latin-1
    twice = text.encode("utf-8").decode("sloppy-windows-1252")
    item = _one_item(twice, description=twice)
    assert (item.title, item.summary) == (text, text)


@pytest.mark.parametrize("text", ["Café «fête» à Genève", "Straße über Köln", "naïve ‘résumé’"])
def test_text_encoded_once_is_left_as_it_is(text: str) -> None:
    assert _one_item(text).title == text


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("尹대통령 지구대 방문 quot;학생때 파출소quot;", '尹대통령 지구대 방문 "학생때 파출소"'),
        ("2차 대전 전야hellip;'윤핵관' nbsp;", "2차 대전 전야…'윤핵관'"),
        ("원곡은 lt;노틀담의 꼽추gt;의 사운드", "원곡은 <노틀담의 꼽추>의 사운드"),
        ("Trump#039;s #039;칠성시장#039;", "Trump's '칠성시장'"),
        ("The result; a camp; issue #34; amp", "The result; a camp; issue #34; amp"),
    ],
)
def test_entities_that_lost_their_ampersand_are_read(title: str, expected: str) -> None:
    # a publisher's pipeline that stripped `&` from `&amp;quot;` sends `quot;` in its titles
    assert _one_item(title).title == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Vector&lt;int&gt; &amp; R&amp;D &lt;more&gt;", "Vector<int> & R&D <more>"),
        ("Why &lt;blink&gt; died", "Why <blink> died"),  # feedparser's reading: plain text
        ("Use &lt;b&gt;bold&lt;/b&gt; type", "Use bold type"),  # markup: its text only
    ],
)  # fmt: skip
def test_a_title_of_plain_text_keeps_its_angle_brackets(title: str, expected: str) -> None:
    """feedparser tells a title of plain text (`<int>` is no tag) from one with markup: the first
    is read as written, not stripped of what looks like a tag."""
    assert _one_item(title).title == expected


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (
            "http://daily.example.comhttp://daily.example.com/news/1",
            "http://daily.example.com/news/1",
        ),
        (
            "https://daily.example.comhttps://daily.example.com/a?b=1",
            "https://daily.example.com/a?b=1",
        ),
        (
            "https://alerts.example/url?url=https://daily.example/a",
            "https://alerts.example/url?url=https://daily.example/a",
        ),
        (
            "https://redir.example/online/*https://daily.example/a",
            "https://redir.example/online/*https://daily.example/a",
        ),
    ],
)
def test_a_site_address_glued_before_an_absolute_link_is_dropped(link: str, expected: str) -> None:
    item = _one_item("a", link=link.replace("&", "&amp;"))
    assert (item.link, item.key) == (expected, link)  # the key stays what it was


def test_a_malformed_link_loses_the_link_not_the_feed() -> None:
    body = (
        b"<rss version='2.0'><channel><title>t</title>"
        b"<item><title>a</title><link>http://[::1/a</link></item>"
        b"<item><title>b</title><link>https://daily.example/b</link></item></channel></rss>"
    )
    items = parse_feed(body, source="broken", base_url="https://daily.example/feed").items
    assert [(i.title, i.link) for i in items] == [("a", None), ("b", "https://daily.example/b")]


def rss_item(inner: str, channel: str = "") -> bytes:
    return (
        f'<rss version="2.0"><channel><title>t</title>{channel}'
        f"<item><guid>g1</guid>{inner}</item></channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    "body",
    [
        rss_item("<title>t</title><pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate>"),
        rss_item("<title>t</title><pubDate>Mon, 01 Jan 0001 00:00:00 GMT</pubDate>"),
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "g1", "title": "t",'
        b' "date_published": "9999-12-31T23:59:59Z"}]}',
    ],
)
def test_a_date_no_news_has_leaves_the_item_undated(body: bytes) -> None:
    """A year 9999 or 1 is a broken feed's: shown in a chat's zone it overflowed the renderer."""
    [item] = parse_feed(body).items
    assert item.published is None


def test_a_ttl_of_other_digits_than_ascii_is_no_ttl() -> None:
    assert parse_feed(rss_item("<title>t</title>", "<ttl>\u00b2</ttl>")).ttl is None
    assert parse_feed(rss_item("<title>t</title>", "<ttl> 15 </ttl>")).ttl == 900


def test_half_a_utf16_pair_in_a_json_feed_is_a_replacement_character_and_a_nul_goes() -> None:
    body = b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"title": "AI \\ud800"}]}'
    [item] = parse_feed(body).items
    assert item.title == "AI \ufffd"
    assert item.key.startswith("sha256:")
    body = b'{"items": [{"id": "j-\\u0000-1", "url": "https://x.example/\\u0000a", "title": "b"}]}'
    [item] = parse_feed(body).items
    assert (item.key, item.link) == ("j--1", "https://x.example/a")


@pytest.mark.parametrize(("nul", "read"), [("\x00", ""), ("&#0;", "\ufffd")])
def test_a_nul_leaves_an_rss_guid_and_link(nul: str, read: str) -> None:
    inner = f"<title>t</title><link>https://x.example/{nul}a</link>"
    [item] = parse_feed(rss_item(inner).replace(b"<guid>g1", f"<guid>g{nul}1".encode())).items
    assert (item.guid, item.key) == (f"g{read}1", f"g{read}1")
    assert item.link is not None and "\x00" not in item.link


def test_a_json_feed_nested_too_deep_is_refused_with_a_reason() -> None:
    with pytest.raises(ParseError, match="nested too deep"):
        parse_feed(b'{"items":' + b"[" * 5000 + b"]" * 5000 + b"}")


def test_a_whole_article_given_as_a_title_is_cut_to_a_headline() -> None:
    [item] = parse_feed(rss_item(f"<title>{'정부 AI 지원 ' * 2000}</title>")).items
    assert len(item.title) == MAX_TITLE_CHARS and item.title.startswith("정부 AI 지원")


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("1 <a/ 2 <b>bold</b>", "1 <a/ 2 bold"),
        ("x <!-- c --> y <!-- d", "x y <!-- d"),
        ("<p>AI</p><!-- <script> --><p>chips</p>", "AI\nchips"),
        ('<img alt="cat<br />dog" src="x.jpg">AI', "AI"),  # a quoted value may hold `<`
        ('<a href=http://example.com/">example</a>', "example"),  # a quote after no `=`
    ],
)
def test_a_sign_that_opens_no_tag_is_text(html: str, text: str) -> None:
    """`<` without its `>` before the next `<` is no tag (html.parser searched all the rest of the
    input for its end, quadratic time, and dropped the text after it)."""
    assert html_to_text(html) == text


def test_a_reference_to_no_character_loses_that_character_not_the_feed() -> None:
    feed = parse_feed(rss_item("<title>AI &#x110000; &#55296; &#65; &#x1F600;</title>"))
    assert [item.title for item in feed.items] == ["AI \ufffd \ufffd A \U0001f600"]


def test_a_document_feedparser_gives_up_on_is_refused_with_a_reason() -> None:
    with pytest.raises(ParseError, match="not a feed: UnicodeDecodeError"):
        parse_feed(b'<?xml version="1.0" encoding="\xe8"?><rss/>')


def test_bidirectional_overrides_are_dropped_from_titles_and_summaries() -> None:
    """`\u202egnp.exe` displays as `exe.png`: an alert must read as its letters stand."""
    body = (
        "<rss version='2.0'><channel><title>t</title><item>"
        "<title>Invoice \u202egnp.exe\u202c and \u2066isolate\u2069</title>"
        "<link>https://news.example/1</link>"
        "<description>Open \u202dreport\u202c.pdf\u2067 now</description></item></channel></rss>"
    ).encode()
    (item,) = parse_feed(body).items
    assert item.title == "Invoice gnp.exe and isolate"
    assert item.summary == "Open report.pdf now"
    assert clean_lines("a\u202eb\u2068c") == "a b c"
