"""The story tracker with many polls at once, on SQLite and PostgreSQL: reports of one event filed
concurrently join one story; a story whose first report cannot be stored takes the reports waiting
for it down with it and is forgotten; a new tracker (a restart) picks the stories up from the store.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot import grouping
from bot.grouping import StoryTracker
from bot.models import FeedItem, Platform, Recipient
from bot.store import Store
from bot.store.stories import StoryMessage
from tests.unit.test_stories_join import ANSWER, BOTH, REFERRAL

NOW = 1_700_000_000.0
WINDOW = 36 * 3600.0
HEADLINES = {
    "hani": "산업부, AI 반도체에 3조5000억원 정책금융 지원",
    "seoul": '산업부 "AI 반도체에 정책금융 3조5000억원 지원"',
    "kmib": "AI 반도체 정책금융 3조5000억원…산업부 지원 발표",
}
LEAD = "산업통상자원부는 2일 인공지능(AI) 반도체 기업에 3조5000억원 규모의 정책금융을 공급한다."


COLD_SNAP = FeedItem(
    key="x-1", guid=None, link="https://x.example/1", title="서울 아침 최저 영하 12도 한파",
    summary="기상청은 3일 서울 아침 기온이 영하 12도까지 내려간다고 예보했다.", source="x",
)  # fmt: skip
"""Another event."""


def report(feed: str) -> FeedItem:
    return FeedItem(
        key=f"{feed}-1", guid=None, link=f"https://{feed}.example/1", title=HEADLINES[feed],
        summary=LEAD, source=feed,
    )  # fmt: skip


async def assign(tracker: StoryTracker, feed: str, at: float = NOW) -> Any:
    return await tracker.assign(report(feed), feed, ["ai"], at)


async def test_reports_filed_at_once_join_one_story(store: Store) -> None:
    tracker = StoryTracker(store.stories, WINDOW)
    assigned = await asyncio.gather(*(assign(tracker, feed) for feed in HEADLINES))
    assert len({a.story_id for a in assigned}) == 1
    assert sorted(a.first for a in assigned) == [False, False, True]
    assert len(await store.stories.sources(assigned[0].story_id)) == 3


async def test_a_story_that_cannot_be_stored_fails_its_waiting_reports_and_is_forgotten(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = StoryTracker(store.stories, WINDOW)
    stored = store.stories.add_item
    refused = OperationalError("INSERT", {}, Exception("disk I/O error"))

    async def refuse_a_new_story(story_id: int | None, **fields: Any) -> Any:
        await asyncio.sleep(0.05)  # the second report matches the story meanwhile
        if story_id is None:
            raise refused
        return await stored(story_id, **fields)

    monkeypatch.setattr(store.stories, "add_item", refuse_a_new_story)
    first, second = await asyncio.gather(
        assign(tracker, "hani"), assign(tracker, "seoul"), return_exceptions=True
    )
    assert first is refused and second is refused
    monkeypatch.setattr(store.stories, "add_item", stored)
    again = await assign(tracker, "seoul")
    assert again.first, "the story that failed is not in the index any more"
    assert not (await assign(tracker, "kmib")).first


async def test_a_new_tracker_groups_with_the_stories_in_the_store(store: Store) -> None:
    first = await assign(StoryTracker(store.stories, WINDOW), "hani")
    restarted = StoryTracker(store.stories, WINDOW)
    later = await assign(restarted, "seoul", NOW + 60)
    assert later.story_id == first.story_id and not later.first


async def test_a_slow_store_write_holds_up_no_other_story(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = StoryTracker(store.stories, WINDOW)
    stored = store.stories.add_item
    release = asyncio.Event()

    async def slow_for_hani(story_id: int | None, **fields: Any) -> Any:
        if fields["feed_name"] == "hani":
            await release.wait()
        return await stored(story_id, **fields)

    monkeypatch.setattr(store.stories, "add_item", slow_for_hani)
    held = asyncio.create_task(assign(tracker, "hani"))
    unrelated = await asyncio.wait_for(tracker.assign(COLD_SNAP, "x", ["weather"], NOW), 10)
    assert unrelated.first and not held.done()
    release.set()
    assert (await held).first


async def test_reports_another_process_filed_are_taken_in(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, there = StoryTracker(store.stories, WINDOW), StoryTracker(store.stories, WINDOW)
    await here.assign(COLD_SNAP, "x", ["weather"], NOW)  # its first read of the store
    first = await assign(there, "hani")
    monkeypatch.setattr(grouping, "CATCH_UP_SECONDS", 0.0)
    later = await assign(here, "seoul")
    assert later.story_id == first.story_id and not later.first


async def test_one_article_in_two_feeds_of_two_processes_is_one_story_at_once(
    store: Store,
) -> None:
    """Two feeds carrying one article, polled by two processes within the half second before
    either reads what the other filed: the second joins the first's story by its link."""
    here, there = StoryTracker(store.stories, WINDOW), StoryTracker(store.stories, WINDOW)
    await here.assign(COLD_SNAP, "x", ["weather"], NOW)  # its read of the store is fresh now
    first = await there.assign(report("hani"), "hani-economy", ["ai"], NOW)
    article = dataclasses.replace(report("hani"), key="hani-1-again")
    again = await here.assign(article, "hani-all", ["ai", "breaking"], NOW + 0.2)
    assert (again.story_id, again.first) == (first.story_id, False)
    assert again.new_topics == {"breaking"}
    other = dataclasses.replace(
        report("hani"), key="y-1", link="https://y.example/1", title="부산 해수욕장 7곳 개장",
        summary="부산시는 해운대 등 해수욕장 7곳이 1일 문을 열었다고 밝혔다.", source="y",
    )  # fmt: skip
    assert (await there.assign(other, "y", ["weather"], NOW + 0.3)).first, "another link"


async def test_after_a_restart_reports_filed_at_once_wait_for_the_stored_stories(
    store: Store,
) -> None:
    first = await assign(StoryTracker(store.stories, WINDOW), "hani")
    restarted = StoryTracker(store.stories, WINDOW)
    later = await asyncio.gather(
        assign(restarted, "seoul", NOW + 60), assign(restarted, "kmib", NOW + 60)
    )
    assert [(a.story_id, a.first) for a in later] == [(first.story_id, False)] * 2


def _item(feed: str, title: str, summary: str) -> FeedItem:
    return FeedItem(
        key=f"{feed}-j", guid=None, link=f"https://{feed}.example/j", title=title,
        summary=summary, source=feed,
    )  # fmt: skip


async def test_a_report_of_two_stories_joins_them_for_every_process(store: Store) -> None:
    """Two reports too unlike to be paired, then a third that reports both: one story, whose
    sources are all three; another process that knew the first story on its own files its next
    report of it in the joined story."""
    here, there = StoryTracker(store.stories, WINDOW), StoryTracker(store.stories, WINDOW)
    answer = await here.assign(_item("hani", *ANSWER), "hani", ["politics"], NOW)
    referral = await here.assign(_item("seoul", *REFERRAL), "seoul", ["politics"], NOW + 1)
    assert answer.story_id != referral.story_id
    await there.assign(COLD_SNAP, "x", ["weather"], NOW + 2)  # it knows both stories apart

    both = await here.assign(_item("kmib", *BOTH), "kmib", ["politics", "breaking"], NOW + 3)
    assert both.story_id == referral.story_id and not both.first
    sources = await store.stories.sources(both.story_id)
    assert [source.name for source in sources] == ["hani", "seoul", "kmib"]

    answer_again = _item("donga", ANSWER[0], "")
    later = await there.assign(answer_again, "donga", ["politics"], NOW + 4)
    assert later.story_id == both.story_id and not later.first
    assert later.new_topics == set(), "the joined story has every topic of its reports"


async def _refs(store: Store, *chat_ids: str) -> list[int]:
    chats = [Recipient(Platform.TELEGRAM, chat) for chat in chat_ids]
    async with store.db.transaction() as conn:
        refs = await store.chats.refs.ids(conn, chats, NOW)
    return [refs[chat] for chat in chats]


async def test_a_join_moves_each_chats_message_unless_the_chat_has_one_of_both(
    store: Store,
) -> None:
    first_chat, second_chat = await _refs(store, "-101", "-102")
    tracker = StoryTracker(store.stories, WINDOW)
    answer = await tracker.assign(_item("hani", *ANSWER), "hani", ["politics"], NOW)
    referral = await tracker.assign(_item("seoul", *REFERRAL), "seoul", ["politics"], NOW + 1)
    for chat, story, message_id in (
        (first_chat, answer.story_id, "11"),
        (second_chat, answer.story_id, "21"),
        (second_chat, referral.story_id, "22"),
    ):
        message = StoryMessage(message_id, "", caption=False, payload="{}", edited_at=None)
        await store.stories.remember_message(chat, story, message, NOW + 2)

    both = await tracker.assign(_item("kmib", *BOTH), "kmib", ["politics"], NOW + 3)
    assert both.story_id == referral.story_id
    moved = await store.stories.message(first_chat, both.story_id)
    kept = await store.stories.message(second_chat, both.story_id)
    assert moved is not None and moved.message_id == "11", "its only message, edited from now on"
    assert kept is not None and kept.message_id == "22"
    through_old_id = await store.stories.message(first_chat, answer.story_id)
    assert through_old_id == moved, "an edit claimed before the join finds the message"

    # an alert of the joined story that was on its way: its message is the joined story's
    third_chat = (await _refs(store, "-103"))[0]
    message = StoryMessage("31", "", caption=False, payload="{}", edited_at=None)
    await store.stories.remember_message(third_chat, answer.story_id, message, NOW + 4)
    assert await store.stories.message(third_chat, both.story_id) == message
