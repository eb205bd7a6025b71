"""Digests and quiet hours, end to end on a clock the test moves: `/mode` and `/quiet` typed in a
chat, stories published to a local feed, and what reaches the fake Bot API and the fake Slack Web
API (through the real SDKs) at each instant, on SQLite and PostgreSQL.

No test sleeps: the clock stands still until the test sets it, so "nothing before 08:00" is
checked at 07:59 and "one digest at 08:00" at 08:00, across a restart and a daylight-saving change.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.models import Platform
from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import shipped_topics
from tests.integration.driver import CHANNEL, USER, ChatBot, Clock, Launch

SEOUL = ZoneInfo("Asia/Seoul")
NEW_YORK = ZoneInfo("America/New_York")


def at(zone: ZoneInfo, *when: int) -> float:
    """Epoch seconds of a wall-clock time in `zone` (`at(SEOUL, 2026, 3, 1, 8, 0)`)."""
    return datetime(*when, tzinfo=zone).timestamp()


def ai_story(n: int, published: float) -> dict[str, str]:
    """An `ai` story."""
    return {
        "title": f"AI 반도체 지원 {n}",
        "link": f"https://wire.example/{n}",
        "guid": f"wire-{n}",
        "description": "정부가 인공지능 반도체 산업에 3조원을 투입한다고 밝혔다.",
        "pubDate": datetime.fromtimestamp(published, ZoneInfo("UTC")).strftime(
            "%a, %d %b %Y %H:%M:%S GMT"
        ),
    }


def breaking_story(n: int, published: float) -> dict[str, str]:
    """A story tagged `breaking` (and `ai`)."""
    return {**ai_story(n, published), "title": f"[속보] AI 반도체 지원 {n}"}


class Wire:
    """The one feed: every story published so far, newest first."""

    def __init__(self, feed_server: FeedServer) -> None:
        self.feed_server = feed_server
        self.items: list[dict[str, str]] = []

    def publish(self, *items: dict[str, str]) -> None:
        self.items = [*reversed(items), *self.items]
        self.feed_server.publish("wire.xml", rss(self.items))


def write_config(
    tmp_path: Path, feed_server: FeedServer, timezone: str, *, defaults: str = "", tail: str = ""
) -> Path:
    """A config of the one feed: `defaults` adds to `defaults:` (`, mode: "hourly"`), `tail`
    follows the shipped topics (`subscriptions: ...`)."""
    path = tmp_path / "subscriptions.yaml"
    path.write_text(
        f"version: 1\ndefaults: {{timezone: {timezone}{defaults}}}\nstories: {{enabled: false}}\n"
        f'feeds:\n  - {{name: wire, url: "{feed_server.url("wire.xml")}", interval: 1m}}\n'
        f"{shipped_topics()}{tail}",
        encoding="utf-8",
    )
    return path


async def subscribed(bot: ChatBot, wire: Wire, *topics: str) -> None:
    """Subscribe the reader and prime the feed (its first poll sends nothing)."""
    for topic in topics:
        assert await bot.command(f"/subscribe {topic}") == f"Subscribed to {topic}."
    wire.publish(ai_story(0, bot.clock()))
    await bot.once()


Reader = Callable[..., AbstractAsyncContextManager[tuple[ChatBot, Wire]]]


@pytest.fixture
def reader(launch: Launch, tmp_path: Path, feed_server: FeedServer) -> Reader:
    """`reader(platform, zone, when, *topics)`: a bot whose default timezone is `zone`, its clock
    standing at `when`, its reader subscribed to `topics` (`ai` when none), and its feed."""

    @asynccontextmanager
    async def start(
        platform: Platform, zone: ZoneInfo, when: float, *topics: str
    ) -> AsyncIterator[tuple[ChatBot, Wire]]:
        wire = Wire(feed_server)
        config = write_config(tmp_path, feed_server, zone.key)
        async with launch(platform, config, Clock(when, frozen=True)) as bot:
            await subscribed(bot, wire, *(topics or ("ai",)))
            yield bot, wire

    return start


async def poll_at(bot: ChatBot, when: float) -> None:
    """Move the clock to `when` and run once (the feed is due again: its interval is 1m)."""
    bot.clock.set(when)
    await bot.once()


def telegram_texts(tg: FakeTelegram) -> list[str]:
    return [message.plain_text for message in tg.sent_to(USER)]


@pytest.mark.parametrize("restart", [False, True], ids=["running", "restarted"])
async def test_telegram_daily_digest_at_eight_in_the_chats_timezone(
    reader: Reader, tg: FakeTelegram, restart: bool
) -> None:
    async with reader(Platform.TELEGRAM, SEOUL, at(SEOUL, 2026, 3, 1, 6, 0)) as (bot, wire):
        assert await bot.command("/mode daily 08:00") == (
            "Alerts here now come in one digest a day at 08:00 (Asia/Seoul); "
            "the next is due 2026-03-01 08:00 KST."
        )
        for n, minute in ((1, 10), (2, 20), (3, 30)):
            wire.publish(ai_story(n, at(SEOUL, 2026, 3, 1, 6, minute)))
            await poll_at(bot, at(SEOUL, 2026, 3, 1, 6, minute + 1))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 7, 59))
        assert telegram_texts(tg) == [], "nothing before the digest is due"
        assert "Delivery: one digest a day at 08:00" in await bot.command("/list")

        if restart:
            await bot.restart()  # the held stories live in the outbox, not in memory
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 8, 0))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 8, 5))

        assert telegram_texts(tg) == [
            "Digest · 3 stories · 2026-03-01 08:00 KST\n\n#ai\n"
            "• AI 반도체 지원 3 — wire\n• AI 반도체 지원 2 — wire\n• AI 반도체 지원 1 — wire"
        ]
        [digest] = tg.sent_to(USER)
        assert '<a href="https://wire.example/3">AI 반도체 지원 3</a>' in digest.body

        wire.publish(ai_story(4, at(SEOUL, 2026, 3, 1, 9, 0)))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 9, 1))
        await poll_at(bot, at(SEOUL, 2026, 3, 2, 7, 59))
        assert len(tg.sent_to(USER)) == 1, "the next story waits for the next day's digest"
        await poll_at(bot, at(SEOUL, 2026, 3, 2, 8, 0))
        assert telegram_texts(tg)[1:] == [
            "Digest · 1 story · 2026-03-02 08:00 KST\n\n#ai\n• AI 반도체 지원 4 — wire"
        ]
        await poll_at(bot, at(SEOUL, 2026, 3, 3, 8, 0))
        assert len(tg.sent_to(USER)) == 2, "no digest when there is nothing"


async def test_telegram_quiet_hours_hold_all_but_breaking(reader: Reader, tg: FakeTelegram) -> None:
    evening = at(SEOUL, 2026, 3, 1, 22, 0)
    async with reader(Platform.TELEGRAM, SEOUL, evening, "ai", "breaking") as (bot, wire):
        assert await bot.command("/quiet 23:00-07:00 except breaking") == (
            "Quiet hours 23:00-07:00 (Asia/Seoul): alerts found then wait and come in one "
            "digest when they end; breaking news still comes at once."
        )
        assert "Quiet hours: 23:00-07:00, breaking news still comes at once" in (
            await bot.command("/list")
        )
        wire.publish(ai_story(1, at(SEOUL, 2026, 3, 1, 22, 30)))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 22, 31))
        assert telegram_texts(tg)[0].startswith("AI 반도체 지원 1\n"), "before quiet hours"

        wire.publish(ai_story(2, at(SEOUL, 2026, 3, 1, 23, 30)))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 23, 31))
        wire.publish(breaking_story(3, at(SEOUL, 2026, 3, 2, 2, 0)))
        await poll_at(bot, at(SEOUL, 2026, 3, 2, 2, 1))
        wire.publish(ai_story(4, at(SEOUL, 2026, 3, 2, 5, 0)))
        await poll_at(bot, at(SEOUL, 2026, 3, 2, 5, 1))
        await poll_at(bot, at(SEOUL, 2026, 3, 2, 6, 59))
        texts = telegram_texts(tg)
        assert len(texts) == 2 and texts[1].startswith("[속보] AI 반도체 지원 3\n")

        await poll_at(bot, at(SEOUL, 2026, 3, 2, 7, 0))
        assert telegram_texts(tg)[2:] == [
            "Digest · 2 stories · 2026-03-02 07:00 KST\n\n#ai\n"
            "• AI 반도체 지원 4 — wire\n• AI 반도체 지원 2 — wire"
        ]
        assert await bot.command("/quiet off") == (
            "No quiet hours here: alerts come as they are found."
        )


async def test_telegram_quiet_hours_without_except_hold_breaking_too(
    reader: Reader, tg: FakeTelegram
) -> None:
    night = at(SEOUL, 2026, 3, 1, 23, 0)
    async with reader(Platform.TELEGRAM, SEOUL, night, "breaking") as (bot, wire):
        await bot.command("/quiet 23:00-07:00")
        wire.publish(breaking_story(1, at(SEOUL, 2026, 3, 1, 23, 30)))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 23, 31))
        await poll_at(bot, at(SEOUL, 2026, 3, 2, 6, 59))
        assert telegram_texts(tg) == []
        await poll_at(bot, at(SEOUL, 2026, 3, 2, 7, 0))
        assert telegram_texts(tg) == [
            "Digest · 1 story · 2026-03-02 07:00 KST\n\n#breaking\n• [속보] AI 반도체 지원 1 — wire"
        ]


async def test_telegram_a_long_digest_is_split_between_stories(
    reader: Reader, tg: FakeTelegram
) -> None:
    """60 stories with long headlines pass Telegram's 4,096 characters: several messages, each
    accepted, each story in exactly one of them, whole."""
    long_title = "인공지능 반도체 지원 확대 발표 " * 8
    async with reader(Platform.TELEGRAM, SEOUL, at(SEOUL, 2026, 3, 1, 6, 0)) as (bot, wire):
        await bot.command("/mode daily 08:00")
        wire.publish(
            *(
                {**ai_story(n, at(SEOUL, 2026, 3, 1, 6, 0) + n), "title": f"{long_title}{n}"}
                for n in range(1, 61)
            )
        )
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 6, 5))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 8, 0))

    pages = tg.sent_to(USER)
    assert len(pages) > 1
    assert [page.plain_text.splitlines()[0] for page in pages] == [
        f"Digest · 60 stories · 2026-03-01 08:00 KST ({n}/{len(pages)})"
        for n in range(1, len(pages) + 1)
    ]
    shown = [
        int(line.removeprefix(f"• {long_title}").removesuffix(" — wire"))
        for page in pages
        for line in page.plain_text.splitlines()
        if line.startswith("• ")
    ]
    assert shown == list(range(60, 0, -1)), "every story once, newest first, none cut"


async def test_slack_daily_digest_keeps_eight_oclock_across_the_dst_change(
    reader: Reader, slack: FakeSlack
) -> None:
    """New York moves its clocks forward on 2026-03-08: the digest is still at 08:00 there."""
    async with reader(Platform.SLACK, NEW_YORK, at(NEW_YORK, 2026, 3, 7, 12, 0)) as (bot, wire):
        assert await bot.command("/news mode daily 08:00") == (
            "Alerts here now come in one digest a day at 08:00 (America/New_York); "
            "the next is due 2026-03-08 08:00 EDT."
        )
        wire.publish(ai_story(1, at(NEW_YORK, 2026, 3, 7, 12, 30)))
        await poll_at(bot, at(NEW_YORK, 2026, 3, 7, 12, 31))
        await poll_at(bot, at(NEW_YORK, 2026, 3, 8, 7, 59))
        assert slack.posted_to(CHANNEL) == [], "07:59 EDT (11:59 UTC): not yet"
        await poll_at(bot, at(NEW_YORK, 2026, 3, 8, 8, 0))

    [digest] = slack.posted_to(CHANNEL)
    assert digest.text == "Digest · 1 story · 2026-03-08 08:00 EDT"
    assert [block["text"]["text"] for block in digest.blocks or []] == [
        "*Digest · 1 story · 2026-03-08 08:00 EDT*",
        "*#ai*\n• <https://wire.example/1|AI 반도체 지원 1> — wire",
    ]


async def test_slack_hourly_digest_and_back_to_instant(reader: Reader, slack: FakeSlack) -> None:
    async with reader(Platform.SLACK, SEOUL, at(SEOUL, 2026, 3, 1, 9, 0)) as (bot, wire):
        assert await bot.command("/news mode hourly") == (
            "Alerts here now come in one digest an hour (Asia/Seoul); "
            "the next is due 2026-03-01 10:00 KST."
        )
        wire.publish(ai_story(1, at(SEOUL, 2026, 3, 1, 9, 10)))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 9, 11))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 10, 0))
        assert len(slack.posted_to(CHANNEL)) == 1
        wire.publish(ai_story(2, at(SEOUL, 2026, 3, 1, 10, 10)))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 10, 11))
        assert len(slack.posted_to(CHANNEL)) == 1, "held until 11:00"
        assert await bot.command("/news mode instant") == (
            "Alerts here now come one by one, as they are found."
        )
        await bot.once()
        wire.publish(ai_story(3, at(SEOUL, 2026, 3, 1, 10, 20)))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 10, 21))

    first, released, instant = slack.posted_to(CHANNEL)
    assert first.text == "Digest · 1 story · 2026-03-01 10:00 KST"
    assert released.text == "Digest · 1 story · 2026-03-01 10:11 KST", "held ones go out at once"
    assert "AI 반도체 지원 2" in str(released.blocks)
    assert "AI 반도체 지원 3" in (instant.text or "") and instant.blocks is not None


async def test_mode_and_quiet_refuse_bogus_arguments(reader: Reader) -> None:
    mode_usage = "Usage: /mode [instant|hourly|daily <HH:MM>|weekly <day> <HH:MM>|default]"
    quiet_usage = "Usage: /quiet [<HH:MM-HH:MM> [except breaking]|off|default]"
    async with reader(Platform.TELEGRAM, SEOUL, at(SEOUL, 2026, 3, 1, 9, 0)) as (bot, _wire):
        for wrong in ("/mode daily", "/mode daily 25:00", "/mode weekly 08:00", "/mode often"):
            assert await bot.command(wrong) == mode_usage
        for wrong in ("/quiet 23:00", "/quiet 23:00-23:00", "/quiet 23:00-07:00 except ai"):
            assert await bot.command(wrong) == quiet_usage
        assert await bot.command("/mode") == (
            f"Alerts here come one by one, as they are found.\n{mode_usage}"
        )
        assert await bot.command("/mode weekly Monday 8:00") == (
            "Alerts here now come in one digest a week, Mondays at 08:00 (Asia/Seoul); "
            "the next is due 2026-03-02 08:00 KST."
        )
        assert await bot.command("/quiet") == f"No quiet hours here.\n{quiet_usage}"
