"""What subscriptions.yaml declares, in the shapes the store syncs: feeds as specs, the
operator's subscriptions gathered per chat, and the admins' chats on the platforms that run."""

from __future__ import annotations

from collections.abc import Collection

from bot.config import Config
from bot.models import Platform, Recipient
from bot.store.records import FeedSpec


def feed_specs(config: Config) -> list[FeedSpec]:
    return [
        FeedSpec(f.name, f.url, config.feed_interval(f), f.backlog, f.enabled) for f in config.feeds
    ]


def static_subscriptions(config: Config) -> dict[Recipient, tuple[frozenset[str], frozenset[str]]]:
    """The operator's declared subscriptions, by recipient: (topic ids, keywords)."""
    wanted: dict[Recipient, tuple[frozenset[str], frozenset[str]]] = {}
    for sub in config.subscriptions:
        recipient = sub.recipient
        topics = frozenset(t for name in sub.topics if (t := config.topic_for(name)))
        old_topics, old_words = wanted.get(recipient, (frozenset(), frozenset()))
        wanted[recipient] = (old_topics | topics, old_words | frozenset(sub.keywords))
    return wanted


def admin_recipients(
    config: Config, platforms: Collection[Platform], console: Recipient
) -> list[Recipient]:
    """Where feed trouble is reported: the bot admins' private chats, or the console."""
    out = []
    if Platform.TELEGRAM in platforms:
        out += [Recipient(Platform.TELEGRAM, str(a)) for a in config.admins.telegram]
    if Platform.SLACK in platforms:
        out += [Recipient(Platform.SLACK, a) for a in config.admins.slack]
    if Platform.CONSOLE in platforms:
        out.append(console)
    return out
