"""One story, one alert, end to end on Telegram: two local feeds report one event under different
headlines; the chat gets one message, then an edit naming the second source.

The bot runs as `newsbot run --once` would (poll every feed, deliver what is due), against the fake
Bot API with python-telegram-bot pointed at it, on SQLite and PostgreSQL. The clock runs ahead
when the test says, so the one-minute spacing of edits is checked without waiting for it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import App
from bot.commands import CommandRequest
from bot.config import LoadedConfig, parse_config
from bot.models import Platform
from bot.settings import Settings
from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import shipped_topics

TOKEN = "4242:TEST_stories-token"
USER = 1001
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


class Bot:
    """`newsbot run --once`, as many times as a test asks, with a restart when it asks."""

    def __init__(self, config: Path, database_url: str, tg: FakeTelegram, clock: Clock) -> None:
        self.settings = Settings(
            database_url=database_url,
            config_path=config,
            telegram_bot_token=TOKEN,
            telegram_api_url=tg.base_url,
        )
        self.config = config
        self.clock = clock
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
        name, *args = text.lstrip("/").split()
        request = CommandRequest(Platform.TELEGRAM, str(USER), str(USER), name, tuple(args))
        reply = await self.app.commands_for(Platform.TELEGRAM).handle(request)
        return reply.text

    async def once(self) -> None:
        assert self.app is not None
        await self.app.run_once()


@pytest_asyncio.fixture
async def bot(
    tmp_path: Path, feed_server: FeedServer, tg: FakeTelegram, database_url: str
) -> AsyncIterator[Bot]:
    for name in FEEDS:
        feed_server.publish(f"{name}.xml", rss(old_items(name)))
    bot = Bot(write_config(tmp_path, feed_server), database_url, tg, Clock())
    await bot.start()
    assert "Subscribed to ai" in await bot.command("/subscribe ai")
    await bot.once()  # the first polls prime: nothing is sent
    try:
        yield bot
    finally:
        await bot.close()


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
