"""Topic rules -> one Aho-Corasick automaton shared by the fields the rules read.

Every keyword, lexicon term, exclusion and context phrase of every topic becomes a key, normalised
once. A key's value carries what the scan needs and nothing to look up:

    (span, guard_start, guard_end, by_field)

* `span`: the key's length minus one (the hit's start is `end - span`);
* `guard_start`, `guard_end`: whether that edge is a Latin letter or digit, so no other Latin
  letter or digit may touch it there;
* `by_field`: per field of `FIELDS`, in that order, None where no topic that reads the field has
  the key, else `(hits, adjusters, negatives, bounded)`:
  * `hits`: `(topic, phrase, points, bounded, alone)`, `points` being the term's weight times the
    field's weight (the title's `title_weight`);
  * `adjusters`: the exclusions and modifiers the key spells (`context.Adjuster`);
  * `negatives`: its negative contexts (`context.NegativeContext`; a title-scoped one is only
    in the title's entry);
  * `bounded`: whether any of those hits must stand as a word of its own (`boundary: word`).

The scan therefore skips, at the cost of one index, the phrases of topics that do not read the
field it scans. One automaton instead of one per field: each key is added once, not once per
field that reads it, and the context phrases of one topic (about 20,000 from the lexicons' rules)
share one entry across the fields. A scan costs more the larger its automaton, though, so a field
that fewer than half of the keys concern (the summaries, which one shipped topic reads) also gets
one of its own, holding the same values.
"""

from __future__ import annotations

import gc
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

import ahocorasick

from bot.classify.context import (
    Adjuster,
    NegativeContext,
    Spelling,
    exclusion_adjusters,
    lexicon_adjusters,
    lexicon_negatives,
)
from bot.classify.lexicon import load_lexicon
from bot.models import TopicRule

FIELDS = ("title", "lead", "summary", "content", "categories")


@dataclass(frozen=True, slots=True)
class Compiled:
    """The automaton of each field worth scanning (one a topic with any phrase reads): most
    share one, a field that few topics read may have its own."""

    automata: dict[str, Any]


def normalize(text: str) -> str:
    """NFKC, case-folded, every run of whitespace made one space."""
    return spaced(text).casefold()


def spaced(text: str) -> str:
    """NFKC, every run of whitespace made one space: `normalize` before case folding."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


@lru_cache(maxsize=4096)
def is_latin_alnum(char: str) -> bool:
    """Whether `char` is a Latin letter or a digit (ASCII or not: `é` is Latin too)."""
    if char.isascii():
        return char.isalnum()
    return char.isalpha() and unicodedata.name(char, "").startswith("LATIN")


def compile_rules(rules: Sequence[TopicRule], *, context: bool = True) -> Compiled | None:
    """The automaton of `rules` (None when no rule has a phrase); `context=False` leaves out the
    lexicons' context rules."""
    with _collector_paused():
        return _compile(rules, context=context)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The build allocates tens of thousands of small tuples that all live as long as the
    automaton: the cyclic garbage collector, which would walk them (and everything else the
    process holds) several times over, has nothing to find there (a sixth of the build)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


Entry = tuple[tuple[Any, ...], tuple[Adjuster, ...], tuple[NegativeContext, ...], bool]
"""What a key does in one field: (hits, adjusters, negatives, bounded)."""
ByField = tuple[Entry | None, ...]


def _compile(rules: Sequence[TopicRule], *, context: bool) -> Compiled | None:
    table = _Table()
    readers: dict[str, int] = {}  # field -> keys of the rules that read it (an upper bound)
    for rule in rules:
        if added := table.add_rule(rule, context=context):
            for name in rule.fields:
                readers[name] = readers.get(name, 0) + added
    if not table.entries:
        return None
    values = {
        key: (len(key) - 1, is_latin_alnum(key[0]), is_latin_alnum(key[-1]), by_field)
        for key, by_field in table.entries.items()
    }
    shared = _automaton(values.items())
    automata = {}
    for index, name in enumerate(FIELDS):
        if name not in readers:
            continue
        if readers[name] * 2 < len(values):
            # a scan costs more the larger the automaton: a field few topics read (the long
            # summaries, say) gets one of its own phrases
            automata[name] = _automaton((k, v) for k, v in values.items() if v[3][index])
        else:
            automata[name] = shared
    return Compiled(automata)


def _automaton(values: Iterable[tuple[str, tuple[Any, ...]]]) -> Any:
    automaton = ahocorasick.Automaton()
    for key, value in values:
        automaton.add_word(key, value)
    automaton.make_automaton()
    return automaton


class _Table:
    """Normalised key -> what it does per field, filled rule by rule."""

    def __init__(self) -> None:
        self.entries: dict[str, ByField] = {}
        self.normalize = cache(normalize)  # a phrase of several rules is normalised once
        self._part = cache(_part)

    def add_rule(self, rule: TopicRule, *, context: bool) -> int:
        """Put every phrase of `rule` in the table; how many keys it brought."""
        if not set(rule.fields) & set(FIELDS):
            return 0  # a rule that reads nothing matches nothing
        topic = rule.topic
        terms: dict[str, float] = dict.fromkeys(rule.keywords, 1.0)
        adjusters = list(exclusion_adjusters(topic, rule.exclude))
        negatives: list[tuple[str, NegativeContext]] = []
        # normalised terms that must stand alone as words / that need another hit; a keyword of
        # the config is neither, whatever its lexicon says
        bounded: set[str] = set()
        not_alone: set[str] = set()
        if rule.lexicon:
            lexicon = load_lexicon(rule.lexicon)
            for phrase, weight in lexicon.terms:
                terms[phrase] = max(weight, terms.get(phrase, 0.0))
            keywords = {self.normalize(k) for k in rule.keywords}
            bounded = {self.normalize(t) for t in lexicon.word_bounded} - keywords
            not_alone = {self.normalize(t) for t in lexicon.not_alone} - keywords
            if context:
                adjusters.extend(lexicon_adjusters(topic, lexicon))
                negatives.extend(lexicon_negatives(topic, lexicon))
        # pickers: `pick((None, entry))` puts `entry` in the fields the rule reads (or only in
        # its title), `pick_title((None, entry, title_entry))` puts `title_entry` in the title
        reads = rule.fields
        pick = itemgetter(*(int(name in reads) for name in FIELDS))
        pick_title = itemgetter(
            *((2 if name == "title" else 1) if name in reads else 0 for name in FIELDS)
        )
        pick_only_title = itemgetter(*(int(name == "title" and name in reads) for name in FIELDS))
        added = 0
        seen: set[str] = set()  # one key per topic: "AI" and "ai" are the same hit
        for phrase, weight in terms.items():
            key = self.normalize(phrase)
            if key and key not in seen:
                seen.add(key)
                word, alone = key in bounded, key not in not_alone
                title_hit = (topic, phrase, weight * rule.title_weight, word, alone)
                field_hit = (topic, phrase, weight, word, alone)
                added += self._add(
                    key,
                    pick_title((None, ((field_hit,), (), (), word), ((title_hit,), (), (), word))),
                )
        entries = self.entries
        for adjuster, spelling in adjusters:  # the hot loop of the build: about 20,000 keys
            by_field = pick((None, ((), (adjuster,), (), False)))
            for key in self._keys(spelling):
                known = entries.get(key)
                entries[key] = by_field if known is None else _merge(known, by_field)
            added += len(spelling.separators)
        for phrase, negative in negatives:
            # a title-scoped negative acts only from the title
            picker = pick_only_title if negative.scope == "title" else pick
            added += self._add(self.normalize(phrase), picker((None, ((), (), (negative,), False))))
        return added

    def _add(self, key: str, by_field: ByField) -> int:
        if not key or by_field == _NOWHERE:
            return 0
        known = self.entries.get(key)
        self.entries[key] = by_field if known is None else _merge(known, by_field)
        return 1

    def _keys(self, spelling: Spelling) -> list[str]:
        """The normalised keys of a context phrase's spellings, each `normalize(phrase)`.

        Normalising the word and the head once and joining them with each separator gives
        the same keys four times faster (about 20,000 phrases); it is exact where Unicode
        cannot join the parts into something else (`is_normalized`), and where it could, the
        phrase is normalised whole."""
        word, head = self._part(spelling.word), self._part(spelling.head)
        keys = []
        for separator in spelling.separators:
            joint = _SPACE if separator == " " else self._part(separator)
            if (
                word
                and head
                and joint
                and unicodedata.is_normalized("NFKC", word[0] + joint[0] + head[0])
            ):
                key = word[1] + joint[1] + head[1]
            else:
                key = self.normalize(f"{spelling.word}{separator}{spelling.head}")
            if key.strip():
                keys.append(key)
        return keys


_SPACE = (" ", " ")
_NOWHERE = (None,) * len(FIELDS)


def _part(text: str) -> tuple[str, str] | None:
    """A phrase's part as (NFKC, normalised), or None where whitespace in it or at its edges
    would make the joined parts differ from the normalised phrase."""
    composed = unicodedata.normalize("NFKC", text)
    folded = composed.casefold()
    if folded != " ".join(folded.split()):
        return None
    return composed, folded


def _merge(first: ByField, second: ByField) -> ByField:
    """Two entries of one key, field by field, the first one's first."""
    return tuple(
        b
        if a is None
        else a
        if b is None
        else (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] or b[3])
        for a, b in zip(first, second, strict=True)
    )
