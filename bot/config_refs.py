"""References across the sections of a config as written: the topics that subscriptions and
`stories.realert` name must be topics the file defines. Read from the plain document, before or
beside validation, so that they are named with the problems of other lines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def unknown_topics(document: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """The topics a subscription (or `stories.realert`) names that the file defines neither as an
    id nor as an alias, read from the document as written: named beside what validation finds
    in other lines, not only once those are mended."""
    if not isinstance(document, dict):
        return
    topics, subscriptions = document.get("topics") or {}, document.get("subscriptions") or []
    if not isinstance(topics, dict) or not isinstance(subscriptions, list):
        return
    defined = {str(topic_id).casefold() for topic_id in topics}
    for topic in topics.values():
        aliases = topic.get("aliases") if isinstance(topic, dict) else None
        defined |= {
            str(alias).casefold() for alias in (aliases if isinstance(aliases, list) else ())
        }
    known = ", ".join(map(str, topics)) or "(none defined)"
    stories = document.get("stories")
    named_by: list[tuple[tuple[str | int, ...], Any]] = [
        (("stories", "realert"), stories.get("realert") if isinstance(stories, dict) else None),
        *(
            (
                ("subscriptions", index, "topics"),
                sub.get("topics") if isinstance(sub, dict) else None,
            )
            for index, sub in enumerate(subscriptions)
        ),
    ]
    for where, named in named_by:
        for t_index, name in enumerate(named if isinstance(named, list) else ()):
            if str(name).casefold() not in defined:
                yield (*where, t_index), f"unknown topic {name!r}; topics are: {known}"
