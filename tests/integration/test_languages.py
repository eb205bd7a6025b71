"""The bot's own words in the chat's language, end to end: the first speaker's Telegram
`language_code` (through python-telegram-bot and the fake Bot API) and Slack profile (locale and
timezone from users.info, through a signed slash command), `/lang`, and a digest heading in
Korean, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from bot.models import Platform
from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_signing import signed_slash_command
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.helpers import free_port, shipped_topics
from tests.integration.driver import CHANNEL, SLACK_USER, USER, Clock, Launch

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 3, 1, 7, 0, tzinfo=SEOUL).timestamp()
KOREAN_READER = 2002
SECRET = "signing-secret-for-tests"
HELP_SUBSCRIBE_EN = "/subscribe <topic...> — get alerts on these topics"
HELP_SUBSCRIBE_KO = "/subscribe <topic...> — 이 주제의 알림 받기"


def write_config(
    tmp_path: Path, feed_server: FeedServer, defaults: str = "{}", admins: str = "{}"
) -> Path:
    path = tmp_path / "subscriptions.yaml"
    path.write_text(
        f"version: 1\ndefaults: {defaults}\nadmins: {admins}\nstories: {{enabled: false}}\n"
        f'feeds:\n  - {{name: wire, url: "{feed_server.url("wire.xml")}", interval: 1m}}\n'
        f"{shipped_topics()}",
        encoding="utf-8",
    )
    return path


async def say(tg: FakeTelegram, chat: int, text: str) -> SentMessage:
    """Type `text` in `chat` (through getUpdates) and return the bot's answer."""
    before = len(tg.sent_to(chat))
    tg.push_message(chat, chat, text)
    await tg.wait_until(lambda: len(tg.sent_to(chat)) > before, timeout=5)
    return tg.sent_to(chat)[before]


async def test_telegram_first_speakers_language_then_lang(
    launch: Launch, tmp_path: Path, feed_server: FeedServer, tg: FakeTelegram
) -> None:
    tg.add_chat(KOREAN_READER, first_name="민지")
    tg.add_user(KOREAN_READER, first_name="민지", language_code="ko")
    config = write_config(tmp_path, feed_server)
    async with launch(Platform.TELEGRAM, config, Clock(NOW, frozen=True)) as bot:
        assert bot.app is not None
        await bot.app.start_services()
        try:
            assert HELP_SUBSCRIBE_KO in (await say(tg, KOREAN_READER, "/help")).plain_text
            assert HELP_SUBSCRIBE_EN in (await say(tg, USER, "/help")).plain_text
            menu = {c["command"]: c["description"] for c in tg.my_commands(language_code="ko")}
            assert menu["mode"] == "알림을 하나씩, 또는 모아서 받기"
            assert tg.my_commands()[0] == {"command": "start", "description": "introduce the bot"}
            korean = await say(tg, KOREAN_READER, "/mode sometimes")
            assert korean.plain_text == (
                "사용법: /mode [instant|hourly|daily <HH:MM>|weekly <day> <HH:MM>|default]"
            )
            reply = await say(tg, KOREAN_READER, "/lang en")
            assert reply.plain_text == "The bot now speaks English here."
            assert HELP_SUBSCRIBE_EN in (await say(tg, KOREAN_READER, "/help")).plain_text
            reply = await say(tg, KOREAN_READER, "/lang ko")
            assert reply.plain_text == "이제 이 채팅에서 봇이 한국어(으)로 말합니다."
            assert HELP_SUBSCRIBE_KO in (await say(tg, KOREAN_READER, "/help")).plain_text
            reply = await say(tg, KOREAN_READER, "/lang")
            assert (
                reply.plain_text == "이 채팅에서 봇은 한국어(으)로 말합니다.\n사용법: /lang [en|ko]"
            )
        finally:
            await bot.app.stop_services()


async def test_operator_default_language_where_the_speaker_gives_none(
    launch: Launch, tmp_path: Path, feed_server: FeedServer
) -> None:
    config = write_config(tmp_path, feed_server, "{language: ko}", f"{{telegram: [{USER}]}}")
    async with launch(Platform.TELEGRAM, config, Clock(NOW, frozen=True)) as bot:
        assert await bot.command("/subscribe ai") == "ai을(를) 구독했습니다."
        assert await bot.command("/reload") == "설정을 다시 읽었습니다: 피드 1개, 주제 3개."
        assert await bot.command("/addfeed ftp://example.com/x") == (
            "피드를 추가하지 못했습니다: http(s) URL을 주세요"
        )
        assert await bot.command("/unsubscribe sports") == (
            "알 수 없는 주제 sports입니다. 사용법: /unsubscribe <topic...|all>\n"
            "주제: ai, policy-finance, breaking"
        )


async def test_a_korean_chat_gets_its_digest_heading_in_korean(
    launch: Launch, tmp_path: Path, feed_server: FeedServer, tg: FakeTelegram
) -> None:
    clock = Clock(NOW, frozen=True)
    config = write_config(tmp_path, feed_server, "{timezone: Asia/Seoul}")
    stories = [
        {
            "title": f"AI 반도체 지원 {n}",
            "link": f"https://wire.example/{n}",
            "guid": f"wire-{n}",
            "description": "정부가 인공지능 반도체 산업에 3조원을 투입한다.",
        }
        for n in range(3)
    ]
    async with launch(Platform.TELEGRAM, config, clock) as bot:
        assert await bot.command("/lang ko") == "이제 이 채팅에서 봇이 한국어(으)로 말합니다."
        assert await bot.command("/subscribe ai") == "ai을(를) 구독했습니다."
        feed_server.publish("wire.xml", rss(stories[:1]))
        await bot.once()
        assert await bot.command("/mode daily 08:00") == (
            "이제 이 채팅의 알림은 매일 08:00에 모아서 보냅니다(Asia/Seoul). "
            "다음 모음: 2026-03-01 08:00 KST."
        )
        assert "받는 방식: 매일 08:00에" in await bot.command("/list")
        feed_server.publish("wire.xml", rss(stories[::-1]))
        clock.set(NOW + 60)
        await bot.once()
        clock.set(datetime(2026, 3, 1, 8, 0, tzinfo=SEOUL).timestamp())
        await bot.once()

    [digest] = tg.sent_to(USER)
    assert digest.plain_text.splitlines()[0] == "뉴스 모음 · 기사 2건 · 2026-03-01 08:00 KST"


async def slash(slack: FakeSlack, port: int, text: str, user: str, reply_to: str) -> str:
    """`/news <text>` typed by `user` in the channel, signed; returns the ephemeral answer."""
    body, headers = signed_slash_command(
        SECRET,
        command="/news",
        text=text,
        channel_id=CHANNEL,
        user_id=user,
        response_url=slack.response_url(reply_to),
    )
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers) as r,
    ):
        assert r.status == 200
    [answer] = await slack.wait_for_responses(reply_to, 1)
    return str(answer["text"])


async def test_slack_first_speakers_locale_and_timezone(
    launch: Launch, tmp_path: Path, feed_server: FeedServer, slack: FakeSlack
) -> None:
    slack.add_user("U0MINJI", tz="America/New_York", locale="ko-KR")
    port = free_port()
    config = write_config(tmp_path, feed_server)
    ids = (f"r{n}" for n in itertools.count())
    overrides: dict[str, Any] = {"slack_signing_secret": SECRET, "http_port": port}
    async with launch(Platform.SLACK, config, Clock(NOW, frozen=True), **overrides) as bot:
        assert bot.app is not None
        await bot.app.start_services()
        try:
            answer = await slash(slack, port, "timezone", "U0MINJI", next(ids))
            assert answer.startswith(
                "이 채팅의 시간대는 America/New_York입니다 (지금 2026-02-28 17:00 EST)."
            )
            # the channel has its language and timezone now: a later speaker changes neither
            answer = await slash(slack, port, "timezone", SLACK_USER, next(ids))
            assert answer.startswith("이 채팅의 시간대는 America/New_York입니다")
            assert await slash(slack, port, "lang en", SLACK_USER, next(ids)) == (
                "The bot now speaks English here."
            )
        finally:
            await bot.app.stop_services()
