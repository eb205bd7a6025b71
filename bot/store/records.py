"""The rows the store hands out and takes in, as immutable values (no SQL here)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.models import Choices, FeedCondition, FeedState, OutboxKind, Recipient


@dataclass(frozen=True, slots=True)
class FeedRecord:
    """A feed as stored, with its HTTP validators and poll state."""

    id: int
    name: str
    url: str
    origin: str
    interval_s: float
    backlog: int
    enabled: bool
    state: FeedState
    primed: bool
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    last_polled_at: float | None
    last_success_at: float | None
    next_poll_at: float | None
    failures: int
    failing_since: float | None
    last_error: str | None

    @property
    def condition(self) -> FeedCondition:
        """What to call the feed: ok, failing (its last poll failed), disabled (410 Gone) or
        removed (no longer in the config)."""
        if not self.enabled:
            return FeedCondition.REMOVED
        if self.state is FeedState.DISABLED:
            return FeedCondition.DISABLED
        if self.failures or self.state is FeedState.FAILING:
            return FeedCondition.FAILING
        return FeedCondition.OK

    @property
    def pollable(self) -> bool:
        """Whether the scheduler should poll it: enabled and not gone (410)."""
        return self.enabled and self.state is not FeedState.DISABLED


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """A feed the operator declared (or an admin added): what to sync into the store."""

    name: str
    url: str
    interval_s: float
    backlog: int = 0
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class PollRecord:
    """What one poll changes on its feed row."""

    state: FeedState
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    failures: int
    last_error: str | None
    next_poll_at: float | None
    succeeded: bool
    url: str | None = None
    """New URL after a permanent redirect."""
    failing_since: float | None = None
    """When the current run of failures began (None after a success)."""


@dataclass(frozen=True, slots=True)
class QueuedAlert:
    """An alert to write to the outbox: who gets which item (payload from `codec.encode_alert`)."""

    recipient: Recipient
    item_key: str
    payload: str
    published_at: float | None
    story_id: int | None = None
    merge: bool = False
    """When the chat already has the story: edit its message to add this source, don't alert."""


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A claimed outbox row: one alert to send now."""

    id: int
    chat_ref: int
    recipient: Recipient
    payload: str
    attempts: int
    created_at: float
    published_at: float | None
    choices: Choices
    """The chat's own timezone and `/format` choices."""
    kind: OutboxKind = OutboxKind.ALERT
    story_id: int | None = None
    lease_token: str = ""
    """Written by the claim: outcomes are recorded only while the row still carries it."""
    digest_at: float | None = None
    """Set when the row goes out in a digest: the claim leased its chat's other due entries
    under the same token."""


@dataclass(frozen=True, slots=True)
class ChatRecord:
    """A chat as stored: whether it still accepts alerts, its timezone and format, its mute."""

    id: int
    recipient: Recipient
    active: bool
    choices: Choices
    muted_until: float | None
    stories: bool = True
