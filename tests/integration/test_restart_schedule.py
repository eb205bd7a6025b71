"""After a restart the schedule the last polls stored still holds: Retry-After, error backoff and
the interval are not forgotten, and nothing due is skipped."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.exc import OperationalError

from bot import scheduling
from bot.models import PollStatus
from bot.poller import PollOutcome
from bot.scheduling import FeedScheduler
from bot.store import Store
from bot.store.records import FeedRecord, FeedSpec, PollRecord
from tests.helpers import eventually


def polled_with_next_poll_at(at: float) -> PollRecord:
    return PollRecord("active", None, None, None, 1, "HTTP 503", at, succeeded=False)


async def test_a_restart_keeps_each_feeds_next_poll(store: Store) -> None:
    now = time.time()
    for name, next_poll_at in (("backing-off", now + 3600), ("due", now - 5)):
        feed = await store.feeds.add(FeedSpec(name, f"https://n/{name}.xml", 60))
        assert feed is not None
        await store.polls.record(feed.id, polled_with_next_poll_at(next_poll_at), now - 10)
    polled: list[str] = []

    async def poll(feed: FeedRecord) -> PollOutcome:
        polled.append(feed.name)
        return PollOutcome(feed.name, PollStatus.UNCHANGED, next_delay=60)

    async def prune() -> None:
        return None

    scheduler = FeedScheduler(store.feeds, poll, prune)
    await scheduler.start()
    try:
        await eventually(lambda: "due" in polled, what="the feed that is due polled")
        backing_off = scheduler.next_run("backing-off")
        assert backing_off is not None and backing_off >= now + 3600 - 1
        assert "backing-off" not in polled
    finally:
        await scheduler.shutdown()


async def test_a_retention_pass_the_database_refuses_is_one_line_and_tried_again_soon(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    refused = OperationalError("DELETE FROM outbox", {}, ConnectionRefusedError(111, "refused"))
    tries: list[float] = []

    async def prune() -> None:
        tries.append(time.time())
        if len(tries) == 1:
            raise refused

    async def poll(feed: FeedRecord) -> PollOutcome:
        return PollOutcome(feed.name, PollStatus.UNCHANGED, next_delay=60)

    monkeypatch.setattr(scheduling, "PRUNE_RETRY_SECONDS", 0.5)
    # the first pass is due a minute after the start: a clock a minute behind makes it due now
    scheduler = FeedScheduler(store.feeds, poll, prune, clock=lambda: time.time() - 60.5)
    await scheduler.start()
    try:
        await eventually(lambda: len(tries) == 2, within=10, what="retention tried again")
    finally:
        await scheduler.shutdown()
    [line] = [r for r in caplog.records if r.name == "bot.scheduling"]
    assert line.getMessage() == (
        "retention: cannot prune now (ConnectionRefusedError); trying again in 0 minutes"
    )
    assert line.exc_info is None and "Traceback" not in caplog.text
