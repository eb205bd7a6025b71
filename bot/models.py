"""The domain values handed from one pipeline step to the next; all immutable."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Platform(StrEnum):
    """A chat platform the bot can deliver to."""

    TELEGRAM = "telegram"
    SLACK = "slack"
    CONSOLE = "console"


MAX_WORD = 128
"""The longest topic id or keyword the store keeps for a chat (its column width)."""


class FeedState(StrEnum):
    """What the poller last decided about a feed (stored on its row)."""

    ACTIVE = "active"
    FAILING = "failing"
    """Failing for a day or longer: admins have been told."""
    DISABLED = "disabled"
    """The server answered 410 Gone: no more polls."""


class FeedCondition(StrEnum):
    """What `status`, `/feeds`, `/healthz` and the metrics call a feed."""

    OK = "ok"
    FAILING = "failing"
    """Its last poll failed."""
    DISABLED = "disabled"
    REMOVED = "removed"
    """No longer in the config."""


class PollStatus(StrEnum):
    """How one poll of one feed ended."""

    NEW = "new"
    PRIMED = "primed"
    UNCHANGED = "unchanged"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"
    DISABLED = "disabled"
    ABORTED = "aborted"
    """The poll raised (the store was down, the parser crashed): nothing was recorded."""


class OutboxStatus(StrEnum):
    """Where an outbox row stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class DeliveryOutcome(StrEnum):
    """What one send attempt came to (for metrics)."""

    SENT = "sent"
    EDITED = "edited"
    """A story's message was rewritten with more sources."""
    RATE_LIMITED = "rate_limited"
    GONE = "gone"
    MOVED = "moved"
    FAILED = "failed"
    RETRY = "retry"


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed, reduced to what classifying and rendering need."""

    key: str
    """Feed-scoped dedupe key: the entry's id, else its link, else a hash of title and content."""
    guid: str | None
    """The entry's own id (RSS guid, Atom id) as the feed gives it."""
    link: str | None
    title: str
    summary: str
    """Plain text of the entry's description, markup removed."""
    content: str = ""
    """Plain text of the entry's full body when the feed carries one apart from the summary."""
    published: datetime | None = None
    image: str | None = None
    image_alt: str = ""
    """Alt text of the leading image: some outlets put their "breaking" marker only there."""
    categories: tuple[str, ...] = ()
    source: str = ""
    """Name of the feed the item came from."""


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a tag fired: which keyword, found in which field of the item."""

    keyword: str
    field: str


@dataclass(frozen=True, slots=True)
class Veto:
    """A keyword hit that an exclusion phrase cancelled."""

    keyword: str
    exclusion: str
    field: str


@dataclass(frozen=True, slots=True)
class Tag:
    """A topic an item was tagged with, and the hits that earned it."""

    topic: str
    reasons: tuple[Reason, ...]
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class Classification:
    """Every tag of one item, plus the hits that exclusions vetoed (shown by `/why`)."""

    tags: tuple[Tag, ...] = ()
    vetoes: tuple[Veto, ...] = ()

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(tag.topic for tag in self.tags)


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where an alert goes: a chat on a platform, optionally one thread (forum topic) of it."""

    platform: Platform
    chat_id: str
    thread_id: str = ""


@dataclass(frozen=True, slots=True)
class Subscription:
    """A chat's interest: the topics and personal keywords it asked for."""

    recipient: Recipient
    topics: frozenset[str] = frozenset()
    keywords: frozenset[str] = frozenset()
    muted_until: float | None = None
    """Epoch seconds until which the chat wants no alerts."""
    stories: bool = True
    """Whether a later report of a story this chat already has edits that alert (else alerts)."""


class ExcerptLength(StrEnum):
    """How much of an item's text an alert shows (`/format`)."""

    FULL = "full"
    """A few sentences."""
    COMPACT = "compact"
    """About two sentences."""
    TITLE = "title"
    """None: headline, source and link only."""


@dataclass(frozen=True, slots=True)
class Preferences:
    """How a chat sees its alerts and the times the bot shows, every choice settled."""

    timezone: str = "UTC"
    excerpt: ExcerptLength = ExcerptLength.FULL
    image: bool = True
    """Telegram sends a photo with a caption, Slack shows the image beside the excerpt."""
    preview: bool = False
    """Telegram's link preview, Slack's unfurl of the link."""
    language: str = "en"
    """The language of the bot's own words (`/lang`): `en` or `ko`."""
    delivery: str = ""
    """The delivery mode (`/mode`) as typed, `daily 08:00`; empty: instant."""
    quiet: str = ""
    """Quiet hours (`/quiet`) as typed, `23:00-07:00 except breaking`; empty: none."""


@dataclass(frozen=True, slots=True)
class Choices:
    """What a chat (`/timezone`, `/format`) or the operator's subscription chose; None leaves
    the choice to the next level down."""

    timezone: str | None = None
    excerpt: ExcerptLength | None = None
    image: bool | None = None
    preview: bool | None = None
    language: str | None = None
    delivery: str | None = None
    """'' when the chat chose instant alerts, unlike None (chose nothing)."""
    quiet: str | None = None
    """'' when the chat turned quiet hours off, unlike None (chose nothing)."""

    def over(self, defaults: Preferences) -> Preferences:
        """`defaults` with every choice made here put in its place."""
        return Preferences(
            timezone=self.timezone or defaults.timezone,
            excerpt=self.excerpt or defaults.excerpt,
            image=defaults.image if self.image is None else self.image,
            preview=defaults.preview if self.preview is None else self.preview,
            language=self.language or defaults.language,
            delivery=defaults.delivery if self.delivery is None else self.delivery,
            quiet=defaults.quiet if self.quiet is None else self.quiet,
        )


@dataclass(frozen=True, slots=True)
class Alert:
    """One item due to one recipient, with the tags that made it match."""

    recipient: Recipient
    item: FeedItem
    tags: tuple[Tag, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Source:
    """Another outlet that reported a story: shown on the story's message as `also: ...`."""

    name: str
    link: str | None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One alert ready for a renderer and an adapter: the item, its tags, the chat's timezone,
    the other sources of its story (empty until a later report edits the message), and how
    the chat wants it shown."""

    recipient: Recipient
    item: FeedItem
    tags: tuple[Tag, ...]
    timezone: str
    also: tuple[Source, ...] = ()
    excerpt: ExcerptLength = ExcerptLength.FULL
    image: bool = True
    preview: bool = False


@dataclass(frozen=True, slots=True)
class DigestLine:
    """One story of a digest: the outbox row it settles, its group and what it shows."""

    row_id: int
    topic: str
    title: str
    link: str | None
    source: str
    published: float
    """Epoch seconds (publication, else when it was queued): newest first within a topic."""
    also: tuple[Source, ...] = ()
    """The other outlets that reported its story by the time the digest went out."""


@dataclass(frozen=True, slots=True)
class DigestPage:
    """One message of a digest."""

    recipient: Recipient
    heading: str
    lines: tuple[DigestLine, ...]
    part: int = 1
    parts: int = 1
    preview: bool = False


class OutboxKind(StrEnum):
    """What an outbox row asks of the platform."""

    ALERT = "alert"
    EDIT = "edit"
    """Edit the chat's message for a story to list the sources found since."""


@dataclass(frozen=True, slots=True)
class TopicRule:
    """What tags an item with one topic: its keywords, exclusions, fields, weights and lexicon."""

    topic: str
    keywords: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    fields: tuple[str, ...] = ("title", "summary", "categories")
    title_weight: float = 2.0
    threshold: float = 2.0
    lexicon: str | None = None
    """Name of a shipped lexicon (`bot/lexicons/<name>.yaml`): weighted names and context rules."""
