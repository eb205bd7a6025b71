"""Slack end to end over loopback: the bot in HTTP mode, a fake Slack Web API, a feed server.

The app is configured the way an operator does it, from environment variables (SLACK_API_URL
given without its trailing slash), and runs its services as `newsbot run` does: web server on a
free port, dispatcher, scheduler. Slack's side is played by tests/fakes: signed slash commands and
button clicks over real HTTP to `POST /slack/events`, chat.postMessage and response_url served by
FakeSlack with slack_sdk pointed at it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.channels.base import Fatal
from bot.channels.slack import ACK_DEADLINE, SlackChannel, parse_command_text
from bot.commands import CommandReply, CommandRequest, Commands
from bot.delivery import Dispatcher
from bot.models import Platform, Recipient
from bot.settings import Settings, settings_from_env
from bot.store import Store
from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_signing import FORM_CONTENT_TYPE, signed_headers, signed_slash_command
from tests.helpers import OLD_ITEMS, config_for, eventually, free_port, seed_file, seed_items

TOKEN = "xoxb-test"
APP_TOKEN = "xapp-test"
SECRET = "test-signing-secret"
NEWS = "C0NEWS"
ALICE = "U0ALICE"
NEWS_CHAT = Recipient(Platform.SLACK, NEWS)


@dataclass
class Reply:
    status: int
    body: str
    seconds: float


@dataclass
class Bot:
    app: App
    slack: FakeSlack
    feeds: FeedServer
    port: int

    @property
    def store(self) -> Store:
        assert self.app.store is not None
        return self.app.store

    @property
    def dispatcher(self) -> Dispatcher:
        return self.app.dispatchers[Platform.SLACK]

    @property
    def channel(self) -> SlackChannel:
        channel = self.app.channels[Platform.SLACK]
        assert isinstance(channel, SlackChannel)
        return channel

    async def post(self, body: bytes, headers: dict[str, str]) -> Reply:
        url = f"http://127.0.0.1:{self.port}/slack/events"
        async with aiohttp.ClientSession() as session:
            started = time.monotonic()
            async with session.post(url, data=body, headers=headers) as response:
                text = await response.text()
                return Reply(response.status, text, time.monotonic() - started)

    async def command(
        self,
        text: str,
        response_id: str,
        *,
        secret: str = SECRET,
        timestamp: int | None = None,
        channel: str = NEWS,
    ) -> Reply:
        body, headers = signed_slash_command(
            secret,
            command="/news",
            text=text,
            channel_id=channel,
            user_id=ALICE,
            response_url=self.slack.response_url(response_id),
            timestamp=timestamp,
        )
        return await self.post(body, headers)

    async def answer(self, text: str, response_id: str) -> dict[str, Any]:
        """Run a command and wait for its (single) answer through the response_url."""
        reply = await self.command(text, response_id)
        assert reply.status == 200, reply.body
        [answer] = await self.slack.wait_for_responses(response_id, 1)
        return answer

    async def publish_and_poll(self, items: list[dict[str, str]]) -> None:
        self.feeds.publish("feed.xml", rss(items))
        await self.app.poll_all()
        self.dispatcher.wake()

    async def outbox(self) -> dict[str, int]:
        counts = await self.store.outbox.counts()
        return {status: n for (platform, status), n in counts.items() if platform == "slack"}

    async def settled(self) -> bool:
        """Whether every Slack alert queued so far was sent or given up (none pending)."""
        return "pending" not in await self.outbox()


def ai_items(count: int) -> list[dict[str, str]]:
    return [
        {
            "title": f"AI model number {n} released",
            "link": f"https://news.example/ai-{n}",
            "guid": f"ai-{n}",
            "description": f"The {n}th AI story.",
            "pubDate": f"Wed, 12 Jun 2024 0{n}:00:00 GMT",
        }
        for n in range(1, count + 1)
    ]


@pytest_asyncio.fixture
async def bot(tmp_path: Path, feed_server: FeedServer) -> AsyncIterator[Bot]:
    async with FakeSlack(token=TOKEN) as slack:
        slack.add_channel(NEWS, name="news")
        slack.add_user(ALICE, name="alice")
        feed_server.publish("feed.xml", rss(OLD_ITEMS))
        port = free_port()
        settings = settings_from_env(
            {
                "NEWSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'slack.db'}",
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": slack.api_url.rstrip("/"),
                "NEWSBOT_HTTP_PORT": str(port),
            }
        )
        assert settings.slack_api_url == slack.api_url, "the trailing slash is added"
        app = App(settings, config_for(feed_server.url("feed.xml")))
        await app.start()
        try:
            await app.poll_all()  # the first poll primes: the old items never alert
            await app.start_services()
            yield Bot(app, slack, feed_server, port)
        finally:
            await app.stop_services()
            await app.close()


# commands ----------------------------------------------------------------------------------------


async def test_signed_subscribe_is_acknowledged_at_once_and_answered_ephemerally(
    bot: Bot,
) -> None:
    reply = await bot.command("subscribe ai", "cmd-1")

    assert reply.status == 200
    assert reply.seconds < ACK_DEADLINE, "Slack gives up on a command after 3 s"
    [answer] = await bot.slack.wait_for_responses("cmd-1", 1)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "Subscribed to ai."
    assert answer["blocks"][0]["text"] == {
        "type": "plain_text",
        "text": "Subscribed to ai.",
        "emoji": False,
    }
    [sub] = [s for s in await bot.store.chats.subscriptions() if s.recipient == NEWS_CHAT]
    assert sub.topics == {"ai"}
    assert bot.slack.ephemeral == [] and bot.slack.posted == [], "nothing posted for everyone"


async def test_commands_need_no_auth_test_call(bot: Bot) -> None:
    bot.slack.fail_next("auth.test", times=1000, status=404)  # a Web API without auth.test
    checks_at_start = len(bot.slack.calls_to("auth.test"))

    reply = await bot.command("subscribe ai", "cmd-noauth")

    assert reply.status == 200
    [answer] = await bot.slack.wait_for_responses("cmd-noauth", 1)
    assert answer["text"] == "Subscribed to ai."
    assert len(bot.slack.calls_to("auth.test")) == checks_at_start, "no auth.test per request"


async def test_the_ack_comes_before_slow_work(bot: Bot) -> None:
    commands = bot.channel._commands

    class Slow:
        async def handle(self, request: CommandRequest) -> CommandReply:
            await asyncio.sleep(ACK_DEADLINE + 0.5)
            return await commands.handle(request)

    bot.channel._commands = Slow()  # type: ignore[assignment]
    reply = await bot.command("list", "slow-1")

    assert reply.status == 200 and reply.seconds < ACK_DEADLINE
    assert bot.slack.responses("slow-1") == []
    [answer] = await bot.slack.wait_for_responses("slow-1", 1, timeout=10)
    assert answer["text"].startswith("No subscriptions here yet.")


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "stale timestamp", "future timestamp", "body changed", "unsigned"],
)
async def test_a_badly_signed_or_stale_request_gets_401_and_does_nothing(
    bot: Bot, tamper: str
) -> None:
    now = int(time.time())
    secret = "another-secret" if tamper == "wrong secret" else SECRET
    timestamp = {"stale timestamp": now - 6 * 60, "future timestamp": now + 6 * 60}.get(tamper)
    body, headers = signed_slash_command(
        secret,
        command="/news",
        text="subscribe ai",
        channel_id=NEWS,
        user_id=ALICE,
        response_url=bot.slack.response_url("bad-1"),
        timestamp=timestamp,
    )
    if tamper == "body changed":
        body = body.replace(b"subscribe", b"unsubscribe")
    if tamper == "unsigned":
        headers = {"Content-Type": headers["Content-Type"]}

    reply = await bot.post(body, headers)

    assert reply.status == 401
    # a signed command sent after it is answered: the bot is past the refused one
    marker = await bot.answer("list", "marker-1")
    assert marker["text"].startswith("No subscriptions here yet.")
    assert bot.slack.responses("bad-1") == []
    assert await bot.store.chats.subscriptions() == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"payload=%7Bbroken", FORM_CONTENT_TYPE),
        (b"{broken", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"payload=null", FORM_CONTENT_TYPE),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b"junk=1", FORM_CONTENT_TYPE),  # read, but no request bolt has a listener for
    ],
)
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
async def test_a_body_slack_never_sends_gets_401_unsigned_and_400_signed(
    bot: Bot, body: bytes, content_type: str, signed: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """Bolt read the body before it checked the signature: some bodies broke its reading, a 500
    with a traceback for anyone who could reach the port, and it logged every unsigned body."""
    headers = signed_headers(SECRET, body) if signed else {}
    reply = await bot.post(body, {**headers, "Content-Type": content_type})
    assert reply.status == (400 if signed else 401)
    assert "Traceback" not in caplog.text
    assert body[:20].decode() not in caplog.text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"command=%2Fweather&text=Seoul&channel_id=C0NEWS&user_id=U0ALICE", FORM_CONTENT_TYPE),
        (b'{"type": "event_callback", "event": {"type": "app_mention"}}', "application/json"),
    ],
    ids=["another-apps-command", "an-event"],
)
async def test_a_signed_slack_request_nobody_answers_is_acknowledged(
    bot: Bot, body: bytes, content_type: str
) -> None:
    """Answered 400, Slack sends it again and may turn the app's events off; as in Socket Mode,
    it is acknowledged."""
    reply = await bot.post(body, {**signed_headers(SECRET, body), "Content-Type": content_type})
    assert reply.status == 200


@pytest.mark.parametrize(
    "timestamp",
    ["abc", "\u00b2", "", "1.7e9", "1" * 5000],
    ids=["letters", "sup2", "empty", "float", "long"],
)
async def test_a_timestamp_that_is_no_count_of_seconds_gets_401(bot: Bot, timestamp: str) -> None:
    body = b"channel=C1&command=/news&text=list"
    headers = {**signed_headers(SECRET, body), "X-Slack-Request-Timestamp": timestamp}
    headers = {k: v.encode("utf-8").decode("latin-1") for k, v in headers.items()}
    reply = await bot.post(body, headers)
    assert reply.status == 401


async def test_news_alone_is_help_and_an_unknown_verb_points_to_it(bot: Bot) -> None:
    help_text = (await bot.answer("", "help-1"))["text"]
    unknown = (await bot.answer("frobnicate now", "unknown-1"))["text"]

    assert "/news subscribe &lt;topic...&gt; — get alerts on these topics" in help_text
    assert "/news addfeed" not in help_text, "admin commands only for admins"
    assert unknown == "Unknown command 'frobnicate'. Try /news help for the list."


async def test_commands_typed_at_once_are_answered_after_the_ones_before(bot: Bot) -> None:
    """Slack acknowledges each command at once and the bot runs it after: one channel's commands
    run one at a time, so a question answers with what the command before it set, even when the
    first one waits on Slack (the member's profile, asked once)."""
    bot.slack.delay_next("users.info", 0.5)
    assert (await bot.command("timezone Europe/Paris", "set")).status == 200
    assert (await bot.command("timezone", "ask")).status == 200
    [asked] = await bot.slack.wait_for_responses("ask", 1)
    assert asked["text"].startswith("Times here are in Europe/Paris"), asked["text"]
    [answered] = await bot.slack.wait_for_responses("set", 1)
    assert "Europe/Paris" in answered["text"]


async def test_topics_buttons_run_their_command_when_clicked(bot: Bot) -> None:
    answer = await bot.answer("topics", "topics-1")
    buttons = {
        element["value"]: element["action_id"]
        for block in answer["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }
    assert "subscribe ai" in buttons

    payload = {
        "type": "block_actions",
        "team": {"id": "T0001", "domain": "newsbot-test"},
        "user": {"id": ALICE, "username": "alice", "team_id": "T0001"},
        "api_app_id": "A0NEWSBOT",
        "token": "legacy-verification-token",
        "container": {"type": "message", "channel_id": NEWS, "is_ephemeral": True},
        "channel": {"id": NEWS, "name": "news"},
        "trigger_id": "1.2.3",
        "response_url": bot.slack.response_url("click-1"),
        "actions": [
            {
                "type": "button",
                "action_id": buttons["subscribe ai"],
                "block_id": "b",
                "value": "subscribe ai",
                "text": {"type": "plain_text", "text": "ai"},
                "action_ts": "1700000000.000001",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    reply = await bot.post(body, signed_headers(SECRET, body))

    assert reply.status == 200 and reply.seconds < ACK_DEADLINE
    [answer] = await bot.slack.wait_for_responses("click-1", 1)
    assert answer["text"] == "Subscribed to ai." and answer["response_type"] == "ephemeral"


@pytest.mark.parametrize(
    ("text", "verb", "args"),
    [
        ("", "help", ()),
        ("  Subscribe   ai  policy-finance ", "subscribe", ("ai", "policy-finance")),
        (
            "addfeed <https://a.example/rss?x=1&amp;y=2|a.example/rss> local",
            "addfeed",
            ("https://a.example/rss?x=1&y=2", "local"),
        ),
        ("keywords add R&amp;D", "keywords", ("add", "R&D")),
        ("keywords add &lt;b&gt;", "keywords", ("add", "<b>")),
    ],
)
def test_command_text_is_read_as_the_user_typed_it(
    text: str, verb: str, args: tuple[str, ...]
) -> None:
    assert parse_command_text(text) == (verb, args)


# delivery ----------------------------------------------------------------------------------------


async def test_the_seed_reaches_the_subscribed_channel_exactly_once(bot: Bot) -> None:
    seed_file()  # skip cleanly without ../shared
    answer = await bot.answer("subscribe ai policy-finance breaking", "sub-1")
    assert answer["text"] == "Subscribed to ai, policy-finance, breaking."

    await bot.publish_and_poll(seed_items())
    [posted] = await bot.slack.wait_for_posts(1)
    await bot.app.poll_all()  # the same document again, and a restart-free second look
    bot.dispatcher.wake()
    await eventually(bot.settled, what="an outbox with nothing left to send")

    assert bot.slack.posted == [posted], "delivered exactly once"
    assert posted.channel == NEWS and posted.unfurl_links is False
    assert posted.blocks is not None
    title, excerpt, meta = posted.blocks
    assert title["text"]["text"].startswith("*<https://news.example/seed|")
    assert "AI정책금융" in excerpt["text"]["text"]
    assert excerpt["accessory"]["image_url"].startswith("https://")
    assert meta["elements"][-1]["text"] == "ai, policy-finance, breaking"
    assert posted.text and "로봇, 자율주행" in posted.text
    assert await bot.outbox() == {"sent": 1}


async def test_429_waits_for_retry_after_and_drops_nothing(bot: Bot) -> None:
    await bot.answer("subscribe ai", "sub-2")
    bot.slack.fail_next("chat.postMessage", times=1, status=429)  # answers Retry-After: 1

    started = time.time()
    await bot.publish_and_poll([*ai_items(3), *OLD_ITEMS])
    posted = await bot.slack.wait_for_posts(3, timeout=20)

    assert bot.slack.rejected_429 == 1
    assert [m.text for m in posted] == [
        f"AI model number {n} released (local)" for n in (1, 2, 3)
    ], "oldest first, none lost"
    assert posted[0].at - started >= 1.0, "waited for Retry-After"
    gaps = [b.at - a.at for a, b in itertools.pairwise(posted)]
    assert min(gaps) >= 1.0, "about one message per second per channel"
    await eventually(lambda: _equals(bot.outbox(), {"sent": 3}), what="all marked sent")


async def test_a_transient_failure_is_retried_with_backoff(bot: Bot) -> None:
    await bot.answer("subscribe ai", "sub-3")
    bot.slack.fail_next("chat.postMessage", times=1, status=503)

    await bot.publish_and_poll(ai_items(1))
    [posted] = await bot.slack.wait_for_posts(1, timeout=15)

    refused = [c for c in bot.slack.calls_to("chat.postMessage") if c.status == 503]
    assert len(refused) == 1 and posted.text == "AI model number 1 released (local)"
    await eventually(lambda: _equals(bot.outbox(), {"sent": 1}), what="marked sent")


async def test_an_image_slack_cannot_fetch_is_left_out_rather_than_the_alert(bot: Bot) -> None:
    await bot.answer("subscribe ai", "sub-4")
    bot.slack.fail_next("chat.postMessage", times=1, status=200, error="invalid_blocks")
    items = ai_items(1)
    items[0]["description"] = '<img src="https://img.example/broken.png"> The body.'

    await bot.publish_and_poll(items)
    [posted] = await bot.slack.wait_for_posts(1)

    [refused] = [c for c in bot.slack.calls_to("chat.postMessage") if c.error]
    assert "broken.png" in json.dumps(refused.params.get("blocks"))
    assert posted.blocks is not None and "broken.png" not in json.dumps(posted.blocks)


@pytest.mark.parametrize("how", ["channel deleted", "channel archived", "bot removed"])
async def test_a_channel_that_is_gone_is_deactivated(
    bot: Bot, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.answer("subscribe ai", "sub-5")
    if how == "channel deleted":
        bot.slack.remove_channel(NEWS)
    elif how == "channel archived":
        bot.slack.archive(NEWS)
    else:
        bot.slack.add_channel(NEWS, name="news", member=False)
    expected = {
        "channel deleted": "channel_not_found",
        "channel archived": "is_archived",
        "bot removed": "not_in_channel",
    }[how]

    await bot.publish_and_poll(ai_items(2))

    async def deactivated() -> bool:
        chat = await bot.store.chats.get(NEWS_CHAT)
        return chat is not None and not chat.active

    await eventually(deactivated, what="deactivation")
    await eventually(lambda: _equals(bot.outbox(), {"failed": 2}), what="queue failed")
    assert bot.slack.posted == []
    assert await bot.store.chats.subscriptions() == [], "no more routing to that channel"
    assert any(
        expected in r.getMessage() and "deactivated" in r.getMessage() for r in caplog.records
    )


async def test_an_answer_slack_will_not_take_is_one_log_line(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    """A response_url that had expired swallowed the answer without a word in the log."""
    bot.slack.expired_responses.add("late-1")
    reply = await bot.command("list", "late-1")
    assert reply.status == 200

    def said() -> bool:
        return any("could not be posted" in m for m in caplog.messages)

    await eventually(said, what="the log line")
    [line] = [m for m in caplog.messages if "could not be posted" in m]
    assert line == (
        f"slack: the answer to list in {NEWS} could not be posted "
        "(response_url: HTTP 404 expired_url)"
    )


@pytest.mark.parametrize("error", ["invalid_auth", "account_inactive"])
async def test_a_dead_token_stops_the_slack_dispatcher_with_a_clear_log_line(
    bot: Bot, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.answer("subscribe ai", "sub-6")
    for other in ("C0MORE1", "C0MORE2"):  # sends to three channels meet the refusal at once
        bot.slack.add_channel(other, name=other.lower())
        await bot.store.chats.subscribe(Recipient(Platform.SLACK, other), ["ai"], time.time())
    if error == "invalid_auth":
        bot.slack.token = "xoxb-rotated"  # the bot's token was revoked
    else:
        bot.slack.account_inactive = True
    bot.slack.delay_next("chat.postMessage", 0.5)  # the other two go out meanwhile

    await bot.publish_and_poll(ai_items(1))

    async def stopped() -> bool:
        return bot.dispatcher.stopped_reason is not None

    await eventually(stopped, what="dispatcher stop")
    await eventually(lambda: len(bot.slack.calls_to("chat.postMessage")) == 3, what="3 sends")
    await asyncio.sleep(0.2)  # the outcomes of the two sends that met the refusal too
    reason = bot.dispatcher.stopped_reason or ""
    assert error in reason and "SLACK_BOT_TOKEN" in reason
    [line] = [r for r in caplog.records if "dispatcher stopped" in r.getMessage()]
    assert line.levelno == logging.ERROR and error in line.getMessage()
    assert await bot.outbox() == {"pending": 3}, "kept for when the token is fixed"


async def _equals(value: Awaitable[dict[str, int]], expected: dict[str, int]) -> bool:
    return await value == expected


# start-up ----------------------------------------------------------------------------------------


def slack_settings(slack: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": TOKEN,
        "slack_signing_secret": SECRET,
        "slack_api_url": slack.api_url,
    }
    values.update(overrides)
    return Settings(**values)


class NoCommands(Commands):
    def __init__(self) -> None:
        pass


async def test_start_logs_who_the_bot_is(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)  # bolt reads it too, and used to warn
    async with FakeSlack(token=TOKEN) as slack:
        channel = SlackChannel(slack_settings(slack), NoCommands())
        await channel.start()
        await channel.stop()

    assert [c.method for c in slack.calls] == ["auth.test"]
    assert any("signed in as newsbot (U0BOT)" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], "a clean start"
    assert channel.web_routes()[0].path == "/slack/events"  # type: ignore[attr-defined]


async def test_without_a_signing_secret_every_request_gets_401() -> None:
    """The start says so; the request got a 500 from the SDK's refusal of an empty secret."""
    async with FakeSlack(token=TOKEN) as slack:
        channel = SlackChannel(slack_settings(slack, slack_signing_secret=""), NoCommands())
        server = web.Application()
        server.add_routes(channel.web_routes())
        body = b"command=/news&text=list&channel_id=C1"
        async with TestClient(TestServer(server)) as client:
            response = await client.post(
                "/slack/events", data=body, headers=signed_headers("", body)
            )
            assert response.status == 401


async def test_a_refused_token_stops_the_start(caplog: pytest.LogCaptureFixture) -> None:
    async with FakeSlack(token=TOKEN) as slack:
        channel = SlackChannel(slack_settings(slack, slack_bot_token="xoxb-wrong"), NoCommands())
        with pytest.raises(Fatal, match=r"invalid_auth \(check SLACK_BOT_TOKEN\)"):
            await channel.start()

    # the error is the operator's one line (`newsbot: slack: ...`), not logged twice
    assert not any("invalid_auth" in r.getMessage() for r in caplog.records)


async def test_an_unreachable_api_does_not_stop_the_start(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nothing listens there
    settings = Settings(slack_bot_token=TOKEN, slack_api_url=f"http://127.0.0.1:{port}/api/")
    channel = SlackChannel(settings, NoCommands())
    await channel.start()
    await channel.stop()

    assert any("unreachable" in r.getMessage() for r in caplog.records)


async def test_socket_mode_opens_its_connection_with_the_app_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with FakeSlack(token=TOKEN, app_token=APP_TOKEN) as slack:
        channel = SlackChannel(slack_settings(slack, slack_app_token=APP_TOKEN), NoCommands())
        assert channel.web_routes() == [], "no public URL in Socket Mode"
        await channel.start()

        def refused() -> list[logging.LogRecord]:  # the fake does not speak WebSocket
            return [r for r in caplog.records if "Failed to connect" in r.getMessage()]

        await eventually(lambda: bool(refused()), what="a WebSocket attempt")
        await channel.stop()

    opens = slack.calls_to("apps.connections.open")
    assert opens and all(c.token == APP_TOKEN and c.status == 200 for c in opens)
    # slack_sdk logs each failed connection as an ERROR with a traceback: one warning line here
    assert all(r.levelname == "WARNING" and r.exc_info is None for r in refused())


async def test_every_socket_mode_envelope_is_acknowledged_even_one_nobody_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An envelope no listener took (another app's command, an event newsbot did not ask for)
    went unacknowledged: Slack sends it again and shows its user an error."""

    class Answers(NoCommands):
        async def handle(self, request: CommandRequest) -> CommandReply:
            return CommandReply(f"answered {request.command}")

    async with FakeSlack(token=TOKEN, app_token=APP_TOKEN, socket_mode=True) as slack:
        channel = SlackChannel(slack_settings(slack, slack_app_token=APP_TOKEN), Answers())
        await channel.start()
        try:
            other_app = {
                "command": "/weather",
                "text": "",
                "channel_id": NEWS,
                "user_id": "U0ALICE",
            }
            mention = {"type": "event_callback", "event": {"type": "app_mention", "text": "hi"}}
            ours = {**other_app, "command": "/news", "text": "help"}
            ours["response_url"] = slack.response_url("help-1")
            for envelope_id, kind, payload in (
                ("e-1", "slash_commands", other_app),
                ("e-2", "events_api", mention),
                ("e-3", "slash_commands", ours),
            ):
                await slack.send_envelope(
                    {"envelope_id": envelope_id, "type": kind, "payload": payload}
                )
            acks = await slack.wait_for_acks(3)
            await slack.wait_for_responses("help-1")  # ours is answered as before
        finally:
            await channel.stop()
    assert sorted(ack["envelope_id"] for ack in acks) == ["e-1", "e-2", "e-3"]
    unanswered = [m for m in caplog.messages if "Unhandled request" in m]
    assert len(unanswered) == 2 and all("\n" not in m for m in unanswered), unanswered


async def test_socket_mode_with_a_refused_app_token_stops_the_start() -> None:
    async with FakeSlack(token=TOKEN, app_token=APP_TOKEN) as slack:
        channel = SlackChannel(slack_settings(slack, slack_app_token="xapp-wrong"), NoCommands())
        with pytest.raises(Fatal, match="SLACK_APP_TOKEN"):
            await channel.start()
        await channel.stop()
