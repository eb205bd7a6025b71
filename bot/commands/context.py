"""What every command handler may use: the store's aggregates, the config in force, the clock."""

from __future__ import annotations

from collections.abc import Callable

from bot.commands.requests import FeedAdmin
from bot.config import Config
from bot.store.chats import ChatStore
from bot.store.feeds import FeedStore
from bot.store.outbox import OutboxStore
from bot.store.stories import StoryStore
from bot.store.websub import WebSubStore


class CommandContext:
    """Declared here, set by `Commands.__init__`, read by the handler mixins."""

    chats: ChatStore
    outbox: OutboxStore
    stories: StoryStore
    feeds: FeedStore
    websub: WebSubStore
    feed_admin: FeedAdmin | None
    clock: Callable[[], float]
    prefix: str
    """How commands are written on this platform: `/` (Telegram) or `/news ` (Slack)."""
    _config: Callable[[], Config]
    _on_keywords_changed: Callable[[], None]
