"""Context rules as automaton phrases: what lowers or vetoes a hit by its neighbourhood.

Three kinds, all found by the same Aho-Corasick scan as the keywords (no second pass over the text):

* an **exclusion** of the config (`속보치`) cancels a keyword hit it overlaps;
* a **modifier** (`AI` + head noun `데이터센터`, `수요`, `PC`) multiplies the hit it overlaps by its
  factor: the topic word qualifies another subject;

  both reach only hits that start inside them: `AI 데이터센터` vetoes the `AI` it begins with,
  not the `오픈AI` it ends (the lab's own data centre is still news about the lab);
* a **negative** phrase (`[인사]`, `부고`, `임명`) multiplies every hit of its topic: in the whole
  item when it is in the title, or in its own field.

Each carries a label that ends up in the reasons (`newsbot classify`) or the vetoes (`/why`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from bot.classify.lexicon import Lexicon

SEPARATORS = (" ", "", "-", "·", "ㆍ")
"""How a word and its head noun are joined: `AI 데이터센터`, `AI데이터센터`, `AI-PC`, and the
middle dots of Korean headlines that pair a driver with what it drives (`AI·데이터센터`)."""


class Adjuster(NamedTuple):
    """How a phrase changes the hits of `topic` it overlaps: times `factor` (exclusions: 0).

    A tuple, not a dataclass: the automaton stores it as it is and the scan unpacks it, and one
    serves every spelling of its `word + head` (a few thousand per lexicon)."""

    topic: str
    factor: float
    label: str


class NegativeContext(NamedTuple):
    """How a phrase lowers every hit of `topic` in the item (`scope` title) or its field."""

    topic: str
    factor: float
    scope: str
    label: str


class Spelling(NamedTuple):
    """How a context phrase is written: `word`, one of `separators`, `head`; a phrase of its own
    (an exclusion) is its `word`, with one empty separator and no head."""

    word: str
    separators: tuple[str, ...] = ("",)
    head: str = ""

    def phrases(self) -> Iterator[str]:
        for separator in self.separators:
            yield f"{self.word}{separator}{self.head}"


def exclusion_adjusters(
    topic: str, exclusions: tuple[str, ...]
) -> Iterator[tuple[Adjuster, Spelling]]:
    """The config's exclusions: each vetoes the hits it overlaps, named by the phrase."""
    for phrase in exclusions:
        yield Adjuster(topic, 0.0, phrase), Spelling(phrase)


def lexicon_adjusters(topic: str, lexicon: Lexicon) -> Iterator[tuple[Adjuster, Spelling]]:
    """Every `word + head` of the lexicon's modifier rules: what it does, how it is written."""
    for rule in lexicon.modifiers:
        separators = rule.separators or SEPARATORS
        unhyphenated = tuple(s for s in separators if s != "-")  # "AI-데이터센터" is not written
        for word in rule.words:
            for head in rule.heads:
                adjuster = Adjuster(topic, rule.factor, f"{rule.name}: {word} + {head}")
                joins = separators if head[:1].isascii() else unhyphenated
                yield adjuster, Spelling(word, joins, head)


def lexicon_negatives(topic: str, lexicon: Lexicon) -> Iterator[tuple[str, NegativeContext]]:
    """Every phrase of the lexicon's negative contexts, with what it does."""
    for rule in lexicon.negatives:
        for phrase in rule.phrases:
            yield phrase, NegativeContext(topic, rule.factor, rule.scope, f"{rule.name}: {phrase}")
