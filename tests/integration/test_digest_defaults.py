"""The operator's delivery mode and quiet hours (`defaults:` and per subscription in the config),
end to end on a clock the test moves: a chat that chose nothing follows them, its own `/mode` or
`/quiet` overrides them, and `/list` shows what applies, at the fake Bot API and the fake Slack
Web API, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.models import Platform
from tests.fakes.feed_server import FeedServer
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.driver import CHANNEL, TOKEN, USER, ChatBot, Clock, Launch
from tests.integration.test_digests import (
    SEOUL,
    Wire,
    ai_story,
    at,
    poll_at,
    subscribed,
    telegram_texts,
    write_config,
)

Operated = Callable[..., AbstractAsyncContextManager[tuple[ChatBot, Wire]]]


@pytest.fixture
def operated(launch: Launch, tmp_path: Path, feed_server: FeedServer) -> Operated:
    """`operated(platform, when, defaults="", tail="")`: a bot in Asia/Seoul with these additions
    to its config, its clock at `when`, its reader subscribed to `ai` (by `/subscribe` unless
    `tail` lists the subscriptions); `settings` as `launch` takes them."""

    @asynccontextmanager
    async def start(
        platform: Platform, when: float, defaults: str = "", tail: str = "", **settings: Any
    ) -> AsyncIterator[tuple[ChatBot, Wire]]:
        wire = Wire(feed_server)
        config = write_config(tmp_path, feed_server, SEOUL.key, defaults=defaults, tail=tail)
        async with launch(platform, config, Clock(when, frozen=True), **settings) as bot:
            await subscribed(bot, wire, *(() if tail else ("ai",)))
            yield bot, wire

    return start


async def test_a_chat_that_chose_nothing_gets_the_operators_daily_digest(
    operated: Operated, tg: FakeTelegram
) -> None:
    morning = at(SEOUL, 2026, 3, 1, 6, 0)
    async with operated(Platform.TELEGRAM, morning, ', mode: "daily 08:00"') as (bot, wire):
        assert (await bot.command("/mode")).startswith(
            "Alerts here come one digest a day at 08:00.\n"
        )
        assert "Delivery: one digest a day at 08:00" in await bot.command("/list")
        for n, minute in ((1, 10), (2, 20)):
            wire.publish(ai_story(n, at(SEOUL, 2026, 3, 1, 6, minute)))
            await poll_at(bot, at(SEOUL, 2026, 3, 1, 6, minute + 1))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 7, 59))
        assert telegram_texts(tg) == [], "held for the operator's digest"
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 8, 0))
        assert telegram_texts(tg) == [
            "Digest · 2 stories · 2026-03-01 08:00 KST\n\n#ai\n"
            "• AI 반도체 지원 2 — wire\n• AI 반도체 지원 1 — wire"
        ]

        wire.publish(ai_story(3, at(SEOUL, 2026, 3, 1, 8, 30)))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 8, 31))
        assert len(telegram_texts(tg)) == 1, "held for tomorrow's digest"
        assert await bot.command("/mode instant") == (
            "Alerts here now come one by one, as they are found."
        )
        # the chat's own choice over the operator's digest shows
        assert "Delivery: one by one, as they are found" in await bot.command("/list")
        await bot.once()
        assert telegram_texts(tg)[1:] == [
            "Digest · 1 story · 2026-03-01 08:31 KST\n\n#ai\n• AI 반도체 지원 3 — wire"
        ], "what the operator's mode held goes out when the chat chose instant"

        wire.publish(ai_story(4, at(SEOUL, 2026, 3, 1, 9, 0)))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 9, 1))
        texts = telegram_texts(tg)
        assert len(texts) == 3 and texts[2].startswith("AI 반도체 지원 4\n"), "at once, alone"


async def test_a_chat_that_chose_instant_first_never_waits_for_the_operators_digest(
    operated: Operated, tg: FakeTelegram
) -> None:
    morning = at(SEOUL, 2026, 3, 1, 6, 0)
    async with operated(Platform.TELEGRAM, morning, ', mode: "daily 08:00"') as (bot, wire):
        await bot.command("/mode instant")
        # the chat's own choice shows, not the silence of a chat that chose nothing
        assert "Delivery: one by one, as they are found" in await bot.command("/list")
        wire.publish(ai_story(1, at(SEOUL, 2026, 3, 1, 6, 10)))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 6, 11))
        [text] = telegram_texts(tg)
        assert text.startswith("AI 반도체 지원 1\n")


async def test_the_operators_quiet_hours_hold_until_the_chat_turns_them_off(
    operated: Operated, tg: FakeTelegram
) -> None:
    evening = at(SEOUL, 2026, 3, 1, 22, 0)
    async with operated(Platform.TELEGRAM, evening, ', quiet: "23:00-07:00"') as (bot, wire):
        assert "Quiet hours: 23:00-07:00" in await bot.command("/list")
        wire.publish(ai_story(1, at(SEOUL, 2026, 3, 1, 23, 30)))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 23, 31))
        await poll_at(bot, at(SEOUL, 2026, 3, 2, 6, 59))
        assert telegram_texts(tg) == []
        await poll_at(bot, at(SEOUL, 2026, 3, 2, 7, 0))
        assert telegram_texts(tg) == [
            "Digest · 1 story · 2026-03-02 07:00 KST\n\n#ai\n• AI 반도체 지원 1 — wire"
        ]

        await bot.command("/quiet off")
        assert (await bot.command("/quiet")).startswith("No quiet hours here.")
        assert "Quiet hours: (none)" in await bot.command("/list")
        wire.publish(ai_story(2, at(SEOUL, 2026, 3, 2, 23, 30)))
        await poll_at(bot, at(SEOUL, 2026, 3, 2, 23, 31))
        texts = telegram_texts(tg)
        assert len(texts) == 2 and texts[1].startswith("AI 반도체 지원 2\n")


async def test_a_subscriptions_mode_holds_its_chat_alone(
    operated: Operated, slack: FakeSlack, tg: FakeTelegram
) -> None:
    tail = (
        "subscriptions:\n"
        f'  - {{slack: {CHANNEL}, topics: [ai], mode: "hourly"}}\n'
        f"  - {{telegram: {USER}, topics: [ai]}}\n"
    )
    nine = at(SEOUL, 2026, 3, 1, 9, 0)
    both = {"telegram_bot_token": TOKEN}  # the other chat is on Telegram
    async with operated(Platform.SLACK, nine, tail=tail, **both) as (bot, wire):
        assert "Delivery: one digest an hour" in await bot.command("/news list")
        wire.publish(ai_story(1, at(SEOUL, 2026, 3, 1, 9, 10)))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 9, 11))
        assert slack.posted_to(CHANNEL) == []
        [alert] = telegram_texts(tg)
        assert alert.startswith("AI 반도체 지원 1\n"), "the other chat follows `defaults:`"
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 10, 0))
        [digest] = slack.posted_to(CHANNEL)
        assert digest.text == "Digest · 1 story · 2026-03-01 10:00 KST"


async def test_default_gives_the_chats_mode_and_quiet_hours_back_to_the_operator(
    operated: Operated, tg: FakeTelegram
) -> None:
    morning = at(SEOUL, 2026, 3, 1, 6, 0)
    defaults = ', mode: "daily 08:00", quiet: "23:00-07:00"'
    async with operated(Platform.TELEGRAM, morning, defaults) as (bot, wire):
        await bot.command("/mode instant")
        await bot.command("/quiet off")
        wire.publish(ai_story(1, at(SEOUL, 2026, 3, 1, 6, 10)))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 6, 11))
        assert len(telegram_texts(tg)) == 1, "the chat's own instant mode"

        assert await bot.command("/mode default") == (
            "Alerts here follow the bot's default again: one digest a day at 08:00."
        )
        assert await bot.command("/quiet DEFAULT") == (
            "Quiet hours here follow the bot's default again: 23:00-07:00."
        )
        assert "Delivery: one digest a day at 08:00" in await bot.command("/list")
        wire.publish(ai_story(2, at(SEOUL, 2026, 3, 1, 6, 20)))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 6, 21))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 7, 59))
        assert len(telegram_texts(tg)) == 1, "held for the operator's digest again"
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 8, 0))
        assert telegram_texts(tg)[1] == (
            "Digest · 1 story · 2026-03-01 08:00 KST\n\n#ai\n• AI 반도체 지원 2 — wire"
        )


async def test_default_without_an_operators_choice_means_instant_and_no_quiet_hours(
    operated: Operated, tg: FakeTelegram
) -> None:
    async with operated(Platform.TELEGRAM, at(SEOUL, 2026, 3, 1, 6, 0)) as (bot, wire):
        await bot.command("/mode hourly")
        await bot.command("/quiet 23:00-07:00")
        wire.publish(ai_story(1, at(SEOUL, 2026, 3, 1, 6, 10)))
        await poll_at(bot, at(SEOUL, 2026, 3, 1, 6, 11))
        assert telegram_texts(tg) == [], "held for the chat's hourly digest"
        assert await bot.command("/quiet default") == (
            "Quiet hours here follow the bot's default again: none."
        )
        assert await bot.command("/mode default") == (
            "Alerts here follow the bot's default again: one by one, as they are found."
        )
        await bot.once()
        [alert] = telegram_texts(tg)
        assert alert.startswith("AI 반도체 지원 1\n"), "what the chat's digest held goes out now"
