"""The stories of the last window, searchable by their rarer words instead of comparing every story.

Each story keeps the features of a few of its items (the first and the latest), so a later item
matches on any of them. An inverted index maps every search token of a remembered item (title
bigrams, names, figures with units) to the items that have it; a new item looks up its rarest tokens
first, weighs each shared token by its rarity in the window (IDF), and only the MAX_CANDIDATES best
items go to `explain`, which decides. The best score wins; an item that is the same story as
two stories joins them into one when they are one event (`JOIN_FLOOR`): an outlet's rewrite that
matched neither earlier report alone is no second alert's reason once a third report bridges them.

Rarity is what makes this fast and precise at once: the words every story shares (`코로나`,
`대통령`, `증시`) are looked up last, with a bounded budget, and weigh almost nothing; a name or a
figure that only two items of the window share weighs most.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

from bot.stories.decide import explain, next_edition
from bot.stories.features import StoryFeatures

DEFAULT_WINDOW_SECONDS = 36 * 3600.0
MAX_MEMBERS = 4
"""Items remembered per story: the first, plus the latest MAX_MEMBERS - 1."""
MAX_CANDIDATES = 8
"""Remembered items handed to `explain` per new item, best token overlap first."""
POSTINGS_BUDGET = 500
"""Postings scanned per new item at most: rare tokens first, so only common ones are cut short.
In `bench/stories.py` (20,000 stories) 500 finds as many second reports as 1000 did, with a third
fewer wrong stories (common words are what 500 leaves out) in half the time."""
MIN_OVERLAP = 0.25
"""A candidate must share at least this share of the weight of the new item's headline tokens
(bigrams and names of its title; the shared weight counts every token): a headline-only report and
one with a long lead then find each other from either side."""
JOIN_FLOOR = 1.0
"""Two stories an item matches both become one when every pair of their remembered reports scores
at least this (`explain`; the same-story threshold is 4.2): reports that look unrelated, or that a
veto parts, keep their stories however alike the bridging item is to each. Chosen on the tuning
half of `tests/data/stories/labels.jsonl`: the middle of the range of floors (-1 to 3) that gave its
best precision and recall (a floor of -2 joined a piece on a share price to the merger it was
about, and a later finding to a statement on the same death)."""


@dataclass(slots=True)
class _Story:
    members: list[int] = field(default_factory=list)
    """Member keys, oldest first; the first item stays, the others rotate."""
    last_at: float = float("-inf")


@dataclass(slots=True)
class _Member:
    story_id: int
    features: StoryFeatures
    tokens: tuple[str, ...]
    at: float


class StoryIndex:
    """Stories whose latest item is within `window_seconds`; ids are chosen by the caller."""

    def __init__(self, window_seconds: float = DEFAULT_WINDOW_SECONDS) -> None:
        self.window_seconds = window_seconds
        self._stories: dict[int, _Story] = {}
        self._members: dict[int, _Member] = {}
        self._postings: dict[str, list[int]] = {}
        """Member keys by token, oldest first (lists: most tokens have one or two items)."""
        self._next_key = 0
        self._expiry: list[tuple[float, int]] = []

    def __len__(self) -> int:
        return len(self._stories)

    def __contains__(self, story_id: object) -> bool:
        return story_id in self._stories

    def matches(self, features: StoryFeatures, at: float) -> list[int]:
        """The stories `features` belongs to, best first: the first is its story, the others
        stories of the same event to join into it (`join`). Stories older than the window never
        match, and a recurring column's edition of a day before is no earlier report
        (`next_edition`)."""
        oldest = at - self.window_seconds
        best: dict[int, float] = {}
        for key in self._candidates(features):
            member = self._members[key]
            story = self._stories[member.story_id]
            if story.last_at < oldest:
                continue
            verdict = explain(features, member.features)
            if not verdict.same or next_edition(features, member.features, (at - member.at) / 3600):
                continue
            if verdict.score > best.get(member.story_id, float("-inf")):
                best[member.story_id] = verdict.score
        ranked = sorted(best, key=lambda story_id: (-best[story_id], story_id))
        return ranked[:1] + [other for other in ranked[1:] if self._one_event(ranked[0], other)]

    def join(self, into: int, others: list[int]) -> None:
        """Stories `others` are part of story `into` from now on."""
        for other in others:
            self.rename(other, into)

    def _one_event(self, one: int, other: int) -> bool:
        """Whether no two remembered reports of stories `one` and `other` look unrelated."""
        return all(
            explain(self._members[a].features, self._members[b].features).score >= JOIN_FLOOR
            for a in self._stories[one].members
            for b in self._stories[other].members
        )

    def add(self, story_id: int, features: StoryFeatures, at: float) -> None:
        """Remember that an item with `features`, published or seen `at`, belongs to `story_id`."""
        story = self._stories.setdefault(story_id, _Story())
        key = self._next_key
        self._next_key += 1
        tokens = tuple(features.search_tokens)
        self._members[key] = _Member(story_id, features, tokens, at)
        for token in tokens:
            postings = self._postings.get(token)
            if postings is None:
                self._postings[token] = [key]
            else:
                postings.append(key)
        story.members.append(key)
        if len(story.members) > MAX_MEMBERS:
            self._forget(story.members.pop(1))
        if at > story.last_at:
            story.last_at = at
            heapq.heappush(self._expiry, (at, story_id))

    def rename(self, old: int, new: int) -> None:
        """Story `old` is story `new` from now on (joined to it when the index has `new` too)."""
        story = self._stories.pop(old, None)
        if story is None:
            return
        for key in story.members:
            self._members[key].story_id = new
        target = self._stories.get(new)
        if target is None:
            self._stories[new] = target = _Story()
        target.members += story.members
        while len(target.members) > MAX_MEMBERS:
            self._forget(target.members.pop(1))
        if story.last_at > target.last_at:
            target.last_at = story.last_at
            heapq.heappush(self._expiry, (story.last_at, new))

    def drop(self, story_id: int) -> None:
        """Forget story `story_id` and its items."""
        story = self._stories.pop(story_id, None)
        for key in story.members if story is not None else ():
            self._forget(key)

    def expire(self, now: float) -> None:
        """Forget stories whose latest item is older than the window at `now`."""
        oldest = now - self.window_seconds
        while self._expiry and self._expiry[0][0] < oldest:
            at, story_id = heapq.heappop(self._expiry)
            story = self._stories.get(story_id)
            if story is None or story.last_at != at:
                continue
            for key in story.members:
                self._forget(key)
            del self._stories[story_id]

    def _forget(self, key: int) -> None:
        member = self._members.pop(key)
        for token in member.tokens:
            postings = self._postings[token]
            postings.remove(key)  # the oldest go first: found near the front
            if not postings:
                del self._postings[token]

    def _candidates(self, features: StoryFeatures) -> list[int]:
        """Remembered items sharing the most rare-token weight with `features`, best first."""
        total = len(self._members) + 1
        headline = features.headline_tokens
        own_weight = 0.0
        found: list[tuple[int, str, list[int]]] = []
        for token in features.search_tokens:
            postings = self._postings.get(token)
            count = 0 if postings is None else len(postings)
            if token in headline:
                own_weight += _rarity(total, count)
            if postings is not None:
                found.append((count, token, postings))
        found.sort()  # rarest first; ties by token, so that a restart finds the same candidates
        overlap: dict[int, float] = {}
        get = overlap.get
        budget = POSTINGS_BUDGET
        for count, _, postings in found:
            if count > budget:
                break
            budget -= count
            weight = _rarity(total, count)
            for key in postings:
                overlap[key] = get(key, 0.0) + weight
        floor = MIN_OVERLAP * own_weight
        passing = [(weight, key) for key, weight in overlap.items() if weight >= floor]
        return [key for _, key in heapq.nlargest(MAX_CANDIDATES, passing)]


def _rarity(total: int, count: int) -> float:
    """Smoothed IDF of a token that `count` of `total` remembered items have (positive)."""
    return math.log(1.0 + total / (count + 1))
