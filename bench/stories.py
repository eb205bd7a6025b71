"""Story assignment: time per item with 20,000 stories in the window, and memory, beside all-pairs.

Stories are synthesised from the Korean corpus: each title and lead recombines words and figures of
real headlines and leads, so texts look like news but are not near-duplicates of each other. Then
2,000 items (half rewordings of a stored story, half new) are assigned with `match` + `add`, and a
sample with the all-pairs baseline (`explain` against every story). Prints figures; asserts nothing.

    .venv/bin/python bench/stories.py
"""

from __future__ import annotations

import gc
import html
import random
import re
import statistics
import time
import tracemalloc
from pathlib import Path

import feedparser

from bot.stories import StoryFeatures, StoryIndex, explain, features

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
STORIES = 20_000
PROBES = 2_000
BASELINE_PROBES = 40


def corpus_texts() -> tuple[list[list[str]], list[list[str]]]:
    titles: list[list[str]] = []
    leads: list[list[str]] = []
    files = sorted((CORPUS / "knews-categories").rglob("*.xml"))
    files += sorted((CORPUS / "knews-rss-korean").glob("*.xml"))
    for path in files:
        for entry in feedparser.parse(path.read_bytes()).entries:
            summary = re.sub(r"<[^>]+>", " ", html.unescape(entry.get("summary", "")))
            titles.append(entry.get("title", "").split())
            leads.append(summary.split()[:40])
    return titles, leads


def synthesise(
    rng: random.Random, titles: list[list[str]], leads: list[list[str]]
) -> tuple[str, str]:
    """A headline of 4-8 words drawn from three real headlines, a lead from three real leads."""
    title_words = [w for t in rng.sample(titles, 3) for w in t]
    lead_words = [w for t in rng.sample(leads, 3) for w in t]
    title = " ".join(rng.sample(title_words, min(len(title_words), rng.randint(4, 8))))
    lead = " ".join(rng.sample(lead_words, min(len(lead_words), 30)))
    return title, lead


def reword(rng: random.Random, title: str, lead: str) -> tuple[str, str]:
    """Another outlet's version: a word dropped, words swapped, a tag added."""
    words = title.split()
    if len(words) > 3:
        words.pop(rng.randrange(len(words)))
    rng.shuffle(words)
    return rng.choice(["[속보] ", "", "[단독]"]) + " ".join(words), lead


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    rng = random.Random(7)
    titles, leads = corpus_texts()
    texts = [synthesise(rng, titles, leads) for _ in range(STORIES)]
    stored: list[StoryFeatures] = [features(t, lead) for t, lead in texts]

    gc.collect()
    tracemalloc.start()
    index = StoryIndex()
    now = 1_000_000.0
    for story_id, item in enumerate(stored):
        index.add(story_id, item, now + story_id)
    index_bytes, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    features_bytes = 0
    tracemalloc.start()
    kept = [features(t, lead) for t, lead in texts[:1000]]
    features_bytes = tracemalloc.get_traced_memory()[0] * STORIES // 1000
    tracemalloc.stop()
    del kept

    probes = []
    for n in range(PROBES):
        if n % 2:
            story = rng.randrange(STORIES)
            probes.append((story, features(*reword(rng, *texts[story]))))
        else:
            probes.append((None, features(*synthesise(rng, titles, leads))))

    at = now + STORIES
    times: list[float] = []
    found = wrong = 0
    for n, (expected, item) in enumerate(probes):
        start = time.perf_counter()
        story = index.match(item, at)
        index.add(STORIES + n if story is None else story, item, at)
        times.append(time.perf_counter() - start)
        found += expected is not None and story == expected
        wrong += story is not None and story != expected

    baseline: list[float] = []
    for _, item in probes[:BASELINE_PROBES]:
        start = time.perf_counter()
        best = None
        for story_id, other in enumerate(stored):
            verdict = explain(item, other)
            if verdict.same and (best is None or verdict.score > best[0]):
                best = (verdict.score, story_id)
        baseline.append(time.perf_counter() - start)

    median, p99 = statistics.median(times), percentile(times, 0.99)
    base = statistics.median(baseline)
    print(f"stories in window: {STORIES:,}, probes: {PROBES:,} (half rewordings of a stored story)")
    print(f"index match+add: median {median * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms per item")
    print(f"all-pairs explain: median {base * 1e3:.1f} ms per item ({BASELINE_PROBES} probes)")
    print(f"ratio all-pairs / index (median): {base / median:.0f}x")
    print(f"rewordings found: {found}/{PROBES // 2}; items put in a wrong story: {wrong}")
    print(f"memory: index {index_bytes / 2**20:.1f} MiB (LSH + stories, features held by caller)")
    print(f"        features of {STORIES:,} items about {features_bytes / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
