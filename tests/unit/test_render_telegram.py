"""Telegram rendering: golden files for real and hostile items, and the limits Telegram enforces.

Goldens live in tests/data/golden/telegram/: `<case>.html` (the text message), `<case>.txt` (its
plain-text twin) and `<case>.caption.html` (the photo caption, for items with an image; absent
when the caption cannot fit). Regenerate them with `UPDATE_GOLDENS=1 pytest tests/unit/...`; that
run fails naming what it rewrote. Every rendering is also parsed by the fake Bot API's tdlib-like
HTML parser, which is what decides whether Telegram would accept it and how long it is after
markup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.feeds.parse import parse_feed
from bot.models import ExcerptLength, FeedItem, Outgoing, Platform, Recipient, Source, Tag
from bot.render.length import COMPACT_CHARS, EXCERPT_CHARS
from bot.render.telegram import (
    hashtags,
    render_message,
    utf16_len,
)
from bot.text.html import html_to_text
from bot.text.plain import safe_url
from tests.fakes.telegram_api import parse_html
from tests.fakes.telegram_api import utf16_len as fake_utf16_len
from tests.helpers import CORPUS, check_goldens, corpus_dir, seed_file
from tests.seed import load_seed

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "telegram"
TEXT, CAPTION = 4096, 1024
CHAT = Recipient(Platform.TELEGRAM, "1001")
WHEN = datetime(2024, 6, 12, 5, 3, tzinfo=UTC)
SEED_TAGS = (Tag("ai", ()), Tag("policy-finance", ()), Tag("breaking", ()))


def item(**fields: object) -> FeedItem:
    values: dict[str, object] = {
        "key": "k",
        "guid": None,
        "link": "https://news.example/a",
        "title": "Title",
        "summary": "",
        "published": WHEN,
        "source": "example",
    }
    values.update(fields)
    return FeedItem(**values)  # type: ignore[arg-type]


def outgoing(feed_item: FeedItem, topics: tuple[str, ...] = ("ai",), tz: str = "UTC") -> Outgoing:
    return Outgoing(CHAT, feed_item, tuple(Tag(t, ()) for t in topics), tz)


def long_korean(sentences: int) -> str:
    parts = [
        f"정부는 {n}번째 AI 정책금융 프로그램을 통해 반도체와 클라우드 기업에 저리 대출을 "
        f"공급한다고 {n % 28 + 1}일 밝혔다."
        for n in range(sentences)
    ]
    return " ".join(parts)


# --------------------------------------------------------------------------------------------
# the cases: (name, builder); builders may skip when ../shared is absent


def seed_case() -> Outgoing:
    seed = load_seed(seed_file())
    return outgoing(
        item(
            key="seed",
            link="https://news.example/2024/06/ai-policy-finance",
            title=seed.title,
            summary=html_to_text(seed.html),
            image=seed.image,
            source="실시간 뉴스 속보",
        ),
        ("ai", "policy-finance", "breaking"),
        "Asia/Seoul",
    )


def corpus_case(path: str, tz: str, topics: tuple[str, ...] = ("ai",)) -> Callable[[], Outgoing]:
    def build() -> Outgoing:
        corpus_dir()
        parsed = parse_feed((CORPUS / path).read_bytes(), source=path.split("/")[1])
        return outgoing(parsed.items[0], topics, tz)

    return build


CASES: dict[str, Callable[[], Outgoing]] = {
    "seed": seed_case,
    "corpus_hani_science": corpus_case(
        "knews-rss-korean/hani-science.xml", "Asia/Seoul", ("ai", "kw:다누리")
    ),
    "corpus_youtube_media_rss": corpus_case("feed-rs/atom_mediarss_youtube_1.xml", "UTC"),
    "corpus_spiegel": corpus_case("feed-rs/rss_2.0_spiegel.xml", "Europe/Berlin", ("breaking",)),
    "corpus_at_protocol_link": corpus_case("gofeed/rss_channel_item_uri_at_protocol.xml", "UTC"),
    "hostile_markup_in_title": lambda: outgoing(
        item(
            title='<b>Bold</b> & <script>alert("x")</script> <a href="javascript:alert(1)">x</a>',
            link="javascript:alert(1)",
            summary="AT&T said <i>nothing</i> &amp; left. 1 < 2 > 0.",
            source="Evil <Feed> & Co",
        )
    ),
    "hostile_quotes_in_link": lambda: outgoing(
        item(
            title="Quotes in the link",
            link='https://example.com/search?q="x" y&lang=ko&tag=<b>#frag',
            summary="The link has quotes, a space, angle brackets and ampersands.",
        )
    ),
    "hostile_astral": lambda: outgoing(
        item(
            title="🚀 Launch 𝕏 " * 6,
            summary="𝕏𝕐 🚀 " * 2000,
            image="https://img.example/rocket.png",
        ),
        ("ai", "kw:🚀 launch"),
    ),
    "hostile_long_korean": lambda: outgoing(
        item(
            title="[속보] " + "반도체 " * 200,
            summary=long_korean(400),
            image="https://img.example/chip.jpg",
            source="연합뉴스",
        ),
        ("ai", "policy-finance", "breaking", "kw:반도체"),
        "Asia/Seoul",
    ),
    "hostile_keyword_tags": lambda: outgoing(
        item(title="Tags", summary="Hashtags cannot hold '-' or spaces."),
        ("ai", "policy-finance", "kw:반도체", "kw:생성 ai", "kw:c++", "kw:ai", "kw:-", "x-y-z"),
    ),
    "hostile_broken_characters": lambda: outgoing(
        item(
            title="Broken \ud800 title\x00\x07 with\ttabs\nand lines",
            summary="Zero\u200bwidth and \ufeffBOM\x1b[31m escape.",
            link=None,
            published=None,
            source="",
        ),
        ("ai",),
        "No/Such_Zone",
    ),
    "hostile_bad_timezone": lambda: outgoing(
        item(title="A time in a zone that does not exist falls back to UTC"), ("ai",), "Mars/Base"
    ),
    "hostile_caption_cannot_fit": lambda: outgoing(
        item(
            title="🛰" * 400,
            source="📡" * 100,
            summary="short",
            image="https://img.example/sat.jpg",
        ),
        tuple(f"kw:{chr(0x1D538 + n) * 40}" for n in range(8)),  # 𝔸𝔹...: astral letters
    ),
}


def assert_valid(html: str, limit: int) -> str:
    """Parses as Telegram HTML (strict about `&`), fits, uses only bold and http(s) links."""
    parsed = parse_html(html, strict_ampersand=True)
    assert fake_utf16_len(parsed.text) <= limit
    for entity in parsed.entities:
        assert entity["type"] in ("bold", "text_link")
        if entity["type"] == "text_link":
            assert entity["url"].startswith(("http://", "https://"))
    return parsed.text


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    message = CASES[name]()

    text = render_message(message, limit=TEXT)
    caption = render_message(message, limit=CAPTION) if message.item.image else None

    assert text is not None
    assert_valid(text.html, TEXT)
    assert utf16_len(text.plain) <= TEXT
    if caption is not None:
        assert_valid(caption.html, CAPTION)
        assert utf16_len(caption.plain) <= CAPTION
    check_goldens(
        {
            GOLDEN / f"{name}.html": text.html,
            GOLDEN / f"{name}.txt": text.plain,
            GOLDEN / f"{name}.caption.html": caption.html if caption else None,
        }
    )


def test_seed_reads_as_a_clean_excerpt_with_its_link_and_tags() -> None:
    message = seed_case()

    text = render_message(message, limit=TEXT)

    assert text is not None
    visible = parse_html(text.html).text
    first_line, meta = visible.split("\n")[:2]
    assert first_line == "로봇, 자율주행, 클라우드 AI 분야 3조 5000억 원 지원"
    assert meta == "실시간 뉴스 속보 · 2024-06-12 14:03 KST"
    assert visible.endswith("#ai #policy_finance #breaking")
    assert '<a href="https://news.example/2024/06/ai-policy-finance"><b>' in text.html
    excerpt = visible.split("\n\n")[1]
    lines = excerpt.split("\n")
    assert lines[0] == "한국 정부, AI정책금융 프로그램으로 산업 육성 계획"  # the body's heading
    assert lines[1].startswith("정부가 3조 5000억 원 규모의 'AI정책금융 프로그램'을 신설하여")
    assert excerpt.endswith(("다.", "…"))
    assert "<" not in excerpt and "&nbsp;" not in excerpt
    assert "https://news.example/2024/06/ai-policy-finance" in text.plain


@pytest.mark.parametrize(
    ("summary", "limit"),
    [
        (long_korean(2000), TEXT),
        ("😀" * 9000, TEXT),
        ("a😀 " * 4000, TEXT),
        (long_korean(500), CAPTION),
        ("𝕏" * 3000, CAPTION),
        ("word " * 3000, CAPTION),
    ],
)
def test_limits_bind_after_markup_in_utf16_units(summary: str, limit: int) -> None:
    hostile = item(title="A & B <c> " * 20, summary=summary, link="https://e.x/?a=1&b=2")
    message = outgoing(hostile, ("ai", "policy-finance"))

    rendered = render_message(message, limit=limit, excerpt_chars=100_000)

    assert rendered is not None
    visible = assert_valid(rendered.html, limit)
    assert limit - 60 <= fake_utf16_len(visible) <= limit  # filled, not cut far too short
    assert utf16_len(rendered.plain) <= limit
    assert len(rendered.html) > len(visible)  # markup is not counted


def test_excerpt_is_cut_at_a_sentence_or_a_word() -> None:
    summary = "First sentence here. " * 40 + "Tail words without an end"

    rendered = render_message(outgoing(item(summary=summary)), limit=TEXT, excerpt_chars=200)

    assert rendered is not None
    excerpt = parse_html(rendered.html).text.split("\n\n")[1]
    assert excerpt.endswith("here.")
    assert len(excerpt) <= 200
    wordy = render_message(outgoing(item(summary="word " * 100)), limit=TEXT, excerpt_chars=50)
    assert wordy is not None
    assert parse_html(wordy.html).text.split("\n\n")[1] == ("word " * 9).strip() + "…"


def test_summary_repeating_the_title_is_not_shown_twice() -> None:
    rendered = render_message(
        outgoing(item(title="Big news", summary="Big news: the details follow.")), limit=TEXT
    )

    assert rendered is not None
    assert parse_html(rendered.html).text.split("\n\n")[1] == "the details follow."


def test_paragraphs_stay_until_the_budget_then_one_is_cut() -> None:
    summary = "Heading\n\nFirst paragraph. It ends.\n" + "Second one goes on and on. " * 20

    rendered = render_message(outgoing(item(summary=summary)), limit=TEXT, excerpt_chars=200)

    assert rendered is not None
    excerpt = parse_html(rendered.html).text.split("\n\n")[1]
    assert excerpt.split("\n")[:2] == ["Heading", "First paragraph. It ends."]
    assert excerpt.split("\n")[2].startswith("Second one goes on")
    assert len(excerpt) <= 200


def test_default_excerpt_is_short() -> None:
    rendered = render_message(outgoing(item(summary="word " * 5000)), limit=TEXT)

    assert rendered is not None
    assert len(parse_html(rendered.html).text.split("\n\n")[1]) <= EXCERPT_CHARS


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://example.com/a", "https://example.com/a"),
        ("HTTP://Example.com/a?b=1&c=2", "HTTP://Example.com/a?b=1&c=2"),
        (" https://example.com/a b ", "https://example.com/a%20b"),
        ('https://example.com/"q"', "https://example.com/%22q%22"),
        ("https://example.com/한국", "https://example.com/%ED%95%9C%EA%B5%AD"),
        ("https://example.com/%20already", "https://example.com/%20already"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("data:text/html,<b>x</b>", None),
        ("at://did:plc:x/app.bsky.feed.post/1", None),
        ("//example.com/a", None),
        ("/relative/path", None),
        ("https://", None),
        ("http://[::1", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_link(link: str | None, expected: str | None) -> None:
    assert safe_url(link) == expected


@pytest.mark.parametrize(
    ("topics", "expected"),
    [
        (("ai",), "#ai"),
        (("policy-finance",), "#policy_finance"),
        (("kw:반도체",), "#반도체"),
        (("kw:생성 ai", "kw:c++"), "#생성_ai #c"),
        (("ai", "kw:ai"), "#ai"),
        (("kw:-", "kw: "), ""),
        (tuple(f"t{n}" for n in range(12)), " ".join(f"#t{n}" for n in range(8))),
        (("x" * 100,), "#" + "x" * 40),
    ],
)
def test_hashtags(topics: tuple[str, ...], expected: str) -> None:
    assert hashtags(topics) == expected


def test_utf16_len_counts_astral_characters_twice() -> None:
    for text in ("", "abc", "한국어", "😀", "a😀b", "𝕏" * 3):
        assert utf16_len(text) == fake_utf16_len(text)


FIVE_SOURCES = (
    Source("한겨레", "https://hani.example/1"),
    Source("서울<신문> & co", "https://seoul.example/1?a=1&b=2"),
    Source("국민일보", None),
    Source("경향신문", "https://khan.example/1"),
    Source("동아일보", "https://donga.example/1"),
)


@pytest.mark.parametrize("limit", [TEXT, CAPTION])
def test_also_line_names_three_sources_with_links_and_counts_the_rest(limit: int) -> None:
    story = replace(outgoing(item(summary=long_korean(400))), also=FIVE_SOURCES)

    rendered = render_message(story, limit=limit, excerpt_chars=100_000)

    assert rendered is not None
    visible = assert_valid(rendered.html, limit)
    assert visible.startswith("Title"), "the first headline stays"
    assert visible.rstrip().endswith("also: 한겨레 · 서울<신문> & co · 국민일보 (+2)")
    links = [
        e["url"] for e in parse_html(rendered.html, strict_ampersand=True).entities if "url" in e
    ]
    assert "https://hani.example/1" in links and "https://seoul.example/1?a=1&b=2" in links
    assert rendered.plain.rstrip().endswith("(+2)")


# /format -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [CAPTION, TEXT])
def test_compact_is_the_first_two_sentences_at_either_limit(limit: int) -> None:
    message = replace(outgoing(item(summary=long_korean(60))), excerpt=ExcerptLength.COMPACT)

    rendered = render_message(message, limit=limit)

    assert rendered is not None
    visible = assert_valid(rendered.html, limit)
    assert visible.split("\n\n")[1] == long_korean(2)


@pytest.mark.parametrize("limit", [CAPTION, TEXT])
def test_compact_shrinks_under_a_huge_title_and_stays_whole_markup(limit: int) -> None:
    sentence = "𝕏 " * 400 + "끝."
    huge = item(title="𝕏" * 400, summary=f"{sentence} {sentence} {sentence}")
    tags = tuple(f"topic{n}" * 5 for n in range(8))
    message = replace(outgoing(huge, tags), excerpt=ExcerptLength.COMPACT)

    rendered = render_message(message, limit=limit)

    assert rendered is not None
    visible = assert_valid(rendered.html, limit)
    excerpt = visible.split("\n\n")[1]
    assert excerpt.endswith("…") and len(excerpt) <= COMPACT_CHARS
    assert utf16_len(rendered.plain) <= limit


@pytest.mark.parametrize("limit", [CAPTION, TEXT])
def test_title_format_is_headline_source_and_link_only(limit: int) -> None:
    huge = item(title="𝕏" * 400, summary=long_korean(60))
    tags = tuple(f"topic{n}" * 5 for n in range(8))
    message = replace(outgoing(huge, tags), excerpt=ExcerptLength.TITLE)

    rendered = render_message(message, limit=limit)

    assert rendered is not None
    title = "𝕏" * 299 + "…"
    hashtags_line = " ".join(f"#{t}" for t in tags)
    assert assert_valid(rendered.html, limit) == (
        f"{title}\nexample · 2024-06-12 05:03 UTC\n\n{hashtags_line}"
    )
    assert rendered.plain == (
        f"{title}\nexample · 2024-06-12 05:03 UTC\n\nhttps://news.example/a\n\n{hashtags_line}"
    )
