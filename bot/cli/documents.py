"""Read one feed document named on the command line: a local file or an http(s) URL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from bot.feeds.fetch import FetchError, fetch_feed, make_client
from bot.feeds.parse import ParsedFeed, ParseError, parse_feed


class DocumentError(Exception):
    """The document could not be read or parsed; the message says why in one line."""


async def read_document(source: str) -> ParsedFeed:
    """Fetch (URL) or read (path) and parse `source`."""
    try:
        if source.startswith(("http://", "https://")):
            async with make_client() as client:
                result = await fetch_feed(client, source)
            return parse_feed(result.body, headers=result.headers, base_url=result.url)
        return parse_feed(await asyncio.to_thread(Path(source).read_bytes))
    except OSError as exc:
        raise DocumentError(f"{source}: {exc.strerror or exc}") from exc
    except (FetchError, ParseError, httpx.HTTPError) as exc:
        raise DocumentError(f"{source}: {exc}") from exc
