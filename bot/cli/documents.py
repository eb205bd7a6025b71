"""Read one feed document named on the command line: a local file, an http(s) URL, or `-` for
standard input. A file or standard input may also hold a single article with YAML front matter
(`bot.feeds.post`): it reads as a feed of that one item.

A URL is fetched in an event loop of its own, with the feed fetcher's limits; the event loop and
the HTTP client are imported only then, so a file or standard input is read without loading
either (they were a third of `newsbot classify`'s start-up)."""

from __future__ import annotations

import os
import re

from bot.feeds.parse import MAX_INFLATED_BYTES, ParsedFeed, ParseError, parse_feed
from bot.feeds.post import looks_like_post, parse_post
from bot.files import TooLarge, read_at_most
from bot.text.urls import web_url_problem, without_secrets

_OTHER_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
"""`ftp://...`, `file://...`: a URL the bot does not fetch, not a file name."""


class DocumentError(Exception):
    """The document could not be read or parsed; the message says why in one line, with the
    password of an address masked."""

    def __init__(self, message: str) -> None:
        super().__init__(without_secrets(message))


def read_document(source: str) -> ParsedFeed:
    """Fetch (URL), read (path) or take from standard input (`-`), then parse `source`."""
    try:
        if source.startswith(("http://", "https://")):
            if problem := web_url_problem(source):
                raise DocumentError(f"{source}: {problem}")
            import asyncio

            return asyncio.run(_fetch_document(source))
        if _OTHER_SCHEME.match(source):
            raise DocumentError(
                f"{source}: only http and https URLs are fetched (or give a file, or - for "
                "standard input)"
            )
        body = read_at_most(source, MAX_INFLATED_BYTES)  # what a fetched feed may hold
        return parse_post(body) if looks_like_post(body) else parse_feed(body)
    except OSError as exc:
        raise DocumentError(f"{source}: {exc.strerror or exc}") from exc
    except TooLarge as exc:
        raise DocumentError(f"{source}: {exc}") from exc
    except ParseError as exc:
        raise DocumentError(_naming(source, exc)) from exc


async def _fetch_document(url: str) -> ParsedFeed:
    import httpx

    from bot.feeds.fetch import FetchError, fetch_feed, make_client
    from bot.feeds.proxy import ProxyRules

    route = ProxyRules.from_environment(os.environ).route(url)
    try:
        async with make_client(proxy=route) as client:
            result = await fetch_feed(client, url)
    except (FetchError, httpx.HTTPError) as exc:
        raise DocumentError(_naming(url, exc)) from exc
    return parse_feed(result.body, headers=result.headers, base_url=result.url)


def _naming(source: str, exc: Exception) -> str:
    """The error's line, naming `source` once (a fetch error names its URL already)."""
    message = str(exc)
    return message if message.startswith(source) else f"{source}: {message}"
