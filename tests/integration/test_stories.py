"""One story, one alert, end to end: local feeds report one event under different headlines; the
chat gets one message, then an edit naming the later sources (Telegram editMessageText, Slack
chat.update).

The bot runs as `newsbot run --once` would (poll every feed, deliver what is due), against the fake
Bot API and the fake Slack Web API with the real SDKs pointed at them, on SQLite and PostgreSQL.
The clock runs ahead when the test says, so the one-minute spacing of edits is checked without
waiting for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.models import Platform
from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import shipped_topics
from tests.integration.driver import CHANNEL, USER, ChatBot, Clock, Launch

FEEDS = ("hani", "seoul", "kmib")

pytestmark = pytest.mark.filterwarnings(
    "ignore:Deprecated since version v22.2.*retry_after:telegram.warnings.PTBDeprecationWarning"
)

REPORTS = {
    "hani": {
        "title": "산업부, AI 반도체에 3조5000억원 정책금융 지원",
        "description": "산업통상자원부는 2일 인공지능(AI) 반도체 기업에 3조5000억원 규모의 "
        "정책금융을 공급한다고 밝혔다.",
    },
    "seoul": {
        "title": '산업부 "AI 반도체에 정책금융 3조5000억원 지원"',
        "description": "산업통상자원부가 2일 인공지능(AI) 반도체 기업에 3조5000억원 규모 "
        "정책금융을 공급하겠다고 밝혔다.",
    },
    "kmib": {
        "title": "AI 반도체 정책금융 3조5000억원…산업부 지원 발표",
        "description": "산업통상자원부는 2일 인공지능(AI) 반도체 기업에 정책금융 3조5000억원을 "
        "공급하는 지원책을 발표했다.",
    },
}
"""One event, three headlines."""


def old_items(feed: str) -> list[dict[str, str]]:
    return [
        {
            "title": "어제의 AI 뉴스",
            "link": f"https://{feed}.example/old",
            "guid": f"{feed}-old",
            "description": "인공지능 이야기.",
        }
    ]


def report(feed: str) -> dict[str, str]:
    return {**REPORTS[feed], "link": f"https://{feed}.example/1", "guid": f"{feed}-1"}


def write_config(tmp_path: Path, feed_server: FeedServer) -> Path:
    feeds = "".join(
        f'  - {{name: {name}, url: "{feed_server.url(name + ".xml")}", interval: 1m}}\n'
        for name in FEEDS
    )
    path = tmp_path / "subscriptions.yaml"
    path.write_text(
        f"version: 1\ndefaults: {{timezone: Asia/Seoul}}\nfeeds:\n{feeds}{shipped_topics()}",
        encoding="utf-8",
    )
    return path


@contextlib.asynccontextmanager
async def running_bot(
    launch: Launch, tmp_path: Path, feed_server: FeedServer, platform: Platform
) -> AsyncIterator[ChatBot]:
    """A bot subscribed to `ai` whose feeds have been primed (nothing sent yet)."""
    for name in FEEDS:
        feed_server.publish(f"{name}.xml", rss(old_items(name)))
    config = write_config(tmp_path, feed_server)
    async with launch(platform, config, Clock()) as bot:
        assert "Subscribed to ai" in await bot.command("/subscribe ai")
        await bot.once()
        yield bot


@pytest_asyncio.fixture
async def bot(launch: Launch, tmp_path: Path, feed_server: FeedServer) -> AsyncIterator[ChatBot]:
    async with running_bot(launch, tmp_path, feed_server, Platform.TELEGRAM) as bot:
        yield bot


@pytest_asyncio.fixture
async def slack_bot(
    launch: Launch, tmp_path: Path, feed_server: FeedServer
) -> AsyncIterator[ChatBot]:
    async with running_bot(launch, tmp_path, feed_server, Platform.SLACK) as bot:
        yield bot


def publish(feed_server: FeedServer, feed: str) -> None:
    feed_server.publish(f"{feed}.xml", rss([report(feed), *old_items(feed)]))


async def test_a_second_report_edits_the_first_alert_even_across_a_restart(
    bot: ChatBot, feed_server: FeedServer, tg: FakeTelegram
) -> None:
    publish(feed_server, "hani")
    await bot.once()
    [alert] = tg.sent_to(USER)
    assert alert.plain_text.startswith(REPORTS["hani"]["title"])

    await bot.restart()  # the story and the message id are in the store, not in memory
    bot.clock.advance(120)
    publish(feed_server, "seoul")
    await bot.once()

    assert tg.sent_to(USER) == [alert], "the second report must not be a second alert"
    [edit] = tg.edits
    assert edit.message_id == alert.message_id
    assert edit.plain_text.startswith(REPORTS["hani"]["title"]), "the first headline stays"
    assert "also: seoul" in edit.plain_text
    assert 'href="https://seoul.example/1"' in edit.body

    why = await bot.command("/why")
    assert "2 source(s): hani, seoul" in why


async def test_edits_come_at_most_once_a_minute_and_carry_every_source_found_meanwhile(
    bot: ChatBot, feed_server: FeedServer, tg: FakeTelegram
) -> None:
    publish(feed_server, "hani")
    await bot.once()
    publish(feed_server, "seoul")
    await bot.once()
    assert len(tg.edits) == 1

    bot.clock.advance(10)
    publish(feed_server, "kmib")
    await bot.once()
    assert len(tg.edits) == 1, "a second edit within the minute must wait"

    bot.clock.advance(60)
    await bot.once()
    assert len(tg.sent_to(USER)) == 1
    assert len(tg.edits) == 2
    assert "also: seoul · kmib" in tg.edits[-1].plain_text


async def test_stories_off_brings_back_one_alert_per_report(
    bot: ChatBot, feed_server: FeedServer, tg: FakeTelegram
) -> None:
    assert "every report alerts" in await bot.command("/stories off")
    assert "Stories: off" in await bot.command("/list")
    publish(feed_server, "hani")
    await bot.once()
    publish(feed_server, "seoul")
    await bot.once()

    titles = [message.plain_text.split("\n", 1)[0] for message in tg.sent_to(USER)]
    assert titles == [REPORTS["hani"]["title"], REPORTS["seoul"]["title"]]
    assert tg.edits == []


async def test_a_report_that_adds_breaking_alerts_again(
    bot: ChatBot, feed_server: FeedServer, tg: FakeTelegram
) -> None:
    assert "Subscribed to breaking" in await bot.command("/subscribe breaking")
    publish(feed_server, "hani")
    await bot.once()
    breaking = {**report("seoul"), "title": "[속보] " + REPORTS["seoul"]["title"]}
    feed_server.publish("seoul.xml", rss([breaking, *old_items("seoul")]))
    await bot.once()

    assert len(tg.sent_to(USER)) == 2
    assert tg.sent_to(USER)[1].plain_text.startswith("[속보]")
    assert tg.edits == []


async def test_slack_a_second_report_updates_the_first_message_even_across_a_restart(
    slack_bot: ChatBot, feed_server: FeedServer, slack: FakeSlack
) -> None:
    publish(feed_server, "hani")
    await slack_bot.once()
    [alert] = slack.posted_to(CHANNEL)
    assert REPORTS["hani"]["title"] in (alert.text or "")

    await slack_bot.restart()
    slack_bot.clock.advance(120)
    publish(feed_server, "seoul")
    await slack_bot.once()

    assert slack.posted_to(CHANNEL) == [alert], "the second report must not be a second post"
    [update] = slack.updates_to(CHANNEL, alert.ts)
    blocks = str(update.blocks)
    assert REPORTS["hani"]["title"] in (update.text or ""), "the first headline stays"
    assert "also:" in blocks and "<https://seoul.example/1|seoul>" in blocks


async def test_slack_stories_off_brings_back_one_post_per_report(
    slack_bot: ChatBot, feed_server: FeedServer, slack: FakeSlack
) -> None:
    assert "every report alerts" in await slack_bot.command("stories off")
    publish(feed_server, "hani")
    await slack_bot.once()
    publish(feed_server, "seoul")
    await slack_bot.once()

    assert len(slack.posted_to(CHANNEL)) == 2
    assert slack.updates == []
