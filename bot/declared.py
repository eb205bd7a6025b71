"""What subscriptions.yaml declares, in the shapes the store syncs: feeds as specs, and the
operator's subscriptions gathered per chat."""

from __future__ import annotations

from bot.config import Config
from bot.models import Recipient
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
