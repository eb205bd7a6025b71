"""Topic rules -> tags: one scan of each field by the automaton of `automaton.py`, then scores.

Text and keywords are NFKC-normalised, case-folded and whitespace-collapsed. A keyword whose edge is
a Latin letter or digit only matches where no Latin letter or digit touches that edge ("AI" in
"AI정책금융" and "生成AI", never in "KAIST"); a Hangul edge needs nothing, because Korean particles
attach to nouns ("정책금융을"). `\\b` would be wrong here: Python counts Hangul as word characters.

A lexicon term of a `boundary: word` group matches only as a word of its own (`WORD_END`): short
Hangul forms such as 산은 or 신보 would otherwise hide inside 부산은행 or 조선신보.

A hit adds its weight (1 for a keyword, the lexicon's weight for a term) times its field's weight
(the title counts `title_weight`), times the factors of the context rules around it (`context.py`).
A term of an `alone: false` group (a name that also means something else) counts once per item,
and only when another phrase of its topic hits the item too. An item is tagged with every topic
whose score reaches the topic's threshold.
"""

from __future__ import annotations

import heapq
from collections.abc import Container, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.classify.automaton import FIELDS, compile_rules, is_latin_alnum, normalize, spaced
from bot.models import Classification, FeedItem, Reason, Tag, TopicRule, Veto

LEAD_CHARS = 200
"""How much of the body's opening counts as its lead (where outlets put a "속보" marker)."""
FIELD_CHARS = 20_000
"""How much of a summary or content topic rules read: a long article whole, and a broken feed's
megabyte no further (dense hits and exceptions in one field cost their product)."""
PERSONAL_PREFIX = "kw:"
"""Topic ids of a chat's own keywords: `kw:반도체`."""
ALONE_RULE = "alone: needs another hit"
"""The rule named in explanations when an `alone: false` term hit an item with nothing beside it."""
_FIELD_INDEX = {name: n for n, name in enumerate(FIELDS)}

# fmt: off
_PARTICLES = (
    "은", "는", "이", "가", "을", "를", "의", "에", "에서", "에게", "께", "께서", "와", "과", "도",
    "만", "로", "으로", "까지", "부터", "보다", "처럼", "조차", "마저", "이나", "나", "랑", "이랑",
    "하고", "만큼", "측", "등", "이다", "이며", "이고", "이자", "이라는", "이라고", "이란",
)
# fmt: on
WORD_END = frozenset(
    [""] + [base + tail for base in _PARTICLES for tail in ("", "는", "도", "의", "만", "에")]
)
"""What may follow a `boundary: word` term before the next space or punctuation: nothing, or a
Korean particle (with a second one: `에서는`, `과의`), so `신보가` matches and `신보라` does not."""


def personal_rule(keyword: str) -> TopicRule:
    """The rule for a chat's own keyword: any hit in the title or the summary tags the item."""
    return TopicRule(
        topic=PERSONAL_PREFIX + normalize(keyword),
        keywords=(keyword,),
        fields=("title", "summary"),
        title_weight=1.0,
        threshold=1.0,
    )


def _touches_latin(char: str) -> bool:
    """Whether a neighbouring character would glue onto a Latin-edged keyword."""
    if char < "\x80":
        return char.isalnum()
    return is_latin_alnum(char)


@dataclass(frozen=True, slots=True)
class Hit:
    """One counted or cancelled hit, for explanations: what, where, how much, and why."""

    phrase: str
    field: str
    points: float
    """What it added to the score (0 when a context rule or an exclusion cancelled it)."""
    rule: str = ""
    """The context rule or exclusion that changed it, if any."""


@dataclass(frozen=True, slots=True)
class TopicScore:
    """A topic's score on one item, reached or not, with every hit behind it."""

    topic: str
    score: float
    threshold: float
    hits: tuple[Hit, ...]

    @property
    def tagged(self) -> bool:
        return self.score >= self.threshold


@dataclass(frozen=True, slots=True)
class Explanation:
    """What `classify` decided plus every topic that scored, tagged or not (`--explain`)."""

    classification: Classification
    scores: tuple[TopicScore, ...]

    @property
    def near_misses(self) -> tuple[TopicScore, ...]:
        """Topics that scored something (or had hits cancelled) but stayed below threshold."""
        return tuple(s for s in self.scores if not s.tagged and s.hits)


class Classifier:
    """Tags items by topic rules; build once per config (and per change of personal keywords).

    One automaton serves the fields (`automaton.py`): each key carries its edge guards and, per
    field, what it does there (hits with their points, context rules), so the scan loop never
    filters beyond one index. The loop is
    the hot path: it touches each hit once, and reasons are built only for the topics whose score
    reaches their threshold.
    """

    def __init__(self, rules: Iterable[TopicRule], *, context: bool = True) -> None:
        """`context=False` leaves out the lexicons' context rules (the benchmark's layer cost)."""
        self.rules: dict[str, TopicRule] = {rule.topic: rule for rule in rules}
        self._rank = {topic: n for n, topic in enumerate(self.rules)}
        self._compiled = compile_rules(list(self.rules.values()), context=context)

    def classify(self, item: FeedItem) -> Classification:
        """Every topic whose score the item reaches, with the hits behind it."""
        return self._run(item, explain=False).classification

    def explain(self, item: FeedItem) -> Explanation:
        """`classify`, plus every topic's score and hits, those below threshold included."""
        return self._run(item, explain=True)

    def _run(self, item: FeedItem, *, explain: bool) -> Explanation:
        if self._compiled is None:
            return Explanation(Classification(), ())
        automata = self._compiled.automata
        scanned = [
            (field_name, *self._scan(automata[field_name], _FIELD_INDEX[field_name], text))
            for field_name, text in item_fields(item, automata)
        ]
        # a negative phrase in the title lowers its topic everywhere in the item
        item_wide: dict[str, tuple[float, str]] = {}
        for field_name, _hits, _adjust, negatives in scanned:
            if field_name == "title":
                for topic, factor, scope, label in negatives:
                    if scope == "title" and factor < item_wide.get(topic, (1.0, ""))[0]:
                        item_wide[topic] = (factor, label)
        scores: dict[str, float] = {}
        counted: list[tuple[str, Hit]] = []
        vetoes: list[Veto] = []
        waiting: dict[str, dict[str, Hit]] = {}
        for field_name, hits, adjust, negatives in scanned:
            field_wide = dict(item_wide)
            for topic, factor, scope, label in negatives:
                if scope == "field" and factor < field_wide.get(topic, (1.0, ""))[0]:
                    field_wide[topic] = (factor, label)
            self._score(field_name, hits, adjust, field_wide, scores, counted, vetoes, waiting)
        if waiting:
            self._settle(waiting, scores, counted)
        passing = {t for t, score in scores.items() if score >= self.rules[t].threshold}
        tags = []
        if passing:
            reasons: dict[str, dict[Reason, None]] = {t: {} for t in passing}
            for topic, hit in counted:
                if topic in passing:
                    keyword = f"{hit.phrase} ({hit.rule})" if hit.rule else hit.phrase
                    reasons[topic][Reason(keyword, hit.field)] = None
            tags = sorted(
                (Tag(t, tuple(reasons[t]), scores[t]) for t in passing),
                key=lambda tag: self._rank[tag.topic],
            )
        classification = Classification(tuple(tags), tuple(vetoes))
        if not explain:
            return Explanation(classification, ())
        per_topic: dict[str, list[Hit]] = {}
        for topic, hit in counted:
            per_topic.setdefault(topic, []).append(hit)
        return Explanation(
            classification,
            tuple(
                TopicScore(t, scores.get(t, 0.0), self.rules[t].threshold, tuple(per_topic[t]))
                for t in sorted(per_topic, key=self._rank.__getitem__)
            ),
        )

    @staticmethod
    def _scan(automaton: Any, index: int, text: str) -> tuple[list[Any], list[Any], list[Any]]:
        # `normalize` in its two steps, keeping the text's case where folding kept every position
        cased = spaced(text)
        normalized = cased.casefold()
        case_kept = len(cased) == len(normalized)
        # (start, -end, topic, phrase, points, alone): sorted, leftmost-longest
        hits: list[tuple[int, int, str, str, float, bool]] = []
        adjust: list[tuple[int, int, str, float, str]] = []
        negatives: list[tuple[str, float, str, str]] = []
        if not normalized:
            return hits, adjust, negatives
        last = len(normalized) - 1
        for end, (span, guard_start, guard_end, by_field) in automaton.iter(normalized):
            entry = by_field[index]
            if entry is None:  # a phrase of topics that do not read this field
                continue
            found, adjusters, negative, word = entry
            start = end - span
            if guard_start and start and _touches_latin(normalized[start - 1]):
                continue
            if guard_end and end != last and _touches_latin(normalized[end + 1]):
                continue
            if word and not _stands_alone(normalized, start, end):
                found = tuple(hit for hit in found if not hit[3])
            if found and case_kept and not cased[start : end + 1].isupper():
                found = tuple(hit for hit in found if not is_acronym(hit[1]))
            for topic, phrase, points, _bounded, alone in found:
                hits.append((start, -end, topic, phrase, points, alone))
            for topic, factor, label in adjusters:
                adjust.append((start, end, topic, factor, label))
            negatives.extend(negative)
        return hits, adjust, negatives

    def _score(
        self,
        field_name: str,
        hits: list[tuple[int, int, str, str, float, bool]],
        adjust: list[tuple[int, int, str, float, str]],
        field_wide: dict[str, tuple[float, str]],
        scores: dict[str, float],
        counted: list[tuple[str, Hit]],
        vetoes: list[Veto],
        waiting: dict[str, dict[str, Hit]],
    ) -> None:
        if not hits:
            return
        # leftmost-longest per topic: "AI칩" is one hit, not "AI" and "AI칩". Hits come by start,
        # so one ending no later than the furthest kept hit of its topic lies inside that hit;
        # tracked per topic, so other topics' hits (everyone's personal keywords) cannot matter.
        hits.sort()
        covering = _Covering(adjust)
        reach: dict[str, int] = {}
        for start, negative_end, topic, phrase, points, alone in hits:
            end = -negative_end
            factor, label = field_wide.get(topic, (1.0, ""))
            strongest = covering.strongest(topic, start)
            if strongest is not None and strongest[0] < factor:
                factor, label = strongest
            if factor == 0.0:
                vetoes.append(Veto(phrase, label, field_name))
                counted.append((topic, Hit(phrase, field_name, 0.0, label)))
                continue
            if reach.get(topic, -1) >= end:
                continue
            reach[topic] = end
            if not alone:
                # settled once the whole item is read: its best hit, if another phrase hits too
                best = waiting.setdefault(topic, {}).get(phrase)
                if best is None or points * factor > best.points:
                    waiting[topic][phrase] = Hit(phrase, field_name, points * factor, label)
                continue
            scores[topic] = scores.get(topic, 0.0) + points * factor
            counted.append((topic, Hit(phrase, field_name, points * factor, label)))

    @staticmethod
    def _settle(
        waiting: dict[str, dict[str, Hit]],
        scores: dict[str, float],
        counted: list[tuple[str, Hit]],
    ) -> None:
        """Count each `alone: false` term once, if another phrase of its topic hit the item."""
        phrases: dict[str, set[str]] = {}
        for topic, hit in counted:
            if hit.points > 0:
                phrases.setdefault(topic, set()).add(hit.phrase)
        for topic, hits in waiting.items():
            others = phrases.get(topic, set())
            for phrase, hit in hits.items():
                if others - {phrase} or any(p != phrase for p in hits):
                    scores[topic] = scores.get(topic, 0.0) + hit.points
                    counted.append((topic, hit))
                else:
                    counted.append((topic, Hit(phrase, hit.field, 0.0, hit.rule or ALONE_RULE)))


class _Covering:
    """The context rules (`adjust`: start, end, topic, factor, label) that cover each hit, found
    in one sweep over hits that come by start: of those of the hit's topic covering its start,
    the lowest factor, the first found on a tie. (Compared with every rule per hit, a broken
    feed's field dense with hits and rules took their product.)"""

    def __init__(self, adjust: Iterable[tuple[int, int, str, float, str]]) -> None:
        self._waiting: dict[str, list[tuple[int, int, int, float, str]]] = {}
        """By topic, the rules not yet reached, as (start, order found, end, factor, label)."""
        for order, (start, end, topic, factor, label) in enumerate(adjust):
            self._waiting.setdefault(topic, []).append((start, order, end, factor, label))
        for rules in self._waiting.values():
            rules.sort(reverse=True)  # popped from the end: the earliest start first
        self._open: dict[str, list[tuple[float, int, int, str]]] = {}
        """By topic, a heap of the rules reached, as (factor, order found, end, label)."""

    def strongest(self, topic: str, at: int) -> tuple[float, str] | None:
        """(factor, label) of the strongest rule of `topic` covering position `at`, if any;
        `at` never decreases from one call to the next."""
        waiting = self._waiting.get(topic)
        if waiting is None:
            return None
        reached = self._open.setdefault(topic, [])
        while waiting and waiting[-1][0] <= at:
            _, order, end, factor, label = waiting.pop()
            heapq.heappush(reached, (factor, order, end, label))
        while reached and reached[0][2] < at:  # ended before `at`: before every later hit too
            heapq.heappop(reached)
        return (reached[0][0], reached[0][3]) if reached else None


@lru_cache(maxsize=4096)
def is_acronym(phrase: str) -> bool:
    """A phrase of two or three capitals (`AI`, `GPU`, `HUG`) means the initialism only where the
    text writes it so too: `Ai Weiwei` is a name, `hug` a word. Longer ones are left alone: house
    styles write a pronounceable acronym as a word (`Nato`, `Nasa`)."""
    return 2 <= len(phrase) <= 3 and phrase.isascii() and phrase.isalpha() and phrase.isupper()


def _stands_alone(text: str, start: int, end: int) -> bool:
    """Whether `text[start:end + 1]` is a word of its own: no letter or digit before it, and
    after it the end of the word or a Korean particle (`WORD_END`)."""
    if start and text[start - 1].isalnum():
        return False
    stop = end + 1
    while stop < len(text) and text[stop].isalnum():
        stop += 1
        if stop - end > 5:
            return False
    return text[end + 1 : stop] in WORD_END


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
        out.append(("summary", item.summary[:FIELD_CHARS]))
    if "content" in wanted:
        out.append(("content", item.content[:FIELD_CHARS]))
    if "categories" in wanted and item.categories:
        out.append(("categories", " | ".join(item.categories)))
    return out


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
