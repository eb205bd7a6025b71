"""Digest entries in the outbox, on SQLite and PostgreSQL: held rows are not handed out before their
digest, a due digest leases its chat's entries under one token, only the lease holder settles
them, and a digest cut into pages that fails half way sends the rest later, nothing twice."""

from __future__ import annotations

import io

from bot.channels.base import SentMessage, TransientFailure
from bot.channels.console import ConsoleChannel
from bot.delivery import Dispatcher
from bot.models import DigestPage, FeedItem, Platform, Recipient
from bot.store import connect
from tests.helpers import queue_item

ALICE = Recipient(Platform.TELEGRAM, "1")
BOB = Recipient(Platform.TELEGRAM, "2")


def item(key: str) -> FeedItem:
    return FeedItem(key=key, guid=key, link=f"https://n/{key}", title=f"title {key}", summary="")


async def test_held_rows_wait_for_triage_and_their_digest(database_url: str) -> None:
    store = await connect(database_url)
    try:
        await store.chats.set_delivery(ALICE, 0.0, "quiet", "23:00-07:00", holding=True)
        for key in "abc":
            await queue_item(store, item(key), [ALICE, BOB], now=1.0)
        claimed = await store.outbox.claim(Platform.TELEGRAM, 2.0)
        assert [entry.recipient for entry in claimed] == [BOB], "ALICE's rows await triage"

        ids = [
            row.id
            for row in await store.outbox.digests.untriaged(Platform.TELEGRAM, operator_holds=False)
        ]
        assert len(ids) == 3
        await store.outbox.digests.triage((row_id, 100.0) for row_id in ids)
        assert await store.outbox.digests.untriaged(Platform.TELEGRAM, operator_holds=False) == []
        assert (
            await store.outbox.claim(Platform.TELEGRAM, 99.0, exclude_chats=[claimed[0].chat_ref])
            == []
        )
        assert await store.outbox.next_due(Platform.TELEGRAM) == 1.0  # BOB's next alert
    finally:
        await store.close()


async def test_chats_that_chose_nothing_await_triage_only_when_the_operator_holds(
    database_url: str,
) -> None:
    store = await connect(database_url)
    digests = store.outbox.digests
    try:
        await store.chats.set_delivery(BOB, 0.0, "delivery", "", holding=False)
        await store.chats.set_delivery(
            BOB, 0.0, "quiet", "", holding=False
        )  # chose instant, no quiet
        for key in "ab":
            await queue_item(store, item(key), [ALICE, BOB], now=1.0)
        assert await digests.untriaged(Platform.TELEGRAM, operator_holds=False) == []
        held = await digests.untriaged(Platform.TELEGRAM, operator_holds=True)
        assert {row.recipient for row in held} == {ALICE}, "BOB's own choice wins"
        assert held[0].choices.delivery is None and held[0].choices.quiet is None

        claimed = await store.outbox.claim(Platform.TELEGRAM, 2.0, operator_holds=True)
        assert [entry.recipient for entry in claimed] == [BOB], "ALICE's rows await triage"
        await digests.triage((row.id, None) for row in held)  # the operator's mode: instant
        claimed = await store.outbox.claim(Platform.TELEGRAM, 2.0, operator_holds=True)
        assert [entry.recipient for entry in claimed] == [ALICE]
    finally:
        await store.close()


async def test_only_the_lease_holder_settles_a_digest(database_url: str) -> None:
    first, second = await connect(database_url), await connect(database_url)
    try:
        await first.chats.set_delivery(ALICE, 0.0, "delivery", "daily 08:00", holding=True)
        for key in "abc":
            await queue_item(first, item(key), [ALICE], now=1.0)
        rows = await first.outbox.digests.untriaged(Platform.TELEGRAM, operator_holds=False)
        await first.outbox.digests.triage((row.id, 100.0) for row in rows)

        (stale,) = await first.outbox.claim(Platform.TELEGRAM, 100.0, lease=30)
        assert stale.digest_at == 100.0
        stale_entries = await first.outbox.digests.entries(stale.chat_ref, stale.lease_token)
        assert len(stale_entries) == 3, "the claim leased the whole digest"
        assert await second.outbox.claim(Platform.TELEGRAM, 110.0, lease=30) == []

        (taken,) = await second.outbox.claim(Platform.TELEGRAM, 140.0, lease=30)
        taken_entries = await second.outbox.digests.entries(taken.chat_ref, taken.lease_token)
        assert [e.id for e in taken_entries] == [e.id for e in stale_entries]
        assert await first.outbox.digests.mark_sent(stale_entries, 141.0) == 0
        assert await second.outbox.digests.mark_sent(taken_entries, 142.0) == 3
        assert await first.outbox.counts() == {("telegram", "sent"): 3}
        assert await second.outbox.claim(Platform.TELEGRAM, 1000.0) == []
    finally:
        await first.close()
        await second.close()


class TwoPerPage(ConsoleChannel):
    """A console that takes two entries per digest page and fails the second page once."""

    platform = Platform.TELEGRAM

    def __init__(self) -> None:
        super().__init__(io.StringIO())
        self.pages: list[list[str]] = []
        self.failed = False

    def fits_digest(self, page: DigestPage) -> bool:
        return len(page.lines) <= 2

    async def send_digest(self, page: DigestPage) -> SentMessage:
        if len(self.pages) == 1 and not self.failed:
            self.failed = True
            raise TransientFailure("telegram: HTTP 502")
        self.pages.append([line.title for line in page.lines])
        return SentMessage(str(len(self.pages)))


async def test_a_digest_failing_half_way_sends_the_rest_later_and_nothing_twice(
    database_url: str,
) -> None:
    store = await connect(database_url)
    now = [0.0]
    try:
        await store.chats.set_delivery(ALICE, 0.0, "delivery", "hourly", holding=True)
        for n, key in enumerate("abcde"):
            await queue_item(store, item(key), [ALICE], now=60.0 + n)
        channel = TwoPerPage()
        dispatcher = Dispatcher(store.outbox, store.chats, channel, clock=lambda: now[0])

        now[0] = 3599.0
        await dispatcher.drain(wait_up_to=0)
        assert channel.pages == [], "the hourly digest is due at 01:00 UTC"

        now[0] = 3600.0
        await Dispatcher(store.outbox, store.chats, channel, clock=lambda: now[0]).drain(
            wait_up_to=0
        )
        assert channel.pages == [["title e", "title d"]]
        counts = await store.outbox.counts()
        assert counts == {("telegram", "sent"): 2, ("telegram", "pending"): 3}

        now[0] = 3700.0  # after the retry's backoff
        await Dispatcher(store.outbox, store.chats, channel, clock=lambda: now[0]).drain(
            wait_up_to=0
        )
        assert channel.pages == [["title e", "title d"], ["title c", "title b"], ["title a"]]
        assert await store.outbox.counts() == {("telegram", "sent"): 5}
    finally:
        await store.close()
