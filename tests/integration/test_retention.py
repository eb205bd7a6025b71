"""Alerts that can never go out (their platform has no token here) are not kept forever: retention
drops them once they are older than the retention period, saying so; newer ones stay queued."""

from __future__ import annotations

import pytest

from bot.models import FeedItem, Platform, Recipient
from bot.store import Store
from tests.helpers import queue_item

NOBODY = Recipient(Platform.TELEGRAM, "-1001")


def item(key: str) -> FeedItem:
    return FeedItem(key=key, guid=key, title=f"AI {key}", link=f"https://n/{key}", summary="")


async def test_alerts_waiting_longer_than_retention_are_dropped_with_a_warning(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    await queue_item(store, item("old"), [NOBODY], now=10.0)
    await queue_item(store, item("new"), [NOBODY], now=200.0)

    await store.prune(before=100.0)

    assert await store.outbox.counts() == {("telegram", "pending"): 1}
    assert "retention: dropped 1 alert(s) that could not be sent" in caplog.text
