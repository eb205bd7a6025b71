"""`newsbot feeds import|export`: feed lists in and out of the database as OPML."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.feeds.identity import feed_identity
from bot.opml import OPMLError, Outline, read_opml, slug, write_opml
from bot.store import connect
from bot.store.records import FeedSpec

DEFAULT_IMPORT_INTERVAL = 600.0
"""Poll interval of feeds imported from OPML (they can be tuned by listing them in the config)."""


async def import_opml(database_url: str, path: Path) -> int:
    try:
        outlines = read_opml(await asyncio.to_thread(path.read_bytes))
    except (OSError, OPMLError) as exc:
        print(f"newsbot feeds import: {path}: {exc}", file=sys.stderr)
        return 1
    store = await connect(database_url)
    added, skipped, refused = [], [], []
    try:
        feeds = await store.feeds.all()
        known = {feed_identity(f.url): f.name for f in feeds}
        names = {f.name for f in feeds}
        for outline in outlines:
            if not outline.url.startswith(("http://", "https://")):
                refused.append(f"{outline.url} (not http or https)")
                continue
            identity = feed_identity(outline.url)
            if identity in known:
                skipped.append(f"{outline.url} (already polled as {known[identity]})")
                continue
            name = base = slug(outline.name, outline.url)
            suffix = 2
            while name in names:
                name, suffix = f"{base[:60]}-{suffix}", suffix + 1
            if await store.feeds.add(FeedSpec(name, outline.url, DEFAULT_IMPORT_INTERVAL), "opml"):
                added.append(f"{name} {outline.url}")
                names.add(name)
                known[identity] = name
            else:
                skipped.append(f"{outline.url} (exists)")
    finally:
        await store.close()
    for label, entries in (("added", added), ("skipped", skipped), ("refused", refused)):
        print(f"{label}: {len(entries)}")
        for entry in entries:
            print(f"  {entry}")
    return 0


async def export_opml(database_url: str) -> int:
    store = await connect(database_url, create=False)
    try:
        feeds = [f for f in await store.feeds.all() if f.enabled]
    finally:
        await store.close()
    sys.stdout.write(write_opml(Outline(f.name, f.url) for f in feeds))
    return 0
