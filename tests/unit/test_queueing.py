"""An item's alerts as outbox rows: one payload per set of tags, and which rows may become edits
of a message the chat already has for the item's story."""

from __future__ import annotations

from bot.grouping import StoryAssignment
from bot.models import Alert, FeedItem, Platform, Reason, Recipient, Tag
from bot.queueing import queued_alerts
from bot.store.codec import decode_alert

ITEM = FeedItem(key="k", guid="k", link="https://n/k", title="[속보] AI 정책금융", summary="")
AI = (Tag("ai", (Reason("AI", "title"),), 2.0),)
BREAKING = (Tag("breaking", (Reason("[속보]", "title"),), 2.0),)
CHATS = [Recipient(Platform.TELEGRAM, str(n)) for n in range(6)]


def alerts(tags: tuple[Tag, ...], chats: list[Recipient]) -> list[Alert]:
    return [Alert(chat, ITEM, tuple(tags)) for chat in chats]


def test_chats_with_the_same_tags_share_one_payload() -> None:
    rows = queued_alerts(
        ITEM, alerts(AI, CHATS[:4]) + alerts(BREAKING, CHATS[4:]), None, {}, frozenset()
    )
    assert len({id(r.payload) for r in rows}) == 2
    assert [decode_alert(r.payload)[1] for r in rows] == [AI] * 4 + [BREAKING] * 2
    assert {r.story_id for r in rows} == {None} and not any(r.merge for r in rows)


def test_only_a_later_report_may_become_an_edit() -> None:
    first = StoryAssignment(7, frozenset({"ai"}), first=True)
    later = StoryAssignment(7, frozenset(), first=False)
    stories_off = {CHATS[1]: False}
    assert not any(
        r.merge for r in queued_alerts(ITEM, alerts(AI, CHATS[:2]), first, {}, frozenset())
    )
    rows = queued_alerts(ITEM, alerts(AI, CHATS[:2]), later, stories_off, frozenset())
    assert [r.merge for r in rows] == [True, False] and {r.story_id for r in rows} == {7}


def test_a_later_report_that_brings_breaking_alerts_again() -> None:
    brings = StoryAssignment(7, frozenset({"breaking"}), first=False)
    rows = queued_alerts(
        ITEM,
        alerts(BREAKING, CHATS[:1]) + alerts(AI, CHATS[1:2]),
        brings,
        {},
        frozenset({"breaking"}),
    )
    assert [r.merge for r in rows] == [False, True]
