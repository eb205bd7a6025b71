"""Topic rules -> tags: every keyword of every topic in one Aho-Corasick automaton, pure and fast.

Text and keywords are NFKC-normalised, case-folded and whitespace-collapsed. A keyword whose edge is
a Latin letter or digit only matches where no Latin letter or digit touches that edge ("AI" in
"AI정책금융" and "生成AI", never in "KAIST"); a Hangul edge needs nothing, because Korean particles
attach to nouns ("정책금융을"). `\\b` would be wrong here: Python counts Hangul as word characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

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


@lru_cache(maxsize=4096)
def _is_latin_alnum(char: str) -> bool:
    if char.isascii():
        return char.isalnum()
    return char.isalpha() and unicodedata.name(char, "").startswith("LATIN")


@dataclass(frozen=True, slots=True)
class _Entry:
    topic: str
    phrase: str
    """As the config wrote it, for reasons."""
    veto: bool
    guard_start: bool
    guard_end: bool


@dataclass(slots=True)
class _Hit:
    start: int
    end: int
    entry: _Entry


@dataclass(slots=True)
class _TopicHits:
    by_field: dict[str, list[_Hit]] = field(default_factory=dict)
    vetoes: list[Veto] = field(default_factory=list)


class Classifier:
    """Tags items by topic rules; build once per config (and per change of personal keywords)."""

    def __init__(self, rules: Iterable[TopicRule]) -> None:
        self.rules: dict[str, TopicRule] = {rule.topic: rule for rule in rules}
        self._automaton = ahocorasick.Automaton()
        table: dict[str, list[_Entry]] = {}
        for rule in self.rules.values():
            for phrase, veto in [(k, False) for k in rule.keywords] + [
                (e, True) for e in rule.exclude
            ]:
                key = normalize(phrase)
                if not key:
                    continue
                entry = _Entry(
                    rule.topic, phrase, veto, _is_latin_alnum(key[0]), _is_latin_alnum(key[-1])
                )
                table.setdefault(key, []).append(entry)
        for key, entries in table.items():
            self._automaton.add_word(key, (len(key), tuple(entries)))
        self._empty = not table
        if not self._empty:
            self._automaton.make_automaton()
        self._fields_wanted = {f for rule in self.rules.values() for f in rule.fields}

    def classify(self, item: FeedItem) -> Classification:
        """Every topic whose score the item reaches, with the hits behind it."""
        if self._empty:
            return Classification()
        per_topic: dict[str, _TopicHits] = {}
        for field_name, text in item_fields(item, self._fields_wanted):
            self._scan(field_name, text, per_topic)
        tags = []
        vetoes: list[Veto] = []
        for topic, hits in per_topic.items():
            vetoes.extend(hits.vetoes)
            tag = self._score(self.rules[topic], hits)
            if tag is not None:
                tags.append(tag)
        order = list(self.rules)
        tags.sort(key=lambda tag: order.index(tag.topic))
        return Classification(tuple(tags), tuple(vetoes))

    def _scan(self, field_name: str, text: str, per_topic: dict[str, _TopicHits]) -> None:
        normalized = normalize(text)
        if not normalized:
            return
        keyword_hits: list[_Hit] = []
        veto_hits: list[_Hit] = []
        last = len(normalized) - 1
        for end, (length, entries) in self._automaton.iter(normalized):
            start = end - length + 1
            before_ok = start == 0 or not _is_latin_alnum(normalized[start - 1])
            after_ok = end == last or not _is_latin_alnum(normalized[end + 1])
            for entry in entries:
                if field_name not in self.rules[entry.topic].fields:
                    continue
                if (entry.guard_start and not before_ok) or (entry.guard_end and not after_ok):
                    continue
                (veto_hits if entry.veto else keyword_hits).append(_Hit(start, end + 1, entry))
        if not keyword_hits:
            return
        # leftmost-longest per topic: "AI칩" is one hit, not "AI" and "AI칩". Hits come by start,
        # so one ending no later than the furthest kept hit of its topic lies inside that hit;
        # tracked per topic, so other topics' hits (everyone's personal keywords) cannot matter.
        reach: dict[str, int] = {}
        for hit in sorted(keyword_hits, key=lambda h: (h.start, -(h.end - h.start))):
            veto = next(
                (
                    v
                    for v in veto_hits
                    if v.entry.topic == hit.entry.topic and v.start < hit.end and hit.start < v.end
                ),
                None,
            )
            topic_hits = per_topic.setdefault(hit.entry.topic, _TopicHits())
            if veto is not None:
                topic_hits.vetoes.append(Veto(hit.entry.phrase, veto.entry.phrase, field_name))
                continue
            if reach.get(hit.entry.topic, -1) >= hit.end:
                continue
            reach[hit.entry.topic] = hit.end
            topic_hits.by_field.setdefault(field_name, []).append(hit)

    @staticmethod
    def _score(rule: TopicRule, hits: _TopicHits) -> Tag | None:
        score = 0.0
        reasons: list[Reason] = []
        for field_name in FIELDS:
            field_hits = hits.by_field.get(field_name, ())
            weight = rule.title_weight if field_name == "title" else 1.0
            score += weight * len(field_hits)
            for hit in field_hits:
                reason = Reason(hit.entry.phrase, field_name)
                if reason not in reasons:
                    reasons.append(reason)
        if not reasons or score < rule.threshold:
            return None
        return Tag(rule.topic, tuple(reasons), score)


def item_fields(item: FeedItem, wanted: set[str] | frozenset[str]) -> list[tuple[str, str]]:
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
