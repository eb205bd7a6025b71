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
from dataclasses import dataclass

from bot.classify.lexicon import Lexicon

SEPARATORS = (" ", "", "-", "·", "ㆍ")
"""How a word and its head noun are joined: `AI 데이터센터`, `AI데이터센터`, `AI-PC`, and the
middle dots of Korean headlines that pair a driver with what it drives (`AI·데이터센터`)."""


@dataclass(frozen=True, slots=True)
class Adjuster:
    """A phrase that multiplies the hits of `topic` it overlaps (exclusions: factor 0)."""

    topic: str
    phrase: str
    factor: float
    label: str


@dataclass(frozen=True, slots=True)
class NegativeContext:
    """A phrase that multiplies every hit of `topic` in the item (`scope` title) or its field."""

    topic: str
    phrase: str
    factor: float
    scope: str
    label: str


def exclusion_adjusters(topic: str, exclusions: tuple[str, ...]) -> Iterator[Adjuster]:
    """The config's exclusions: each vetoes the hits it overlaps, named by the phrase."""
    for phrase in exclusions:
        yield Adjuster(topic, phrase, 0.0, phrase)


def lexicon_adjusters(topic: str, lexicon: Lexicon) -> Iterator[Adjuster]:
    """Every `word + head` phrase of the lexicon's modifier rules."""
    for rule in lexicon.modifiers:
        for word in rule.words:
            for head in rule.heads:
                for separator in rule.separators or SEPARATORS:
                    if separator == "-" and not head[:1].isascii():
                        continue  # "AI-데이터센터" is not written
                    phrase = f"{word}{separator}{head}"
                    yield Adjuster(topic, phrase, rule.factor, f"{rule.name}: {word} + {head}")


def lexicon_negatives(topic: str, lexicon: Lexicon) -> Iterator[NegativeContext]:
    for rule in lexicon.negatives:
        for phrase in rule.phrases:
            yield NegativeContext(topic, phrase, rule.factor, rule.scope, f"{rule.name}: {phrase}")
