"""A poll's later reports of a story: for each chat that already has the story, an edit of its
message instead of a new alert; one pending edit per chat and story carries every source found
until it goes out, at most once a minute."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import OutboxKind, OutboxStatus, Recipient
from bot.store.engine import Database
from bot.store.records import QueuedAlert
from bot.store.schema import outbox, story_messages

EDIT_INTERVAL = 60.0
"""At most one edit per message per minute: sources found meanwhile ride on the next one."""
StoryChat = tuple[int, int]
"""(chat ref, story id): one chat's copy of one story."""
STORIES_PER_STATEMENT = 1000
"""Story ids bound per lookup (a poll has as many stories as new items at most)."""


async def queue_story_alerts(
    db: Database,
    conn: AsyncConnection,
    alerts: Sequence[QueuedAlert],
    refs: Mapping[Recipient, int],
    feed_name: str,
    now: float,
) -> list[QueuedAlert]:
    """Turn the alerts of stories a chat already has into edits of that chat's message.

    A chat has a story when an alert of it is queued or sent there. It then gets no new alert:
    one pending edit per chat and story carries every source found until it goes out, due a
    minute after the message was last edited. Returns the alerts still to queue as alerts.

    The whole poll is looked up at once, whatever its number of alerts: what the chats already
    have of these stories, when their messages were last edited, then one insert of the edits.
    """
    mergeable: dict[StoryChat, list[QueuedAlert]] = {}
    for alert in alerts:
        if alert.merge and alert.story_id is not None:
            key = (refs[alert.recipient], alert.story_id)
            mergeable.setdefault(key, []).append(alert)
    alerted, editing, in_flight = await _story_chat_state(conn, mergeable.keys(), now)
    still = [
        a
        for a in alerts
        if not a.merge or a.story_id is None or (refs[a.recipient], a.story_id) not in alerted
    ]
    wanted = {key: queue for key, queue in mergeable.items() if key in alerted - editing}
    edited = await _edited_at(conn, wanted.keys())
    while wanted:  # one round, unless an edit's item already had a row in that chat
        rows = [
            _edit_row(key, queue[0], feed_name, now, edited.get(key), key in in_flight)
            for key, queue in wanted.items()
        ]
        # one compiled statement, its rows sent in multi-row batches
        statement = db.insert(outbox).on_conflict_do_nothing()
        inserted = await conn.execute(
            statement.returning(outbox.c.chat_ref, outbox.c.story_id), rows
        )
        done = {(r.chat_ref, r.story_id) for r in inserted}
        # the next report of the poll stands in for one whose row was already there
        wanted = {k: q[1:] for k, q in wanted.items() if k not in done and len(q) > 1}
    return still


STORY_CHATS = (
    select(outbox.c.chat_ref, outbox.c.story_id, outbox.c.kind, outbox.c.status)
    .add_columns(outbox.c.lease_until)
    .where(
        outbox.c.story_id.in_(bindparam("b_stories", expanding=True)),
        outbox.c.status != OutboxStatus.FAILED,
    )
    .distinct()
)
"""The chats each of stories `b_stories` was queued or sent to, and how (by `ix_outbox_story`);
built once: a poll of new items runs it for each."""


async def _story_chat_state(
    conn: AsyncConnection, keys: Collection[StoryChat], now: float
) -> tuple[set[StoryChat], set[StoryChat], set[StoryChat]]:
    """Of `keys`: those with an alert queued or sent; those with an edit still to go, which will
    read the story's sources when it goes; and those with an edit going out now, which has read
    them already (a new source then needs an edit of its own, a minute later)."""
    alerted: set[StoryChat] = set()
    editing: set[StoryChat] = set()
    in_flight: set[StoryChat] = set()
    for story_ids in _story_chunks(keys):
        rows = await conn.execute(STORY_CHATS, {"b_stories": story_ids})
        for r in rows:
            key = (r.chat_ref, r.story_id)
            if key not in keys:
                continue
            if r.kind == OutboxKind.ALERT:
                alerted.add(key)
            elif r.kind == OutboxKind.EDIT and r.status == OutboxStatus.PENDING:
                leased = r.lease_until is not None and r.lease_until >= now
                (in_flight if leased else editing).add(key)
    return alerted, editing, in_flight - editing


async def _edited_at(conn: AsyncConnection, keys: Collection[StoryChat]) -> dict[StoryChat, float]:
    """When each chat's message of each story was last edited (absent: never)."""
    edited: dict[StoryChat, float] = {}
    for story_ids in _story_chunks(keys):
        rows = await conn.execute(
            select(
                story_messages.c.chat_ref, story_messages.c.story_id, story_messages.c.edited_at
            ).where(
                story_messages.c.story_id.in_(story_ids), story_messages.c.edited_at.is_not(None)
            )
        )
        edited.update(((r.chat_ref, r.story_id), r.edited_at) for r in rows)
    return edited


def _story_chunks(keys: Collection[StoryChat]) -> Iterator[list[int]]:
    """The distinct story ids of `keys`, STORIES_PER_STATEMENT at a time."""
    story_ids = sorted({story_id for _, story_id in keys})
    for start in range(0, len(story_ids), STORIES_PER_STATEMENT):
        yield story_ids[start : start + STORIES_PER_STATEMENT]


def _edit_row(
    key: StoryChat,
    alert: QueuedAlert,
    feed_name: str,
    now: float,
    edited: float | None,
    in_flight: bool,
) -> dict[str, Any]:
    """The outbox row of an edit adding `alert`'s source, due a minute after the last edit (or
    after the one going out now)."""
    chat_ref, story_id = key
    last = now if in_flight else (edited or 0.0)
    return {
        "chat_ref": chat_ref,
        "platform": alert.recipient.platform.value,
        "feed_name": feed_name,
        "item_key": alert.item_key,
        "payload": alert.payload,
        "not_before": max(now, last + EDIT_INTERVAL),
        "created_at": now,
        "published_at": alert.published_at,
        "kind": OutboxKind.EDIT,
        "story_id": story_id,
    }
