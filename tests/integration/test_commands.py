"""Chat commands, platform-neutral, against a real store: answers for every kind of bad input."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from bot.app import App
from bot.commands import MAX_KEYWORDS, CommandRequest, Commands
from bot.commands.requests import MAX_ARGUMENT_CHARS
from bot.config import load_config
from bot.models import ExcerptLength, FeedState, Platform, Recipient
from bot.netguard import URLGuard
from bot.notices import feed_notice
from bot.settings import Settings
from tests.fakes.feed_server import FeedServer, rss
from tests.helpers import OLD_ITEMS, write_config

ADMIN = "123456789"


@pytest.fixture
async def app(tmp_path: Path, feed_server: FeedServer, database_url: str):  # type: ignore[no-untyped-def]
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    config = write_config(tmp_path, feed_server.url("feed.xml"))
    config.write_text(config.read_text() + f"admins: {{telegram: [{ADMIN}]}}\n")
    app = App(Settings(database_url=database_url), load_config(config), stdout=io.StringIO())
    await app.start()
    yield app
    await app.close()


async def say(
    commands: Commands,
    text: str,
    *,
    user: str = "42",
    chat: str = "42",
    is_group: bool = False,
    admin_of_group: bool = False,
) -> str:
    name, *args = text.split()

    async def is_chat_admin() -> bool:
        return admin_of_group

    reply = await commands.handle(
        CommandRequest(
            Platform.TELEGRAM,
            chat,
            user,
            name.lstrip("/"),
            tuple(args),
            is_group=is_group,
            is_chat_admin=is_chat_admin,
        )
    )
    return reply.text


async def test_subscribe_list_unsubscribe_with_aliases(app: App) -> None:
    commands = app.commands_for(Platform.TELEGRAM)
    assert "Subscribed to ai, breaking" in await say(commands, "/subscribe 인공지능 breaking")
    assert "Already subscribed to ai" in await say(commands, "/subscribe AI")
    assert "Topics: ai, breaking" in await say(commands, "/list")
    assert "Unsubscribed from ai" in await say(commands, "/unsubscribe ai")
    assert "Unsubscribed from everything" in await say(commands, "/unsubscribe all")
    assert "No subscriptions here yet" in await say(commands, "/list")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/subscribe", "Usage: /subscribe <topic...>"),
        ("/subscribe sports", "Unknown topic sports"),
        ("/unsubscribe", "Usage: /unsubscribe <topic...|all>"),
        ("/unsubscribe sports", "Topics: ai, policy-finance, breaking"),
        ("/keywords launch rockets", "Usage: /keywords [add|remove] <word>"),
        ("/keywords add", "Usage: /keywords"),
        ("/keywords add x", "2 to 40 characters"),
        ("/keywords add " + "가" * 41, "2 to 40 characters"),
        ("/keywords add <b>bold</b>", "plain words"),
        ("/keywords add (?i)regex.*", "plain words"),
        ("/mute forever", "Usage: /mute [1h|8h|1d|off]"),
        ("/mute 30d", "at most 7d"),
        ("/nonsense", "Unknown command 'nonsense'"),
        ("/subscribe " + "a" * (MAX_ARGUMENT_CHARS + 1), f"at most {MAX_ARGUMENT_CHARS}"),
        ("/addfeed https://x.example/feed", "for the bot's admins only"),
        ("/stats", "for the bot's admins only"),
        ("/why", "No alerts have been sent"),
    ],
)
async def test_bad_input_gets_a_clear_answer(app: App, text: str, expected: str) -> None:
    assert expected in await say(app.commands_for(Platform.TELEGRAM), text)


async def test_personal_keywords_have_a_limit(app: App) -> None:
    commands = app.commands_for(Platform.TELEGRAM)
    for n in range(MAX_KEYWORDS):
        assert "Added keyword" in await say(commands, f"/keywords add word{n}")
    assert f"maximum of {MAX_KEYWORDS}" in await say(commands, "/keywords add onemore")
    assert "Removed keyword word0" in await say(commands, "/keywords remove word0")
    assert "word1" in await say(commands, "/keywords")


async def test_a_group_whose_admins_cannot_be_looked_up_is_told_so(app: App) -> None:
    """A failed admin lookup (Telegram's 502) read "Only this group's admins…" to its creator."""
    commands = app.commands_for(Platform.TELEGRAM)

    async def lookup_fails() -> bool:
        raise ConnectionError("Bad Gateway")

    request = CommandRequest(
        Platform.TELEGRAM,
        "-100",
        "42",
        "subscribe",
        ("ai",),
        is_group=True,
        is_chat_admin=lookup_fails,
    )
    reply = await commands.handle(request)
    assert reply.text == "Could not check this group's admins just now; please try again."
    assert "No subscriptions" in await say(commands, "/list", chat="-100", is_group=True)


async def test_only_group_admins_change_a_groups_subscriptions(app: App) -> None:
    commands = app.commands_for(Platform.TELEGRAM)
    refused = await say(commands, "/subscribe ai", chat="-100", is_group=True)
    assert "Only this group's admins" in refused
    accepted = await say(commands, "/subscribe ai", chat="-100", is_group=True, admin_of_group=True)
    assert "Subscribed to ai" in accepted
    by_bot_admin = await say(
        commands, "/subscribe breaking", chat="-100", user=ADMIN, is_group=True
    )
    assert "Subscribed to breaking" in by_bot_admin
    assert "Topics: ai, breaking" in await say(commands, "/list", chat="-100", is_group=True)


async def resolves_to_loopback(host: str, port: int) -> list[str]:
    """A resolver that puts every host on this machine, where the feed server is."""
    return ["127.0.0.1"]


def let_every_host_in(app: App) -> None:
    """Every host resolves to loopback and is let through: a test-only policy."""
    app.url_guard = URLGuard(resolves_to_loopback, refuse=lambda address: None)


async def test_addfeed_refuses_internal_urls_and_adds_public_ones(
    app: App, feed_server: FeedServer
) -> None:
    commands = app.commands_for(Platform.TELEGRAM)
    loopback = await say(commands, f"/addfeed {feed_server.url('feed.xml')}", user=ADMIN)
    assert "Feed refused" in loopback and "loopback" in loopback

    app.url_guard = URLGuard(resolves_to_loopback)
    disguised = feed_server.url("feed.xml").replace("127.0.0.1", "feeds.example")
    refused = await say(commands, f"/addfeed {disguised} sneaky", user=ADMIN)
    assert "Feed refused" in refused and "loopback" in refused

    let_every_host_in(app)
    added = await say(commands, f"/addfeed {disguised} public", user=ADMIN)
    assert "Added feed public" in added, added
    assert "public" in await say(commands, "/feeds", user=ADMIN)
    outcomes = {o.feed: o for o in await app.poll_all()}
    assert outcomes["public"].status == "primed", "polled through the pinned, checked address"

    app.url_guard = URLGuard(
        resolves_to_loopback
    )  # its DNS now points inside: every poll re-checks
    outcomes = {o.feed: o for o in await app.poll_all()}
    assert outcomes["public"].status == "error" and "loopback" in (outcomes["public"].error or "")
    assert outcomes["local"].status != "error", "feeds from the config are the operator's choice"
    assert "Removed feed public" in await say(commands, "/removefeed public", user=ADMIN)
    assert "No feed named nope" in await say(commands, "/removefeed nope", user=ADMIN)


async def test_a_password_in_an_added_feeds_url_is_never_shown(
    app: App, feed_server: FeedServer
) -> None:
    commands = app.commands_for(Platform.TELEGRAM)
    let_every_host_in(app)
    private = feed_server.url("feed.xml").replace("127.0.0.1", "reader:pw123@feeds.example")
    added = await say(commands, f"/addfeed {private}", user=ADMIN)
    assert "Added feed feeds.example" in added, "named by its host, not its user and password"
    listed = await say(commands, "/feeds", user=ADMIN)
    assert "reader:***@feeds.example" in listed and "pw123" not in listed, listed
    missing = private.replace("feed.xml", "missing.xml")
    refused = await say(commands, f"/addfeed {missing} other", user=ADMIN)
    assert "HTTP 404" in refused and "reader:***@feeds.example" in refused, refused
    assert "pw123" not in refused, refused
    feed = await app.store.feeds.get("feeds.example") if app.store else None
    assert feed is not None
    notices = [feed_notice(feed, state, "HTTP 500", 0.0) for state in FeedState]
    assert all("pw123" not in f"{n.title} {n.summary}" for n in notices)
    assert all("reader:***@feeds.example" in (n.summary or "") for n in notices)


async def test_addfeed_says_why_not_in_the_chats_language(
    app: App, feed_server: FeedServer
) -> None:
    commands = app.commands_for(Platform.TELEGRAM)
    let_every_host_in(app)
    feed_server.publish("page.html", "<html><body>no feed here</body></html>")
    missing = feed_server.url("missing.xml").replace("127.0.0.1", "feeds.example")
    page = feed_server.url("page.html").replace("127.0.0.1", "feeds.example")
    refused = await say(commands, f"/addfeed {missing}", user=ADMIN)
    assert refused.startswith("Feed refused: the server answered HTTP 404 (")
    assert f"{missing}: HTTP 404" in refused, "the technical line follows"
    await say(commands, "/lang ko", user=ADMIN)
    refused = await say(commands, f"/addfeed {missing}", user=ADMIN)
    assert refused.startswith("피드를 추가하지 못했습니다: 서버가 HTTP 404(으)로 응답했습니다 (")
    not_a_feed = await say(commands, f"/addfeed {page}", user=ADMIN)
    assert not_a_feed.startswith("피드를 추가하지 못했습니다: 그 주소에는 피드가 없습니다 ("), (
        not_a_feed
    )


async def test_a_nul_in_an_argument_is_read_without_it(app: App) -> None:
    """PostgreSQL keeps no NUL in text: a lookup by an argument with one answered "something went
    wrong" there."""
    commands = app.commands_for(Platform.TELEGRAM)
    assert "No feed named nope" in await say(commands, "/removefeed no\x00pe", user=ADMIN)
    assert "Subscribed to ai" in await say(commands, "/subscribe \x00ai")


async def test_choices_typed_at_once_all_stay(app: App) -> None:
    """A new chat's first commands arrive together (a pasted list, a tapped menu): each choice
    stays, none put back by another command that read the chat's choices before it."""
    commands = app.commands_for(Platform.TELEGRAM)
    assert app.store is not None
    for chat in ("501", "502", "503"):
        typed = ("/lang ko", "/timezone Asia/Seoul", "/format compact", "/format image off")
        await asyncio.gather(*(say(commands, text, chat=chat, user=chat) for text in typed))
        assert "한국어" in await say(commands, "/lang", chat=chat, user=chat)
        shown = await app.store.chats.get(Recipient(Platform.TELEGRAM, chat))
        assert shown is not None
        assert shown.choices.timezone == "Asia/Seoul", chat
        assert (shown.choices.excerpt, shown.choices.image) == (ExcerptLength.COMPACT, False)


async def test_stories_turned_off_for_the_bot_are_not_said_to_be_on(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    config = write_config(tmp_path, feed_server.url("feed.xml"))
    config.write_text(config.read_text() + "stories: {enabled: false}\n")
    app = App(Settings(database_url="sqlite+aiosqlite://"), load_config(config))
    await app.start()
    try:
        commands = app.commands_for(Platform.TELEGRAM)
        await say(commands, "/subscribe ai")
        for text in ("/stories", "/stories on"):
            assert (await say(commands, text)).startswith("Stories are off for the whole bot")
        assert "Stories: off for the whole bot" in await say(commands, "/list")
    finally:
        await app.close()
