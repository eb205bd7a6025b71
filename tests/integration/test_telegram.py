"""The Telegram channel against the fake Bot API over loopback, python-telegram-bot and all.

PTB is pointed at the fake through `TELEGRAM_API_URL` (Settings.telegram_api_url). Command tests
turn the fake's flood limits off (they are about commands); delivery tests keep them on, and shrink
the channel's pacing where the waiting itself is not what is tested.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
import telegram
from aiohttp import web
from sqlalchemy import select

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram.updates import MAX_WAITING
from bot.commands import USAGE, Commands
from bot.config import LoadedConfig, parse_config
from bot.delivery import DeliveryPolicy, Dispatcher
from bot.logs import SecretFilter
from bot.models import FeedItem, Platform, Recipient, Tag
from bot.settings import Settings
from bot.store import Store, connect
from bot.store.schema import outbox
from bot.text.utf16 import utf16_len
from bot.web import build_web_app
from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.telegram_api import (
    CANT_PARSE,
    TEXT_TOO_LONG,
    FakeTelegram,
    ParsedText,
    SentMessage,
    _ApiError,
)
from tests.helpers import OLD_ITEMS, eventually, queue_item, seed_items, shipped_topics

TOKEN = "4242:TEST_secret-token_value"
BOT_ADMIN = 9001
USER, USER2, MEMBER, GROUP_ADMIN = 1001, 1002, 1003, 1004
GROUP, SUPERGROUP, FORUM = -4001, -1004001, -1005001
TOPIC = 7
ANONYMOUS_ADMIN_BOT = 1087968824
TG = Platform.TELEGRAM


class PickyTelegram(FakeTelegram):
    """The fake, able to refuse HTML (as Telegram may refuse markup we thought valid) or plain
    text as well."""

    refuse_html = False
    refuse_plain = False

    def _parse(self, text: str, parse_mode: str | None) -> ParsedText:
        if parse_mode and parse_mode.lower() == "html" and self.refuse_html:
            raise _ApiError(400, CANT_PARSE + 'Unsupported start tag "x" at byte offset 0')
        if not parse_mode and self.refuse_plain:
            raise _ApiError(400, TEXT_TOO_LONG)
        return super()._parse(text, parse_mode)


def config_text(feeds_yaml: str = "") -> str:
    return (
        "version: 1\ndefaults: {interval: 5m, timezone: Asia/Seoul}\n"
        f"admins: {{telegram: [{BOT_ADMIN}]}}\nfeeds:\n{feeds_yaml}{shipped_topics()}"
    )


def settings_for(tg: FakeTelegram, **overrides: object) -> Settings:
    values: dict[str, object] = {"telegram_bot_token": TOKEN, "telegram_api_url": tg.base_url}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def news(n: int = 1, **fields: object) -> FeedItem:
    values: dict[str, object] = {
        "key": f"item-{n}",
        "guid": f"item-{n}",
        "link": f"https://news.example/{n}",
        "title": f"AI story {n} <with> & markup",
        "summary": f"Paragraph one of story {n}. It ends here.\nParagraph two.",
        "published": datetime(2024, 6, 12, 5, 3, tzinfo=UTC),
        "source": "example",
    }
    values.update(fields)
    return FeedItem(**values)  # type: ignore[arg-type]


def chat(chat_id: int, thread: int | None = None) -> Recipient:
    return Recipient(TG, str(chat_id), str(thread) if thread is not None else "")


@pytest_asyncio.fixture
async def tg() -> AsyncIterator[PickyTelegram]:
    async with PickyTelegram(token=TOKEN) as fake:
        fake.add_chat(USER, first_name="Ada")
        fake.add_chat(USER2, first_name="Grace")
        fake.add_chat(GROUP, "group", title="News desk", admins=[GROUP_ADMIN], creator=BOT_ADMIN)
        fake.add_chat(
            FORUM, "supergroup", title="Forum", is_forum=True, topics=[TOPIC], admins=[GROUP_ADMIN]
        )
        yield fake


@pytest_asyncio.fixture
async def db(tmp_path: Path) -> AsyncIterator[Store]:
    store = await connect(f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}")
    try:
        yield store
    finally:
        await store.close()


@pytest_asyncio.fixture
async def channel(tg: PickyTelegram, db: Store) -> AsyncIterator[TelegramChannel]:
    config = parse_config(config_text())
    telegram_channel = TelegramChannel(settings_for(tg), Commands(db, lambda: config))
    try:
        yield telegram_channel
    finally:
        await telegram_channel.stop()


@pytest_asyncio.fixture
async def running(tg: PickyTelegram, channel: TelegramChannel) -> TelegramChannel:
    """The front end polling the fake, flood limits off."""
    tg.rate_limits.enabled = False
    await channel.start()
    return channel


async def say(
    tg: FakeTelegram, chat_id: int, user: int, text: str, thread: int | None = None
) -> SentMessage:
    """Push a user's message and return the bot's first message to that chat after it."""
    before = len(tg.sent_to(chat_id))
    tg.push_message(chat_id, user, text, thread)
    await tg.wait_until(lambda: len(tg.sent_to(chat_id)) > before, timeout=5)
    return tg.sent_to(chat_id)[before]


async def handled_everything(tg: FakeTelegram, channel: TelegramChannel) -> None:
    """Wait until the bot has fetched every update the fake queued and finished handling each
    (PTB runs handlers concurrently, so a reply to a later update does not prove that)."""
    app = channel.application

    def idle() -> bool:
        in_flight = app.update_processor.current_concurrent_updates
        return not tg.pending_updates and app.update_queue.empty() and in_flight == 0

    await eventually(idle, within=5, what="the bot handled every update")


async def deliver(db: Store, channel: TelegramChannel, **policy: float) -> Dispatcher:
    dispatcher = Dispatcher(db.outbox, db.chats, channel, policy=DeliveryPolicy(**policy))  # type: ignore[arg-type]
    await dispatcher.drain(wait_up_to=20)
    return dispatcher


async def outbox_rows(db: Store) -> list[tuple[str, str | None]]:
    async with db.db.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.status, outbox.c.last_error).order_by(outbox.c.id)
        )
        return [(r.status, r.last_error) for r in rows]


async def topics_of(db: Store, recipient: Recipient) -> set[str] | None:
    for sub in await db.chats.subscriptions():
        if sub.recipient == recipient:
            return set(sub.topics)
    return None


# --------------------------------------------------------------------------------------------
# commands, one by one


async def test_start_introduces_the_bot_with_topic_buttons(
    tg: PickyTelegram, running: TelegramChannel
) -> None:
    reply = await say(tg, USER, USER, "/start")

    assert "news alerts" in reply.body
    assert reply.body.endswith(f"This chat's id (for subscriptions.yaml): {USER}")
    assert reply.parse_mode is None  # replies are plain text: nothing to escape
    assert reply.reply_markup is not None
    buttons = [b["callback_data"] for row in reply.reply_markup["inline_keyboard"] for b in row]
    assert buttons == ["subscribe ai", "subscribe policy-finance", "subscribe breaking"]


async def test_help_shows_admin_commands_to_bot_admins_only(
    tg: PickyTelegram, running: TelegramChannel
) -> None:
    user_help = await say(tg, USER, USER, "/help")
    admin_help = await say(tg, BOT_ADMIN, BOT_ADMIN, "/help")

    assert "/subscribe <topic...> — get alerts on these topics" in user_help.body
    assert "/addfeed" not in user_help.body
    assert "/addfeed <url> [name]" in admin_help.body


LIST_TAIL = (
    "Stories: one alert per story\nFormat: full, images on, link previews off\nTimezone: Asia/Seoul"
)
"""How `/list` ends for a chat that changed nothing but its topics (the config's timezone)."""


async def test_topics_lists_topics_with_labels(tg: PickyTelegram, running: TelegramChannel) -> None:
    reply = await say(tg, USER, USER, "/topics")

    assert "• ai (AI / 인공지능)" in reply.body
    assert "• policy-finance (정책금융 / policy finance)" in reply.body


async def test_subscribe_list_unsubscribe(
    tg: PickyTelegram, running: TelegramChannel, db: Store
) -> None:
    assert (await say(tg, USER, USER, "/subscribe ai")).body == "Subscribed to ai."
    assert await topics_of(db, chat(USER)) == {"ai"}
    assert (await say(tg, USER, USER, "/subscribe 인공지능")).body == "Already subscribed to ai."
    assert (await say(tg, USER, USER, "/list")).body == f"Topics: ai\n{LIST_TAIL}"
    assert (await say(tg, USER, USER, "/unsubscribe ai")).body == "Unsubscribed from ai."
    assert (await say(tg, USER, USER, "/list")).body.startswith("No subscriptions here yet.")
    assert await topics_of(db, chat(USER)) is None


async def test_wrong_topic_gets_usage_and_the_valid_choices(
    tg: PickyTelegram, running: TelegramChannel, db: Store
) -> None:
    reply = await say(tg, USER, USER, "/subscribe bogus")

    assert reply.body == (
        "Unknown topic bogus. Usage: /subscribe <topic...>\nTopics: ai, policy-finance, breaking"
    )
    assert await topics_of(db, chat(USER)) is None
    bare = await say(tg, USER, USER, "/subscribe")
    assert bare.body.startswith("Usage: /subscribe <topic...>\nTopics:")
    assert bare.reply_markup is not None


async def test_keywords_mute_and_why(
    tg: PickyTelegram, running: TelegramChannel, db: Store
) -> None:
    assert (await say(tg, USER, USER, "/keywords add 반도체")).body == "Added keyword 반도체."
    assert (await say(tg, USER, USER, "/keywords")).body.startswith("Your keywords: 반도체")
    assert (await say(tg, USER, USER, "/mute 1h")).body == "Muted for 1h; /mute off ends it."
    assert (
        await say(tg, USER, USER, "/mute forever")
    ).body == "Usage: /mute [1h|8h|1d|off] (at most 7d)"
    alone = (await say(tg, USER, USER, "/mute")).body  # says the mute in force, as /list does
    assert alone.startswith("Muted until ") and alone.endswith("(at most 7d)"), alone
    assert (await say(tg, USER, USER, "/why")).body == "No alerts have been sent to this chat yet."
    [sub] = await db.chats.subscriptions()
    assert sub.keywords == frozenset({"반도체"})
    assert sub.muted_until is not None and sub.muted_until > time.time() + 3500


async def test_admin_commands_refused_for_users_and_answered_for_admins(
    tg: PickyTelegram, running: TelegramChannel
) -> None:
    for command in ("/stats", "/feeds", "/addfeed https://example.com/feed.xml", "/reload"):
        refused = await say(tg, USER, USER, command)
        assert refused.body.endswith("is for the bot's admins only."), command

    stats = await say(tg, BOT_ADMIN, BOT_ADMIN, "/stats")
    feeds = await say(tg, BOT_ADMIN, BOT_ADMIN, "/feeds")

    assert stats.body.startswith("Feeds: 0 (0 failing or disabled)\nChats subscribed: 0")
    assert feeds.body == "No feeds."


async def test_unknown_command_gets_a_hint(tg: PickyTelegram, running: TelegramChannel) -> None:
    reply = await say(tg, USER, USER, "/frobnicate now")

    assert reply.body == "Unknown command 'frobnicate'. Try /help for the list."


async def test_unknown_commands_in_a_group_are_answered_only_when_addressed_to_us(
    tg: PickyTelegram, running: TelegramChannel
) -> None:
    """Another bot's `/ban` in a shared group drew a hint from this one."""
    tg.push_message(GROUP, GROUP_ADMIN, "/ban spammer")
    reply = await say(tg, GROUP, GROUP_ADMIN, "/frobnicate@newsbot_test_bot")
    await handled_everything(tg, running)

    assert reply.body == "Unknown command 'frobnicate'. Try /help for the list."
    assert len(tg.sent_to(GROUP)) == 1


async def test_set_my_commands_at_start(tg: PickyTelegram, running: TelegramChannel) -> None:
    assert tg.my_commands() == [
        {"command": name, "description": spec.about}
        for name, spec in USAGE.items()
        if not spec.admin
    ]


async def test_set_my_commands_failure_is_not_fatal(
    tg: PickyTelegram, channel: TelegramChannel, caplog: pytest.LogCaptureFixture
) -> None:
    tg.rate_limits.enabled = False
    tg.fail_set_my_commands = True

    await channel.start()
    reply = await say(tg, USER, USER, "/start")

    assert "news alerts" in reply.body
    assert tg.calls_to("setMyCommands")[-1].status == 500
    assert "setMyCommands failed" in caplog.text


async def test_a_get_me_answer_no_bot_api_gives_is_one_line_and_the_start_goes_on(
    tg: PickyTelegram,
    channel: TelegramChannel,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server that is not quite a Bot API (its getMe user lacks `is_bot`) raised a traceback
    out of the start; now it is said in one line and retried, like an unreachable one."""
    user = dict(tg.bot_user)
    del user["is_bot"]
    monkeypatch.setattr(type(tg), "bot_user", property(lambda _: user))
    await channel.start()
    [line] = [r.getMessage() for r in caplog.records if "no usable Bot API" in r.getMessage()]
    assert "getMe answered with no user the Bot API gives (TypeError" in line
    assert "Traceback" not in caplog.text


async def test_commands_typed_at_once_are_answered_in_order(
    tg: PickyTelegram, running: TelegramChannel
) -> None:
    """Commands pasted at once are answered in their order, each after the ones before it took
    effect (PTB handles updates concurrently; one chat's wait their turn)."""
    typed = ["/timezone Europe/Paris", "/lang ko", "/timezone", "/lang en", "/timezone"]
    for rounds in range(3):
        before = len(tg.sent_to(USER))
        for text in typed:
            tg.push_message(USER, USER, text)
        replied = before + len(typed)
        await tg.wait_until(lambda n=replied: len(tg.sent_to(USER)) == n, timeout=5)
        paris, korean, zone_ko, english, zone_en = (m.body for m in tg.sent_to(USER)[before:])
        assert "Europe/Paris" in paris and "한국어" in korean, rounds
        assert "Europe/Paris" in zone_ko and "시간" in zone_ko, zone_ko
        assert "English" in english and zone_en.startswith("Times here are in Europe/Paris")


async def test_one_chats_flood_of_commands_does_not_hold_the_other_chats_answers(
    tg: PickyTelegram, running: TelegramChannel, caplog: pytest.LogCaptureFixture
) -> None:
    """A script's 300 commands were each answered, and another chat's one command waited behind
    them (the flood's waiting updates filled PTB's bound)."""
    for _ in range(300):
        tg.push_message(USER, USER, "/list")
    reply = await say(tg, USER2, USER2, "/start")
    await handled_everything(tg, running)

    assert reply.body
    answered = len(tg.sent_to(USER))
    # one running and MAX_WAITING waiting when each batch of the flood came in; the rest dropped
    assert MAX_WAITING < answered < 100, answered
    flood = [m for m in caplog.messages if "updates at once; ignoring the rest" in m]
    assert flood == [
        f"telegram: chat {USER} sent more than {MAX_WAITING} updates at once; ignoring the rest"
    ], flood
    later = await say(tg, USER, USER, "/list")  # the chat is heard again once it is done
    assert later.body.startswith("No subscriptions here yet.")


# --------------------------------------------------------------------------------------------
# groups, forums, buttons


async def test_group_command_with_bot_name_and_the_admin_rule(
    tg: PickyTelegram, running: TelegramChannel, db: Store
) -> None:
    refused = await say(tg, GROUP, MEMBER, "/subscribe@newsbot_test_bot ai")
    assert refused.body == "Only this group's admins can change its subscriptions."
    assert await topics_of(db, chat(GROUP)) is None

    accepted = await say(tg, GROUP, GROUP_ADMIN, "/subscribe@newsbot_test_bot ai")
    assert accepted.body == "Subscribed to ai."
    by_bot_admin = await say(tg, GROUP, BOT_ADMIN, "/subscribe policy-finance")
    assert by_bot_admin.body == "Subscribed to policy-finance."  # bot admins may, too
    listing = await say(tg, GROUP, MEMBER, "/list")  # reading needs no rights
    assert listing.body == f"Topics: ai, policy-finance\n{LIST_TAIL}"

    assert await topics_of(db, chat(GROUP)) == {"ai", "policy-finance"}
    asked = [c.params["user_id"] for c in tg.calls_to("getChatMember")]
    assert [int(u) for u in asked] == [MEMBER, GROUP_ADMIN]  # the bot admin needs no lookup


async def test_commands_for_another_bot_are_ignored(
    tg: PickyTelegram, running: TelegramChannel, db: Store
) -> None:
    before = len(tg.sent_to(GROUP))
    tg.push_message(GROUP, GROUP_ADMIN, "/subscribe@other_bot ai")
    tg.push_message(GROUP, GROUP_ADMIN, "/frobnicate@other_bot")

    reply = await say(tg, GROUP, GROUP_ADMIN, "/list@newsbot_test_bot")
    await handled_everything(tg, running)

    assert reply.body.startswith("No subscriptions here yet.")
    assert len(tg.sent_to(GROUP)) == before + 1
    assert await topics_of(db, chat(GROUP)) is None


async def test_anonymous_group_admin_may_subscribe_the_group(
    tg: PickyTelegram, running: TelegramChannel, db: Store
) -> None:
    tg.add_user(ANONYMOUS_ADMIN_BOT, first_name="Group", username="GroupAnonymousBot", is_bot=True)
    tg.push_message(
        GROUP,
        ANONYMOUS_ADMIN_BOT,
        "/subscribe ai",
        extra={"sender_chat": tg.chat(GROUP).to_json()},
    )
    await tg.wait_until(lambda: len(tg.sent_to(GROUP)) == 1)

    assert tg.sent_to(GROUP)[0].body == "Subscribed to ai."
    assert tg.calls_to("getChatMember") == []


async def test_buttons_run_their_command_for_the_chat(
    tg: PickyTelegram, running: TelegramChannel, db: Store
) -> None:
    menu = await say(tg, GROUP, GROUP_ADMIN, "/topics")

    tg.push_callback_query(GROUP, MEMBER, "subscribe ai", menu.message_id)
    await tg.wait_until(lambda: len(tg.callback_answers) == 1)
    tg.push_callback_query(GROUP, GROUP_ADMIN, "subscribe ai", menu.message_id)
    await tg.wait_until(lambda: len(tg.callback_answers) == 2)
    await tg.wait_until(lambda: len(tg.sent_to(GROUP)) == 2)
    await handled_everything(tg, running)

    answers = [a.text for a in tg.callback_answers]
    assert answers == [
        "Only this group's admins can change its subscriptions.",
        "Subscribed to ai.",
    ]
    # the member's refused tap is told to the member alone: taps cannot make the bot post
    assert [m.body for m in tg.sent_to(GROUP)[1:]] == ["Subscribed to ai."]
    assert await topics_of(db, chat(GROUP)) == {"ai"}


async def test_an_answer_to_a_topic_deleted_meanwhile_is_one_warning(
    tg: PickyTelegram, running: TelegramChannel, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram refusing the answer (the topic was deleted) was an ERROR with a traceback."""
    topics = tg.chat(FORUM).topics
    assert topics is not None, "a forum has topics"
    topics.discard(TOPIC)
    tg.push_message(FORUM, GROUP_ADMIN, "/list", TOPIC)
    await handled_everything(tg, running)

    refused = [r for r in caplog.records if "could not be posted" in r.getMessage()]
    assert [(r.levelname, r.getMessage()) for r in refused] == [
        (
            "WARNING",
            f"telegram: the answer in chat {FORUM} could not be posted: Message thread not found",
        )
    ]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_forum_topic_subscription_delivers_to_that_topic(
    tg: PickyTelegram, running: TelegramChannel, db: Store
) -> None:
    reply = await say(tg, FORUM, GROUP_ADMIN, "/subscribe ai", thread=TOPIC)
    assert reply.body == "Subscribed to ai."
    assert reply.message_thread_id == TOPIC  # the answer stays in the topic
    [sub] = await db.chats.subscriptions()
    assert sub.recipient == chat(FORUM, TOPIC)

    await queue_item(db, news(), [sub.recipient], now=time.time())
    await deliver(db, running)

    alert = tg.sent_to(FORUM)[-1]
    assert alert.message_thread_id == TOPIC
    assert alert.parse_mode == "HTML"
    assert alert.plain_text.startswith("AI story 1 <with> & markup")


async def test_webhook_mode_checks_the_secret_token(
    tg: PickyTelegram, db: Store, unused_tcp_port: int
) -> None:
    tg.rate_limits.enabled = False
    config = parse_config(config_text())
    settings = settings_for(tg, telegram_webhook_url="https://bot.example.com/tg/hook")
    webhook = TelegramChannel(settings, Commands(db, lambda: config))

    async def healthy() -> tuple[bool, dict[str, object]]:
        return True, {}

    async def no_metrics() -> tuple[bytes, str]:
        return b"", "text/plain"

    runner = web.AppRunner(build_web_app(healthy, no_metrics, webhook.web_routes()))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    url = f"http://127.0.0.1:{unused_tcp_port}/tg/hook"
    try:
        await webhook.start()
        assert tg.webhook is not None
        assert tg.webhook["url"] == "https://bot.example.com/tg/hook"
        assert tg.webhook["secret_token"] == webhook.webhook_secret
        assert tg.calls_to("getUpdates") == []
        update = tg.push_message(USER, USER, "/subscribe ai")
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update) as response:
                assert response.status == 401
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
            async with http.post(url, json=update, headers=wrong) as response:
                assert response.status == 401
            right = {"X-Telegram-Bot-Api-Secret-Token": webhook.webhook_secret}
            async with http.post(url, data=b"{not json", headers=right) as response:
                assert response.status == 400
            # bodies that broke the reading of an update (500 and a traceback)
            for body in (b'{"update_id": 1, "message": "x"}', b"[" * 100_000 + b"]" * 100_000):
                async with http.post(url, data=body, headers=right) as response:
                    assert response.status == 400
            not_utf8 = {"X-Telegram-Bot-Api-Secret-Token": "\xff\xfe"}  # sent as Latin-1 bytes
            async with http.post(url, json=update, headers=not_utf8) as response:
                assert response.status == 401
            async with http.post(url, json=update, headers=right) as response:
                assert response.status == 200
        await tg.wait_until(lambda: len(tg.sent_to(USER)) == 1)
        assert tg.sent_to(USER)[0].body == "Subscribed to ai."
    finally:
        await webhook.stop()
        await runner.cleanup()


def test_webhook_secret_is_stable_and_path_follows_the_url(tg: PickyTelegram, db: Store) -> None:
    config = parse_config(config_text())

    def build(url: str) -> TelegramChannel:
        return TelegramChannel(
            settings_for(tg, telegram_webhook_url=url), Commands(db, lambda: config)
        )

    one, two = build("https://a.example/x/y"), build("https://a.example")

    assert one.webhook_secret == two.webhook_secret
    assert TOKEN not in one.webhook_secret
    assert [r.path for r in one.web_routes()] == ["/x/y"]
    assert two.webhook_url == "https://a.example/telegram/webhook"
    assert [r.path for r in two.web_routes()] == ["/telegram/webhook"]
    assert TelegramChannel(settings_for(tg), Commands(db, lambda: config)).web_routes() == []


# --------------------------------------------------------------------------------------------
# delivery outcomes (flood limits on)


async def test_alert_goes_out_as_html_with_its_link_and_hashtags(
    tg: PickyTelegram, channel: TelegramChannel, db: Store
) -> None:
    tags = (Tag("ai", ()), Tag("policy-finance", ()), Tag("kw:반도체", ()))
    await queue_item(db, news(), [chat(USER)], tags, now=time.time())

    await deliver(db, channel)

    [sent] = tg.sent
    assert (sent.method, sent.parse_mode) == ("sendMessage", "HTML")
    assert sent.plain_text.endswith("#ai #policy_finance #반도체")
    link = next(e for e in sent.entities if e["type"] == "text_link")
    assert link["url"] == "https://news.example/1"
    assert "&lt;with&gt; &amp; markup" in sent.body
    assert await outbox_rows(db) == [("sent", None)]


async def test_photo_with_caption_and_text_when_the_photo_is_refused(
    tg: PickyTelegram, channel: TelegramChannel, db: Store
) -> None:
    tg.refuse_photos(USER2)
    item = news(image="https://img.example/a.jpg")
    await queue_item(db, item, [chat(USER), chat(USER2)], now=time.time())

    await deliver(db, channel)

    [photo] = tg.sent_to(USER)
    assert (photo.method, photo.photo, photo.parse_mode) == (
        "sendPhoto",
        "https://img.example/a.jpg",
        "HTML",
    )
    assert photo.caption is not None and photo.caption.startswith('<a href="https://news.')
    [text] = tg.sent_to(USER2)
    assert (text.method, text.parse_mode) == ("sendMessage", "HTML")
    assert [c.status for c in tg.calls if str(c.params.get("chat_id")) == str(USER2)] == [400, 200]
    assert await outbox_rows(db) == [("sent", None), ("sent", None)]


async def test_a_server_without_send_photo_still_gets_the_alert_as_text(
    tg: PickyTelegram, channel: TelegramChannel, db: Store
) -> None:
    tg.fail_next("sendPhoto", status=404)  # what a Bot API server lacking the method answers
    await queue_item(db, news(image="https://img.example/a.jpg"), [chat(USER)], now=time.time())

    await deliver(db, channel)

    [text] = tg.sent_to(USER)
    assert (text.method, text.parse_mode) == ("sendMessage", "HTML")
    assert await outbox_rows(db) == [("sent", None)]


async def test_refused_markup_is_retried_once_as_plain_text(
    tg: PickyTelegram, channel: TelegramChannel, db: Store
) -> None:
    tg.refuse_html = True
    await queue_item(db, news(), [chat(USER)], now=time.time())

    await deliver(db, channel)

    [sent] = tg.sent
    assert sent.parse_mode is None
    assert "https://news.example/1" in sent.body  # the link is written out
    assert sent.body.startswith("AI story 1 <with> & markup")
    assert [c.status for c in tg.calls_to("sendMessage")] == [400, 200]
    assert await outbox_rows(db) == [("sent", None)]


async def test_markup_and_plain_text_refused_fails_with_the_reason(
    tg: PickyTelegram, channel: TelegramChannel, db: Store
) -> None:
    tg.refuse_html = tg.refuse_plain = True
    await queue_item(db, news(), [chat(USER)], now=time.time())

    dispatcher = await deliver(db, channel)

    assert tg.sent == []
    assert len(tg.calls_to("sendMessage")) == 2  # once as HTML, once as plain text, no more
    [(status, error)] = await outbox_rows(db)
    assert status == "failed" and error is not None
    assert "Can't parse entities" in error and "Message is too long" in error
    assert dispatcher.stats.failed == 1


async def test_429_pauses_the_chat_and_nothing_is_lost(
    tg: PickyTelegram, channel: TelegramChannel, db: Store
) -> None:
    now = time.time()
    for n in (1, 2):
        await queue_item(db, news(n), [chat(USER)], now=now)
    await queue_item(db, news(3), [chat(USER2)], now=now)
    async with telegram.Bot(TOKEN, base_url=f"{tg.base_url}/bot") as other:
        await other.send_message(USER, "a command reply that just took this chat's slot")

    dispatcher = await deliver(db, channel)

    assert tg.rejected_429 == 1 and tg.rejected_429_by_chat == {USER: 1}
    assert dispatcher.stats.rate_limited == 1
    assert [m.plain_text.split(" <")[0] for m in tg.sent_to(USER)[1:]] == [
        "AI story 1",
        "AI story 2",
    ]
    assert len(tg.sent_to(USER2)) == 1
    assert await outbox_rows(db) == [("sent", None)] * 3


async def test_fan_out_stays_under_the_global_limit(
    tg: PickyTelegram, channel: TelegramChannel, db: Store
) -> None:
    users = list(range(5000, 5045))
    for user in users:
        tg.add_chat(user)
    await queue_item(db, news(), [chat(u) for u in users], now=time.time())

    await deliver(db, channel)

    # the fake enforces Telegram's 30-per-second window: sending faster would be answered 429
    assert tg.rate_limits.enabled and tg.rejected_429 == 0
    assert sorted(m.chat_id for m in tg.sent) == users


async def test_group_pacing_keeps_order_without_429(
    tg: PickyTelegram, channel: TelegramChannel, db: Store
) -> None:
    tg.rate_limits.group_per_window, tg.rate_limits.group_window = 2, 1.0  # 20/min, scaled
    channel.group_interval = 0.55
    now = time.time()
    for n in range(1, 6):
        await queue_item(db, news(n), [chat(GROUP)], now=now)

    await deliver(db, channel)

    assert tg.rejected_429 == 0
    assert [m.plain_text.split(" <")[0] for m in tg.sent_to(GROUP)] == [
        f"AI story {n}" for n in range(1, 6)
    ]


async def test_the_running_dispatcher_wakes_when_a_paced_chat_is_ready(
    tg: PickyTelegram, channel: TelegramChannel, db: Store
) -> None:
    channel.group_interval = 0.2
    now = time.time()
    for n in range(1, 4):
        await queue_item(db, news(n), [chat(GROUP)], now=now)
    dispatcher = Dispatcher(db.outbox, db.chats, channel, policy=DeliveryPolicy(idle_wait=60.0))

    running = asyncio.create_task(dispatcher.run())
    try:
        # nothing else wakes it: the group's next turn must, not the 60 s idle tick
        sent = await tg.wait_for_sent(3, timeout=10)
    finally:
        dispatcher.stop()
        await running

    assert [m.plain_text.split(" <")[0] for m in sent] == ["AI story 1", "AI story 2", "AI story 3"]


@pytest.mark.parametrize("gone", ["blocked", "kicked", "unknown"])
async def test_a_chat_that_is_gone_is_deactivated(
    tg: PickyTelegram, channel: TelegramChannel, db: Store, gone: str
) -> None:
    target = {"blocked": USER, "kicked": GROUP, "unknown": 777}[gone]
    if gone == "blocked":
        tg.block(USER)
    elif gone == "kicked":
        tg.kick(GROUP)
    now = time.time()
    await db.chats.subscribe(chat(target), ["ai"], now)
    await db.chats.subscribe(chat(USER2), ["ai"], now)
    await queue_item(db, news(1), [chat(target), chat(USER2)], now=now)
    await queue_item(db, news(2), [chat(target)], now=now)

    dispatcher = await deliver(db, channel)

    assert [s.recipient for s in await db.chats.subscriptions()] == [chat(USER2)]
    record = await db.chats.get(chat(target))
    assert record is not None and not record.active
    assert dispatcher.stats.deactivated == 1  # one refusal deactivates; the queue is dropped
    statuses = [status for status, _ in await outbox_rows(db)]
    assert sorted(statuses) == ["failed", "failed", "sent"]
    assert [m.chat_id for m in tg.sent] == [USER2]
    reasons = {error for status, error in await outbox_rows(db) if status == "failed"}
    assert not any("Forbidden: Forbidden" in (r or "") for r in reasons), reasons


async def test_migrated_group_moves_its_subscriptions_and_gets_the_alert(
    tg: PickyTelegram, channel: TelegramChannel, db: Store
) -> None:
    channel.group_interval = 0.1
    await db.chats.subscribe(chat(GROUP), ["ai", "breaking"], time.time())
    tg.migrate(GROUP, SUPERGROUP)
    await queue_item(db, news(), [chat(GROUP)], now=time.time())

    await deliver(db, channel)

    assert tg.sent_to(GROUP) == []
    [sent] = tg.sent_to(SUPERGROUP)
    assert sent.parse_mode == "HTML"
    assert await topics_of(db, chat(SUPERGROUP)) == {"ai", "breaking"}
    assert await topics_of(db, chat(GROUP)) is None
    assert await outbox_rows(db) == [("sent", None)]


async def test_a_chat_that_removes_the_bot_stops_its_alerts_when_telegram_says_so(
    tg: PickyTelegram, running: TelegramChannel, db: Store
) -> None:
    """Removal was learnt from a refused alert, one per forum topic; Telegram says it first."""
    await say(tg, FORUM, GROUP_ADMIN, "/subscribe ai", thread=TOPIC)
    await say(tg, FORUM, GROUP_ADMIN, "/subscribe breaking")
    await say(tg, USER, USER, "/subscribe ai")
    tg.kick(FORUM, by=GROUP_ADMIN)
    tg.block(USER)

    async def gone() -> bool:
        return await db.chats.subscriptions() == []

    await eventually(gone, within=5, what="the forum's topics and the blocked chat stop")
    for recipient in (chat(FORUM, TOPIC), chat(FORUM), chat(USER)):
        record = await db.chats.get(recipient)
        assert record is not None and not record.active, recipient
    assert tg.calls_to("sendMessage")[-1].params["text"] == "Subscribed to ai."
    await say(tg, GROUP, GROUP_ADMIN, "/subscribe ai")
    tg.leave(GROUP)  # a basic group "left" may be its upgrade: a refused alert will tell
    await handled_everything(tg, running)
    assert await topics_of(db, chat(GROUP)) == {"ai"}
    tg.unblock(USER)  # back, and subscribing again starts afresh
    assert (await say(tg, USER, USER, "/subscribe breaking")).body == "Subscribed to breaking."
    assert await topics_of(db, chat(USER)) == {"breaking"}


async def test_a_group_upgraded_to_a_supergroup_is_followed_when_telegram_says_so(
    tg: PickyTelegram, running: TelegramChannel, db: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """`/list` in the new supergroup showed nothing until an alert failed on the old id."""
    caplog.set_level(logging.INFO)
    assert (await say(tg, GROUP, GROUP_ADMIN, "/subscribe ai")).body == "Subscribed to ai."
    tg.migrate(GROUP, SUPERGROUP, by=GROUP_ADMIN)

    async def followed() -> bool:
        return await topics_of(db, chat(SUPERGROUP)) == {"ai"}

    await eventually(followed, within=5, what="the supergroup has the group's topics")
    reply = await say(tg, SUPERGROUP, GROUP_ADMIN, "/list")
    assert reply.body.startswith("Topics: ai"), reply.body
    moved = [m for m in caplog.messages if f"chat {GROUP} is now {SUPERGROUP}" in m]
    assert len(moved) == 1, "said once, though Telegram says it in both chats"


async def test_a_group_that_subscribed_again_after_its_upgrade_gets_each_alert_once(
    tg: PickyTelegram, channel: TelegramChannel, db: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Moving the old group's queue onto a supergroup that has the same alert queued broke a
    unique key: the alert was retried for ever and the group's other alerts waited behind it."""
    channel.group_interval = 0.1
    now = time.time()
    await db.chats.subscribe(chat(GROUP), ["ai", "breaking"], now)
    tg.migrate(GROUP, SUPERGROUP)
    await db.chats.subscribe(chat(SUPERGROUP), ["ai"], now)
    await queue_item(db, news(1), [chat(GROUP), chat(SUPERGROUP)], now=now)
    await queue_item(db, news(2), [chat(GROUP)], now=now)  # for `breaking`, the old id only

    await deliver(db, channel)

    assert tg.sent_to(GROUP) == []
    sent = tg.sent_to(SUPERGROUP)
    assert len(sent) == 2 and "AI story 1 " in sent[0].body and "AI story 2 " in sent[1].body
    assert await topics_of(db, chat(SUPERGROUP)) == {"ai", "breaking"}
    assert sorted(status for status, _ in await outbox_rows(db)) == ["failed", "sent", "sent"]
    assert not [m for m in caplog.messages if "lease was taken over" in m], "nothing was lost"


async def test_server_errors_are_retried_with_backoff(
    tg: PickyTelegram, channel: TelegramChannel, db: Store
) -> None:
    tg.fail_next("sendMessage", times=2, status=502)
    channel.private_interval = 0.1
    await queue_item(db, news(), [chat(USER)], now=time.time())

    dispatcher = await deliver(db, channel, backoff_base=0.3)

    assert len(tg.sent) == 1
    assert dispatcher.stats.retried == 2
    assert await outbox_rows(db) == [("sent", None)]


async def test_a_revoked_token_stops_the_dispatcher_and_keeps_the_alert(
    tg: PickyTelegram, db: Store
) -> None:
    config = parse_config(config_text())
    revoked = TelegramChannel(
        Settings(telegram_bot_token="4242:REVOKED", telegram_api_url=tg.base_url),
        Commands(db, lambda: config),
    )
    await queue_item(db, news(), [chat(USER)], now=time.time())
    try:
        dispatcher = await deliver(db, revoked)
    finally:
        await revoked.stop()

    assert dispatcher.stopped_reason is not None
    assert "the Bot API refused the token" in dispatcher.stopped_reason
    assert await outbox_rows(db) == [("pending", None)]
    assert "REVOKED" not in dispatcher.stopped_reason


async def test_long_korean_and_astral_text_fit_the_limits(
    tg: PickyTelegram, channel: TelegramChannel, db: Store
) -> None:
    korean = " ".join(
        f"정부는 {n}번째 AI 정책금융 프로그램으로 반도체 기업에 저리 대출을 공급한다고 밝혔다."
        for n in range(600)
    )
    items = {
        USER: news(1, title="[속보] " + "반도체 " * 150, summary=korean),
        USER2: news(2, title="🚀" * 500, summary="𝕏😀 " * 5000, image="https://img.example/x.png"),
        GROUP: news(
            3, title="긴급 " + "😀" * 100, summary=korean, image="https://img.example/k.png"
        ),
    }
    now = time.time()
    for target, item in items.items():
        await queue_item(db, item, [chat(target)], now=now)

    await deliver(db, channel)

    assert tg.calls_to("sendMessage")[0].status == 200
    by_chat = {m.chat_id: m for m in tg.sent}
    assert by_chat[USER].method == "sendMessage"
    assert by_chat[USER2].method == by_chat[GROUP].method == "sendPhoto"
    assert utf16_len(by_chat[USER].plain_text) <= 4096
    assert 900 <= utf16_len(by_chat[USER2].plain_text) <= 1024  # the astral caption fills up
    assert utf16_len(by_chat[GROUP].plain_text) <= 1024
    for message in tg.sent:
        assert {e["type"] for e in message.entities} == {"bold", "text_link"}
    assert await outbox_rows(db) == [("sent", None)] * 3


# --------------------------------------------------------------------------------------------
# secrets


@pytest.fixture
def debug_log() -> Iterator[list[str]]:
    """Every log line at DEBUG, through the same SecretFilter that setup_logging installs."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect(logging.DEBUG)
    handler.addFilter(SecretFilter([TOKEN]))
    root = logging.getLogger()
    noisy = [logging.getLogger(n) for n in ("httpx", "httpcore", "telegram", "telegram.ext")]
    saved = root.level, [n.level for n in noisy]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for logger in noisy:
        logger.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for logger, level in zip(noisy, saved[1], strict=True):
            logger.setLevel(level)


async def test_the_token_never_reaches_the_logs(
    tg: PickyTelegram, db: Store, debug_log: list[str]
) -> None:
    config = parse_config(config_text())
    channel = TelegramChannel(settings_for(tg), Commands(db, lambda: config))  # logs its URL
    try:
        tg.rate_limits.enabled = False
        await channel.start()
        await say(tg, USER, USER, "/subscribe ai")
        await say(tg, USER, USER, "/bogus")
        tg.fail_next("sendMessage", times=1, status=502)
        tg.refuse_photos(USER2)
        await queue_item(db, news(1), [chat(USER)], now=time.time())
        await queue_item(
            db, news(2, image="https://img.example/p.png"), [chat(USER2)], now=time.time()
        )
        await deliver(db, channel, backoff_base=0.1)
    finally:
        await channel.stop()

    text = "\n".join(debug_log)
    assert len(tg.sent) == 4
    assert "sendMessage" in text and "/bot***/" in text  # URLs were logged, masked
    assert TOKEN not in text
    assert TOKEN.split(":")[1] not in text


# --------------------------------------------------------------------------------------------
# the seed article, end to end


async def test_seed_article_reaches_a_subscriber_exactly_once_as_html(
    tg: PickyTelegram, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.publish("news.xml", rss(OLD_ITEMS))
    config_path = tmp_path / "subscriptions.yaml"
    feeds = f'  - {{name: local, url: "{feed_server.url("news.xml")}", interval: 1m}}\n'
    config_path.write_text(config_text(feeds), encoding="utf-8")
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}",
        config_path=config_path,
        telegram_bot_token=TOKEN,
        telegram_api_url=tg.base_url,
    )
    app = App(settings, LoadedConfig(parse_config(config_path.read_text()), config_path))
    await app.start()
    front_end = app.channels[TG]
    assert isinstance(front_end, TelegramChannel)
    try:
        await front_end.start()
        reply = await say(tg, USER, USER, "/subscribe ai policy-finance breaking")
        assert reply.body == "Subscribed to ai, policy-finance, breaking."

        await app.run_once()  # the first poll primes: nothing is sent
        assert tg.sent_to(USER) == [reply]

        feed_server.publish("news.xml", rss(seed_items()))
        await app.run_once()
        await app.run_once()  # nothing new: nothing more

        alerts = tg.sent_to(USER)[1:]
        assert len(alerts) == 1
        [alert] = alerts
        assert alert.parse_mode == "HTML"
        assert alert.method == "sendPhoto"  # the seed has an image; its caption fits
        assert alert.caption is not None
        assert alert.caption.startswith(
            '<a href="https://news.example/seed"><b>로봇, 자율주행, 클라우드 AI 분야'
        )
        assert alert.plain_text.endswith("#ai #policy_finance #breaking")
        assert "반도체 수출" not in "".join(m.plain_text for m in tg.sent)  # primed, never sent

        why = await say(tg, USER, USER, "/why")
        assert why.body.startswith("로봇, 자율주행, 클라우드 AI 분야 3조 5000억 원 지원\n  ai: ")
        assert "“AI” in title" in why.body
    finally:
        await front_end.stop()
        await app.close()
