"""Topic rules -> tags: every keyword of every topic in one Aho-Corasick automaton, pure and fast.

Text and keywords are NFKC-normalised, case-folded and whitespace-collapsed. A keyword whose edge is
a Latin letter or digit only matches where no Latin letter or digit touches that edge ("AI" in
"AI정책금융" and "生成AI", never in "KAIST"); a Hangul edge needs nothing, because Korean particles
attach to nouns ("정책금융을"). `\\b` would be wrong here: Python counts Hangul as word characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ahocorasick

from bot.config import TopicConfig
from bot.models import Classification, FeedItem, Reason, Tag, Veto

LEAD_CHARS = 200
"""How much of the body's opening counts as its lead (where outlets put a "속보" marker)."""
PERSONAL_PREFIX = "kw:"
"""Topic ids of a chat's own keywords: `kw:반도체`."""
FIELDS = ("title", "lead", "summary", "content", "categories")


@dataclass(frozen=True, slots=True)
class TopicRule:
    """What tags an item with one topic."""

    topic: str
    keywords: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    fields: tuple[str, ...] = ("title", "summary", "categories")
    title_weight: float = 2.0
    threshold: float = 2.0


def personal_rule(keyword: str) -> TopicRule:
    """The rule for a chat's own keyword: any hit in the title or the summary tags the item."""
    return TopicRule(
        topic=PERSONAL_PREFIX + normalize(keyword),
        keywords=(keyword,),
        fields=("title", "summary"),
        title_weight=1.0,
        threshold=1.0,
    )


def normalize(text: str) -> str:
    """NFKC, case-folded, every run of whitespace made one space."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _touches_latin(char: str) -> bool:
    """Whether a neighbouring character would glue onto a Latin-edged keyword."""
    if char < "\x80":
        return char.isalnum()
    return _is_latin_alnum(char)


@lru_cache(maxsize=4096)
def _is_latin_alnum(char: str) -> bool:
    if char.isascii():
        return char.isalnum()
    return char.isalpha() and unicodedata.name(char, "").startswith("LATIN")


class Classifier:
    """Tags items by topic rules; build once per config (and per change of personal keywords).

    Each field gets its own automaton holding only the phrases of the topics that read that
    field, so the scan loop never filters; every key carries its edge guards and, per topic, the
    weight a hit adds in that field. The loop is the hot path: it touches each hit once, adds to
    a score, and builds reasons only for the topics whose score reaches their threshold.
    """

    def __init__(self, rules: Iterable[TopicRule]) -> None:
        self.rules: dict[str, TopicRule] = {rule.topic: rule for rule in rules}
        self._rank = {topic: n for n, topic in enumerate(self.rules)}
        # field -> normalised key -> [(topic, phrase, weight, veto)]
        tables: dict[str, dict[str, list[tuple[str, str, float, bool]]]] = {}
        for rule in self.rules.values():
            phrases = [(k, False) for k in rule.keywords] + [(e, True) for e in rule.exclude]
            for phrase, veto in phrases:
                key = normalize(phrase)
                if not key:
                    continue
                for field_name in rule.fields:
                    weight = rule.title_weight if field_name == "title" else 1.0
                    tables.setdefault(field_name, {}).setdefault(key, []).append(
                        (rule.topic, phrase, weight, veto)
                    )
        self._automata: dict[str, Any] = {}
        for field_name, table in tables.items():
            automaton = ahocorasick.Automaton()
            for key, entries in table.items():
                keywords = tuple((t, p, w) for t, p, w, veto in entries if not veto)
                vetoes = tuple((t, p) for t, p, _w, veto in entries if veto)
                edges = (len(key) - 1, _is_latin_alnum(key[0]), _is_latin_alnum(key[-1]))
                automaton.add_word(key, (*edges, keywords, vetoes))
            automaton.make_automaton()
            self._automata[field_name] = automaton

    def classify(self, item: FeedItem) -> Classification:
        """Every topic whose score the item reaches, with the hits behind it."""
        if not self._automata:
            return Classification()
        scores: dict[str, float] = {}
        hits: list[tuple[str, str, str]] = []  # (topic, phrase, field) in scan order
        vetoes: list[Veto] = []
        for field_name, text in item_fields(item, self._automata):
            self._scan(field_name, text, scores, hits, vetoes)
        passing = {t for t, score in scores.items() if score >= self.rules[t].threshold}
        if not passing:
            return Classification((), tuple(vetoes))
        reasons: dict[str, dict[Reason, None]] = {t: {} for t in passing}
        for topic, phrase, field_name in hits:
            if topic in passing:
                reasons[topic][Reason(phrase, field_name)] = None
        tags = sorted(
            (Tag(t, tuple(reasons[t]), scores[t]) for t in passing),
            key=lambda tag: self._rank[tag.topic],
        )
        return Classification(tuple(tags), tuple(vetoes))

    def _scan(
        self,
        field_name: str,
        text: str,
        scores: dict[str, float],
        found: list[tuple[str, str, str]],
        vetoes: list[Veto],
    ) -> None:
        normalized = normalize(text)
        if not normalized:
            return
        hits: list[
            tuple[int, int, str, str, float]
        ] = []  # (start, -end, ...): sorts leftmost-longest
        veto_spans: list[tuple[int, int, str, str]] = []
        last = len(normalized) - 1
        for end, (span, guard_start, guard_end, keywords, excluded) in self._automata[
            field_name
        ].iter(normalized):
            start = end - span
            if guard_start and start and _touches_latin(normalized[start - 1]):
                continue
            if guard_end and end != last and _touches_latin(normalized[end + 1]):
                continue
            for topic, phrase, weight in keywords:
                hits.append((start, -end, topic, phrase, weight))
            for topic, phrase in excluded:
                veto_spans.append((start, end, topic, phrase))
        if not hits:
            return
        # leftmost-longest per topic: "AI칩" is one hit, not "AI" and "AI칩". Hits come by start,
        # so one ending no later than the furthest kept hit of its topic lies inside that hit;
        # tracked per topic, so other topics' hits (everyone's personal keywords) cannot matter.
        hits.sort()
        reach: dict[str, int] = {}
        for start, negative_end, topic, phrase, weight in hits:
            end = -negative_end
            if veto_spans:
                veto = next(
                    (
                        v_phrase
                        for v_start, v_end, v_topic, v_phrase in veto_spans
                        if v_topic == topic and v_start <= end and start <= v_end
                    ),
                    None,
                )
                if veto is not None:
                    vetoes.append(Veto(phrase, veto, field_name))
                    continue
            if reach.get(topic, -1) >= end:
                continue
            reach[topic] = end
            scores[topic] = scores.get(topic, 0.0) + weight
            found.append((topic, phrase, field_name))


def item_fields(item: FeedItem, wanted: Container[str]) -> list[tuple[str, str]]:
    """The texts of `item` that topic rules look at, by field name."""
    out = []
    if "title" in wanted:
        out.append(("title", item.title))
    if "lead" in wanted:
        lead = " / ".join(
            part
            for part in (item.image_alt, item.summary[:LEAD_CHARS], item.content[:LEAD_CHARS])
            if part
        )
        out.append(("lead", lead))
    if "summary" in wanted:
        out.append(("summary", item.summary))
    if "content" in wanted:
        out.append(("content", item.content))
    if "categories" in wanted and item.categories:
        out.append(("categories", " | ".join(item.categories)))
    return out


def rules_from_config(topics: Mapping[str, TopicConfig]) -> list[TopicRule]:
    """TopicRules for a config's `topics:` section."""
    return [
        TopicRule(
            topic=topic_id,
            keywords=topic.keywords,
            exclude=topic.exclude,
            fields=topic.fields,
            title_weight=topic.title_weight,
            threshold=topic.threshold,
        )
        for topic_id, topic in topics.items()
    ]


class ClassifierCache:
    """The classifier for the config's topics plus everyone's personal keywords.

    Rebuilt only when the set of personal keywords changes, never per item.
    """

    def __init__(self, rules: Iterable[TopicRule]) -> None:
        self._rules = list(rules)
        self._keywords: frozenset[str] | None = None
        self._classifier = Classifier(self._rules)

    def get(self, personal_keywords: Iterable[str] = ()) -> Classifier:
        wanted = frozenset(personal_keywords)
        if wanted != self._keywords:
            self._classifier = Classifier(self._rules + [personal_rule(k) for k in sorted(wanted)])
            self._keywords = wanted
        return self._classifier
