"""The units two cleaned texts are compared by: character n-grams of Korean (and other unspaced
CJK) text, whole words of text in alphabetic scripts.

Korean outlets space one phrase differently and glue particles to nouns, so Korean is compared as
character n-grams with the spaces removed. Any two English, French or Russian sentences share most
of their character pairs (`th`, `on`, `er`), so alphabetic words are compared whole, without the
function words of the item's language (`the`, `of`, `des`, `и`), each by its stem in that language
(`rates` and `rate`, `пожар` and `пожара`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache

import snowballstemmer
from stop_words import AVAILABLE_LANGUAGES, get_stop_words

_UNSPACED = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3\u3040-\u30ff\u3400-\u9fff]")
"""Hangul, kana and CJK ideographs: scripts whose units are characters, not spaced words."""
_NOT_ALPHABETIC = frozenset({"korean", "chinese", "japanese"})
_ENGLISH_FUNCTION_WORDS_TEXT = """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not of off on once only or other our ours ourselves out over own
same she should so some such than that the their theirs them themselves then there these they
this those through to too under until very was we were what when where which while who whom why
will with would you your yours yourself yourselves may might must shall also via amid among
"""
_ENGLISH_FUNCTION_WORDS = frozenset(_ENGLISH_FUNCTION_WORDS_TEXT.split())
"""English function words: articles, pronouns, prepositions, conjunctions, auxiliaries. The
`stop-words` package's English list (1,333 words) also holds news words (`AI`, `US`, `UK`,
`war`, `fire`, `world`, `state`), which must count: `UK inflation` is not `US inflation`."""


@dataclass(frozen=True, slots=True)
class Language:
    """What comparing words of one language needs: its function words and its stemmer."""

    name: str
    function_words: frozenset[str]

    def stem(self, word: str) -> str:
        return _stem(self.name, word)


ENGLISH = Language("english", _ENGLISH_FUNCTION_WORDS)


_FIRST = ("russian", "french", "german", "spanish", "portuguese", "italian", "dutch", "swedish")
"""Widely read languages, asked first: a language asked later takes over only with more function
words, so a short Russian text that Bulgarian's list fits as well is read as Russian."""


@cache
def _languages() -> tuple[Language, ...]:
    """English, the languages of _FIRST, then every other alphabetic language the `stop-words`
    package has a list for."""
    names = [*_FIRST, *(n for n in AVAILABLE_LANGUAGES if n not in _FIRST)]
    others = (
        Language(name, frozenset(w.casefold() for w in get_stop_words(name)))
        for name in names
        if name not in _NOT_ALPHABETIC and name != "english"
    )
    return (ENGLISH, *others)


MIN_FUNCTION_WORDS = 2
"""Function words another language needs before it takes over from English: one is chance in a
headline alone (`pro` is Spanish for `for`, so `Apple unveils Vision Pro` read as Spanish)."""


def language(text: str) -> Language:
    """The language whose function words make up most of the words of `text` (an alphabetic item's
    title and lead, folded); English when none does better. Feeds rarely say their language, and
    a headline with its lead has function words enough to tell."""
    words = text.split()
    best, hits = ENGLISH, sum(w in ENGLISH.function_words for w in words)
    for candidate in _languages()[1:]:
        count = sum(w in candidate.function_words for w in words)
        if count > hits and count >= MIN_FUNCTION_WORDS:
            best, hits = candidate, count
    return best


def unspaced(text: str) -> bool:
    """Whether `text` is Korean (or Chinese, Japanese), a script compared by characters."""
    return _UNSPACED.search(text) is not None


def ngrams(text: str, n: int, *, words: Language | None = None) -> frozenset[str]:
    """The comparison units of a cleaned `text` (words separated by single spaces): its character
    n-grams with the spaces removed, or with `words` (the language of an item in an alphabetic
    script) each word or figure of two characters or more that is no function word, by its stem
    (`17705` and `17707` are then two units, not two alike strings of digits)."""
    if words is not None:
        ignored = words.function_words
        units = {words.stem(w) for w in text.split(" ") if len(w) > 1 and w not in ignored}
    else:
        units = _char_grams(text.replace(" ", ""), n)
    # interned: an index of many items then holds each unit once, not once per item
    return frozenset(sys.intern(unit) for unit in units)


@cache
def _stemmer(name: str) -> Callable[[str], str] | None:
    """Language `name`'s Snowball stemmer, None where Snowball has none (Bulgarian, Vietnamese)."""
    if name not in snowballstemmer.algorithms():
        return None
    stem_word: Callable[[str], str] = snowballstemmer.stemmer(name).stemWord
    return stem_word


_HEADLINE_WORDS = (
    ("launch", "unveil debut introduc"),
    ("rais", "hike"),
    ("cut", "slash trim lower reduc"),
    ("resign", "quit"),
    ("acquir", "buy bought purchas takeov"),
    ("earthquak", "quak tremor"),
    ("hit", "strike struck slam batter"),
    ("rise", "rose jump surg soar climb"),
    ("fall", "fell drop slide slid slump plung tumbl sink sank"),
    ("investig", "probe"),
    ("arrest", "detain nab"),
    ("kill", "dead die death"),
)
_ENGLISH_SYNONYMS = {stem: plain for plain, stems in _HEADLINE_WORDS for stem in stems.split()}
"""English headline words and the plain word other outlets write for the same act (`unveils` and
`launches`, `hikes` and `raises`, `quits` and `resigns`, `probe` and `investigation`), by their
Snowball stems: two reports of one event then share the word, as `숨져` and `사망` do in Korean."""


@lru_cache(maxsize=65536)
def _stem(name: str, word: str) -> str:
    """`word`'s stem in language `name`, the word itself where Snowball has no stemmer for it;
    an English headline verb as its plain synonym's stem."""
    stem_word = _stemmer(name)
    stem = word if stem_word is None else stem_word(word)
    return _ENGLISH_SYNONYMS.get(stem, stem) if name == "english" else stem


def _char_grams(squeezed: str, n: int) -> set[str]:
    if len(squeezed) < n:
        return {squeezed} if squeezed else set()
    return {squeezed[i : i + n] for i in range(len(squeezed) - n + 1)}
