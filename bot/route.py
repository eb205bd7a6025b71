"""Tagged item x subscriptions -> alerts: one per recipient, carrying every tag it matched."""

from __future__ import annotations

from collections.abc import Iterable

from bot.classify import PERSONAL_PREFIX, normalize
from bot.models import Alert, Classification, FeedItem, Subscription


def route(
    item: FeedItem,
    classification: Classification,
    subscriptions: Iterable[Subscription],
    now: float,
) -> list[Alert]:
    """An alert for each subscription (not muted at `now`) that a tag of the item matches."""
    if not classification.tags:
        return []
    alerts = []
    for sub in subscriptions:
        if sub.muted_until is not None and sub.muted_until > now:
            continue
        wanted = sub.topics | {PERSONAL_PREFIX + normalize(word) for word in sub.keywords}
        matched = tuple(tag for tag in classification.tags if tag.topic in wanted)
        if matched:
            alerts.append(Alert(sub.recipient, item, matched))
    return alerts
