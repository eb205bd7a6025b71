"""Slack Block Kit rendering: golden files, and the limits every real-world item must stay within.

Goldens live in tests/data/golden/slack/<case>.json; `UPDATE_GOLDENS=1` rewrites them, and that
run fails naming what it rewrote. The seed article and the corpus items are read from ../shared
(skipped when it is absent) and go through the real parser and the outbox codec, as they do before
a send. Their goldens keep titles, links, images and the context line, but not the excerpt's text:
article text belongs to its publisher and stays out of this repository (as in
tests/data/labels.jsonl), so an excerpt is recorded by length, line count and SHA-256, and a
mismatch prints the full rendering. The handcrafted cases are ours and are stored in full.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.feeds.parse import ParseError, parse_feed
from bot.models import (
    ExcerptLength,
    FeedItem,
    Outgoing,
    Platform,
    Reason,
    Recipient,
    Source,
    Tag,
)
from bot.render.length import COMPACT_CHARS
from bot.render.slack import (
    MAX_BLOCKS,
    MAX_SECTION_TEXT,
    SlackMessage,
    escape_mrkdwn,
    link_label,
    render_alert,
    render_reply,
)
from bot.store.codec import decode_alert, encode_alert
from bot.text.plain import safe_url
from tests.fakes.feed_server import rss
from tests.helpers import CORPUS, check_goldens, corpus_dir, seed_file
from tests.seed import load_seed

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "slack"
CHANNEL = Recipient(Platform.SLACK, "C0NEWS")
SEED_TAGS = (
    Tag("ai", (Reason("AI", "title"),), 3.0),
    Tag("policy-finance", (Reason("정책금융", "lead"),), 2.0),
    Tag("breaking", (Reason("속보", "lead"),), 2.0),
)
PUBLISHED = datetime(2024, 6, 12, 5, 3, tzinfo=UTC)


def tag(*topics: str) -> tuple[Tag, ...]:
    return tuple(Tag(t, (Reason(t, "title"),), 2.0) for t in topics)


def through_outbox(item: FeedItem, tags: tuple[Tag, ...]) -> tuple[FeedItem, tuple[Tag, ...]]:
    """What the adapter gets: the alert as the outbox keeps it."""
    return decode_alert(encode_alert(item, tags))


# cases -------------------------------------------------------------------------------------------


def seed_case() -> Outgoing:
    seed = load_seed(seed_file())
    document = rss(
        [
            {
                "title": seed.title,
                "link": "https://news.example/seed",
                "guid": "seed-1",
                "description": seed.html,
                "category": "News",
                "pubDate": "Wed, 12 Jun 2024 05:03:00 GMT",
            }
        ]
    )
    [item] = parse_feed(document.encode(), source="news-example").items
    item, tags = through_outbox(item, SEED_TAGS)
    return Outgoing(CHANNEL, item, tags, "Asia/Seoul")


def corpus_case(path: str, index: int, *topics: str, timezone: str = "Asia/Seoul") -> Outgoing:
    file = corpus_dir() / path
    if not file.is_file():
        pytest.skip(f"corpus file {path} not found")
    items = parse_feed(file.read_bytes(), source=path.split("/")[0]).items
    item, tags = through_outbox(items[index], tag(*topics))
    return Outgoing(CHANNEL, item, tags, timezone)


LONG_KOREAN = "\n".join(
    [
        "[속보] 가상의 반도체 기업 한빛칩스, AI 가속기 양산 돌입",
        *(
            f"{n}번째 문단이다. 한빛칩스는 올해 하반기부터 새 인공지능 가속기를 양산한다고 밝혔다. "
            "회사는 정책금융 지원을 받아 생산 설비를 늘렸으며, 수출 물량도 크게 늘어날 것으로 "
            "내다봤다. 업계에서는 이번 발표가 국내 반도체 생태계에 활력을 줄 것이라고 평가한다."
            for n in range(1, 40)
        ),
    ]
)


def hostile_markup() -> Outgoing:
    item = FeedItem(
        key="hostile-1",
        guid="hostile-1",
        link='https://news.example/a b/기사?x=1&y=<2>|z"q',
        title=(
            '<script>alert("x")</script> AT&T *beats* _all_ | <!channel> @here <@U123> > #general'
        ),
        summary=(
            "<b>Not bold</b> & not <i>italic</i>: 3 < 4 > 2. <!here> <https://evil.example|click>\n"
            "*stars* _underscores_ ~strike~ `code` :fire: & &amp; &lt;already escaped&gt;"
        ),
        published=datetime(2024, 1, 31, 23, 30, tzinfo=UTC),
        image="https://img.example/a b|c>.png",
        image_alt="alt with <tags> & | bars",
        source="evil<feed>&co",
    )
    tags = (*tag("ai", "breaking"), Tag("kw:러스트", (Reason("러스트", "title"),)))
    return Outgoing(CHANNEL, item, tags, "America/New_York")


def long_korean() -> Outgoing:
    item = FeedItem(
        key="ko-long",
        guid=None,
        link="https://news.example/ko/1",
        title="[속보] 가상의 반도체 기업 한빛칩스, AI 가속기 양산 돌입",
        summary=LONG_KOREAN,
        published=PUBLISHED,
        source="가상뉴스",
    )
    return Outgoing(CHANNEL, item, tag("ai", "breaking"), "Asia/Seoul")


def long_korean_one_paragraph() -> Outgoing:
    item = FeedItem(
        key="ko-flat",
        guid=None,
        link="https://news.example/ko/2",
        title="가상 기사: 긴 문단 하나",
        summary=LONG_KOREAN.replace("\n", " ") * 3,
        published=PUBLISHED,
        source="가상뉴스",
    )
    return Outgoing(CHANNEL, item, tag("ai"), "Asia/Seoul")


def bare() -> Outgoing:
    item = FeedItem(
        key="bare",
        guid=None,
        link="javascript:alert(1)",
        title="",
        summary="",
        image="data:image/png;base64,AAAA",
    )
    return Outgoing(CHANNEL, item, (), "")


def huge_urls() -> Outgoing:
    item = FeedItem(
        key="huge",
        guid=None,
        link="https://news.example/" + "a" * 5000,
        title="A headline whose link is far too long to fit",
        summary="Short body.",
        image="https://img.example/" + "b" * 4000 + ".png",
        source="news-example",
    )
    return Outgoing(CHANNEL, item, tag("ai"), "UTC")


def title_and_image_only() -> Outgoing:
    item = FeedItem(
        key="photo",
        guid=None,
        link="https://news.example/photo",
        title="Photo of the day | AI art",
        summary="Photo of the day | AI art",
        published=PUBLISHED,
        image="http://img.example/photo.jpg",
        source="news-example",
    )
    return Outgoing(CHANNEL, item, tag("ai"), "Not/AZone")


CASES: dict[str, tuple[Callable[[], Outgoing], bool]] = {
    # name: (builder, redact the excerpt: publisher text)
    "seed": (seed_case, True),
    "corpus_hani_economy_0": (
        lambda: corpus_case("knews-rss-korean/hani-economy.xml", 0, "policy-finance"),
        True,
    ),
    "corpus_guardian_0": (
        lambda: corpus_case("rss-parser/guardian.rss", 0, "breaking", timezone="Europe/London"),
        True,
    ),
    "corpus_json_feed_0": (lambda: corpus_case("feedparser/json/example.json", 0, "ai"), True),
    "corpus_link_ampersands": (
        lambda: corpus_case("feedparser/illformed/rss_item_link_corrupted_ampersands.xml", 0),
        True,
    ),
    "corpus_sanitize_crazy": (
        lambda: corpus_case("feedparser/wellformed/sanitize/entry_content_crazy.xml", 0, "ai"),
        True,
    ),
    "hostile_markup": (hostile_markup, False),
    "long_korean": (long_korean, False),
    "long_korean_one_paragraph": (long_korean_one_paragraph, False),
    "bare": (bare, False),
    "huge_urls": (huge_urls, False),
    "title_and_image_only": (title_and_image_only, False),
}


# goldens -----------------------------------------------------------------------------------------


def as_json(message: SlackMessage) -> dict[str, Any]:
    return {"text": message.text, "blocks": list(message.blocks)}


def redacted(rendered: dict[str, Any]) -> dict[str, Any]:
    """The rendering with the excerpt's text replaced by its fingerprint."""
    out = json.loads(json.dumps(rendered))
    for block in out["blocks"]:
        if block.get("block_id") == "excerpt":
            text = block["text"]["text"]
            block["text"]["text"] = {
                "redacted": "article text belongs to its publisher",
                "chars": len(text),
                "lines": text.count("\n") + 1,
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
            }
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str) -> None:
    build, redact = CASES[case]
    rendered = as_json(render_alert(build()))
    expected_form = redacted(rendered) if redact else rendered
    assert_within_limits(rendered)
    check_goldens(
        {GOLDEN / f"{case}.json": json.dumps(expected_form, ensure_ascii=False, indent=2) + "\n"},
        shown=json.dumps(rendered, ensure_ascii=False, indent=2),
    )


# behaviour ---------------------------------------------------------------------------------------


def assert_within_limits(rendered: dict[str, Any]) -> None:
    blocks = rendered["blocks"]
    assert 1 <= len(blocks) <= MAX_BLOCKS
    assert rendered["text"]
    for block in blocks:
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= MAX_SECTION_TEXT
        if block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
        image = block.get("accessory")
        if image is not None:
            assert image["image_url"].startswith(("http://", "https://"))
            assert " " not in image["image_url"] and len(image["image_url"]) <= 3000
            assert 0 < len(image["alt_text"]) <= 2000
    json.dumps(rendered)  # everything is JSON (no lone surrogates)


def test_the_seed_arrives_as_a_linked_title_an_excerpt_and_its_image() -> None:
    message = render_alert(seed_case())
    title, body, meta = message.blocks
    assert title["text"]["text"].startswith("*<https://news.example/seed|로봇, 자율주행")
    assert body["accessory"]["image_url"].endswith("unnamed-file.png")
    excerpt = body["text"]["text"]
    assert "AI정책금융" in excerpt and len(excerpt) <= 600
    assert excerpt.endswith("다."), "cut after a sentence"
    assert [e["text"] for e in meta["elements"]] == [
        "news-example",
        "2024-06-12 14:03 KST",
        "ai, policy-finance, breaking",
    ]


def test_feed_text_cannot_mention_or_break_out_of_the_link() -> None:
    message = render_alert(hostile_markup())
    title = message.blocks[0]["text"]
    assert title["verbatim"] is True, "no @here / #channel parsing"
    label = title["text"].split("|", 1)[1]
    assert "<" not in label.removesuffix(">*") and ">" not in label.removesuffix(">*")
    assert "&lt;!channel&gt;" in label and "&amp;T" in label and "¦" in label
    url = title["text"][2 : title["text"].index("|")]
    assert " " not in url and ">" not in url and '"' not in url
    assert "<" not in message.text and "&amp;" in message.text
    # plain_text shows the excerpt exactly as the feed wrote it: nothing to escape there
    assert message.blocks[1]["text"]["type"] == "plain_text"
    assert "3 < 4 > 2" in message.blocks[1]["text"]["text"]


@pytest.mark.parametrize("chars", [2, 50, 3000, 10_000])
def test_the_excerpt_never_passes_the_section_limit(chars: int) -> None:
    message = render_alert(long_korean_one_paragraph(), excerpt_chars=chars)
    excerpt = message.blocks[1]["text"]["text"]
    assert 0 < len(excerpt) <= min(chars, MAX_SECTION_TEXT)
    assert_within_limits(as_json(message))


def test_without_image_drops_only_the_image() -> None:
    with_image = render_alert(seed_case())
    without = render_alert(seed_case(), with_image=False)
    assert "accessory" not in without.blocks[1]
    assert without.blocks[0] == with_image.blocks[0] and without.text == with_image.text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.example/x?y=1&z=2", "https://a.example/x?y=1&z=2"),
        ("http://a.example/a b|c>d", "http://a.example/a%20b%7Cc%3Ed"),
        ("https://a.example/한글", "https://a.example/%ED%95%9C%EA%B8%80"),
        ("javascript:alert(1)", None),
        ("/relative/path", None),
        ("ftp://a.example/file", None),
        ("https://", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_escaping_is_mrkdwns_three_characters_only() -> None:
    assert escape_mrkdwn("a & b < c > d *e* _f_") == "a &amp; b &lt; c &gt; d *e* _f_"
    assert link_label("x | y > z") == "x ¦ y &gt; z"


def test_reply_is_plain_text_with_buttons_that_carry_their_command() -> None:
    message = render_reply("Topics:\n• ai (AI / 인공지능)\n<topic...>", (("ai", "subscribe ai"),))
    section, actions = message.blocks
    assert section["text"] == {
        "type": "plain_text",
        "text": "Topics:\n• ai (AI / 인공지능)\n<topic...>",
        "emoji": False,
    }
    [button] = actions["elements"]
    assert button["value"] == "subscribe ai" and button["action_id"] == "newsbot_cmd_0"
    assert "&lt;topic...&gt;" in message.text


def test_a_long_reply_is_split_and_many_buttons_fill_several_rows() -> None:
    text = "\n".join(f"• line {n} " + "x" * 90 for n in range(100))
    buttons = tuple((f"t{n}", f"subscribe t{n}") for n in range(30))
    message = render_reply(text, buttons)
    sections = [b for b in message.blocks if b["type"] == "section"]
    rows = [b for b in message.blocks if b["type"] == "actions"]
    assert len(sections) == 4 and all(len(s["text"]["text"]) <= 3000 for s in sections)
    assert "\n".join(s["text"]["text"] for s in sections) == text
    assert [len(r["elements"]) for r in rows] == [25, 5]
    ids = [e["action_id"] for r in rows for e in r["elements"]]
    assert len(set(ids)) == 30 and len(message.blocks) <= MAX_BLOCKS


def test_every_corpus_item_renders_within_slacks_limits() -> None:
    root = corpus_dir()
    rendered = 0
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        if file.parent.name == "arxiv-recorded":
            continue
        try:
            items = parse_feed(file.read_bytes(), source=file.stem).items
        except ParseError:
            continue
        for item in items:
            for timezone in ("Asia/Seoul", ""):
                message = render_alert(Outgoing(CHANNEL, item, tag("ai"), timezone))
                assert_within_limits(as_json(message))
                rendered += 1
    assert rendered > 500, f"only {rendered} corpus items rendered from {CORPUS}"


def test_a_story_names_three_other_sources_as_links_and_counts_the_rest() -> None:
    others = (
        Source("한겨레", "https://hani.example/1"),
        Source("서울<신문> & co", "https://seoul.example/1?a=1&b=2"),
        Source("국민일보", None),
        Source("경향신문", "https://khan.example/1"),
        Source("동아일보", "https://donga.example/1"),
    )
    message = render_alert(replace(seed_case(), also=others))

    assert_within_limits(as_json(message))
    assert message.blocks[0]["text"]["text"].startswith("*<https://news.example/seed|로봇")
    [also] = [b for b in message.blocks if b.get("block_id") == "also"]
    assert also["elements"][0]["text"] == (
        "also: <https://hani.example/1|한겨레> · "
        "<https://seoul.example/1?a=1&amp;b=2|서울&lt;신문&gt; &amp; co> · 국민일보 (+2)"
    )


# /format -----------------------------------------------------------------------------------------


def test_compact_is_the_first_two_sentences() -> None:
    message = render_alert(replace(long_korean(), excerpt=ExcerptLength.COMPACT))

    assert message.blocks[1]["text"]["text"] == (
        "1번째 문단이다. 한빛칩스는 올해 하반기부터 새 인공지능 가속기를 양산한다고 밝혔다."
    )
    assert_within_limits(as_json(message))


def test_compact_of_one_endless_sentence_stays_short() -> None:
    endless = replace(long_korean_one_paragraph(), excerpt=ExcerptLength.COMPACT)
    endless = replace(endless, item=replace(endless.item, summary="가상 " * 5000))

    message = render_alert(endless)

    text = message.blocks[1]["text"]["text"]
    assert text.endswith("…") and len(text) <= COMPACT_CHARS
    assert_within_limits(as_json(message))


def test_title_format_keeps_the_image_beside_the_headline() -> None:
    message = render_alert(replace(seed_case(), excerpt=ExcerptLength.TITLE))

    assert [block["block_id"] for block in message.blocks] == ["title", "meta"]
    assert message.blocks[0]["accessory"]["type"] == "image"
    assert_within_limits(as_json(message))


def test_image_off_leaves_every_image_out() -> None:
    for excerpt in ExcerptLength:
        message = render_alert(replace(seed_case(), excerpt=excerpt, image=False))
        assert all("accessory" not in block for block in message.blocks)
