"""Read one feed document named on the command line: a local file, an http(s) URL, or `-` for
standard input."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import httpx

from bot.feeds.fetch import FetchError, fetch_feed, make_client
from bot.feeds.parse import ParsedFeed, ParseError, parse_feed

_OTHER_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
"""`ftp://...`, `file://...`: a URL the bot does not fetch, not a file name."""


class DocumentError(Exception):
    """The document could not be read or parsed; the message says why in one line."""


async def read_document(source: str) -> ParsedFeed:
    """Fetch (URL), read (path) or take from standard input (`-`), then parse `source`."""
    try:
        if source.startswith(("http://", "https://")):
            async with make_client() as client:
                result = await fetch_feed(client, source)
            return parse_feed(result.body, headers=result.headers, base_url=result.url)
        if _OTHER_SCHEME.match(source):
            raise DocumentError(
                f"{source}: only http and https URLs are fetched (or give a file, or - for "
                "standard input)"
            )
        if source == "-":
            return parse_feed(await asyncio.to_thread(sys.stdin.buffer.read))
        return parse_feed(await asyncio.to_thread(Path(source).read_bytes))
    except OSError as exc:
        raise DocumentError(f"{source}: {exc.strerror or exc}") from exc
    except (FetchError, ParseError, httpx.HTTPError) as exc:
        message = str(exc)  # a fetch error names its URL already
        raise DocumentError(
            message if message.startswith(source) else f"{source}: {message}"
        ) from exc
