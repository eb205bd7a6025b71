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
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import App
from bot.commands import CommandRequest
from bot.config import LoadedConfig, parse_config
from bot.models import Platform
from bot.settings import Settings
from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import shipped_topics

TOKEN = "4242:TEST_stories-token"
SLACK_TOKEN = "xoxb-TEST-stories"
USER = 1001
SLACK_CHANNEL = "C0STORIES"
SLACK_USER = "U0READER"
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


class Clock:
    """Real time plus whatever the test skips ahead, so waits for pacing still end."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def advance(self, seconds: float) -> None:
        self.skipped += seconds

    def __call__(self) -> float:
        return time.time() + self.skipped


@pytest_asyncio.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        fake.add_chat(USER, first_name="Ada")
        yield fake


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


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=SLACK_TOKEN) as fake:
        fake.add_channel(SLACK_CHANNEL, name="news")
        fake.add_user(SLACK_USER)
        yield fake


class Bot:
    """`newsbot run --once`, as many times as a test asks, with a restart when it asks; its
    commands are typed by one reader in one chat."""

    def __init__(
        self, config: Path, settings: Settings, clock: Clock, reader: tuple[Platform, str, str]
    ) -> None:
        self.settings = settings
        self.config = config
        self.clock = clock
        self.reader = reader
        self.app: App | None = None

    async def start(self) -> App:
        loaded = LoadedConfig(parse_config(self.config.read_text(encoding="utf-8")), self.config)
        self.app = App(self.settings, loaded, clock=self.clock)
        await self.app.start()
        return self.app

    async def restart(self) -> App:
        await self.close()
        return await self.start()

    async def close(self) -> None:
        if self.app is not None:
            await self.app.close()
            self.app = None

    async def command(self, text: str) -> str:
        assert self.app is not None
        platform, chat, user = self.reader
        name, *args = text.lstrip("/").split()
        request = CommandRequest(platform, chat, user, name, tuple(args))
        reply = await self.app.commands_for(platform).handle(request)
        return reply.text

    async def once(self) -> None:
        assert self.app is not None
        await self.app.run_once()


@contextlib.asynccontextmanager
async def running_bot(
    tmp_path: Path, feed_server: FeedServer, settings: Settings, reader: tuple[Platform, str, str]
) -> AsyncIterator[Bot]:
    """A bot subscribed to `ai` whose feeds have been primed (nothing sent yet)."""
    for name in FEEDS:
        feed_server.publish(f"{name}.xml", rss(old_items(name)))
    config = write_config(tmp_path, feed_server)
    bot = Bot(config, replace(settings, config_path=config), Clock(), reader)
    await bot.start()
    try:
        assert "Subscribed to ai" in await bot.command("/subscribe ai")
        await bot.once()
        yield bot
    finally:
        await bot.close()


@pytest_asyncio.fixture
async def bot(
    tmp_path: Path, feed_server: FeedServer, tg: FakeTelegram, database_url: str
) -> AsyncIterator[Bot]:
    settings = Settings(
        database_url=database_url, telegram_bot_token=TOKEN, telegram_api_url=tg.base_url
    )
    reader = (Platform.TELEGRAM, str(USER), str(USER))
    async with running_bot(tmp_path, feed_server, settings, reader) as bot:
        yield bot


@pytest_asyncio.fixture
async def slack_bot(
    tmp_path: Path, feed_server: FeedServer, slack: FakeSlack, database_url: str
) -> AsyncIterator[Bot]:
    settings = Settings(
        database_url=database_url, slack_bot_token=SLACK_TOKEN, slack_api_url=slack.api_url
    )
    reader = (Platform.SLACK, SLACK_CHANNEL, SLACK_USER)
    async with running_bot(tmp_path, feed_server, settings, reader) as bot:
        yield bot


def publish(feed_server: FeedServer, feed: str) -> None:
    feed_server.publish(f"{feed}.xml", rss([report(feed), *old_items(feed)]))


async def test_a_second_report_edits_the_first_alert_even_across_a_restart(
    bot: Bot, feed_server: FeedServer, tg: FakeTelegram
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
    bot: Bot, feed_server: FeedServer, tg: FakeTelegram
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
    bot: Bot, feed_server: FeedServer, tg: FakeTelegram
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
    bot: Bot, feed_server: FeedServer, tg: FakeTelegram
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
    slack_bot: Bot, feed_server: FeedServer, slack: FakeSlack
) -> None:
    publish(feed_server, "hani")
    await slack_bot.once()
    [alert] = slack.posted_to(SLACK_CHANNEL)
    assert REPORTS["hani"]["title"] in (alert.text or "")

    await slack_bot.restart()
    slack_bot.clock.advance(120)
    publish(feed_server, "seoul")
    await slack_bot.once()

    assert slack.posted_to(SLACK_CHANNEL) == [alert], "the second report must not be a second post"
    [update] = slack.updates_to(SLACK_CHANNEL, alert.ts)
    blocks = str(update.blocks)
    assert REPORTS["hani"]["title"] in (update.text or ""), "the first headline stays"
    assert "also:" in blocks and "<https://seoul.example/1|seoul>" in blocks


async def test_slack_stories_off_brings_back_one_post_per_report(
    slack_bot: Bot, feed_server: FeedServer, slack: FakeSlack
) -> None:
    assert "every report alerts" in await slack_bot.command("stories off")
    publish(feed_server, "hani")
    await slack_bot.once()
    publish(feed_server, "seoul")
    await slack_bot.once()

    assert len(slack.posted_to(SLACK_CHANNEL)) == 2
    assert slack.updates == []
