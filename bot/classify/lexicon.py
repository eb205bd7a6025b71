"""Topic lexicons: the weighted names and context rules of `bot/lexicons/*.yaml`, loaded once.

A lexicon is data an editor can read and change without touching code: groups of terms with a
weight (companies, models, programmes, agencies, in Korean and English), and context rules that
lower or veto a hit by its neighbourhood (see `context.py`). Two group options say how a term
matches and counts:

* `boundary: word`: the term must stand as a word of its own: nothing but a space, punctuation or
  the start of the text before it, and after it the end of the word or a Korean particle
  (`산은이`, `신보의`, `무보와`), never another word around it (`부산은행`, `조선신보`, `업무보고`).
  For short Hangul forms that hide inside everyday words; Hangul terms otherwise match anywhere.
* `alone: false`: a name that also means something else (Gemini the sign, Claude the first name):
  its hit counts once per item, and only beside a hit of another phrase of the same topic.

A topic of subscriptions.yaml names its lexicon with `lexicon: <name>`; the file is
`bot/lexicons/<name>.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ruamel.yaml import YAML

PACKAGE = "bot.lexicons"


class LexiconError(Exception):
    """A lexicon file is missing or malformed; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Modifier:
    """`word` followed by `head` makes the word's hit a modifier.

    They are joined by each of `separators` (None: a space, nothing, a hyphen or a middle dot,
    `context.SEPARATORS`); a rule for lists of industries (`AI·바이오`) names only the dots.
    """

    name: str
    factor: float
    words: tuple[str, ...]
    heads: tuple[str, ...]
    separators: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Negative:
    """A phrase whose presence in `scope` (title: the whole item; field: that field) lowers hits."""

    name: str
    factor: float
    scope: str
    phrases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Lexicon:
    """One topic's weighted terms and context rules."""

    name: str
    terms: tuple[tuple[str, float], ...]
    """(phrase, weight); a phrase listed twice keeps its largest weight."""
    modifiers: tuple[Modifier, ...] = ()
    negatives: tuple[Negative, ...] = ()
    word_bounded: frozenset[str] = frozenset()
    """Terms of `boundary: word` groups: they match only as a word of their own."""
    not_alone: frozenset[str] = frozenset()
    """Terms of `alone: false` groups: they count once, and only beside another phrase's hit."""


def lexicon_names() -> frozenset[str]:
    """The lexicons shipped in the package."""
    return frozenset(
        entry.name.removesuffix(".yaml")
        for entry in resources.files(PACKAGE).iterdir()
        if entry.name.endswith(".yaml")
    )


@cache
def load_lexicon(name: str) -> Lexicon:
    """The shipped lexicon `name`, parsed and checked (cached: files never change at run time)."""
    source = f"bot/lexicons/{name}.yaml"
    if name not in lexicon_names():
        known = ", ".join(sorted(lexicon_names()))
        raise LexiconError(f"{source}: no such lexicon (shipped: {known})")
    text = resources.files(PACKAGE).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return parse_lexicon(text, name=name, source=source)


def parse_lexicon(text: str, *, name: str, source: str = "lexicon") -> Lexicon:
    """A `Lexicon` from YAML text; raise LexiconError naming the key that is wrong."""
    document = YAML(typ="safe").load(text)
    if not isinstance(document, dict) or document.get("version") != 1:
        raise LexiconError(f"{source}: expected a mapping with `version: 1`")
    weights: dict[str, float] = {}
    bounded: set[str] = set()
    not_alone: set[str] = set()
    groups = _mapping(document.get("groups", {}), f"{source}: groups")
    for group_name, group in groups.items():
        where = f"{source}: groups.{group_name}"
        group = _mapping(group, where)
        weight = _weight(group.get("weight", 1.0), f"{where}.weight")
        boundary = group.get("boundary", "none")
        if boundary not in ("none", "word"):
            raise LexiconError(f"{where}.boundary: use word or none")
        alone = group.get("alone", True)
        if not isinstance(alone, bool):
            raise LexiconError(f"{where}.alone: expected true or false")
        for term in _phrases(group.get("terms", []), f"{where}.terms"):
            # a term listed twice takes its largest weight, and the stricter of the options
            weights[term] = max(weight, weights.get(term, 0.0))
            if boundary == "word":
                bounded.add(term)
            if not alone:
                not_alone.add(term)
    context = _mapping(document.get("context", {}) or {}, f"{source}: context")
    modifiers = tuple(
        Modifier(
            name=str(rule.get("name", f"modifier {n}")),
            factor=_factor(rule.get("factor", 0.0), f"{source}: context.modifiers[{n}].factor"),
            words=_phrases(rule.get("words", []), f"{source}: context.modifiers[{n}].words"),
            heads=_phrases(rule.get("heads", []), f"{source}: context.modifiers[{n}].heads"),
            separators=_separators(
                rule.get("separators"), f"{source}: context.modifiers[{n}].separators"
            ),
        )
        for n, rule in enumerate(_rules(context.get("modifiers", []), f"{source}: modifiers"))
    )
    negatives = []
    for n, rule in enumerate(_rules(context.get("negative", []), f"{source}: negative")):
        scope = rule.get("scope", "title")
        if scope not in ("title", "field"):
            raise LexiconError(f"{source}: context.negative[{n}].scope: use title or field")
        negatives.append(
            Negative(
                name=str(rule.get("name", f"negative {n}")),
                factor=_factor(rule.get("factor", 0.0), f"{source}: context.negative[{n}].factor"),
                scope=scope,
                phrases=_phrases(rule.get("phrases", []), f"{source}: context.negative[{n}]"),
            )
        )
    return Lexicon(
        name,
        tuple(weights.items()),
        modifiers,
        tuple(negatives),
        frozenset(bounded),
        frozenset(not_alone),
    )


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise LexiconError(f"{where}: expected a mapping")
    return value


def _rules(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise LexiconError(f"{where}: expected a list of mappings")
    return value


def _phrases(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise LexiconError(f"{where}: expected a list of non-blank strings")
    return tuple(value)


def _separators(value: Any, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and len(v) <= 3 for v in value):
        raise LexiconError(f"{where}: expected a list of short strings")
    return tuple(value)


def _weight(value: Any, where: str) -> float:
    if not isinstance(value, int | float) or value <= 0:
        raise LexiconError(f"{where}: expected a positive number")
    return float(value)


def _factor(value: Any, where: str) -> float:
    if not isinstance(value, int | float) or not 0 <= value < 1:
        raise LexiconError(f"{where}: expected a factor in [0, 1)")
    return float(value)
