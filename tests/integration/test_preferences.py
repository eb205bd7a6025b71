"""A chat's timezone and format, end to end: `/timezone` and `/format` typed in a chat, then the
alert that `newsbot run --once` sends through the real SDKs to the fake Bot API and the fake Slack
Web API, on SQLite and PostgreSQL; the operator's defaults from `subscriptions.yaml` where a chat
chose nothing.

The clock stands still at 2026-03-01 00:00 UTC (09:00 in Seoul), so every time shown is exact.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.models import Platform
from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import shipped_topics
from tests.integration.driver import CHANNEL, USER, ChatBot, Clock, Launch

NOW = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
IMAGE = "https://img.example/chip.jpg"
SENTENCES = [
    "정부가 인공지능 반도체 산업에 3조원을 투입한다고 1일 밝혔다.",
    "지원 대상은 설계와 제조를 아우르는 국내 기업 120곳이다.",
    "산업통상자원부는 올해 상반기 안에 첫 지원을 시작할 계획이다.",
    "업계는 이번 조치가 공급망 안정에 도움이 될 것이라고 평가했다.",
    "다만 일부 전문가들은 지원 규모가 경쟁국보다 작다고 지적했다.",
    "정부는 하반기에 추가 대책을 내놓겠다고 덧붙였다.",
]


def story(n: int) -> dict[str, str]:
    """An `ai` story published at 2026-02-28 23:30 UTC (08:30 in Seoul)."""
    return {
        "title": f"AI 반도체 지원 {n}",
        "link": f"https://wire.example/{n}",
        "guid": f"wire-{n}",
        "description": f'<p><img src="{IMAGE}" alt="chip"></p><p>{" ".join(SENTENCES)}</p>',
        "pubDate": "Sat, 28 Feb 2026 23:30:00 GMT",
    }


async def publish_story(bot: ChatBot, feed_server: FeedServer, n: int) -> None:
    """Publish story `n` (after those before it) and run once."""
    feed_server.publish("wire.xml", rss([story(i) for i in range(n, -1, -1)]))
    await bot.once()


BotFactory = Callable[..., AbstractAsyncContextManager[ChatBot]]


@pytest.fixture
def running(tmp_path: Path, feed_server: FeedServer, launch: Launch) -> BotFactory:
    """A factory of bots on `platform` whose config has these `defaults:` and `subscriptions:`
    (each story alerts on its own); the feed is primed with story 0 and the reader, unless the
    operator subscribed the chat, is subscribed to `ai`."""

    @asynccontextmanager
    async def start(
        platform: Platform, defaults: str = "{}", subscriptions: str = ""
    ) -> AsyncIterator[ChatBot]:
        feed_server.publish("wire.xml", rss([story(0)]))
        path = tmp_path / "subscriptions.yaml"
        path.write_text(
            f"version: 1\ndefaults: {defaults}\nstories: {{enabled: false}}\n"
            f'feeds:\n  - {{name: wire, url: "{feed_server.url("wire.xml")}"}}\n'
            f"{shipped_topics()}subscriptions:\n{subscriptions}",
            encoding="utf-8",
        )
        async with launch(platform, path, Clock(NOW, frozen=True)) as bot:
            if not subscriptions:
                assert await bot.command("/subscribe ai") == "Subscribed to ai."
            await bot.once()
            yield bot

    return start


def preview_of(params: dict[str, object]) -> object:
    options = params["link_preview_options"]
    return json.loads(options) if isinstance(options, str) else options


async def test_telegram_timezone_moves_every_time_shown(
    running: BotFactory, feed_server: FeedServer, tg: FakeTelegram
) -> None:
    usage = "Usage: /timezone [<Area/City>|default]"
    async with running(Platform.TELEGRAM) as bot:
        assert await bot.command("/timezone") == (
            f"Times here are in UTC (now 2026-03-01 00:00 UTC).\n{usage}"
        )
        assert await bot.command("/timezone Asia/Seol") == (
            f"Unknown timezone Asia/Seol. Did you mean Asia/Seoul, Asia/Oral, Asia/Saigon? {usage}"
        )
        assert await bot.command("/timezone Seoul") == (
            f"Unknown timezone Seoul. Did you mean Asia/Seoul, Australia/South, "
            f"Australia/Eucla? {usage}"
        )
        assert await bot.command("/timezone Mars/Olympus_Mons") == (
            f"Unknown timezone Mars/Olympus_Mons. {usage}"
        )
        assert await bot.command("/timezone Asia/Seoul UTC") == usage
        assert await bot.command("/timezone asia/seoul") == (
            "Times here are now in Asia/Seoul (now 2026-03-01 09:00 KST)."
        )
        assert await bot.command("/mute 1h") == "Muted for 1h; /mute off ends it."
        assert await bot.command("/list") == (
            "Topics: ai\nMuted until 2026-03-01 10:00 KST\n"
            "Stories: off for the whole bot (every report alerts)\n"
            "Format: full, images on, link previews off\nTimezone: Asia/Seoul"
        )
        assert await bot.command("/mute off") == "Alerts are on again."
        await publish_story(bot, feed_server, 1)

    [alert] = tg.sent_to(USER)
    assert alert.plain_text.splitlines()[:2] == ["AI 반도체 지원 1", "wire · 2026-03-01 08:30 KST"]


async def test_slack_timezone_moves_the_alert_time(
    running: BotFactory, feed_server: FeedServer, slack: FakeSlack
) -> None:
    async with running(Platform.SLACK) as bot:
        assert await bot.command("/news timezone America/New_York") == (
            "Times here are now in America/New_York (now 2026-02-28 19:00 EST)."
        )
        assert await bot.command("/news timezone") == (
            "Times here are in America/New_York (now 2026-02-28 19:00 EST).\n"
            "Usage: /news timezone [<Area/City>|default]"
        )
        await publish_story(bot, feed_server, 1)

    [alert] = slack.posted_to(CHANNEL)
    assert alert.blocks is not None
    [meta] = [block for block in alert.blocks if block.get("block_id") == "meta"]
    assert [element["text"] for element in meta["elements"]] == [
        "wire",
        "2026-02-28 18:30 EST",
        "ai",
    ]


FORMAT_USAGE = "Usage: /format [full|compact|title|default] | image on|off | preview on|off"


async def test_telegram_format_sets_excerpt_image_and_preview(
    running: BotFactory, feed_server: FeedServer, tg: FakeTelegram
) -> None:
    async with running(Platform.TELEGRAM) as bot:
        assert await bot.command("/format") == (
            f"Alerts here: full, images on, link previews off.\n{FORMAT_USAGE}"
        )
        for wrong in ("/format long", "/format image", "/format preview yes", "/format title on"):
            assert await bot.command(wrong) == FORMAT_USAGE
        await publish_story(bot, feed_server, 1)
        assert await bot.command("/format compact") == (
            "Alerts here now show a short excerpt (about two sentences)."
        )
        assert await bot.command("/format image off") == "Images off for the alerts here."
        assert await bot.command("/format preview on") == "Link previews on for the alerts here."
        assert await bot.command("/list") == (
            "Topics: ai\nStories: off for the whole bot (every report alerts)\n"
            "Format: compact, images off, link previews on\nTimezone: UTC"
        )
        await publish_story(bot, feed_server, 2)
        assert await bot.command("/format title") == (
            "Alerts here now show the headline, source and link only."
        )
        assert await bot.command("/format preview off") == "Link previews off for the alerts here."
        await publish_story(bot, feed_server, 3)

    full, compact, title = tg.sent_to(USER)
    assert full.method == "sendPhoto" and full.photo == IMAGE
    assert full.plain_text == (
        f"AI 반도체 지원 1\nwire · 2026-02-28 23:30 UTC\n\n{' '.join(SENTENCES)}\n\n#ai"
    )
    assert compact.method == "sendMessage"
    assert compact.plain_text == (
        f"AI 반도체 지원 2\nwire · 2026-02-28 23:30 UTC\n\n{' '.join(SENTENCES[:2])}\n\n#ai"
    )
    assert preview_of(compact.params) == {"is_disabled": False}
    assert title.method == "sendMessage"
    assert title.plain_text == "AI 반도체 지원 3\nwire · 2026-02-28 23:30 UTC\n\n#ai"
    assert preview_of(title.params) == {"is_disabled": True}


async def test_slack_format_sets_excerpt_image_and_unfurl(
    running: BotFactory, feed_server: FeedServer, slack: FakeSlack
) -> None:
    async with running(Platform.SLACK) as bot:
        await publish_story(bot, feed_server, 1)
        assert await bot.command("/news format title") == (
            "Alerts here now show the headline, source and link only."
        )
        assert await bot.command("/news format oops") == (
            "Usage: /news format [full|compact|title|default] | image on|off | preview on|off"
        )
        await publish_story(bot, feed_server, 2)
        assert await bot.command("/news format compact") == (
            "Alerts here now show a short excerpt (about two sentences)."
        )
        assert await bot.command("/news format image off") == "Images off for the alerts here."
        assert await bot.command("/news format preview on") == (
            "Link previews on for the alerts here."
        )
        await publish_story(bot, feed_server, 3)

    full, title, compact = slack.posted_to(CHANNEL)
    assert [block["block_id"] for block in full.blocks or []] == ["title", "excerpt", "meta"]
    assert (full.blocks or [])[1]["accessory"]["image_url"] == IMAGE
    assert full.unfurl_links is False and full.unfurl_media is False
    assert [block["block_id"] for block in title.blocks or []] == ["title", "meta"]
    assert (title.blocks or [])[0]["accessory"]["image_url"] == IMAGE
    assert [block["block_id"] for block in compact.blocks or []] == ["title", "excerpt", "meta"]
    excerpt = (compact.blocks or [])[1]
    assert excerpt["text"]["text"] == " ".join(SENTENCES[:2]) and "accessory" not in excerpt
    assert compact.unfurl_links is True and compact.unfurl_media is True


async def test_operator_defaults_apply_until_the_chat_chooses(
    running: BotFactory, feed_server: FeedServer, tg: FakeTelegram
) -> None:
    defaults = "{timezone: UTC, format: compact, preview: true}"
    subscription = f"  - {{telegram: {USER}, topics: [ai], timezone: Asia/Seoul, format: title}}\n"
    async with running(Platform.TELEGRAM, defaults, subscription) as bot:
        assert await bot.command("/list") == (
            "Topics: ai\nStories: off for the whole bot (every report alerts)\n"
            "Format: title, images on, link previews on\nTimezone: Asia/Seoul"
        )
        await publish_story(bot, feed_server, 1)
        assert await bot.command("/format full") == "Alerts here now show the full excerpt."
        assert await bot.command("/timezone UTC") == (
            "Times here are now in UTC (now 2026-03-01 00:00 UTC)."
        )
        await publish_story(bot, feed_server, 2)
        assert await bot.command("/format default") == (
            "Alerts here follow the bot's default again: title, images on, link previews on."
        )
        assert await bot.command("/timezone default") == (
            "Times here follow the bot's default again: Asia/Seoul (now 2026-03-01 09:00 KST)."
        )
        await publish_story(bot, feed_server, 3)

    title, full, again = tg.sent_to(USER)
    assert title.method == "sendPhoto"
    assert title.plain_text == "AI 반도체 지원 1\nwire · 2026-03-01 08:30 KST\n\n#ai"
    assert full.plain_text == (
        f"AI 반도체 지원 2\nwire · 2026-02-28 23:30 UTC\n\n{' '.join(SENTENCES)}\n\n#ai"
    )
    assert again.plain_text == "AI 반도체 지원 3\nwire · 2026-03-01 08:30 KST\n\n#ai"
