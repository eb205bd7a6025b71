"""Korean morphology, measured: does kiwipiepy's analysis raise the shipped topics' F1, and what
does it cost per item?

What "with morphology" means here
---------------------------------
Every text the classifier reads is first analysed by kiwipiepy (``Kiwi().tokenize``) and
rewritten as its morphemes joined by spaces, less particles, endings and suffixes (tags ``J*``,
``E*``, ``XS*``, ``VCP``): compounds come apart (``정책금융기관들이`` -> ``정책 금융 기관``) and
particles fall off (``신보가`` -> ``신보``). Every phrase the classifier matches (the config's
keywords and exclusions, the lexicons' terms, modifier words and heads, negative phrases) is
analysed the same way, so a keyword meets the text in the same form. Scoring, thresholds and
context rules are the product's, unchanged (``bot.classify.Classifier``).

What is printed
---------------
* precision, recall and F1 per topic and label group (the groups of
  ``tests/unit/test_classifier_quality.py``: the tuning set ``labels.jsonl``, the synthetic set
  and the frozen set ``labels_frozen.jsonl``, each in Korean and English), without and with
  morphology; F1 is ``n/a`` where a group has no positive and nothing was tagged;
* items per second per core (CPU seconds of this process, pinned to one core where the OS
  allows) over the Korean corpus items: classification alone, and analysis plus classification.

The product would keep morphology only if it raised F1 on the frozen set and classification
stayed above 5,000 items/s per core.

Reproduce
---------
    .venv/bin/pip install kiwipiepy      # optional: a bench dependency, not the product's
    .venv/bin/python bench/morphology.py

Without kiwipiepy the script says so in one line and exits 0 (nothing measured); without the
corpus (``../shared`` or $NEWSBOT_SHARED) it measures the synthetic set only and says so.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

try:
    from kiwipiepy import Kiwi
except ImportError:
    print("bench/morphology.py: kiwipiepy is not installed (pip install kiwipiepy); skipped")
    sys.exit(0)

import bot.classify.automaton as automaton  # noqa: E402
from bot.classify import Classifier, Lexicon, TopicRule, load_lexicon  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.feeds.parse import parse_feed  # noqa: E402
from bot.models import FeedItem  # noqa: E402
from tests.shared import CORPUS  # noqa: E402
from tests.unit.test_classifier_quality import (  # noqa: E402
    GROUPS,
    TOPICS,
    Counts,
    all_items,
    score,
)

DROPPED = ("J", "E", "XS", "VCP")
"""Morpheme tags left out of the analysed text: particles, endings, suffixes, the copula."""


class Analyser:
    """Text -> its morphemes joined by spaces (cached: phrases repeat)."""

    def __init__(self) -> None:
        self.kiwi = Kiwi()
        self._known: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        if not text.strip():
            return text
        known = self._known.get(text)
        if known is None:
            tokens = self.kiwi.tokenize(text)
            known = " ".join(t.form for t in tokens if not t.tag.startswith(DROPPED)) or text
            self._known[text] = known
        return known

    def uncached(self, text: str) -> str:
        tokens = self.kiwi.tokenize(text) if text.strip() else []
        return " ".join(t.form for t in tokens if not t.tag.startswith(DROPPED)) or text


def analysed_item(item: FeedItem, analyse: Callable[[str], str]) -> FeedItem:
    return dataclasses.replace(
        item,
        title=analyse(item.title),
        summary=analyse(item.summary),
        content=analyse(item.content),
        image_alt=analyse(item.image_alt),
        categories=tuple(analyse(c) for c in item.categories),
    )


def analysed_lexicon(lexicon: Lexicon, analyse: Callable[[str], str]) -> Lexicon:
    def each(phrases: Iterable[str]) -> tuple[str, ...]:
        return tuple(analyse(p) for p in phrases)

    return dataclasses.replace(
        lexicon,
        terms=tuple((analyse(p), w) for p, w in lexicon.terms),
        modifiers=tuple(
            dataclasses.replace(m, words=each(m.words), heads=each(m.heads))
            for m in lexicon.modifiers
        ),
        negatives=tuple(dataclasses.replace(n, phrases=each(n.phrases)) for n in lexicon.negatives),
        word_bounded=frozenset(each(lexicon.word_bounded)),
        not_alone=frozenset(each(lexicon.not_alone)),
    )


def analysed_classifier(rules: list[TopicRule], analyse: Callable[[str], str]) -> Classifier:
    lexicons = {
        r.lexicon: analysed_lexicon(load_lexicon(r.lexicon), analyse) for r in rules if r.lexicon
    }
    shipped_loader = automaton.load_lexicon
    automaton.load_lexicon = lexicons.__getitem__  # type: ignore[assignment]
    try:
        return Classifier(
            dataclasses.replace(
                r,
                keywords=tuple(analyse(k) for k in r.keywords),
                exclude=tuple(analyse(e) for e in r.exclude),
            )
            for r in rules
        )
    finally:
        automaton.load_lexicon = shipped_loader


def f1(c: Counts) -> float | None:
    if c.tp + c.fp + c.fn == 0:
        return None
    return 2 * c.tp / (2 * c.tp + c.fp + c.fn)


def figure(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.2f}"


def per_core_rate(
    run: Callable[[FeedItem], object], items: list[FeedItem], seconds: float
) -> float:
    for item in items[:50]:
        run(item)  # warm-up
    done = 0
    started = time.process_time()
    while time.process_time() - started < seconds:
        for item in items:
            run(item)
        done += len(items)
    return done / (time.process_time() - started)


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rules = load_config(ROOT / "subscriptions.yaml").config.topic_rules()
    plain = Classifier(rules)
    analyse = Analyser()
    started = time.perf_counter()
    morph = analysed_classifier(rules, analyse)
    print(f"kiwipiepy: model loaded and lexicons analysed in {time.perf_counter() - started:.1f} s")
    if not CORPUS.is_dir():
        print(f"corpus not found at {CORPUS}: the synthetic set only")
    labelled = list(all_items())
    morph_items = [dataclasses.replace(x, item=analysed_item(x.item, analyse)) for x in labelled]
    without = score(iter(labelled), plain.classify)
    with_ = score(iter(morph_items), morph.classify)

    print()
    columns = f"{'P':>5} {'R':>5} {'F1':>5}"
    print(f"{'':<31}{'without morphology':<22}{'with morphology'}")
    print(f"{'group':<10} {'topic':<15} {'pos':>4}   {columns}      {columns}")
    for group in GROUPS:
        for topic in TOPICS:
            a, b = without[group, topic], with_[group, topic]
            if not a.positives and not (a.tp + a.fp + b.tp + b.fp):
                continue
            print(
                f"{group:<10} {topic:<15} {a.positives:>4}   "
                f"{figure(a.precision)} {figure(a.recall)} {figure(f1(a))}      "
                f"{figure(b.precision)} {figure(b.recall)} {figure(f1(b))}"
            )

    korean = []
    if (CORPUS / "knews-rss-korean").is_dir():
        for path in sorted((CORPUS / "knews-rss-korean").iterdir()):
            korean.extend(parse_feed(path.read_bytes()).items)
    timed = korean or [x.item for x in labelled]
    alone = per_core_rate(plain.classify, timed, 2.0)
    both = per_core_rate(lambda i: morph.classify(analysed_item(i, analyse.uncached)), timed, 2.0)
    print()
    print(f"items/s per core over {len(timed)} items ({'Korean corpus' if korean else 'labels'}):")
    print(f"  classify alone          {alone:>9,.0f}")
    print(f"  analyse + classify      {both:>9,.0f}   ({both / alone:.3f}x; the bar is 5,000)")


if __name__ == "__main__":
    main()
