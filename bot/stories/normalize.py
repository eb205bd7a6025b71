"""Text normalisation for story matching: titles, leads, numbers with their units, names.

Everything here is pure string work on already plain text (markup is removed by the parser).
"""

from __future__ import annotations

import html
import re
import sys
import unicodedata

_TAG = re.compile(
    r"\[[^\]]{0,20}\]|【[^】]{0,20}】|\((?:종합|속보|단독|1보|2보|3보|영상|사진|상보)[^)]{0,6}\)"
)
"""Bracketed labels that outlets prefix or suffix to headlines: [속보], [단독], (종합), (영상)."""
_QUOTES = re.compile(r"[\"'“”‘’「」『』<>《》〈〉]|quot;|nbsp;|&[a-z]+;")
_BYLINE = re.compile(
    r"^\s*(?:\[[^\]]{1,40}\]|【[^】]{1,40}】|\([^)]{1,30}\))?\s*"
    r"(?:[가-힣]{2,4}(?:\s[가-힣]{2,4})*\s*(?:기자|특파원|통신원)\s*=?)?",
)
"""A wire-copy opening: `[서울=뉴시스] 홍길동 기자 =`, which every item of that agency shares."""
_PHOTO = re.compile(
    r"사진\s*=\s*[^\s\[\]]{1,20}(?:\[[^\]]{0,40}\])?|\|[A-Z]+연합뉴스|연합뉴스(?=\s)"
)
_NON_WORD = re.compile(r"[^\w%.,]+|(?<!\d)[.,]|[.,](?!\d)")
"""Anything but word characters, `%`, a decimal point and a thousands separator (an ellipsis `…`
is NFKC `...`): `7,922억` must stay one figure in a cleaned title."""
_SPACE = re.compile(r"\s+")

_MONTH_WORDS = re.compile(r"(?<![가-힣])(한|두|세|석|네|넉|다섯|여섯|일곱|여덟|아홉|열)\s*달")
_MONTH_VALUES = {
    "한": 1,
    "두": 2,
    "세": 3,
    "석": 3,
    "네": 4,
    "넉": 4,
    "다섯": 5,
    "여섯": 6,
    "일곱": 7,
    "여덟": 8,
    "아홉": 9,
    "열": 10,
}
"""`넉 달째` is `4개월째`: headlines write small month counts as words, leads as figures."""
_DIGIT_MONTHS = re.compile(r"(\d)\s*달")

_MULTIPLIERS = {"조": 10**12, "억": 10**8, "만": 10**4, "천": 10**3}
_NUMBER = re.compile(
    r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)\s*(조|억|만|천)?"
    r"((?:\s*\d[\d,]*(?:\.\d+)?\s*(?:조|억|만|천)?)*)"
    r"(?!\s*(?:조|억|만|천))\s*(%|퍼센트|%p|포인트|p|원|달러|유로|엔|위안|명|건|개월|개|배|gb|tb|mb|㎜|mm|도|가구|곳|대|채|회|호|주|bp|t|톤|km|㎞|kg|세|기|척|발)?"
    r"(대(?![가-힣]{2})|\s*(?:가량|안팎|이상|이하|넘게|넘는|미만|남짓))?",
)
"""A figure, its multipliers (`4조 7408억`), its unit, and a hedge (`8만명대`, `100여 명`)."""
_NUMBER_PART = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(조|억|만|천)?")
_UNIT_ALIASES = {"퍼센트": "%", "포인트": "p", "%p": "p", "mm": "㎜", "km": "㎞", "톤": "t"}
_IGNORED_UNITS = frozenset({""})
"""Bare numbers (no unit, no 만/억 multiplier) are mostly dates and times: left out."""

_PARTICLES = (
    "에서는",
    "으로는",
    "에게서",
    "까지",
    "부터",
    "에서",
    "으로",
    "에게",
    "보다",
    "처럼",
    "은",
    "는",
    "이",
    "가",
    "을",
    "를",
    "의",
    "에",
    "도",
    "로",
    "와",
    "과",
    "만",
)
_HANGUL_WORD = re.compile(r"[가-힣]{2,}")
_LATIN_WORD = re.compile(r"[a-z][a-z0-9&.\-]*[a-z0-9]|[a-z]")
_TICKER = re.compile(r"(?<=[가-힣A-Za-z])\(([A-Z]{1,5}(?:\.[A-Z])?)\)")
_NOT_TICKERS = frozenset(
    {"CEO", "CFO", "COO", "AI", "IT", "TK", "PK", "SNS", "ESG", "ETF", "ETN", "GB"}
)
_STOP_NAMES = frozenset(
    {
        "기자",
        "뉴스",
        "연합뉴스",
        "뉴시스",
        "사진",
        "제공",
        "오늘",
        "내일",
        "어제",
        "올해",
        "지난해",
        "이날",
        "오전",
        "오후",
        "현지시간",
        "현지",
        "시간",
        "관련",
        "대해",
        "대한",
        "위해",
        "통해",
        "따르면",
        "밝혔다",
        "했다",
        "있다",
        "것으로",
        "이번",
        "지난",
        "이후",
        "가운데",
        "데일리한국",
        "서울",
    }
)


def plain(text: str) -> str:
    """Entities decoded (feeds double-escape: `&#039;`, `&quot;`), NFKC, month words as figures."""
    text = unicodedata.normalize("NFKC", html.unescape(text))
    text = _MONTH_WORDS.sub(lambda m: f"{_MONTH_VALUES[m.group(1)]}개월", text)
    return _DIGIT_MONTHS.sub(r"\1개월", text)


def fold(text: str) -> str:
    """`plain` and case-fold, so full-width, compatibility and case variants compare equal."""
    return plain(text).casefold()


def clean_title(title: str) -> str:
    """A headline without outlet labels, quotes and punctuation, words separated by one space."""
    text = _TAG.sub(" ", plain(title))
    text = _QUOTES.sub(" ", text.casefold())
    return _SPACE.sub(" ", _NON_WORD.sub(" ", text)).strip()


def clean_lead(text: str, limit: int = 200) -> str:
    """The opening of the body without the wire byline and photo credits, folded like a title."""
    text = plain(text)
    text = _BYLINE.sub(" ", text[: limit + 80], count=1)
    text = _PHOTO.sub(" ", text)
    text = _QUOTES.sub(" ", text.casefold())
    return _SPACE.sub(" ", _NON_WORD.sub(" ", text)).strip()[:limit]


def compact(text: str) -> str:
    """Text without spaces: Korean outlets space the same phrase differently (`4개월 연속`)."""
    return text.replace(" ", "")


def ngrams(text: str, n: int) -> frozenset[str]:
    """Character n-grams of `text` with spaces removed."""
    squeezed = compact(text)
    if len(squeezed) < n:
        return frozenset({squeezed}) if squeezed else frozenset()
    # interned: an index of many items then holds each n-gram once, not once per item
    return frozenset(sys.intern(squeezed[i : i + n]) for i in range(len(squeezed) - n + 1))


def _number_value(head: str, head_mult: str | None, tail: str) -> float:
    """`8만2002` -> 82002, `4조7408억` -> 4.7408e12, `7922억` -> 7.922e11, `4.2` -> 4.2."""
    total = 0.0
    parts = [(head, head_mult)] + [(m.group(1), m.group(2)) for m in _NUMBER_PART.finditer(tail)]
    if len(parts) > 1 and all(mult is None for _, mult in parts):
        parts = parts[:1]
    for digits, mult in parts:
        value = float(digits.replace(",", ""))
        total += value * _MULTIPLIERS[mult] if mult else value
    return total


def numbers(text: str) -> frozenset[str]:
    """Numbers with their units, normalised: `7922억 원` and `7922억원` are both `792200000000원`.

    A number with a 만/억/조 multiplier keeps its value even without a unit (`7922억`); a bare
    number without unit or multiplier (a date, an hour) is left out.
    """
    found: set[str] = set()
    for match in _NUMBER.finditer(fold(text)):
        head, head_mult, tail, unit, hedge = match.groups()
        unit = _UNIT_ALIASES.get(unit or "", unit or "")
        has_mult = bool(head_mult) or any(ch in tail for ch in _MULTIPLIERS)
        if unit in _IGNORED_UNITS and not has_mult:
            continue
        value = _number_value(head, head_mult, tail)
        # a hedged figure (`8만명대`) only matches the same hedge, never contradicts an exact one
        found.add(f"{value:.6g}{unit}" + ("~" if hedge else ""))
    return frozenset(found)


def _strip_particle(word: str) -> str:
    for particle in _PARTICLES:
        if word.endswith(particle) and len(word) - len(particle) >= 2:
            return word[: -len(particle)]
    return word


def names(text: str) -> frozenset[str]:
    """Proper-noun-like words: Latin words (`skt`, `lg`, `s&p`) and Hangul words of 2+ syllables
    with a trailing particle removed, minus a short list of newsroom words.

    Korean headlines are mostly names and key nouns, so these stand in for named entities (people,
    companies, agencies) without a morphological analyser.
    """
    folded = fold(text)
    found = {_strip_particle(w) for w in _HANGUL_WORD.findall(folded)}
    found |= set(_LATIN_WORD.findall(folded))
    return frozenset(sys.intern(w) for w in found if w not in _STOP_NAMES and len(w) >= 2)


def tickers(text: str) -> frozenset[str]:
    """Stock tickers in parentheses (`테슬라(TSLA)`): two different ones mean two companies."""
    found = _TICKER.findall(plain(text))
    return frozenset(t for t in found if t not in _NOT_TICKERS)
