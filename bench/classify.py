"""Classifier benchmark: items/second of ``bot.classify.Classifier`` against a regex baseline.

What is measured
----------------
Every item of the Korean corpus (all feeds in ``knews-rss-korean/`` under /work/shared/corpus/feeds,
or $NEWSBOT_CORPUS) is parsed once up front with ``bot.feeds.parse.parse_feed``; parsing is not
timed; the list is shuffled once (seeded). Then, pinned to ONE core (``os.sched_setaffinity``
where the OS has it), each contender classifies the list over and over for ``--seconds`` (default
2.5 s; the clock is read every 16 items) after 100 untimed warm-up items. The table gives items per
second of this process's CPU time (the figure that compares across runs on a shared machine), the
same per wall-clock second, the passes over the list, and the build time of the matcher.

Two keyword sets:

  * ``shipped``: the ``topics:`` of subscriptions.yaml as they are (3 topics).
  * ``generated``: the shipped topics plus generated topics (``--topics`` in all, default 20)
    whose keywords bring the total to ``--keywords`` (default 1,000). The generated keywords are
    corpus vocabulary: Hangul stems (particles stripped) and English words and two-word phrases of
    middling frequency from the Korean and English corpus feeds, so they hit about as often as
    real topic keywords do (the most frequent words, which hit everything, are left out). The
    choice is seeded (``--seed``), so every run measures the same set.

Four contenders per set, on the same items and the same normalised fields; the first three are
newsbot with its layers switched on one by one, so the differences are what each layer costs
(printed as microseconds per item; on a shared machine a difference within noise can be negative):

  * ``newsbot``: ``Classifier(rules).classify(item)``, everything on: one Aho-Corasick automaton
    shared by the fields (one of its own for a field few topics read) for every keyword, lexicon
    term (``bot/lexicons/*.yaml``), exclusion and context phrase, Latin boundary checks,
    whole-word checks of the lexicons' short forms (``boundary: word``), leftmost-longest,
    modifiers and negative contexts, ambiguous names counted once and only beside another hit
    (``alone: false``), per-field scores, title weight, threshold and reasons.
  * ``-context``: the same without the lexicons' context rules
    (``Classifier(rules, context=False)``).
  * ``-lexicon``: keywords and exclusions of subscriptions.yaml only (every rule's lexicon off).
  * ``baseline``: one compiled Python regex alternation of the topics' keywords (not the lexicons;
    longest first, so the longest keyword wins at a position), each Latin-edged keyword given
    lookarounds for the boundary rule (no Latin letter or digit may touch it; the lookbehind sits
    after the first character, so ``re`` keeps its first-character skip), run with ``finditer`` over
    the same fields after the same ``bot.classify.normalize``, the match looked up in a keyword ->
    topics table and scored with the same title weight and threshold. It does less than newsbot: no
    lexicons, no context rules, no exclusions, no overlapping hits, and its Latin class is a range
    approximation (ASCII, Latin-1, Latin Extended-A/B, Latin Extended Additional) of newsbot's
    Unicode-name test.

The ratio printed is newsbot items/s divided by baseline items/s, both per CPU second (above 1:
newsbot is faster). Tag counts of both are printed too, to show they do comparable work (they
differ where exclusions or overlapping keywords matter).

Reproduce
---------
    .venv/bin/python bench/classify.py
    .venv/bin/python bench/classify.py --seconds 3 --keywords 1000 --topics 20 --seed 1

Run from the repository root or anywhere (paths are resolved from this file). If the corpus is
absent the script exits with status 2 and says where it looked; nothing is skipped silently.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.classify import (  # noqa: E402
    FIELDS,
    Classifier,
    TopicRule,
    item_fields,
    load_lexicon,
    normalize,
)
from bot.config import load_config  # noqa: E402
from bot.feeds.parse import ParseError, parse_feed  # noqa: E402
from bot.models import FeedItem  # noqa: E402

CORPUS = Path(os.environ.get("NEWSBOT_CORPUS", str(ROOT.parent / "shared" / "corpus" / "feeds")))
KOREAN_DIR = "knews-rss-korean"
ENGLISH_FILES = (
    "feedreader-codehollow/Rss20NYTimes.xml",
    "feedreader-codehollow/Rss20Reuters.xml",
    "feedreader-codehollow/Rss20CTV.xml",
    "feedreader-codehollow/Rss20BreakingNews.xml",
    "feedreader-codehollow/Rss20Mirror.xml",
    "feedreader-codehollow/Rss20JapanTimes.xml",
    "feedreader-codehollow/Rss20MoscowTimes.xml",
    "feedreader-codehollow/AtomTheVerge.xml",
    "rss-parser/guardian.rss",
    "node-feedparser/tpm.atom",
)
"""English snapshots whose vocabulary feeds the generated keywords (missing ones are skipped)."""
PARTICLES = sorted(
    "은 는 이 가 을 를 의 에 에서 에게 으로 로 과 와 도 만 까지 부터 보다 이다 했다 한다 하는 "  # noqa: SIM905
    "하고 했고 된다 됐다 하며".split(),
    key=len,
    reverse=True,
)
"""Endings stripped from Hangul words to get noun-like stems (longest first)."""
STOPWORDS = frozenset(
    "the and for that with from this have has had was were will would said says about after "  # noqa: SIM905
    "their they them there than then when what which who whom been into over more most also "
    "some such only other its it's just like can could should may might new one two three "
    "year years time first last people while where your you our out all but not are his her "
    "she him".split()
)
LATIN = "0-9a-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
"""Latin letters and digits after NFKC and case folding, as ranges (the baseline's boundary)."""


def die(message: str) -> None:
    print(f"bench/classify.py: {message}", file=sys.stderr)
    sys.exit(2)


def load_items(paths: Sequence[Path]) -> list[FeedItem]:
    items: list[FeedItem] = []
    for path in paths:
        try:
            items.extend(parse_feed(path.read_bytes(), source=path.stem).items)
        except ParseError as exc:
            print(f"  (not a feed, left out: {path.name}: {exc})")
    return items


# keyword generation ----------------------------------------------------------------------------


def stem(word: str) -> str:
    for particle in PARTICLES:
        if word.endswith(particle) and len(word) - len(particle) >= 2:
            return word[: -len(particle)]
    return word


def vocabulary(korean: list[FeedItem], english: list[FeedItem]) -> tuple[list[str], list[str]]:
    """Middling-frequency Hangul stems and English words/bigrams, most frequent first."""
    ko: Counter[str] = Counter()
    for item in korean:
        text = f"{item.title} {item.summary}"
        ko.update({stem(w) for w in re.findall(r"[가-힣]{2,}", text)})  # document frequency
    en: Counter[str] = Counter()
    for item in english:
        words = [
            w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'-]+", f"{item.title} {item.summary}")
        ]
        terms = {w for w in words if len(w) >= 4 and w not in STOPWORDS}
        terms |= {
            f"{a} {b}"
            for a, b in itertools.pairwise(words)
            if len(a) >= 4 and len(b) >= 4 and a not in STOPWORDS and b not in STOPWORDS
        }
        en.update(terms)

    def band(counter: Counter[str], docs: int) -> list[str]:
        # leave out words in more than 5% of items (they would tag everything) and hapaxes
        ceiling = max(3, docs // 20)
        kept = [w for w, n in counter.items() if 2 <= n <= ceiling and 2 <= len(w) <= 24]
        return sorted(kept, key=lambda w: (-counter[w], w))  # not set order: hashes vary per run

    return band(ko, len(korean)), band(en, len(english))


def generated_rules(
    shipped: list[TopicRule],
    total: int,
    topics: int,
    korean: list[str],
    english: list[str],
    seed: int,
) -> list[TopicRule]:
    """The shipped rules plus `topics - len(shipped)` topics bringing the keywords to `total`."""
    taken = {normalize(k) for rule in shipped for k in (*rule.keywords, *rule.exclude)}
    wanted = total - sum(len(rule.keywords) for rule in shipped)
    rng = random.Random(seed)
    pool_ko = [w for w in korean if normalize(w) not in taken]
    pool_en = [w for w in english if normalize(w) not in taken]
    n_en = min(len(pool_en), wanted * 3 // 10)
    n_ko = min(len(pool_ko), wanted - n_en)
    if n_ko + n_en < wanted:
        die(f"corpus vocabulary too small for {total} keywords ({n_ko + n_en + total - wanted})")
    words = rng.sample(pool_ko, n_ko) + rng.sample(pool_en, n_en)
    rng.shuffle(words)
    extra = max(1, topics - len(shipped))
    return shipped + [
        TopicRule(topic=f"gen{index:02d}", keywords=tuple(words[index::extra]))
        for index in range(extra)
    ]


# the baseline ------------------------------------------------------------------------------------


class RegexBaseline:
    """One regex alternation of every keyword; a match is looked up, scored like newsbot scores."""

    def __init__(self, rules: Sequence[TopicRule]) -> None:
        self.rules = {rule.topic: rule for rule in rules}
        self.by_key: dict[str, list[TopicRule]] = {}
        for rule in rules:
            for keyword in rule.keywords:
                key = normalize(keyword)
                if key and rule not in self.by_key.setdefault(key, []):
                    self.by_key[key].append(rule)
        latin = re.compile(f"[{LATIN}]")
        parts = []
        for key in sorted(self.by_key, key=lambda k: (-len(k), k)):
            first, rest = re.escape(key[0]), re.escape(key[1:])
            if latin.fullmatch(key[0]):
                # the lookbehind goes after the first character ("a(?<![latin]a)i"), so every
                # branch still opens with a literal and `re` can skip positions that start no
                # keyword; written first ("(?<![latin])ai") it made the baseline ~50x slower
                first += f"(?<![{LATIN}]{first})"
            part = first + rest
            if latin.fullmatch(key[-1]):
                part += f"(?![{LATIN}])"
            parts.append(part)
        self.pattern = re.compile("|".join(parts))
        self.fields = {f for rule in rules for f in rule.fields}

    def classify(self, item: FeedItem) -> tuple[str, ...]:
        scores: dict[str, float] = {}
        for field_name, text in item_fields(item, self.fields):
            for match in self.pattern.finditer(normalize(text)):
                for rule in self.by_key[match.group()]:
                    if field_name in rule.fields:
                        weight = rule.title_weight if field_name == "title" else 1.0
                        scores[rule.topic] = scores.get(rule.topic, 0.0) + weight
        return tuple(t for t, s in scores.items() if s >= self.rules[t].threshold)


# timing ------------------------------------------------------------------------------------------


def pin_to_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity on this OS); Python runs on one core anyway"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def items_per_second(
    classify: Callable[[FeedItem], object], items: list[FeedItem], seconds: float
) -> tuple[float, float, float]:
    """(items/s of CPU time, items/s of wall time, passes) classifying `items` for ~`seconds`.

    The clock is read every 16 items, so a slow contender also stops after ~`seconds`; `items`
    is in a seeded random order, so a partial pass is a fair sample of the corpus.
    """
    for item in items[:100]:  # warm-up: lazily built tables, the boundary-check cache
        classify(item)
    done = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while True:
        for start in range(0, len(items), 16):
            for item in items[start : start + 16]:
                classify(item)
            done += len(items[start : start + 16])
            if time.perf_counter() - wall0 >= seconds:
                break
        else:
            continue
        break
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return done / cpu, done / wall, done / len(items)


def tag_count(classify: Callable[[FeedItem], Sequence[str]], items: list[FeedItem]) -> int:
    return sum(len(classify(item)) for item in items)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.5, help="timed run per contender")
    parser.add_argument("--keywords", type=int, default=1000, help="keywords of the large set")
    parser.add_argument("--topics", type=int, default=20, help="topics of the large set")
    parser.add_argument("--seed", type=int, default=1, help="choice of generated keywords")
    parser.add_argument("--config", type=Path, default=ROOT / "subscriptions.yaml")
    args = parser.parse_args(argv)

    korean_dir = CORPUS / KOREAN_DIR
    korean_files = sorted(korean_dir.glob("*.xml")) if korean_dir.is_dir() else []
    if not korean_files:
        die(
            f"Korean corpus not found at {korean_dir} (put ../shared beside the repo, or set "
            "NEWSBOT_CORPUS to the directory holding knews-rss-korean/); nothing was measured"
        )
    print(f"corpus: {korean_dir} ({len(korean_files)} files)")
    items = load_items(korean_files)
    if not items:
        die(f"no items could be parsed from {korean_dir}; nothing was measured")
    random.Random(args.seed).shuffle(items)
    english = load_items([CORPUS / f for f in ENGLISH_FILES if (CORPUS / f).is_file()])
    print(f"items: {len(items)} Korean (timed); {len(english)} English (vocabulary only)")

    shipped = load_config(args.config).config.topic_rules()
    ko_words, en_words = vocabulary(items, english)
    large = generated_rules(shipped, args.keywords, args.topics, ko_words, en_words, args.seed)
    print(pin_to_one_core())
    print(f"timing: 100 warm-up items, then classify for {args.seconds:.1f} s per contender")
    print("items/s is per CPU second of this process (wall-clock figure beside it: on a busy")
    print("machine the two differ, and the CPU figure is the one that compares across runs)\n")

    header = (
        f"{'keyword set':<38} {'contender':<9} {'build ms':>8} {'items/s':>9} "
        f"{'(wall)':>9} {'passes':>6} {'tags':>5}"
    )
    print(header)
    print("-" * len(header))
    ratios = []
    for name, rules in (("shipped", shipped), ("generated", large)):
        keywords = sum(len(rule.keywords) for rule in rules)
        exclusions = sum(len(rule.exclude) for rule in rules)
        lexicon_terms = sum(len(load_lexicon(r.lexicon).terms) for r in rules if r.lexicon)
        label = f"{name}: {keywords}+{lexicon_terms} lex, {len(rules)} topics"
        layers = (
            ("newsbot", rules, True),  # everything on: keywords, lexicons, context rules
            ("-context", rules, False),  # lexicons without their context rules
            ("-lexicon", [replace(r, lexicon=None) for r in rules], True),  # keywords only
        )
        contenders = []
        for contender, layer_rules, context in layers:
            t0 = time.perf_counter()
            classifier = Classifier(layer_rules, context=context)
            build_ms = (time.perf_counter() - t0) * 1000
            contenders.append(
                (
                    contender,
                    build_ms,
                    classifier.classify,
                    lambda item, c=classifier: c.classify(item).topics,
                )
            )
        t0 = time.perf_counter()
        baseline = RegexBaseline(rules)
        built_baseline = (time.perf_counter() - t0) * 1000
        contenders.append(("baseline", built_baseline, baseline.classify, baseline.classify))
        results = {}
        for contender, build_ms, classify, tags in contenders:
            rate, wall_rate, passes = items_per_second(classify, items, args.seconds)
            results[contender] = rate
            print(
                f"{label:<38} {contender:<9} {build_ms:>8.1f} {rate:>9,.0f} {wall_rate:>9,.0f} "
                f"{passes:>6.1f} {tag_count(tags, items):>5}"
            )
        ratio = results["newsbot"] / results["baseline"]
        ratios.append((label, ratio))
        print(f"{'':<38} newsbot/baseline = {ratio:.2f}x ({exclusions} exclusions in newsbot)")
        per_item = {k: 1e6 / v for k, v in results.items()}
        print(
            f"{'':<38} layer cost per item: lexicons "
            f"{per_item['-context'] - per_item['-lexicon']:+.1f} us, context rules "
            f"{per_item['newsbot'] - per_item['-context']:+.1f} us, all on "
            f"{per_item['newsbot']:.1f} us\n"
        )
    print("summary: " + "; ".join(f"{label}: newsbot/baseline {r:.2f}x" for label, r in ratios))
    print(
        f"fields read: {', '.join(f for f in FIELDS if f in {x for r in large for x in r.fields})}"
    )


if __name__ == "__main__":
    main()
