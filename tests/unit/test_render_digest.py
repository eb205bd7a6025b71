"""Digest rendering: grouping and order, exact Telegram HTML and Slack blocks, and pages that stay
inside each platform's limits without ever cutting an entry."""

from __future__ import annotations

import pytest

from bot.delivery.digest import digest_heading
from bot.i18n import speaking
from bot.models import DigestLine, DigestPage, Platform, Recipient, Source
from bot.render.digest import (
    arrange,
    paginate,
    render_slack_digest,
    render_telegram_digest,
    slack_fits,
    telegram_fits,
)
from bot.render.slack import MAX_BLOCKS, MAX_SECTION_TEXT
from bot.text.utf16 import utf16_len

TELEGRAM_TEXT = 4096
CHAT = Recipient(Platform.TELEGRAM, "1001")
LINES = (
    DigestLine(1, "ai", "AI 반도체 지원 <1>", "https://wire.example/1", "wire", 100.0),
    DigestLine(2, "policy-finance", "정책금융 & 보증", "https://bank.example/2", "bank", 300.0),
    DigestLine(3, "ai", "AI 모델 공개", None, "lab", 200.0),
    DigestLine(4, "kw:반도체", "반도체 수출", "javascript:alert(1)", "", 50.0),
)


def test_arrange_groups_by_topic_newest_group_and_story_first() -> None:
    assert [line.row_id for line in arrange(LINES)] == [2, 3, 1, 4]


def test_telegram_golden() -> None:
    [page] = paginate(CHAT, "Digest · 4 stories", LINES, lambda p: telegram_fits(p, 4096))
    text = render_telegram_digest(page)
    assert text.html == (
        "<b>Digest · 4 stories</b>\n"
        "\n<b>#policy_finance</b>\n"
        '• <a href="https://bank.example/2">정책금융 &amp; 보증</a> — bank\n'
        "\n<b>#ai</b>\n"
        "• AI 모델 공개 — lab\n"
        '• <a href="https://wire.example/1">AI 반도체 지원 &lt;1&gt;</a> — wire\n'
        "\n<b>#반도체</b>\n"
        "• 반도체 수출"
    )
    assert text.plain == (
        "Digest · 4 stories\n\n#policy_finance\n• 정책금융 & 보증 — bank\n"
        "  https://bank.example/2\n\n#ai\n• AI 모델 공개 — lab\n• AI 반도체 지원 <1> — wire\n"
        "  https://wire.example/1\n\n#반도체\n• 반도체 수출"
    )


def test_a_story_reported_by_others_names_them_on_its_line() -> None:
    others = tuple(Source(name, f"https://{n}.example/") for n, name in enumerate("ABCDE"))
    line = DigestLine(1, "ai", "AI 반도체 지원", "https://wire.example/1", "wire", 1.0, others)
    [page] = paginate(CHAT, "Digest · 1 story", [line], lambda p: telegram_fits(p, 4096))
    shown = "— wire, also A · B · C (+2)"
    assert f"지원</a> {shown}" in render_telegram_digest(page).html
    assert f"지원 {shown}" in render_telegram_digest(page).plain
    [page] = paginate(CHAT, "Digest · 1 story", [line], slack_fits)
    assert render_slack_digest(page).blocks[-1]["text"]["text"].endswith(shown)


def test_slack_golden() -> None:
    [page] = paginate(CHAT, "Digest · 4 stories", LINES, slack_fits)
    message = render_slack_digest(page)
    assert message.text == "Digest · 4 stories"
    assert [block["text"]["text"] for block in message.blocks] == [
        "*Digest · 4 stories*",
        "*#policy_finance*\n• <https://bank.example/2|정책금융 &amp; 보증> — bank",
        "*#ai*\n• AI 모델 공개 — lab\n• <https://wire.example/1|AI 반도체 지원 &lt;1&gt;> — wire",
        "*#반도체*\n• 반도체 수출",
    ]


MARCH_2_0800_KST = 1772406000.0


@pytest.mark.parametrize(
    ("language", "heading"),
    [
        ("en", "Digest · 4 stories · 2026-03-02 08:00 KST"),
        ("ko", "뉴스 모음 · 기사 4건 · 2026-03-02 08:00 KST"),
    ],
)
def test_golden_in_each_language_at_the_telegram_limit(language: str, heading: str) -> None:
    with speaking(language):
        title = digest_heading(len(LINES), MARCH_2_0800_KST, "Asia/Seoul")
    assert title == heading
    [page] = paginate(CHAT, title, LINES, lambda p: telegram_fits(p, 4096))
    full = render_telegram_digest(page)
    assert full.html.startswith(f"<b>{heading}</b>\n\n<b>#policy_finance</b>\n")
    # a limit just under the page's length moves the last entry, whole, to a second page
    limit = utf16_len(full.plain) - 1
    first, second = paginate(CHAT, title, LINES, lambda p: telegram_fits(p, limit))
    assert [line.row_id for line in first.lines] == [2, 3, 1]
    assert [line.row_id for line in second.lines] == [4]
    assert render_telegram_digest(second).plain == f"{heading} (2/2)\n\n#반도체\n• 반도체 수출"


def many(count: int, topics: int) -> list[DigestLine]:
    """Long headlines with astral characters (2 UTF-16 units each) and long links."""
    return [
        DigestLine(
            n,
            f"topic-{n % topics}",
            f"{n} 😀 " + "긴 제목 " * 40,
            f"https://news.example/{'a' * 150}/{n}",
            "source name",
            float(n),
        )
        for n in range(count)
    ]


def test_telegram_pages_fit_and_cut_only_between_entries() -> None:
    lines = many(120, 5)
    pages = paginate(CHAT, "Digest · 120 stories", lines, lambda p: telegram_fits(p, 4096))
    assert len(pages) > 1
    assert [(p.part, p.parts) for p in pages] == [(n, len(pages)) for n in range(1, len(pages) + 1)]
    shown = [line.row_id for page in pages for line in page.lines]
    assert sorted(shown) == list(range(120)), "every entry once, none cut"
    for page in pages:
        text = render_telegram_digest(page)
        assert utf16_len(text.plain) <= TELEGRAM_TEXT
        assert text.plain.startswith(f"Digest · 120 stories ({page.part}/{len(pages)})\n")
        assert "😀" in text.plain.splitlines()[-2] or "😀" in text.plain.splitlines()[-1]


def test_slack_pages_keep_to_fifty_blocks_and_3000_characters() -> None:
    lines = many(200, 70)
    pages = paginate(Recipient(Platform.SLACK, "C1"), "Digest", lines, slack_fits)
    assert len(pages) > 1
    assert sorted(line.row_id for page in pages for line in page.lines) == list(range(200))
    for page in pages:
        blocks = render_slack_digest(page).blocks
        assert len(blocks) <= MAX_BLOCKS
        assert all(len(block["text"]["text"]) <= MAX_SECTION_TEXT for block in blocks)


def test_one_topic_longer_than_a_section_is_split_between_entries() -> None:
    page = DigestPage(CHAT, "Digest", tuple(arrange(many(30, 1))))
    blocks = render_slack_digest(page).blocks
    assert len(blocks) > 2
    for block in blocks[1:]:
        text = block["text"]["text"]
        assert len(text) <= MAX_SECTION_TEXT
        assert all(line.startswith(("•", "*#")) for line in text.splitlines())
