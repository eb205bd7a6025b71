"""`newsbot stories FILE_OR_URL...`: group the items of several feeds into stories, offline.

The items are grouped as if they had all arrived together, in publication order, by the same
index and decision the running bot uses, with the config's story window.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.cli.documents import DocumentError, read_document
from bot.config import StoriesConfig, load_config
from bot.grouping import item_lead
from bot.models import FeedItem
from bot.stories import StoryInput, group
from bot.text.urls import without_secrets


@dataclass(frozen=True, slots=True)
class FeedEntry:
    feed: str
    """The document as named on the command line (the password of a URL masked)."""
    item: FeedItem


def stories(sources: list[str], config_path: Path, *, config_given: bool, as_json: bool) -> int:
    settings = _stories_config(config_path, required=config_given)
    entries: list[FeedEntry] = []
    failed = 0
    for source in sources:
        try:
            parsed = read_document(source)
        except DocumentError as exc:
            print(f"newsbot stories: {exc}", file=sys.stderr)
            failed += 1
            continue
        entries.extend(FeedEntry(without_secrets(source), item) for item in parsed.items)
    if failed == len(sources):
        return 1
    numbers = group(
        [
            StoryInput(
                e.item.title,
                item_lead(e.item),
                e.item.published.timestamp() if e.item.published else None,
            )
            for e in entries
        ],
        settings.window,
    )
    if as_json:
        for entry, story in zip(entries, numbers, strict=True):
            print(json.dumps(_json_line(entry, story), ensure_ascii=False))
    else:
        print(_text(entries, numbers))
    return 1 if failed else 0  # the others grouped, but a script should know one was not read


def _stories_config(config_path: Path, *, required: bool) -> StoriesConfig:
    """The config's `stories:` section; the defaults when no config was named and none is there."""
    if not required and not config_path.exists():
        return StoriesConfig()
    return load_config(config_path).config.stories


def _json_line(entry: FeedEntry, story: int) -> dict[str, object]:
    return {
        "id": entry.item.guid or entry.item.key,
        "link": entry.item.link,
        "title": entry.item.title,
        "feed": entry.feed,
        "story": story,
    }


def _text(entries: list[FeedEntry], numbers: list[int]) -> str:
    members: dict[int, list[FeedEntry]] = defaultdict(list)
    for entry, story in zip(entries, numbers, strict=True):
        members[story].append(entry)
    shared = sum(1 for items in members.values() if len(items) > 1)
    lines = [f"{len(entries)} item(s), {len(members)} story(ies), {shared} with several reports"]
    for story in sorted(members, key=lambda s: (-len(members[s]), s)):
        items = members[story]
        lines.append("")
        lines.append(f"story {story} ({len(items)} item(s))")
        for entry in items:
            lines.append(f"  {entry.item.title or '(untitled)'}  [{entry.feed}]")
            if entry.item.link:
                lines.append(f"    {entry.item.link}")
    return "\n".join(lines)
