"""Routing: one alert per recipient carrying every matching tag; mutes and keywords respected."""

from __future__ import annotations

from bot.classify import personal_rule
from bot.models import Classification, FeedItem, Platform, Reason, Recipient, Subscription, Tag
from bot.route import route

ITEM = FeedItem(key="k", guid="k", link="https://n/1", title="t", summary="")
AI = Tag("ai", (Reason("AI", "title"),))
PF = Tag("policy-finance", (Reason("정책금융", "summary"),))
CHIPS = Tag(personal_rule("반도체").topic, (Reason("반도체", "title"),))
ALICE = Recipient(Platform.TELEGRAM, "1")
GROUP = Recipient(Platform.TELEGRAM, "-100", "7")
TEAM = Recipient(Platform.SLACK, "C1")


def test_each_recipient_gets_one_alert_with_all_its_matching_tags() -> None:
    subs = [
        Subscription(ALICE, frozenset({"ai", "policy-finance"})),
        Subscription(GROUP, frozenset({"policy-finance"})),
        Subscription(TEAM, frozenset({"breaking"})),
    ]
    alerts = route(ITEM, Classification((AI, PF)), subs, now=0)
    assert [(a.recipient, [t.topic for t in a.tags]) for a in alerts] == [
        (ALICE, ["ai", "policy-finance"]),
        (GROUP, ["policy-finance"]),
    ]


def test_untagged_items_go_nowhere() -> None:
    assert route(ITEM, Classification(), [Subscription(ALICE, frozenset({"ai"}))], now=0) == []


def test_muted_chats_are_skipped_until_the_mute_ends() -> None:
    subs = [Subscription(ALICE, frozenset({"ai"}), muted_until=100.0)]
    assert route(ITEM, Classification((AI,)), subs, now=50) == []
    assert len(route(ITEM, Classification((AI,)), subs, now=150)) == 1


def test_personal_keywords_route_to_the_chat_that_set_them() -> None:
    subs = [
        Subscription(ALICE, keywords=frozenset({"반도체"})),
        Subscription(TEAM, keywords=frozenset({"배터리"})),
    ]
    alerts = route(ITEM, Classification((CHIPS,)), subs, now=0)
    assert [a.recipient for a in alerts] == [ALICE]
