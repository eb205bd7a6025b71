"""The admin commands' side effects beyond the store: a feed from a chat is checked (SSRF guard,
a real feed behind the URL) before it is stored, and the config is re-read on request."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable

from bot.config import ConfigError, LoadedConfig, load_config
from bot.feeds.fetch import (
    BodyTooLarge,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    TooManyRedirects,
    URLRefused,
)
from bot.feeds.parse import ParseError, parse_feed
from bot.i18n import _
from bot.netguard import URLGuard, fetch_checked
from bot.opml import slug
from bot.store.feeds import FeedStore
from bot.store.records import FeedSpec

log = logging.getLogger(__name__)

_FEED_NAME = re.compile(r"[\w.\-]{1,64}")


def why_not(exc: FetchError | ParseError) -> str:
    """Why a URL is no feed, in the chat's language, then the technical line the logs have."""
    if isinstance(exc, URLRefused):
        reason = _("that address is not allowed")
    elif isinstance(exc, FetchTimeout):
        reason = _("the server did not answer in time")
    elif isinstance(exc, HTTPStatusError):
        reason = _("the server answered HTTP {status}").format(status=exc.status)
    elif isinstance(exc, BodyTooLarge):
        reason = _("the document is larger than the size cap")
    elif isinstance(exc, TooManyRedirects):
        reason = _("too many redirects")
    elif isinstance(exc, ParseError):
        reason = _("the address does not serve a feed")
    else:
        reason = _("the feed could not be fetched")
    return f"{reason} ({exc})"


class ChatFeedAdmin:
    """`/addfeed`, `/removefeed` and `/reload` (the `commands.FeedAdmin` protocol).

    `guard` is asked on every use: the operator's address policy can change while running."""

    def __init__(
        self,
        feeds: FeedStore,
        guard: Callable[[], URLGuard],
        *,
        loaded: Callable[[], LoadedConfig],
        apply: Callable[[LoadedConfig], Awaitable[None]],
        feeds_changed: Callable[[], Awaitable[None]],
    ) -> None:
        self._feeds = feeds
        self._guard = guard
        self._loaded = loaded
        self._apply = apply
        self._feeds_changed = feeds_changed

    async def add_feed(self, url: str, name: str) -> str:
        """The URL must pass the SSRF guard and serve a feed before it is stored."""
        url = url.strip()
        if not url.lower().startswith(("http://", "https://")):  # `HTTP://` is one too
            raise ValueError(_("give an http(s) URL"))
        name = name or slug("", url)
        if not _FEED_NAME.fullmatch(name):
            raise ValueError(_("a feed name is 1-64 letters, digits, '.', '_' or '-'"))
        try:
            result = await fetch_checked(url, self._guard())
            parsed = await asyncio.to_thread(parse_feed, result.body, headers=result.headers)
        except (FetchError, ParseError) as exc:
            raise ValueError(why_not(exc)) from None
        interval = self._loaded().config.defaults.min_interval * 5
        if await self._feeds.add(FeedSpec(name, url, interval)) is None:
            text = _("a feed named {name} or with that URL exists already")
            raise ValueError(text.format(name=name))
        await self._feeds_changed()
        text = _("Added feed {name} ({count} items now; new ones will alert).")
        return text.format(name=name, count=len(parsed.items))

    async def remove_feed(self, name: str) -> bool:
        removed = await self._feeds.remove(name)
        if removed:
            await self._feeds_changed()
        return removed

    async def reload(self) -> str:
        """Re-read the config file; a bad one is refused and the running config stays."""
        try:
            loaded = load_config(self._loaded().path)
        except ConfigError as exc:
            problems = "; ".join(str(exc).splitlines())  # one log line, however many problems
            log.error("reload refused, the running config stays: %s", problems)
            return _("Reload refused, the running config stays:\n{problems}").format(problems=exc)
        await self._apply(loaded)
        config = loaded.config
        log.info(
            "config reloaded from %s: %d feed(s), topics %s",
            loaded.path,
            len(config.feeds),
            ", ".join(config.topics),
        )
        text = _("Reloaded: {feeds} feeds, {topics} topics.")
        return text.format(feeds=len(config.feeds), topics=len(config.topics))
