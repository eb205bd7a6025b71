"""Outbox draining for one platform: pacing, retries, per-chat order, and what each outcome means.

At-least-once: a row is marked sent only after the adapter returned, so a crash repeats at most the
sends in flight. Each chat has at most one alert in flight and they leave oldest first (the store
only hands out the head of a chat's queue). A 429 pauses that chat for the time the platform asked
and nothing else; a chat that is gone is deactivated; a moved chat is followed.

A send keeps its lease while it runs (renewed every third of the lease), and its outcome is
recorded only if the lease is still ours. An alert that cannot be decoded or rendered fails at once
with its reason, so its chat moves on. Pacing runs on a monotonic clock: a step of the wall clock
neither stalls sends nor lets a burst through; the wall clock only stamps rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import random
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from bot.channels.base import (
    Channel,
    Fatal,
    PermanentFailure,
    RateLimited,
    RecipientGone,
    RecipientMoved,
    SendError,
    SentMessage,
)
from bot.config import Config
from bot.delivery.digest import UNCONFIGURED, DigestDelivery
from bot.delivery.policy import Clock, DeliveryPolicy, DeliveryStats, Observer
from bot.models import (
    DeliveryOutcome,
    FeedItem,
    OutboxKind,
    Outgoing,
    Source,
    Tag,
)
from bot.render.also import other_sources
from bot.store.chats import ChatStore
from bot.store.codec import decode_alert
from bot.store.outbox import OutboxStore
from bot.store.records import OutboxEntry
from bot.store.stories import StoryMessage, StoryStore

log = logging.getLogger(__name__)


class Dispatcher(DigestDelivery):
    """Drains the outbox of one platform through its channel adapter (digests: `digest`)."""

    def __init__(
        self,
        outbox: OutboxStore,
        chats: ChatStore,
        channel: Channel,
        *,
        stories: StoryStore | None = None,
        clock: Clock = time.time,
        pace_clock: Clock = time.monotonic,
        policy: DeliveryPolicy = DeliveryPolicy(),
        observer: Observer | None = None,
        rng: random.Random | None = None,
        config: Callable[[], Config] = lambda: UNCONFIGURED,
    ) -> None:
        self.outbox = outbox
        self.chats = chats
        self.stories = stories
        """Where story messages are kept for later edits (None: alerts are never edited)."""
        self.channel = channel
        self.platform = channel.platform
        self.policy = policy
        self.stats = DeliveryStats()
        self._clock = clock
        """Wall time, for the rows (due times, leases, sent at)."""
        self._pace = pace_clock
        """Monotonic time, for pacing chats and the platform."""
        self._observer = observer
        self._config = config
        """The config in force: what the operator set for a chat (`defaults:`, its subscription)
        where it chose nothing itself."""
        self._rng = rng or random.Random()
        self._chat_ready: dict[int, float] = {}
        """Chat ref -> when (on the pace clock) it may be sent to again."""
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._next_global = 0.0
        self._global_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self.stopped_reason: str | None = None
        limit = policy.max_in_flight
        if channel.global_interval > 0:
            limit = min(limit, max(1, math.ceil(2 / channel.global_interval)))
        self._max_in_flight = limit

    def stop(self) -> None:
        """Finish the sends in flight, claim nothing more."""
        self.stopped_reason = self.stopped_reason or "stopping"
        self._wake.set()

    def resume(self) -> None:
        """Claim again after `stop` (this process is the sender once more); a channel that
        turned out unusable stays stopped."""
        if self.stopped_reason == "stopping":
            self.stopped_reason = None

    def wake(self) -> None:
        """New rows may be due: look now rather than at the next idle tick."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled (or until the channel turns out unusable)."""
        outage = 0
        try:
            while self.stopped_reason is None:
                try:
                    claimed = await self._round()
                except (SQLAlchemyError, OSError) as exc:
                    # the database went away (restart, network): wait, then carry on where
                    # the outbox says we are; nothing is lost, the rows are still there
                    outage += 1
                    wait = min(2.0**outage, 30.0)
                    log.warning(
                        "%s: store unavailable (%s), retrying in %.0fs",
                        self.platform,
                        type(exc).__name__,
                        wait,
                    )
                    await self._idle(wait)
                    continue
                outage = 0
                if not claimed:
                    await self._idle(self._until_ready(self.policy.idle_wait))
        finally:
            await self._shutdown()

    async def drain(self, *, wait_up_to: float = 30.0) -> None:
        """Deliver everything due now; also wait for retries and pacing due within `wait_up_to`."""
        deadline = self._pace() + wait_up_to
        try:
            while self.stopped_reason is None:
                claimed = await self._round()
                if claimed:
                    continue
                if self._in_flight:
                    await asyncio.wait(
                        list(self._in_flight.values()), return_when="FIRST_COMPLETED"
                    )
                    continue
                due = await self.outbox.next_due(self.platform)
                if due is None:
                    return
                now = self._pace()
                ready_at = [t for t in self._chat_ready.values() if t > now]
                wait = max(due - self._clock(), min(ready_at, default=now) - now, 0.01)
                if now + wait > deadline:
                    return
                await asyncio.sleep(min(wait, 1.0))
        finally:
            await self._shutdown()

    def _until_ready(self, longest: float) -> float:
        """Seconds until the next paced chat may send again, at most `longest`: a group paced at
        one message per 3 s must not wait for the next whole idle tick."""
        now = self._pace()
        soonest = min((t for t in self._chat_ready.values() if t > now), default=now + longest)
        return min(longest, soonest - now + 0.001)

    async def _idle(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def _round(self) -> int:
        free = self._max_in_flight - len(self._in_flight)
        if free <= 0:
            await asyncio.wait(list(self._in_flight.values()), return_when="FIRST_COMPLETED")
            return 1
        paced = self._pace()
        busy = set(self._in_flight) | {ref for ref, t in self._chat_ready.items() if t > paced}
        entries = await self._claim_due(free, busy)
        for entry in entries:
            task = asyncio.create_task(self._deliver(entry), name=f"send-{entry.id}")
            self._in_flight[entry.chat_ref] = task
            task.add_done_callback(functools.partial(self._finished, entry.chat_ref))
        return len(entries)

    def _finished(self, chat_ref: int, _task: asyncio.Task[None]) -> None:
        self._in_flight.pop(chat_ref, None)
        self._wake.set()  # its chat's next turn is now known: an idle run() must recompute

    async def _global_slot(self) -> None:
        if self.channel.global_interval <= 0:
            return
        async with self._global_lock:
            now = self._pace()
            start = max(now, self._next_global)
            self._next_global = start + self.channel.global_interval
        if start > now:
            await asyncio.sleep(start - now)

    async def _deliver(self, entry: OutboxEntry) -> None:
        renewing = asyncio.create_task(self._keep_lease(entry), name=f"lease-{entry.id}")
        try:
            await self._deliver_and_record(entry)
        except (SQLAlchemyError, OSError) as exc:
            # the outcome could not be recorded: the lease runs out and the row is sent again
            # (at-least-once), which beats losing it
            unrecorded = "%s: could not record the outcome of alert %d: %s"
            log.warning(unrecorded, self.platform, entry.id, type(exc).__name__)
        finally:
            renewing.cancel()

    async def _keep_lease(self, entry: OutboxEntry) -> None:
        """Renew the lease of a send in flight every third of the lease until it is done."""
        lease = self.policy.lease
        while True:
            await asyncio.sleep(lease / 3)
            try:
                renewed = await self.outbox.renew([entry], self._clock() + lease)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("%s: lease of alert %d not renewed: %s", self.platform, entry.id, exc)
                continue
            if not renewed:
                log.warning("%s: lease of alert %d was taken over", self.platform, entry.id)
                return

    async def _fail_now(self, entry: OutboxEntry, reason: str) -> None:
        """Give up on an alert that no retry can fix (it cannot be decoded or rendered)."""
        self.stats.failed += 1
        self._settled(entry, await self.outbox.mark_failed(entry, reason))
        self._notify(DeliveryOutcome.FAILED, entry, self._clock())
        log.warning("%s: alert %d failed: %s", self.platform, entry.id, reason)

    def _settled(self, entry: OutboxEntry, ours: bool) -> None:
        if not ours:
            taken = "%s: outcome of alert %d not recorded: its lease was taken over"
            log.warning(taken, self.platform, entry.id)

    async def _deliver_and_record(self, entry: OutboxEntry) -> None:
        if entry.kind is OutboxKind.EDIT or entry.digest_at is not None:
            is_edit = entry.kind is OutboxKind.EDIT
            await (self._edit_and_record if is_edit else self._deliver_digest)(entry)
            return
        try:
            item, tags = decode_alert(entry.payload)
        except Exception as exc:
            await self._fail_now(entry, f"undecodable alert: {type(exc).__name__}: {exc}")
            return
        try:
            await self._global_slot()
            sent = await self.channel.send(self._outgoing(entry, item, tags))
        except asyncio.CancelledError:
            raise
        except SendError as exc:
            await self._handle_failure(entry, exc)
            return
        except Exception as exc:
            # adapters turn every platform and network error into a SendError: anything else
            # is this alert failing to render, and would fail the same way on every retry
            log.exception("%s: cannot render or send alert %d", self.platform, entry.id)
            await self._fail_now(entry, f"cannot render: {type(exc).__name__}: {exc}")
            return
        now = self._clock()
        self._chat_ready[entry.chat_ref] = self._pace() + self.channel.chat_interval(
            entry.recipient
        )
        if entry.story_id is not None and self.stories is not None:
            message = StoryMessage(sent.message_id, sent.chat_id, sent.caption, entry.payload, None)
            await self.stories.remember_message(entry.chat_ref, entry.story_id, message, now)
        self._settled(entry, await self.outbox.mark_sent(entry, now))
        self.stats.sent += 1
        self._notify(DeliveryOutcome.SENT, entry, now)
        log.debug("%s: alert %d sent to %s", self.platform, entry.id, entry.recipient.chat_id)

    def _outgoing(
        self,
        entry: OutboxEntry,
        item: FeedItem,
        tags: tuple[Tag, ...],
        also: tuple[Source, ...] = (),
    ) -> Outgoing:
        """The alert as the chat wants it: its own choices, else the operator's."""
        shown = entry.choices.over(self._config().preferences(entry.recipient))
        return Outgoing(
            entry.recipient,
            item,
            tags,
            shown.timezone,
            also,
            shown.excerpt,
            shown.image,
            shown.preview,
        )

    async def _edit_and_record(self, entry: OutboxEntry) -> None:
        """Rewrite the chat's message for a story with every source found so far."""
        story = entry.story_id
        message = None
        if story is not None and self.stories is not None:
            message = await self.stories.message(entry.chat_ref, story)
        if story is None or message is None or self.stories is None:
            # its alert failed or went out before messages were kept: nothing to edit
            self._settled(entry, await self.outbox.mark_failed(entry, "no message to edit"))
            return
        try:
            item, tags = decode_alert(message.payload)
        except Exception as exc:
            await self._fail_now(entry, f"undecodable story message: {type(exc).__name__}: {exc}")
            return
        also = other_sources(await self.stories.sources(story), item)
        if len(also) <= message.shown_sources:
            # later reports from outlets it already names (or its own): the message would not
            # change, and Telegram refuses such an edit ("message is not modified")
            log.debug("%s: story %d: no other outlet to add", self.platform, story)
            self._settled(entry, await self.outbox.mark_sent(entry, self._clock()))
            return
        sent = SentMessage(message.message_id, message.message_chat, message.caption)
        try:
            await self._global_slot()
            await self.channel.edit(self._outgoing(entry, item, tags, also), sent)
        except asyncio.CancelledError:
            raise
        except PermanentFailure as exc:  # too old or gone: not worth retrying for hours
            log.info("%s: story %d not edited: %s", self.platform, story, exc.reason)
            self._settled(entry, await self.outbox.mark_failed(entry, exc.reason))
            return
        except SendError as exc:
            await self._handle_failure(entry, exc)
            return
        except Exception as exc:
            log.exception("%s: cannot render or edit story %d", self.platform, story)
            await self._fail_now(entry, f"cannot render: {type(exc).__name__}: {exc}")
            return
        now = self._clock()
        self._chat_ready[entry.chat_ref] = self._pace() + self.channel.chat_interval(
            entry.recipient
        )
        await self.stories.mark_edited(entry.chat_ref, story, now, len(also))
        self._settled(entry, await self.outbox.mark_sent(entry, now))
        self._notify(DeliveryOutcome.EDITED, entry, now)

    async def _handle_failure(self, entry: OutboxEntry, error: SendError) -> None:
        now = self._clock()
        paced = self._pace()
        chat = f"{self.platform} chat {entry.recipient.chat_id}"
        self._chat_ready[entry.chat_ref] = paced + self.channel.chat_interval(entry.recipient)
        if isinstance(error, RateLimited):
            self.stats.rate_limited += 1
            self._chat_ready[entry.chat_ref] = paced + error.retry_after
            ours = await self.outbox.retry_later(entry, now + error.retry_after, error.reason)
            self._settled(entry, ours)
            self._notify(DeliveryOutcome.RATE_LIMITED, entry, now)
            log.info("%s: rate limited, waiting %.1fs", chat, error.retry_after)
        elif isinstance(error, RecipientGone):
            self.stats.deactivated += 1
            await self.chats.deactivate(entry.chat_ref, error.reason)
            self._notify(DeliveryOutcome.GONE, entry, now)
            log.warning("%s: deactivated: %s", chat, error.reason)
        elif isinstance(error, RecipientMoved):
            await self.chats.move(entry.chat_ref, error.new_chat_id)
            # not ours when the move found the alert queued for the new chat already
            await self.outbox.retry_later(entry, now, error.reason)
            self._notify(DeliveryOutcome.MOVED, entry, now)
            log.info("%s: moved to %s", chat, error.new_chat_id)
        elif isinstance(error, Fatal):
            await self.outbox.release([entry])
            if self.stopped_reason is None:  # sends to other chats in flight meet it too
                log.error("%s: dispatcher stopped: %s", self.platform, error.reason)
            self.stopped_reason = error.reason
        elif isinstance(error, PermanentFailure) or entry.attempts >= self.policy.max_attempts:
            self.stats.failed += 1
            self._settled(entry, await self.outbox.mark_failed(entry, error.reason))
            self._notify(DeliveryOutcome.FAILED, entry, now)
            log.warning("%s: alert %d failed: %s", chat, entry.id, error.reason)
        else:
            self.stats.retried += 1
            delay = min(self.policy.backoff_base**entry.attempts, self.policy.backoff_cap)
            delay *= 1 + self._rng.uniform(0, 0.25)
            self._settled(entry, await self.outbox.retry_later(entry, now + delay, error.reason))
            self._notify(DeliveryOutcome.RETRY, entry, now)
            log.info("%s: alert %d retry in %.0fs: %s", chat, entry.id, delay, error.reason)

    def _notify(self, outcome: DeliveryOutcome, entry: OutboxEntry, now: float) -> None:
        if self._observer is not None:
            self._observer(outcome, entry, now)

    async def _shutdown(self) -> None:
        """Let sends in flight finish (a send is never cut in half), then stop."""
        tasks = list(self._in_flight.values())
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
