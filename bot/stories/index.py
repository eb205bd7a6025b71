"""The stories of the last window, searchable by MinHash LSH instead of comparing every story.

Each story keeps the features of a few of its items (the first and the latest), so a later item
matches on any of them; LSH proposes candidate items, `explain` confirms, and the best score wins.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from datasketch import LeanMinHash, MinHashLSH

from bot.stories.decide import explain
from bot.stories.features import NUM_PERM, SCHEME, SEED, StoryFeatures

DEFAULT_WINDOW_SECONDS = 36 * 3600.0
LSH_THRESHOLD = 0.1
"""Jaccard of signatures above which LSH proposes a candidate; low, because `explain` decides."""
MAX_MEMBERS = 4
"""Items remembered per story: the first, plus the latest MAX_MEMBERS - 1."""

_Key = tuple[int, int]


@dataclass(slots=True)
class _Story:
    members: list[tuple[int, StoryFeatures]] = field(default_factory=list)
    last_at: float = float("-inf")
    next_member: int = 0


class StoryIndex:
    """Stories whose latest item is within `window_seconds`; ids are chosen by the caller."""

    def __init__(self, window_seconds: float = DEFAULT_WINDOW_SECONDS) -> None:
        self.window_seconds = window_seconds
        self._lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        self._stories: dict[int, _Story] = {}
        self._expiry: list[tuple[float, int]] = []

    def __len__(self) -> int:
        return len(self._stories)

    def __contains__(self, story_id: object) -> bool:
        return story_id in self._stories

    def match(self, features: StoryFeatures, at: float) -> int | None:
        """The story `features` belongs to, or None; stories older than the window never match."""
        oldest = at - self.window_seconds
        best: tuple[float, int] | None = None
        for story_id, member in self._lsh.query(_sketch(features)):
            story = self._stories.get(story_id)
            if story is None or story.last_at < oldest:
                continue
            for key, member_features in story.members:
                if key != member:
                    continue
                verdict = explain(features, member_features)
                if verdict.same and (best is None or verdict.score > best[0]):
                    best = (verdict.score, story_id)
        return None if best is None else best[1]

    def add(self, story_id: int, features: StoryFeatures, at: float) -> None:
        """Remember that an item with `features`, published or seen `at`, belongs to `story_id`."""
        story = self._stories.setdefault(story_id, _Story())
        key = story.next_member
        story.next_member += 1
        self._lsh.insert((story_id, key), _sketch(features), check_duplication=False)
        story.members.append((key, features))
        if len(story.members) > MAX_MEMBERS:
            dropped, _ = story.members.pop(1)
            self._lsh.remove((story_id, dropped))
        if at > story.last_at:
            story.last_at = at
            heapq.heappush(self._expiry, (at, story_id))

    def expire(self, now: float) -> None:
        """Forget stories whose latest item is older than the window at `now`."""
        oldest = now - self.window_seconds
        while self._expiry and self._expiry[0][0] < oldest:
            at, story_id = heapq.heappop(self._expiry)
            story = self._stories.get(story_id)
            if story is None or story.last_at != at:
                continue
            for key, _ in story.members:
                self._lsh.remove((story_id, key))
            del self._stories[story_id]


def _sketch(features: StoryFeatures) -> LeanMinHash:
    return LeanMinHash(seed=SEED, hashvalues=features.signature, scheme=SCHEME)
