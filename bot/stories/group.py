"""Offline grouping of a finished list of items (the `stories` command), through `StoryIndex`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.stories.features import features
from bot.stories.index import DEFAULT_WINDOW_SECONDS, StoryIndex


@dataclass(frozen=True, slots=True)
class StoryInput:
    """One item to group: plain-text title and body, publication time in epoch seconds if known."""

    title: str
    text: str
    published: float | None = None


def group(items: Sequence[StoryInput], window_seconds: float = DEFAULT_WINDOW_SECONDS) -> list[int]:
    """A story number per item (0, 1, 2 ... in order of first appearance), same order as `items`.

    Items are matched in publication order (undated items last, in their given order), each against
    the stories of the window before it, exactly as the live pipeline would see them; an item that
    joins stories (`StoryIndex.matches`) makes their items one story.
    """
    order = sorted(
        range(len(items)),
        key=lambda i: (items[i].published is None, items[i].published or 0.0, i),
    )
    index = StoryIndex(window_seconds)
    story_of: dict[int, int] = {}
    joined_into: dict[int, int] = {}
    latest = float("-inf")
    for i in order:
        item = items[i]
        at = item.published if item.published is not None else latest
        latest = max(latest, at)
        index.expire(at)
        item_features = features(item.title, item.text)
        found = index.matches(item_features, at)
        # an item's position is unique, so a new story never reuses an expired id
        story = found[0] if found else i
        index.join(story, found[1:])
        joined_into.update((other, story) for other in found[1:])
        story_of[i] = story
        index.add(story, item_features, at)
    numbering: dict[int, int] = {}
    return [
        numbering.setdefault(_final(story_of[i], joined_into), len(numbering))
        for i in range(len(items))
    ]


def _final(story: int, joined_into: dict[int, int]) -> int:
    """The story `story` is part of once every join is followed."""
    while story in joined_into:
        story = joined_into[story]
    return story
