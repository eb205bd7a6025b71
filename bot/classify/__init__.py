"""Topic rules -> tags with the reason each fired: the classifier and what it reads.

* `automaton`: normalisation, and the one Aho-Corasick automaton every rule's phrases go into.
* `match`: the scan of each field, scoring and reasons (`Classifier`).
* `lexicon`: the weighted names and context rules shipped as data in `bot/lexicons/`.
* `context`: how context rules (exclusions, modifiers, negative contexts) become scan phrases.
"""

from __future__ import annotations

from bot.classify.automaton import FIELDS, normalize
from bot.classify.lexicon import Lexicon, LexiconError, lexicon_names, load_lexicon
from bot.classify.match import (
    LEAD_CHARS,
    PERSONAL_PREFIX,
    Classifier,
    ClassifierCache,
    Explanation,
    Hit,
    TopicScore,
    item_fields,
    personal_rule,
)
from bot.models import TopicRule

__all__ = [
    "FIELDS",
    "LEAD_CHARS",
    "PERSONAL_PREFIX",
    "Classifier",
    "ClassifierCache",
    "Explanation",
    "Hit",
    "Lexicon",
    "LexiconError",
    "TopicRule",
    "TopicScore",
    "item_fields",
    "lexicon_names",
    "load_lexicon",
    "normalize",
    "personal_rule",
]
