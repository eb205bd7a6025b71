"""The tables. Times are UTC epoch seconds (floats) so SQLite and PostgreSQL store them alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from bot.models import MAX_WORD

metadata = MetaData()


def _partial_index(name: str, *columns: Any, where: Any) -> Index:
    """An index of the rows matching `where` only, on PostgreSQL and SQLite alike."""
    return Index(name, *columns, postgresql_where=where, sqlite_where=where)


feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("origin", String(16), nullable=False, server_default="config"),
    Column("interval_s", Float, nullable=False),
    Column("backlog", Integer, nullable=False, server_default="0"),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("state", String(16), nullable=False, server_default="active"),
    Column("primed", Boolean, nullable=False, server_default="0"),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),
    Column("last_polled_at", Float),
    Column("last_success_at", Float),
    Column("next_poll_at", Float),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("failing_since", Float),
    Column("last_error", Text),
)

seen_items = Table(
    "seen_items",
    metadata,
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(512), primary_key=True),
    Column("first_seen_at", Float, nullable=False),
    Column("last_listed_at", Float, nullable=False),
)

chats = Table(
    "chats",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("thread_id", String(64), nullable=False, server_default=""),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("timezone", String(64), nullable=False, server_default=""),
    Column("muted_until", Float),
    Column("created_at", Float, nullable=False),
    Column("inactive_reason", Text),
    Column("stories", Boolean, nullable=False, server_default="1"),
    # the chat's /format choices; NULL leaves them to the operator's config
    Column("excerpt", String(16)),
    Column("image", Boolean),
    Column("preview", Boolean),
    # /mode and /quiet as typed (`daily 08:00`, `23:00-07:00 except breaking`); '' for instant or
    # none, NULL while the chat chose nothing (the operator's `defaults:` apply)
    Column("delivery", String(32)),
    Column("quiet", String(32)),
    Column("language", String(8)),  # /lang, or the language of the chat's first speaker
    UniqueConstraint("platform", "chat_id", "thread_id", name="uq_chats_recipient"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("chat_ref", Integer, ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    Column("topic", String(MAX_WORD), primary_key=True),
    Column("origin", String(16), nullable=False, server_default="user"),
)

keywords = Table(
    "keywords",
    metadata,
    Column("chat_ref", Integer, ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    Column("keyword", String(MAX_WORD), primary_key=True),
    Column("origin", String(16), nullable=False, server_default="user"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_ref", Integer, ForeignKey("chats.id", ondelete="CASCADE"), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("feed_name", String(64), nullable=False),
    Column("item_key", String(512), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("not_before", Float, nullable=False),
    Column("lease_until", Float),
    Column("lease_token", String(32)),
    Column("created_at", Float, nullable=False),
    Column("published_at", Float),
    Column("sent_at", Float),
    Column("last_error", Text),
    Column("kind", String(16), nullable=False, server_default="alert"),
    Column("story_id", Integer),
    # held for a digest: when it goes out with the chat's other held alerts (NULL: on its own);
    # a row of a chat with a digest mode or quiet hours waits until it is triaged (digest_at set)
    Column("digest_at", Float),
    Column("triaged", Boolean, nullable=False, server_default="0"),
    UniqueConstraint("chat_ref", "feed_name", "item_key", name="uq_outbox_alert"),
)

Index("ix_outbox_pending", outbox.c.platform, outbox.c.status, outbox.c.chat_ref, outbox.c.id)
# a claim walks a platform's pending rows in id order and checks each is its chat's head: both
# by index, so it stops once it has its heads and never reads a chat's sent history; whole-table
# indexes with the status inside, so that a planner whose statistics predate a broadcast never
# takes them for nearly empty to find one row by its id
Index("ix_outbox_due", outbox.c.platform, outbox.c.status, outbox.c.id)
Index("ix_outbox_chat_queue", outbox.c.chat_ref, outbox.c.status, outbox.c.id)
# rows held for a digest stay out of the claim's walk: it reads the rows that go alone, and finds
# the digests that are due by their time, however many stories wait for later digests
_ALONE = (outbox.c.status == "pending") & outbox.c.digest_at.is_(None)
_HELD = (outbox.c.status == "pending") & outbox.c.digest_at.is_not(None)
_partial_index("ix_outbox_due_alone", outbox.c.platform, outbox.c.id, where=_ALONE)
_partial_index("ix_outbox_digests_due", outbox.c.platform, outbox.c.digest_at, where=_HELD)
# which chats already have a story (a poll's later reports become edits there): by its id, not
# by reading every alert kept until retention
_STORIES = outbox.c.story_id.is_not(None)
_partial_index("ix_outbox_story", outbox.c.story_id, outbox.c.chat_ref, where=_STORIES)

stories = Table(
    "stories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("last_item_at", Float, nullable=False),
    # space-separated topics any of its items was tagged with
    Column("topics", Text, nullable=False, server_default=""),
    # the story it was joined into (its items, messages and alerts went there); no foreign key:
    # both expire by their last item, and the joined one's is never the later
    Column("joined_into", Integer),
)

story_items = Table(
    "story_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("story_id", Integer, ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    Column("feed_name", String(64), nullable=False),
    Column("item_key", String(512), nullable=False),
    Column("source", String(128), nullable=False, server_default=""),
    Column("title", Text, nullable=False, server_default=""),
    Column("link", Text),
    Column("features", Text, nullable=False),
    Column("added_at", Float, nullable=False),
    UniqueConstraint("feed_name", "item_key", name="uq_story_items_item"),
)

Index("ix_story_items_story", story_items.c.story_id, story_items.c.id)

story_messages = Table(
    "story_messages",
    metadata,
    Column("chat_ref", Integer, ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    Column("story_id", Integer, ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True),
    Column("message_id", String(128), nullable=False),
    Column("message_chat", String(64), nullable=False, server_default=""),
    Column("caption", Boolean, nullable=False, server_default="0"),
    Column("payload", Text, nullable=False),
    Column("sent_at", Float, nullable=False),
    Column("edited_at", Float),
    Column("shown_sources", Integer, nullable=False, server_default="0"),
    # how many other outlets the message names: an edit that would name no more is not sent
)

websub_subscriptions = Table(
    "websub_subscriptions",
    metadata,
    Column("id", Integer, primary_key=True),
    # NULL once the feed row is deleted: the subscription is then cancelled at its hub
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="SET NULL"), unique=True),
    Column("hub", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("callback_token", String(64), nullable=False, unique=True),
    Column("secret", String(128), nullable=False),
    Column("state", String(16), nullable=False),
    Column("pending_mode", String(16)),
    Column("requested_at", Float),
    Column("lease_seconds", Float),
    Column("lease_expires_at", Float),
    Column("next_action_at", Float, nullable=False),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("signature_algorithm", String(16)),
    Column("last_push_at", Float),
)
