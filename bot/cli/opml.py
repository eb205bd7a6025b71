"""`newsbot feeds import|export`: feed lists in and out of the database as OPML."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.config import load_config
from bot.feeds.identity import feed_identity
from bot.files import TooLarge, read_at_most
from bot.opml import OPMLError, Outline, read_opml, slug, write_opml
from bot.store import NoDatabaseYet, connect
from bot.store.records import FeedSpec
from bot.text.urls import web_url_problem, without_secrets

MAX_OPML_BYTES = 16 * 1024 * 1024
"""An OPML list's size at most: a hundred thousand feeds."""
DEFAULT_IMPORT_INTERVAL = 600.0
"""Poll interval of feeds imported from OPML (they can be tuned by listing them in the config)."""


async def import_opml(database_url: str, path: Path) -> int:
    try:
        outlines = read_opml(await asyncio.to_thread(read_at_most, path, MAX_OPML_BYTES))
    except OSError as exc:
        print(f"newsbot feeds import: {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except (OPMLError, TooLarge) as exc:
        print(f"newsbot feeds import: {path}: {exc}", file=sys.stderr)
        return 1
    store = await connect(database_url)
    added, skipped, refused = [], [], []
    try:
        feeds = await store.feeds.all()
        known = {feed_identity(f.url): f.name for f in feeds}
        names = {f.name for f in feeds}
        wanted: list[FeedSpec] = []
        for outline in outlines:
            if not outline.url:
                refused.append(f"{outline.name or 'an outline'} (no xmlUrl: no feed address)")
                continue
            if problem := web_url_problem(outline.url):
                refused.append(f"{outline.url} ({problem})")
                continue
            identity = feed_identity(outline.url)
            if identity in known:
                skipped.append(f"{outline.url} (already polled as {known[identity]})")
                continue
            name = base = slug(outline.name, outline.url)
            suffix = 2
            while name in names:
                name, suffix = f"{base[:60]}-{suffix}", suffix + 1
            wanted.append(FeedSpec(name, outline.url, DEFAULT_IMPORT_INTERVAL))
            names.add(name)
            known[identity] = name
        # one transaction: an import stopped half-way adds nothing
        stored = await store.feeds.add_many(wanted, "opml")
        for spec, fresh in zip(wanted, stored, strict=True):
            if fresh:
                added.append(f"{spec.name} {spec.url}")
            else:  # added meanwhile by a running bot
                skipped.append(f"{spec.url} (exists)")
    finally:
        await store.close()
    for label, entries in (("added", added), ("skipped", skipped), ("refused", refused)):
        print(f"{label}: {len(entries)}")
        for entry in entries:
            print(f"  {without_secrets(entry)}")
    return 0


def config_outlines(config_path: Path, *, required: bool) -> list[Outline]:
    """The enabled feeds of the config at `config_path`; none when there is no such file and
    none was named (`required`: `--config` names it, and then it must be there)."""
    if not required and not config_path.exists():
        return []
    return [Outline(f.name, f.url) for f in load_config(config_path).config.feeds if f.enabled]


async def export_opml(database_url: str, listed: list[Outline]) -> int:
    """Every feed the bot polls or will poll: the database's, then the config's (`listed`) not
    yet in it; before the first `run` there is no database, and the config's feeds are the list."""
    try:
        store = await connect(database_url, create=False)
    except NoDatabaseYet:
        polled = []
    else:
        try:
            polled = [Outline(f.name, f.url) for f in await store.feeds.all() if f.enabled]
        finally:
            await store.close()
    # a config feed that moved (301) is stored under its new URL, and its name
    known = {feed_identity(o.url) for o in polled} | {o.name for o in polled}
    new = [o for o in listed if feed_identity(o.url) not in known and o.name not in known]
    sys.stdout.write(write_opml([*polled, *new]))
    return 0
