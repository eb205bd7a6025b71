"""Story assignment: time per item with 20,000 stories in the window, and memory, beside all-pairs.

Stories are real items of the Korean corpus with their figures and some of their names replaced,
so that every stored story reads like news (same templates, same boilerplate, same common words as
the real feeds: `장중 3% 이상 급등`, `신규 확진`, `미국 증시 시황`) but is another event: another
company, another count. They are dated across the window.

Then 2,000 items are assigned with `matches` + `join` + `add`, as the live pipeline would. Half
are reports of a stored story by another outlet: the real second report of a hand-labelled story
(tests/data/stories/labels.jsonl) with the same replacements as the stored first one. The other
half are new stories made the same way, which must not join any. A sample is also assigned by the
all-pairs baseline (`explain` against every stored story). Prints figures; asserts nothing.

    .venv/bin/python bench/stories.py
"""

from __future__ import annotations

import gc
import html
import itertools
import json
import random
import re
import statistics
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import feedparser

from bot.stories import StoryFeatures, StoryIndex, explain, features
from bot.stories.normalize import names

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "feeds"
LABELS = REPO / "tests" / "data" / "stories" / "labels.jsonl"
STORIES = 20_000
PROBES = 2_000
BASELINE_PROBES = 40
WINDOW = 36 * 3600.0
RENAMED = 0.8
"""Share of the name-like words of title and lead replaced per synthetic story (everywhere)."""

Item = tuple[str, str]
Perturb = Callable[[str], str]


def plain(markup: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup))).strip()


def corpus() -> tuple[dict[tuple[str, int], Item], list[tuple[Item, Item]]]:
    """Every Korean item by (file, index), and the pairs of reports of one labelled story."""
    items: dict[tuple[str, int], Item] = {}
    files = sorted((CORPUS / "knews-categories").rglob("*.xml"))
    files += sorted((CORPUS / "knews-rss-korean").glob("*.xml"))
    for path in files:
        name = str(path.relative_to(CORPUS))
        for n, entry in enumerate(feedparser.parse(path.read_bytes()).entries):
            items[(name, n)] = (entry.get("title", ""), plain(entry.get("summary", ""))[:400])
    by_story: defaultdict[str, list[Item]] = defaultdict(list)
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        by_story[row["story"]].append(items[(row["file"], row["index"])])
    pairs = [pair for reports in by_story.values() for pair in itertools.permutations(reports, 2)]
    return items, pairs


def perturbation(rng: random.Random, item: Item, vocabulary: list[str]) -> Perturb:
    """Another event of the same kind: every figure changed, RENAMED of the names swapped.

    The same function applied to two reports of one event keeps them one event. Each word's swap
    is drawn from its own generator, seeded by the word and one draw of `rng`: how many names the
    product reads in an item never shifts the draws of the other stories, so the stories stay the
    same from one version of the reading to the next.
    """
    own = sorted(names(item[0]) | names(item[1]), key=lambda word: (-len(word), word))
    seed = rng.random()
    draws = {w: random.Random(f"{seed}:{w}") for w in own}
    swaps = {w: draw.choice(vocabulary) for w, draw in draws.items() if draw.random() < RENAMED}
    digits: dict[str, str] = {}

    def new_digits(match: re.Match[str]) -> str:
        run = match.group(0)
        if run not in digits:
            digits[run] = str(
                rng.randrange(10 ** (len(run) - 1) if len(run) > 1 else 1, 10 ** len(run))
            )
        return digits[run]

    def apply(text: str) -> str:
        text = re.sub(r"\d+", new_digits, text)
        for old, new in swaps.items():
            text = text.replace(old, new)
        return text

    return apply


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    rng = random.Random(7)
    items, pairs = corpus()
    real = list(items.values())
    vocabulary = sorted({w for title, lead in real for w in names(title) | names(lead)})

    def new_story() -> Item:
        title, lead = rng.choice(real)
        change = perturbation(rng, (title, lead), vocabulary)
        return change(title), change(lead)

    texts = [new_story() for _ in range(STORIES)]
    # a story of the window with a second report to come, made from a labelled pair
    reports: dict[int, Item] = {}
    for story in rng.sample(range(STORIES), PROBES // 2):
        (title, lead), second = rng.choice(pairs)
        change = perturbation(rng, (title, lead), vocabulary)
        texts[story] = (change(title), change(lead))
        reports[story] = (change(second[0]), change(second[1]))
    stored: list[StoryFeatures] = [features(t, lead) for t, lead in texts]
    start_at = 1_000_000.0
    dated = sorted(rng.uniform(start_at, start_at + WINDOW * 0.95) for _ in range(STORIES))
    at = start_at + WINDOW

    gc.collect()
    tracemalloc.start()
    index = StoryIndex(WINDOW)
    for story_id, item in enumerate(stored):
        index.add(story_id, item, dated[story_id])
    index_bytes, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    kept = [features(t, lead) for t, lead in texts[:1000]]
    features_bytes = tracemalloc.get_traced_memory()[0] * STORIES // 1000
    tracemalloc.stop()
    del kept

    probes: list[tuple[int | None, StoryFeatures]] = []
    second_reports = iter(reports.items())
    for n in range(PROBES):
        if n % 2:
            story, (title, lead) = next(second_reports)
            probes.append((story, features(title, lead)))
        else:
            probes.append((None, features(*new_story())))

    times: list[float] = []
    found = wrong = 0
    joined_into: dict[int, int] = {}
    for n, (expected, item) in enumerate(probes):
        start = time.perf_counter()
        matches = index.matches(item, at)
        story = matches[0] if matches else STORIES + n
        index.join(story, matches[1:])
        index.add(story, item, at)
        times.append(time.perf_counter() - start)
        joined_into.update((other, story) for other in matches[1:])
        while expected in joined_into:
            expected = joined_into[expected]
        found += expected is not None and story == expected
        wrong += bool(matches) and story != expected

    baseline: list[float] = []
    base_found = base_wrong = 0
    for expected, item in probes[:BASELINE_PROBES]:
        start = time.perf_counter()
        best = None
        for story_id, other in enumerate(stored):
            verdict = explain(item, other)
            if verdict.same and (best is None or verdict.score > best[0]):
                best = (verdict.score, story_id)
        baseline.append(time.perf_counter() - start)
        base_found += expected is not None and best is not None and best[1] == expected
        base_wrong += best is not None and best[1] != expected

    median, p99 = statistics.median(times), percentile(times, 0.99)
    base = statistics.median(baseline)
    print(
        f"stories in window: {STORIES:,}; probes: {PROBES:,}, half second reports of a stored "
        "story, half new stories"
    )
    print(f"index matches+join+add: median {median * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms per item")
    print(f"all-pairs explain: median {base * 1e3:.1f} ms per item ({BASELINE_PROBES} probes)")
    print(f"ratio all-pairs / index (median): {base / median:.0f}x")
    print(f"index: second reports found {found}/{PROBES // 2}; items put in a wrong story {wrong}")
    print(f"index: stories joined into another by a report of both {len(joined_into)}")
    print(
        f"all-pairs on its {BASELINE_PROBES} probes: found {base_found}/{BASELINE_PROBES // 2}, "
        f"wrong {base_wrong}"
    )
    print(f"memory: index {index_bytes / 2**20:.1f} MiB (postings + stories, features held)")
    print(f"        features of {STORIES:,} items about {features_bytes / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
