"""The units two cleaned texts are compared by: character n-grams of Korean (and other unspaced
CJK) text, whole words of text in alphabetic scripts.

Korean outlets space one phrase differently and glue particles to nouns, so Korean is compared as
character n-grams with the spaces removed. Any two English, French or Russian sentences share most
of their character pairs (`th`, `on`, `er`), so alphabetic words are compared whole, without the
language's function words (`the`, `of`, `des`, `и`): otherwise every pair of English headlines
looks half alike.
"""

from __future__ import annotations

import re
import sys
from functools import cache, lru_cache

import snowballstemmer
from stop_words import AVAILABLE_LANGUAGES, get_stop_words

_UNSPACED = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3\u3040-\u30ff\u3400-\u9fff]")
"""Hangul, kana and CJK ideographs: scripts whose units are characters, not spaced words."""
_NOT_ALPHABETIC = frozenset({"korean", "chinese", "japanese"})
_ENGLISH = snowballstemmer.stemmer("english")


@cache
def stop_words() -> frozenset[str]:
    """Function words of every alphabetic language the `stop-words` package lists, case-folded.

    One set for all: a feed's language is not known, and a function word of one language is
    rarely what tells two events apart in another."""
    return frozenset(
        word.casefold()
        for language in AVAILABLE_LANGUAGES
        if language not in _NOT_ALPHABETIC
        for word in get_stop_words(language)
    )


def unspaced(text: str) -> bool:
    """Whether `text` is Korean (or Chinese, Japanese), a script compared by characters."""
    return _UNSPACED.search(text) is not None


def ngrams(text: str, n: int, *, words: bool = False) -> frozenset[str]:
    """The comparison units of a cleaned `text` (words separated by single spaces): its character
    n-grams with the spaces removed, or with `words` (an item in an alphabetic script) each word
    or figure of two characters or more that is no function word, English words by their stem
    (`17705` and `17707` are then two units, not two alike strings of digits)."""
    if words:
        ignored = stop_words()
        units = {_stem(w) for w in text.split(" ") if len(w) > 1 and w not in ignored}
    else:
        units = _char_grams(text.replace(" ", ""), n)
    # interned: an index of many items then holds each unit once, not once per item
    return frozenset(sys.intern(unit) for unit in units)


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """An English word's stem (`rates` and `rate`, `cuts` and `cut`); other words as they are."""
    return _ENGLISH.stemWord(word) if word.isascii() else word


def _char_grams(squeezed: str, n: int) -> set[str]:
    if len(squeezed) < n:
        return {squeezed} if squeezed else set()
    return {squeezed[i : i + n] for i in range(len(squeezed) - n + 1)}
