"""The bot admins' notices about a feed's health: it starts failing, is disabled, or is back."""

from __future__ import annotations

from bot.models import FeedItem, FeedState
from bot.store.records import FeedRecord
from bot.text.urls import without_secrets


def feed_notice(feed: FeedRecord, state: FeedState, error: str | None, now: float) -> FeedItem:
    """The notice for `feed` entering `state` at `now` (`error`: its last poll's), the password of
    its URL masked."""
    url = without_secrets(feed.url)
    if state is FeedState.ACTIVE:
        title = f"Feed {feed.name} is back"
        summary = f"{url} answers again after {feed.failures} failed polls."
    elif state is FeedState.FAILING:
        title = f"Feed {feed.name} is failing"
        summary = (
            f"{url} has failed for over a day ({feed.failures + 1} polls); it is retried "
            f"every few hours. Last error: {error}"
        )
    else:
        title = f"Feed {feed.name} is gone and was disabled"
        error = without_secrets(error or "")
        summary = error if error.startswith(url) else f"{url}: {error}"  # a fetch error names it
    return FeedItem(
        key=f"notice:{state}:{now:.0f}",
        guid=None,
        link=None,
        title=title,
        summary=summary,
        source="newsbot",
    )
