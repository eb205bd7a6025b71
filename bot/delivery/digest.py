"""Digests out: which new alerts of a chat wait for a digest, and the delivery of a due digest.

Triage: a chat with a delivery mode (`/mode daily 08:00`) or quiet hours, its own or the
operator's where it chose nothing, has each new outbox row given its digest time
(`bot.digest_times.hold_until`) in the chat's timezone before any process may claim it; an
instant chat's rows go out on their own as before.

Delivery: the claim of a due digest leases every held entry of its chat under one token. They go
out as one message, or as several pages when the platform's limits ask for it (cut between two
entries), and each page's entries are marked sent in one transaction once the platform accepted
that page, only while the lease is still ours. A crash repeats at most the page in flight; an
entry is never left out and never sent in two digests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from bot.channels.base import Channel, PermanentFailure, SendError
from bot.config import Config
from bot.delivery.policy import Clock, DeliveryPolicy, DeliveryStats
from bot.digest_times import hold_until, stored_mode, stored_quiet
from bot.i18n import _, ngettext, speaking
from bot.models import DeliveryOutcome, DigestLine, FeedItem, OutboxKind, Platform, Tag
from bot.render.also import other_sources
from bot.render.digest import paginate
from bot.store.codec import decode_alert
from bot.store.digests import DigestEntry, Untriaged
from bot.store.outbox import OutboxStore
from bot.store.records import OutboxEntry
from bot.store.stories import StoryStore
from bot.text.plain import local_time

log = logging.getLogger(__name__)
UNCONFIGURED = Config(version=1)
"""The config of a dispatcher given none: every chat gets the defaults."""


def digest_heading(count: int, due: float, timezone: str) -> str:
    """`Digest · 3 stories · 2026-03-02 08:00 KST`, in the language spoken here."""
    stories = ngettext("{count} story", "{count} stories", count).format(count=count)
    when = local_time(datetime.fromtimestamp(due, UTC), timezone)
    return _("Digest · {stories} · {time}").format(stories=stories, time=when)


class DigestDelivery:
    """The dispatcher's digest half. Declared here, set by `Dispatcher.__init__`."""

    outbox: OutboxStore
    channel: Channel
    platform: Platform
    policy: DeliveryPolicy
    stats: DeliveryStats
    _clock: Clock
    _pace: Clock
    _chat_ready: dict[int, float]
    _config: Callable[[], Config]
    stories: StoryStore | None

    async def _global_slot(self) -> None:
        raise NotImplementedError

    async def _handle_failure(self, entry: OutboxEntry, error: SendError) -> None:
        raise NotImplementedError

    def _notify(self, outcome: DeliveryOutcome, entry: OutboxEntry, now: float) -> None:
        raise NotImplementedError

    async def _claim_due(self, limit: int, busy: set[int]) -> list[OutboxEntry]:
        """Triage the new rows of chats that hold alerts, then claim what is due."""
        operator_holds = self._config().holds_alerts
        digests = self.outbox.digests
        rows = await digests.untriaged(self.platform, operator_holds=operator_holds)
        if rows:
            await digests.triage((row.id, self._hold(row)) for row in rows)
        return await self.outbox.claim(
            self.platform,
            self._clock(),
            limit=limit,
            lease=self.policy.lease,
            exclude_chats=busy,
            operator_holds=operator_holds,
        )

    def _hold(self, row: Untriaged) -> float | None:
        if row.kind is not OutboxKind.ALERT:
            return None  # an edit of a message sent on its own: never part of a digest
        shown = row.choices.over(self._config().preferences(row.recipient))
        try:
            _item, tags = decode_alert(row.payload)
        except Exception:
            tags = ()  # it fails on its own when it is sent
        topics = tuple(tag.topic for tag in tags)
        try:
            mode, quiet = stored_mode(shown.delivery), stored_quiet(shown.quiet)
        except ValueError:  # written by a newer version: hold nothing rather than everything
            log.warning("%s chat %s: unreadable delivery mode", self.platform, row.recipient)
            return None
        return hold_until(mode, quiet, row.created_at, shown.timezone, topics)

    async def _deliver_digest(self, head: OutboxEntry) -> None:
        """Send the digest whose claim leased `head` and its chat's other due entries."""
        digests = self.outbox.digests
        entries = await digests.entries(head.chat_ref, head.lease_token)
        shown = head.choices.over(self._config().preferences(head.recipient))
        with speaking(shown.language):
            untitled = _("(untitled)")
        decoded: list[tuple[DigestEntry, FeedItem, tuple[Tag, ...]]] = []
        broken: list[DigestEntry] = []
        for entry in entries:
            try:
                decoded.append((entry, *decode_alert(entry.payload)))
            except Exception:
                broken.append(entry)
        # later reports of a story held here are named on its line (they cannot edit a message
        # that is not sent yet)
        stories = {entry.story_id for entry, _, _ in decoded if entry.story_id is not None}
        sources = await self.stories.sources_of(stories) if self.stories and stories else {}
        lines: list[DigestLine] = []
        # the entries each line stands for: its own, and its story's others held here (a
        # breaking re-alert of a story is one line with it, not a second)
        carried: dict[int, list[DigestEntry]] = {}
        line_of_story: dict[int, int] = {}
        for entry, item, tags in decoded:
            if entry.story_id is not None and entry.story_id in line_of_story:
                carried[line_of_story[entry.story_id]].append(entry)
                continue
            published = item.published.timestamp() if item.published else entry.created_at
            topic = tags[0].topic if tags else ""
            title = item.title or untitled
            also = other_sources(sources.get(entry.story_id or 0, []), item)
            line = DigestLine(entry.id, topic, title, item.link, item.source, published, also)
            lines.append(line)
            carried[entry.id] = [entry]
            if entry.story_id is not None:
                line_of_story[entry.story_id] = entry.id
        if broken:
            self.stats.failed += len(broken)
            await digests.mark_failed(broken, "undecodable alert")
        if not lines:
            return
        with speaking(shown.language):
            heading = digest_heading(len(lines), head.digest_at or self._clock(), shown.timezone)
        pages = paginate(
            head.recipient, heading, lines, self.channel.fits_digest, preview=shown.preview
        )
        renewing = asyncio.create_task(self._keep_digest_lease(entries))
        try:
            for number, page in enumerate(pages):
                page_entries = [entry for line in page.lines for entry in carried[line.row_id]]
                # the pages of one digest keep the chat's pace like any two messages
                await asyncio.sleep(
                    max(0.0, self._chat_ready.get(head.chat_ref, 0.0) - self._pace())
                )
                try:
                    await self._global_slot()
                    await self.channel.send_digest(page)
                except PermanentFailure as exc:
                    self.stats.failed += len(page_entries)
                    await digests.mark_failed(page_entries, exc.reason)
                    self._notify(DeliveryOutcome.FAILED, head, self._clock())
                    log.warning("%s: digest page refused: %s", self.platform, exc.reason)
                    continue
                except SendError as exc:
                    unsent = sorted(
                        (
                            e
                            for later in pages[number:]
                            for line in later.lines
                            for e in carried[line.row_id]
                        ),
                        key=lambda entry: entry.id,
                    )
                    await digests.release(unsent[1:])
                    # the oldest unsent entry carries the outcome (wait, retry, chat gone ...);
                    # the others, released, wait behind it in their chat's queue
                    await self._handle_failure(dataclasses.replace(head, id=unsent[0].id), exc)
                    return
                now = self._clock()
                self._chat_ready[head.chat_ref] = self._pace() + self.channel.chat_interval(
                    head.recipient
                )
                if await digests.mark_sent(page_entries, now) < len(page_entries):
                    log.warning("%s: digest entries were taken over mid-send", self.platform)
                self.stats.sent += len(page_entries)
                self._notify(DeliveryOutcome.SENT, head, now)
        finally:
            renewing.cancel()

    async def _keep_digest_lease(self, entries: list[DigestEntry]) -> None:
        """Renew the leases of a digest's entries every third of the lease until it is sent."""
        lease = self.policy.lease
        while True:
            await asyncio.sleep(lease / 3)
            try:
                await self.outbox.digests.renew(entries, self._clock() + lease)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("%s: digest lease not renewed: %s", self.platform, exc)
