"""Article pages for feeds that carry titles only (`fetch_article: true`): the opening of each new
item's page becomes its summary, for classification and for the excerpt.

An item's link is fetched once, by the fetch function the caller hands over (the app passes the
chat feeds' guarded fetch: http(s) only, public addresses only, the same size cap after
decompression, redirects and timeouts as any feed); the page's main text is found by trafilatura
and its first paragraphs are the lead. Leads are cached by link, failures too, so a poll that is
retried, or a second feed carrying the same link, fetches nothing again. A page that cannot be
fetched or holds no text leaves the item as the feed gave it, with one log line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence

from bot.feeds.fetch import FetchError, FetchResult
from bot.models import FeedItem

log = logging.getLogger(__name__)

Fetch = Callable[[str], Awaitable[FetchResult]]
"""GET one page: a FetchResult of status 200, or a FetchError saying why not."""

LEAD_PARAGRAPHS = 3
LEAD_CHARS = 600
"""The lead: the page's first paragraphs, up to this many characters (whole paragraphs, except
a first one longer than that, which is cut at a word)."""
CACHE_SIZE = 4096
"""Links remembered (a poll's new items are a handful; a day of many feeds fits)."""
FETCHES_AT_ONCE = 4
"""Pages fetched at the same time, all feeds together."""


def article_lead(page: bytes, *, url: str, title: str = "") -> str:
    """The first paragraphs of the page's main text ("" when there is none); a first paragraph
    that only repeats the item's title is left out."""
    import trafilatura  # loaded at the first article: a few hundred ms that no command needs

    text = trafilatura.extract(page, url=url, include_comments=False, include_tables=False)
    paragraphs = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if paragraphs and title and _same_words(paragraphs[0], title):
        paragraphs = paragraphs[1:]
    lead: list[str] = []
    size = 0
    for paragraph in paragraphs[:LEAD_PARAGRAPHS]:
        if lead and size + len(paragraph) > LEAD_CHARS:
            break
        lead.append(paragraph)
        size += len(paragraph)
    if lead and len(lead[0]) > LEAD_CHARS:
        lead[0] = lead[0][:LEAD_CHARS].rsplit(" ", 1)[0] + " …"
    return "\n\n".join(lead)


def _same_words(one: str, other: str) -> bool:
    return one.casefold().split() == other.casefold().split()


class ArticleLeads:
    """Fills new items' summaries from their pages, one fetch per link."""

    def __init__(self, fetch: Fetch, *, cache_size: int = CACHE_SIZE) -> None:
        self._fetch = fetch
        self._cache_size = cache_size
        self._leads: OrderedDict[str, asyncio.Future[str | None]] = OrderedDict()
        """Link -> its lead (None: no lead), or the fetch still under way."""
        self._slots = asyncio.Semaphore(FETCHES_AT_ONCE)
        self.fetches = 0
        """Pages requested so far (the cache's misses)."""

    async def fill(self, items: Sequence[FeedItem], *, feed: str) -> tuple[FeedItem, ...]:
        """`items` with the lead of their page as summary, where one was found."""
        leads = await asyncio.gather(*(self._lead(item, feed) for item in items))
        return tuple(
            dataclasses.replace(item, summary=lead) if lead else item
            for item, lead in zip(items, leads, strict=True)
        )

    async def _lead(self, item: FeedItem, feed: str) -> str | None:
        link = item.link
        if not link or not link.startswith(("http://", "https://")):
            return None
        known = self._leads.get(link)
        if known is not None:
            self._leads.move_to_end(link)
            return await asyncio.shield(known)
        pending: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._leads[link] = pending
        while len(self._leads) > self._cache_size:
            self._leads.popitem(last=False)
        lead = None
        try:
            lead = await self._read(link, item.title, feed)
        except BaseException:
            self._leads.pop(link, None)  # cancelled (a shutdown): the next poll reads it again
            raise
        finally:
            pending.set_result(lead)  # whoever waits for this link gets no lead, not an error
        return lead

    async def _read(self, link: str, title: str, feed: str) -> str | None:
        async with self._slots:
            self.fetches += 1
            try:
                page = await self._fetch(link)
            except FetchError as exc:
                log.warning("feed %s: article not fetched, the feed's summary stays: %s", feed, exc)
                return None
        where = (feed, link)
        kind = page.headers.get("content-type", "text/html").split(";")[0].strip().lower()
        if "html" not in kind:
            log.warning(
                "feed %s: article %s is %s, not HTML; the feed's summary stays", *where, kind
            )
            return None
        try:
            lead = await asyncio.to_thread(article_lead, page.body, url=page.url, title=title)
        except Exception as exc:  # an extractor bug on one page must not stop the poll
            log.warning(
                "feed %s: article %s: extraction failed: %s: %s", *where, type(exc).__name__, exc
            )
            return None
        if not lead:
            log.warning("feed %s: article %s has no main text; the feed's summary stays", *where)
        return lead or None
