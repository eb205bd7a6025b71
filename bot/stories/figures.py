"""Figures in headlines and leads: numbers with their units (`7922억 원`, `$1.2 billion`), dates
(`12월 2일`, `Aug. 23`, `17.08.2018`) and whether a headline updates a casualty count.

Two reports of one event agree on these; two days' editions of one report, two deals or two
insider sales do not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from bot.stories.normalize import fold

_MULTIPLIERS = {"조": 10**12, "억": 10**8, "만": 10**4}
_SMALL_MULTIPLIERS = {"천": 10**3, "백": 10**2}
_UNITS = (
    r"%p|%포인트|%|퍼센트|per\s?cent|pct|포인트|원|달러|유로|엔|위안|명|건|개월|개|배|㎜|도|가구|단계"
    r"|곳|대|채|회|호|주|톤|㎞|세|기|척|발|(?:p|gb|tb|mb|mm|bp|t|km|kg)(?![a-z])"
)
"""Units of Korean figures and their Latin abbreviations; an abbreviation is no unit when a word
goes on after it (`25 percent` is `25%`, `3 times` has no unit `t`)."""
_GROUP = r"\d[\d,]*(?:\.\d+)?(?:\s*[천백])?(?:\s*[조억만])?"
_NEXT_GROUP = rf"(?:(?<=만)\s*|(?<=[조억])\s+(?={_GROUP}(?<=[조억만]))|)"
"""Where a figure goes on: straight after a multiplier (`4조7408억`, `1천112억`), after a space
only from a 조 or 억 to another multiplier (`4조 7408억`) or after 만 (`8만 2002명`): `14조 12%`
is two figures, and so is a range (`4~5만원`, `4 5만원` once its sign is dropped)."""
_FIGURE = (
    rf"(?<![a-z0-9,$€£¥])(?<!\d\.)({_GROUP}(?:{_NEXT_GROUP}{_GROUP})*)"
    r"(?!\s*[조억만천백](?![가-힣]))"
)
"""A figure with all its multipliers (`4조 7408억`), never cut before one; a word that starts with
a multiplier's syllable (`5000억 조성`, `100만 만족`) is no multiplier. A figure starts after no
digit, letter, currency sign (`_SYMBOL_MONEY` reads those) or decimal point; the dots of an
ellipsis (`14조…12%`) are no decimal point."""
_NUMBER = re.compile(
    rf"{_FIGURE}"
    rf"(여(?=\s*(?:{_UNITS})))?\s*({_UNITS})?"
    r"(대(?![가-힣]{2})|\s*(?:가량|안팎|이상|이하|넘게|넘는|넘어|넘었|넘겨|넘긴|돌파|육박|미만|남짓))?",
)
"""A figure with its multipliers (`4조 7408억`, `3천만`), its unit, and a hedge (`8만명대`,
`100여 명`, `1000명 이상`, `1000억 돌파`: a round threshold, not the figure itself)."""
_NUMBER_PART = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*([천백])?\s*([조억만])?")
_UNIT_ALIASES = {
    "퍼센트": "%",
    "percent": "%",
    "per cent": "%",
    "pct": "%",
    "%포인트": "%p",
    "포인트": "p",
    "mm": "㎜",
    "km": "㎞",
    "톤": "t",
}
_IGNORED_UNITS = frozenset({""})
"""Bare numbers (no unit, no 만/억 multiplier) are mostly dates and times: left out."""
_BARE_DECIMAL = re.compile(r"\d{1,2}\.\d(?!\.?\d)")
"""Except a figure with one decimal (a quake's magnitude `5.2`, a version `18.1`): no date or time
is written so (`7.29`, `2022.07.30`, `5.1.3`). Nor with a thousands separator and decimals (an
index's close, `코스피 2,603.47`)."""
_SEPARATED = re.compile(r"\d,\d{3}(?:,\d{3})*\.\d").search


def _number_value(figure: str) -> tuple[float, bool]:
    """`8만2002` -> 82002, `4조7408억` -> 4.7408e12, `3천만` -> 3e7, `1조2천억` -> 1.2e12,
    `1천112억` -> 1.112e11, `4.2` -> 4.2; and whether it had a multiplier. Digits without any
    multiplier count only the first run (`7 29` is not one figure)."""
    parts = _NUMBER_PART.findall(figure)
    if len(parts) > 1 and not any(small or big for _, small, big in parts):
        parts = parts[:1]
    total = pending = 0.0
    for digits, small, big in parts:
        # `1천112억` is 1112억: what comes before a 조, 억 or 만 since the last one is multiplied
        pending += float(digits.replace(",", "")) * _SMALL_MULTIPLIERS.get(small, 1)
        if big:
            total += pending * _MULTIPLIERS[big]
            pending = 0.0
    return total + pending, any(small or big for _, small, big in parts)


_MULTIPLIED = re.compile(_FIGURE)
_SPELLING = (("조", 10**12), ("억", 10**8), ("만", 10**4))


def spell_figures(text: str) -> str:
    """`text` with each figure that has a 조, 억, 만 or 천 in one spelling (`3.5조`, `3조 5000억`
    and `3조5천억` all as `3조5000억`), so that two outlets' headlines share its characters."""
    return _MULTIPLIED.sub(_spelled, text)


def _spelled(match: re.Match[str]) -> str:
    value, multiplied = _number_value(match.group(1))
    if not multiplied or not math.isfinite(value):
        return match.group(0)
    rest = round(value)
    if abs(value - rest) > 1e-9 * value:  # `1.234567만` is no whole figure
        return match.group(0)
    spelled = ""
    for word, size in _SPELLING:
        count, rest = divmod(rest, size)
        spelled += f"{count}{word}" if count else ""
    return spelled + (str(rest) if rest or not spelled else "")


_CURRENCIES = {"$": "달러", "€": "유로", "£": "파운드", "¥": "엔"}
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9}
_SCALES |= {"bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12, "mln": 1e6, "bln": 1e9, "trln": 1e12}
_SCALE_WORDS = r"thousand|million|billion|trillion|mln|bln|trln|mn|bn|tn|[kmb]"
_SYMBOL_MONEY = re.compile(rf"([$€£¥])\s?(\d[\d,]*(?:\.\d+)?)(?:\s?({_SCALE_WORDS}))?(?![a-z0-9])")
"""An amount written with a currency sign (`$60 million`, `£30m`, `$39655442.33`), in the units
of the Korean amounts: two different ones are two deals, two sales."""
_FIRST_DIGIT = r"\d(?<![\d.,$€£¥]\d)"
"""A figure's first digit, after no other digit, decimal point or currency sign (the pattern opens
with the digit, which scans fastest)."""
_WORDS_MONEY = re.compile(
    rf"({_FIRST_DIGIT}[\d,]*(?:\.\d+)?)\s?({_SCALE_WORDS})?"
    r"\s(dollars?|dlrs?|euros?|pounds?|yen|yuan|won)(?![a-z])"
)
"""An amount whose currency is a word (`3 billion pounds`, `1.5 trillion won`, and the wire's
`69 bln dlrs`), as a sign's."""
_COUNT = re.compile(
    rf"{_FIRST_DIGIT}(?:\d{{0,2}}(?:,\d{{3}})+(?![.,]?\d)"
    r"|\d*(?:\.\d+)?\s(?:thousand|million|billion|mln|bln))"
    r"(?=\s+[a-z]|\s*[^\w\s%]|\s*$)"
    r"(?!\s+(?:dollars?|dlrs?|euros?|pounds?|yen|yuan|won|percent|per cent|pct)(?![a-z]))"
)
"""A count in English words (`2 million cars`, `120,000 vehicles`, `more than 1,500 people`): what
a Korean headline writes with a counter (`200만대`), here without one; a hedge before it
(`_HEDGED`) makes it a hedged figure (never another than an exact one). The whole part of a
decimal (`1,386.5원`) is no count."""
_HEDGED = re.compile(
    r"\b(?:over|more than|nearly|almost|about|around|at least|some|up to|roughly|tops?)\s$"
)
COUNT = "#"
"""The unit of an English count."""
_CURRENCY_WORDS = {
    "dollar": "달러",
    "dlr": "달러",
    "euro": "유로",
    "pound": "파운드",
    "yen": "엔",
    "yuan": "위안",
    "won": "원",
}


def numbers(text: str) -> frozenset[str]:
    """Numbers with their units, normalised: `7922억 원` and `7922억원` are both `792200000000원`.

    A number with a 만/억/조 multiplier keeps its value even without a unit (`7922억`); a bare
    number without unit or multiplier (a date, an hour) is left out, unless it has one decimal
    (`magnitude 5.2`).
    """
    folded = fold(text)
    found = set(_figures(folded))
    for sign, figure, scale in _SYMBOL_MONEY.findall(folded):
        value = float(figure.replace(",", "")) * _SCALES.get(scale, 1)
        found.add((value, _CURRENCIES[sign]))
    for figure, scale, currency in _WORDS_MONEY.findall(folded):
        value = float(figure.replace(",", "")) * _SCALES.get(scale, 1)
        if currency == "won" and value < 1000:  # `2 won` is a count and a verb, no sum
            continue
        found.add((value, _CURRENCY_WORDS[currency.removesuffix("s")]))
    for count in _COUNT.finditer(folded):
        digits, _, scale = count.group(0).partition(" ")
        value = float(digits.replace(",", "")) * _SCALES.get(scale, 1)
        hedged_by = _HEDGED.search(folded, max(0, count.start() - 12), count.start())
        found.add((value, f"{COUNT}{'~' if hedged_by else ''}"))
    # a run of digits too long for a float is a broken feed's, never a figure of the news
    return frozenset(_token(value, unit) for value, unit in found if math.isfinite(value))


def _token(value: float, unit: str) -> str:
    """A figure as `numbers` gives it: `7.922e+11원`, `82002명`, `1500#~`."""
    return f"{value:.6g}{unit}"


def _figures(folded: str) -> Iterator[tuple[float, str]]:
    """Each figure of a folded text written with digits, its value and unit, in order."""
    for match in _NUMBER.finditer(folded):
        figure, about, unit, hedge = match.groups()
        unit = _UNIT_ALIASES.get(unit or "", unit or "")
        value, has_mult = _number_value(figure)
        bare = unit in _IGNORED_UNITS and not has_mult
        if bare and not _BARE_DECIMAL.match(folded, match.start(1)) and not _SEPARATED(figure):
            continue
        # a hedged figure (`100여명`) only meets another hedged one, never contradicts an exact
        # one; a decade (`8만명대`, `1300원대`) is a range of its own kind
        hedged = "~대" if hedge == "대" else "~" if about or hedge else ""
        yield value, f"{unit}{hedged}"


def total(text: str, unit: str) -> str | None:
    """The sum of the figures of `unit` in `text` as a token of `numbers` when it has two or more
    (`1명 숨지고 1명 다쳐`: `2명`, as `2명 사상` says it), else None."""
    values = [value for value, found in _figures(fold(text)) if found == unit]
    if len(values) < 2 or not math.isfinite(sum(values)):
        return None
    return _token(sum(values), unit)


def unit_of(token: str) -> str:
    """The unit of a token of `numbers` (`7.922e+11원`: `원`; `100명~`: `명~`)."""
    return token.lstrip("0123456789.e+-")


CONVERTED_SUM = Decimal("0.01")
"""Sums in won this close are one sum: a foreign amount converted at each outlet's rate of the
day (`326억` and `324억` for one lawsuit of $25 million)."""


def same_figure(x: str, y: str, unit: str) -> bool:
    """Whether tokens `x` and `y` of `unit` give one figure: equal, one rounding or cutting the
    other (`14억` and `14억1000만`), decades that meet (`1300원대`, `1290원대`), or sums in won
    within CONVERTED_SUM of each other."""
    if x == y:
        return True
    fx, fy = x[: len(x) - len(unit)], y[: len(y) - len(unit)]
    if unit.endswith("~대"):
        (low_x, high_x), (low_y, high_y) = _decade(fx), _decade(fy)
        return max(low_x, low_y) < min(high_x, high_y)
    if unit == "원":
        low, high = sorted((Decimal(fx), Decimal(fy)))
        if high - low <= CONVERTED_SUM * high:
            return True
    return _rounds_to(fx, fy) or _rounds_to(fy, fx)


def _rounds_to(coarse: str, fine: str) -> bool:
    """Whether figure `coarse` is `fine` rounded or cut to coarse's last significant digit, when
    coarse has at least two: `14억` for `14억1000만`, `4.7조` for `4조7408억`; never `100명` for
    `120명`."""
    digits, place = _last_place(coarse)
    if digits < 2 or not Decimal(fine).is_finite():
        return False
    value, other = Decimal(coarse), Decimal(fine)
    try:
        return value in (
            other.quantize(place, rounding=ROUND_HALF_UP),
            other.quantize(place, rounding=ROUND_DOWN),
        )
    except InvalidOperation:  # more digits than the context holds: far apart anyway
        return False


def _last_place(figure: str) -> tuple[int, Decimal]:
    """How many significant digits `figure` is written with, and the place of the last one
    (`1300`: 2 and 100; `1290`: 3 and 10); 0 and 1 for a figure that is no finite number."""
    written = Decimal(figure).normalize().as_tuple()
    if not isinstance(written.exponent, int):
        return 0, Decimal(1)
    return len(written.digits), Decimal(1).scaleb(written.exponent)


def _decade(figure: str) -> tuple[Decimal, Decimal]:
    """The range a figure with `대` spans: `1300원대` from 1300 up to 1400, `1290원대` up to 1300,
    `8만명대` from 80000 up to 90000."""
    low = Decimal(figure)
    return low, low + _last_place(figure)[1]


_DATE = re.compile(r"(?<!\d)(1[0-2]|0?[1-9])\s*월\s*(3[01]|[12]\d|0?[1-9])\s*일")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)(?:[a-z]{0,6})\.?"
_DAY = r"(3[01]|[12]\d|0?[1-9])"
_ENGLISH_DATE = re.compile(rf"(?<![a-z]){_MONTH}\s+{_DAY}(?!\d)|(?<!\d){_DAY}\s+{_MONTH}(?![a-z])")
"""`Aug. 23`, `January 6`, `6 January` (in a folded headline)."""
_NUMERIC_DATE = re.compile(r"(?<![\d.])(3[01]|[12]\d|0?[1-9])\.(1[0-2]|0?[1-9])\.\d{4}(?!\d)")
"""`17.08.2018`: day, month and year."""


def dates(text: str) -> frozenset[str]:
    """Calendar dates written with month and day (`12월 2일`, `Aug. 2`, `2 August`, `02.08.2022`,
    each as `12/2` or `8/2`): a daily column's headlines differ only by them."""
    found = {(int(m), int(d)) for m, d in _DATE.findall(text)}
    for month, day, day_first, month_after in _ENGLISH_DATE.findall(text):
        found.add((_MONTHS.index(month or month_after) + 1, int(day or day_first)))
    found |= {(int(m), int(d)) for d, m in _NUMERIC_DATE.findall(text)}
    return frozenset(f"{m}/{d}" for m, d in found)


_TOLL_UPDATE = re.compile(
    r"(?:사망자|부상자|사상자|실종자|희생자|이재민)\D{0,6}\d[\d,.]*\s*[만천]?\s*명\s*(?:으로|로)?\s*증가"
    r"|(?:death|casualty) toll\b.{0,40}?\b(?:rises|rose|climbs|climbed|jumps|reaches|hits) to"
)
"""A casualty count rising to a figure (`사망자 5명으로 늘어`, read `증가`; `death toll rises to
20`): the update of an incident whose first report gave fewer."""


def updates_toll(title: str) -> bool:
    """Whether a folded headline updates an incident's casualty count: its count does not
    contradict the smaller one of an earlier report (`화재…3명 사망` / `사망자 5명으로 늘어`)."""
    return _TOLL_UPDATE.search(title) is not None
