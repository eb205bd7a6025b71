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
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import event, select, update

from bot import grouping
from bot.models import OutboxKind, OutboxStatus, Platform, Recipient
from bot.store import Store
from bot.store.outbox import outbox_rows
from bot.store.records import QueuedAlert
from bot.store.schema import outbox
from bot.store.stories import StoryMessage
from bot.store.story_alerts import queue_story_alerts
from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import shipped_topics
from tests.integration.driver import CHANNEL, USER, ChatBot, Clock, Launch
from tests.unit.test_stories_join import ANSWER, BOTH, REFERRAL

FEEDS = ("hani", "seoul", "kmib")


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


TWO_ALERTS = [REPORTS["hani"]["title"], REPORTS["seoul"]["title"]]
"""The headlines a chat sees when the first two reports alert on their own."""


async def headlines_of_two_reports(
    bot: ChatBot, feed_server: FeedServer, tg: FakeTelegram
) -> list[str]:
    """Publish hani's report, then seoul's, a poll after each: the headlines the chat then has."""
    publish(feed_server, "hani")
    await bot.once()
    publish(feed_server, "seoul")
    await bot.once()
    return [message.plain_text.split("\n", 1)[0] for message in tg.sent_to(USER)]


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
    assert "“AI 반도체” in title, “인공지능(AI)” in lead" in why
    await bot.command("/lang ko")
    korean = await bot.command("/why")
    assert "제목에 “AI 반도체”, 첫머리에 “인공지능(AI)”" in korean, "in the chat's language"


async def test_a_story_held_for_a_digest_names_its_later_reports_on_its_line(
    bot: ChatBot, feed_server: FeedServer, tg: FakeTelegram
) -> None:
    assert "one digest a day at 08:00" in await bot.command("/mode daily 08:00")
    publish(feed_server, "hani")
    await bot.once()
    bot.clock.advance(120)
    publish(feed_server, "seoul")
    await bot.once()
    assert tg.sent_to(USER) == [], "both reports wait for the digest"
    # held, they have not reached the chat: /why has nothing to explain yet
    assert await bot.command("/why") == "No alerts have been sent to this chat yet."

    bot.clock.advance(24 * 3600)
    await bot.once()
    [digest] = tg.sent_to(USER)
    assert f"{REPORTS['hani']['title']} — hani, also seoul" in digest.plain_text
    assert "1 story" in digest.plain_text and tg.edits == []
    assert (await bot.command("/why")).startswith(REPORTS["hani"]["title"])


async def test_a_breaking_report_of_a_story_held_for_a_digest_is_no_second_line(
    bot: ChatBot, feed_server: FeedServer, tg: FakeTelegram
) -> None:
    """The breaking re-alert, meant for chats that get alerts one by one, made a second line
    of the same story in a digest (headed "2 stories" for one event)."""
    assert "Subscribed to breaking" in await bot.command("/subscribe breaking")
    assert "one digest a day at 08:00" in await bot.command("/mode daily 08:00")
    publish(feed_server, "hani")
    await bot.once()
    bot.clock.advance(120)
    breaking = {**report("seoul"), "title": "[속보] " + REPORTS["seoul"]["title"]}
    feed_server.publish("seoul.xml", rss([breaking, *old_items("seoul")]))
    await bot.once()

    bot.clock.advance(24 * 3600)
    await bot.once()
    [digest] = tg.sent_to(USER)
    assert "1 story" in digest.plain_text, digest.plain_text
    assert digest.plain_text.count(REPORTS["seoul"]["title"]) <= 1
    assert f"{REPORTS['hani']['title']} — hani, also seoul" in digest.plain_text
    assert bot.app is not None and bot.app.store is not None
    counts = await bot.app.store.outbox.counts()
    assert counts == {("telegram", "sent"): 2}, "both held entries went with the one line"


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


async def test_a_later_report_from_an_outlet_the_message_names_edits_nothing(
    bot: ChatBot, feed_server: FeedServer, tg: FakeTelegram
) -> None:
    """An outlet's follow-up (`(종합)`) adds no source: the message would read the same, and
    Telegram refuses such an edit ("message is not modified")."""

    def follow_up(feed: str) -> dict[str, str]:
        title = f"{REPORTS[feed]['title']}(종합)"
        return {**report(feed), "title": title, "link": f"https://{feed}.example/2", "guid": "2"}

    publish(feed_server, "hani")
    await bot.once()
    feed_server.publish("hani.xml", rss([follow_up("hani"), report("hani"), *old_items("hani")]))
    await bot.once()
    assert tg.calls_to("editMessageText") == [], "the hani follow-up names no other outlet"

    bot.clock.advance(120)
    publish(feed_server, "seoul")
    await bot.once()
    bot.clock.advance(120)
    feed_server.publish(
        "seoul.xml", rss([follow_up("seoul"), report("seoul"), *old_items("seoul")])
    )
    await bot.once()
    [edit] = tg.calls_to("editMessageText")
    assert edit.params["text"].endswith('also: <a href="https://seoul.example/1">seoul</a>')
    assert len(tg.sent_to(USER)) == 1


async def test_a_report_the_grouping_cannot_read_alerts_on_its_own_and_holds_back_nothing(
    bot: ChatBot,
    feed_server: FeedServer,
    tg: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    read = grouping.features

    def fails_on_one_headline(title: str, text: str) -> Any:
        if title == REPORTS["seoul"]["title"]:
            raise OverflowError("cannot convert float infinity to integer")
        return read(title, text)

    monkeypatch.setattr(grouping, "features", fails_on_one_headline)
    assert await headlines_of_two_reports(bot, feed_server, tg) == TWO_ALERTS
    assert "stories: item seoul-1 of feed seoul not grouped (OverflowError" in caplog.text

    bot.clock.advance(120)
    publish(feed_server, "kmib")
    await bot.once()
    assert len(tg.sent_to(USER)) == 2, "the grouping goes on for the next report"
    assert "also: kmib" in tg.edits[-1].plain_text


async def test_stories_off_brings_back_one_alert_per_report(
    bot: ChatBot, feed_server: FeedServer, tg: FakeTelegram
) -> None:
    assert "every report alerts" in await bot.command("/stories off")
    assert "Stories: off" in await bot.command("/list")
    assert await headlines_of_two_reports(bot, feed_server, tg) == TWO_ALERTS
    assert tg.edits == []


async def test_stories_off_gets_one_article_that_two_feeds_carry_once(
    bot: ChatBot, feed_server: FeedServer, tg: FakeTelegram
) -> None:
    """The same article (one link) in two feeds alerted twice to a chat with stories off."""
    assert "every report alerts" in await bot.command("/stories off")
    article = report("hani")
    for feed in ("hani", "seoul"):
        feed_server.publish(f"{feed}.xml", rss([article, *old_items(feed)]))
        await bot.once()
    assert [m.plain_text.split("\n", 1)[0] for m in tg.sent_to(USER)] == [article["title"]]


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


ENGLISH_REPORTS = {
    "hani": {
        "title": "Nvidia unveils Blackwell Ultra AI chip",
        "description": "Nvidia unveiled its Blackwell Ultra chip on Tuesday, saying the processor "
        "trains large AI models twice as fast as the chips it replaces.",
    },
    "seoul": {
        "title": "Nvidia's Blackwell Ultra doubles AI training speed",
        "description": "The Blackwell Ultra, which Nvidia showed on Tuesday, trains large AI "
        "models twice as fast as its predecessor, the company said.",
    },
    "kmib": {
        "title": "OpenAI opens its AI coding agent to all ChatGPT users",
        "description": "The ChatGPT maker said its Codex agent, which writes and reviews "
        "software, would be available to every paying subscriber from Thursday.",
    },
}
"""One English event under two headlines, and another company's AI news the same day."""


async def test_english_reports_of_one_event_are_one_alert_and_other_news_its_own(
    bot: ChatBot, feed_server: FeedServer, tg: FakeTelegram
) -> None:
    for number, feed in enumerate(("hani", "seoul", "kmib")):
        item = {**ENGLISH_REPORTS[feed], "link": f"https://{feed}.example/en", "guid": f"{feed}-en"}
        feed_server.publish(f"{feed}.xml", rss([item, *old_items(feed)]))
        bot.clock.advance(120 * number)
        await bot.once()

    titles = [message.plain_text.split("\n", 1)[0] for message in tg.sent_to(USER)]
    assert titles == [ENGLISH_REPORTS["hani"]["title"], ENGLISH_REPORTS["kmib"]["title"]]
    [edit] = tg.edits
    assert edit.message_id == tg.sent_to(USER)[0].message_id
    assert "also: seoul" in edit.plain_text


async def test_a_report_of_two_stories_names_every_source_in_one_message(
    bot: ChatBot, feed_server: FeedServer, tg: FakeTelegram
) -> None:
    """Two reports too unlike to be paired alert apart; a third reports both: no third alert, and
    the later alert's message names the other two outlets."""
    assert "번복" in await bot.command("/keywords add 번복")
    for number, (feed, (title, summary)) in enumerate(
        (("hani", ANSWER), ("seoul", REFERRAL), ("kmib", BOTH))
    ):
        item = {"title": title, "description": summary, "link": f"https://{feed}.example/j"}
        feed_server.publish(f"{feed}.xml", rss([{**item, "guid": f"{feed}-j"}, *old_items(feed)]))
        bot.clock.advance(120 * number)
        await bot.once()

    answer, referral = tg.sent_to(USER)
    assert answer.plain_text.startswith(ANSWER[0]) and referral.plain_text.startswith(REFERRAL[0])
    [edit] = tg.edits
    assert edit.message_id == referral.message_id
    assert "also: hani · kmib" in edit.plain_text
    assert "3 source(s): hani, seoul, kmib" in await bot.command("/why")


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


CHAT_A, CHAT_B, CHAT_C = (Recipient(Platform.TELEGRAM, chat) for chat in ("-101", "-102", "-103"))


async def _seed_story_state(store: Store, now: float) -> tuple[dict[Recipient, int], list[int]]:
    """Three chats and three stories: A has story 1 alerted and story 2 with an edit pending, B's
    alert of story 1 failed, C has story 3, whose message was edited ten seconds ago."""
    story_ids = []
    for n in range(3):
        story_id, *_ = await store.stories.add_item(
            None,
            feed_name="hani",
            item_key=f"first-{n}",
            source="hani",
            title=f"story {n}",
            link=None,
            features={},
            topics=("ai",),
            now=now,
        )
        story_ids.append(story_id)
    one, two, three = story_ids
    async with store.db.transaction() as conn:
        refs = await store.chats.refs.ids(conn, (CHAT_A, CHAT_B, CHAT_C), now)
        seeded = [
            (CHAT_A, one, OutboxKind.ALERT, OutboxStatus.SENT),
            (CHAT_A, two, OutboxKind.ALERT, OutboxStatus.SENT),
            (CHAT_A, two, OutboxKind.EDIT, OutboxStatus.PENDING),
            (CHAT_B, one, OutboxKind.ALERT, OutboxStatus.FAILED),
            (CHAT_C, three, OutboxKind.ALERT, OutboxStatus.SENT),
        ]
        for n, (chat, story_id, kind, status) in enumerate(seeded):
            [row] = outbox_rows(
                [QueuedAlert(chat, f"seed-{n}", "{}", None, story_id)], refs, "hani", now
            )
            await conn.execute(
                store.db.insert(outbox).values(row | {"kind": kind, "status": status})
            )
    message = StoryMessage("7", CHAT_C.chat_id, False, "{}", None)
    await store.stories.remember_message(refs[CHAT_C], three, message, now - 100)
    await store.stories.mark_edited(refs[CHAT_C], three, now - 10, shown=1)
    return refs, story_ids


async def test_a_poll_turns_reports_of_stories_a_chat_has_into_edits_in_a_few_statements(
    store: Store,
) -> None:
    now = 1_000_000.0
    refs, (one, two, three) = await _seed_story_state(store, now)

    def report(chat: Recipient, story_id: int, key: str, merge: bool = True) -> QueuedAlert:
        return QueuedAlert(chat, key, "{}", None, story_id, merge)

    alerts = [
        report(CHAT_A, one, "a1-x"),  # A has story 1: an edit, due now
        report(CHAT_A, one, "a1-y"),  # ...which also carries this one
        report(CHAT_A, two, "a2"),  # the pending edit of story 2 carries it
        report(CHAT_B, one, "b1"),  # B's alert failed: B does not have the story
        report(CHAT_C, three, "c3"),  # an edit a minute after the last one
        report(CHAT_C, one, "c1"),  # C never had story 1
        report(CHAT_A, one, "a1-off", merge=False),  # a chat with stories off
    ]
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(store.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with store.db.transaction() as conn:
            still = await queue_story_alerts(store.db, conn, alerts, refs, "seoul", now)
    finally:
        event.remove(store.db.engine.sync_engine, "before_cursor_execute", count)

    assert [a.item_key for a in still] == ["b1", "c1", "a1-off"]
    async with store.db.reading() as conn:
        edits = (
            await conn.execute(
                select(outbox.c.chat_ref, outbox.c.story_id, outbox.c.item_key, outbox.c.not_before)
                .where(outbox.c.kind == OutboxKind.EDIT, outbox.c.feed_name == "seoul")
                .order_by(outbox.c.chat_ref)
            )
        ).all()
    assert [tuple(e) for e in edits] == [
        (refs[CHAT_A], one, "a1-x", now),
        (refs[CHAT_C], three, "c3", now - 10 + 60),
    ]
    assert len(statements) <= 3, statements

    # the edits went out; ten times the reports of the same stories: still a few statements
    async with store.db.transaction() as conn:
        await conn.execute(
            update(outbox).where(outbox.c.kind == OutboxKind.EDIT).values(status=OutboxStatus.SENT)
        )
    statements.clear()
    many = [
        report(chat, story_id, f"more-{n}-{chat.chat_id}-{story_id}")
        for n in range(10)
        for chat, story_id in ((CHAT_A, one), (CHAT_A, two), (CHAT_B, three), (CHAT_C, three))
    ]
    event.listen(store.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with store.db.transaction() as conn:
            still = await queue_story_alerts(store.db, conn, many, refs, "kmib", now + 1)
    finally:
        event.remove(store.db.engine.sync_engine, "before_cursor_execute", count)
    assert {a.recipient for a in still} == {CHAT_B}  # B never had story 3
    async with store.db.reading() as conn:
        edits = (
            await conn.execute(
                select(outbox.c.chat_ref, outbox.c.story_id, outbox.c.item_key)
                .where(outbox.c.kind == OutboxKind.EDIT, outbox.c.feed_name == "kmib")
                .order_by(outbox.c.chat_ref, outbox.c.story_id)
            )
        ).all()
    assert [tuple(e) for e in edits] == [
        (refs[CHAT_A], one, f"more-0-{CHAT_A.chat_id}-{one}"),
        (refs[CHAT_A], two, f"more-0-{CHAT_A.chat_id}-{two}"),
        (refs[CHAT_C], three, f"more-0-{CHAT_C.chat_id}-{three}"),
    ]
    assert len(statements) <= 3, statements


async def test_a_report_found_while_an_edit_goes_out_gets_an_edit_of_its_own(store: Store) -> None:
    """The edit going out read the story's sources before this report was filed: folding the
    report into it would leave its outlet out of the message for good."""
    now = 1_000_000.0
    refs, (_, two, _) = await _seed_story_state(store, now)
    async with store.db.transaction() as conn:  # A's pending edit of story 2 is being sent
        await conn.execute(
            update(outbox)
            .where(outbox.c.kind == OutboxKind.EDIT, outbox.c.story_id == two)
            .values(lease_until=now + 30)
        )
        alerts = [QueuedAlert(CHAT_A, "a2-late", "{}", None, two, True)]
        assert await queue_story_alerts(store.db, conn, alerts, refs, "seoul", now) == []
    async with store.db.reading() as conn:
        edits = (
            await conn.execute(
                select(outbox.c.item_key, outbox.c.not_before).where(
                    outbox.c.kind == OutboxKind.EDIT, outbox.c.feed_name == "seoul"
                )
            )
        ).all()
    assert [tuple(e) for e in edits] == [("a2-late", now + 60)], "due a minute after the other"
