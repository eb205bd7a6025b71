"""Text normalisation for story matching: titles, leads, canonical wording, names, tickers.

Everything here is pure string work on already plain text (markup is removed by the parser).
"""

from __future__ import annotations

import html
import re
import sys
import unicodedata

from bot.stories.tokens import language, unspaced

_TAG = re.compile(
    r"\[[^\]]{0,20}\]|【[^】]{0,20}】|\((?:종합|속보|단독|1보|2보|3보|영상|사진|상보)[^)]{0,6}\)"
    r"|[<〈](?:속보|단독|종합|영상|사진|포토)[>〉]"
)
"""Bracketed labels that outlets prefix or suffix to headlines: [속보], [단독], (종합), (영상)."""
_WIRE_LABEL = re.compile(
    r"^\s*(?:(?:UPDATE|WRAPUP|REFILE|CORRECTED|RPT|EXCLUSIVE|BREAKING)(?:\s?\d+)?\s?[-:]"
    r"|(?:Breaking|Live|LIVE|Live updates|LIVE UPDATES|Exclusive)\s?:)"
    r"|\s[-–|]\s(?:[Ll]ive(?: [Uu]pdates)?|LIVE|[Aa]s it happened)\s*$"
)
"""The English wire's labels: `UPDATE 2-`, `EXCLUSIVE-`, `BREAKING:`, `Live:` before a headline,
`- live updates` after it; as [속보] and (종합), the same report. (`ANALYSIS-`, `FACTBOX-` and
`Explainer:` stay: an analysis is a story of its own.)"""
_QUOTES = re.compile(r"[\"'“”‘’「」『』<>《》〈〉]|quot;|nbsp;|&[a-z]+;")
_BYLINE = re.compile(
    r"^\s*(?:\[[^\]]{1,40}\]|【[^】]{1,40}】|\([^)]{1,30}\))?\s*"
    r"(?:[가-힣]{2,4}(?:\s[가-힣]{2,4})*\s*(?:기자|특파원|통신원)\s*=?)?",
)
"""A wire-copy opening: `[서울=뉴시스] 홍길동 기자 =`, which every item of that agency shares."""
_DATELINE = re.compile(
    r"^\s*(?:[A-Z][A-Z.'/ -]{1,40}(?:,[\w. ]{1,20})?\s*)?"
    r"\((?:Reuters|AP|AFP|Bloomberg|UPI|dpa|Xinhua|CNN)\)\s*[-—–]+"
)
"""An English wire's opening: `LONDON (Reuters) -`, `BEIJING, April 16 (Reuters) -`,
`PORTLAND, Ore. (AP) —`, which every item of that agency shares."""
_PHOTO = re.compile(
    r"사진\s*=\s*[^\s\[\]]{1,20}(?:\[[^\]]{0,40}\])?|\|[A-Z]+연합뉴스|연합뉴스(?=\s)"
)
_NON_WORD = re.compile(r"[^\w%.,$€£¥]+|(?<!\d)[.,]|[.,](?!\d)")
"""Anything but word characters, `%`, currency signs, a decimal point and a thousands separator (an
ellipsis `…` is NFKC `...`): `7,922억` and `$39.7m` must stay figures in a cleaned title."""
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
_COUNT_WORDS = re.compile(
    r"(?<![가-힣])(한|두|세|네|다섯|여섯|일곱|여덟|아홉|열)\s*(배|명|곳|개|번|차례|건)"
    r"(?=(?:째|씩|이|을|에|의|로|으로|에서|와|과|가|은|는|도|만)?(?![가-힣]))"
)
"""`두 배`, `세 명`, `한 차례` are `2배`, `3명`, `1차례`, as leads write them."""
_DIGIT_MONTHS = re.compile(
    r"(\d)\s*달|(?<=징역|금고)(\s*(?:\d+\s*년\s*)?\d+)\s*월"
    r"(?=(?:에|을|이|의|과|와|로|으로|형)?(?![가-힣]))"
)
"""`4달` and, in a sentence, `징역 6월` (court style for six months) are `4개월`, `징역 6개월`."""

_DAY_WORDS = re.compile(r"(?<![가-힣])(이틀|사흘|나흘|닷새|엿새|이레|열흘|보름)")
_DAY_VALUES = {
    "이틀": 2,
    "사흘": 3,
    "나흘": 4,
    "닷새": 5,
    "엿새": 6,
    "이레": 7,
    "열흘": 10,
    "보름": 15,
}
"""`사흘째` is `3일째`, as `넉 달째` is `4개월째`."""
_HANJA = {
    "南北": "남북",
    "美": "미국",
    "中": "중국",
    "日": "일본",
    "北": "북한",
    "英": "영국",
    "獨": "독일",
    "佛": "프랑스",
    "露": "러시아",
    "韓": "한국",
    "印": "인도",
    "伊": "이탈리아",
    "濠": "호주",
    "臺": "대만",
    "與": "여당",
    "野": "야당",
    "靑": "청와대",
    "檢": "검찰",
    "警": "경찰",
    "軍": "군",
    "前": "전",
    "現": "현",
    "比": "대비",
}
"""One-character abbreviations of headlines (`美국무`, `北 미사일`, `전년比`), as their leads spell
them. `日` after a figure is a day (`30日`)."""
_HANJA_SUFFIX = {
    "電": "전자",
    "車": "차",
    "重": "중공업",
    "證": "증권",
    "銀": "은행",
    "生": "생명",
    "建": "건설",
    "化": "화학",
}
"""The last word of a company's name as economic headlines abbreviate it (`삼성電`, `현대車`,
`신한銀`, `LG化`), as their leads spell it (`삼성전자`, `현대차`, `신한은행`, `LG화학`); only after
the name's first part (`日銀` is `일본은행`)."""
_HANJA_SUFFIX_WORD = re.compile(rf"(?<=[가-힣A-Za-z0-9一-鿿])[{''.join(_HANJA_SUFFIX)}]")
_HANJA_WORD = re.compile("|".join(sorted(_HANJA, key=len, reverse=True)))
_HANJA_DAY = re.compile(r"(?<=\d)日")
_LATIN_SPELLED = {
    "엘지": "lg",
    "에스케이": "sk",
    "케이티": "kt",
    "씨제이": "cj",
    "지에스": "gs",
    "케이비": "kb",
    "엔에이치": "nh",
    "에이치디": "hd",
}
"""Company prefixes some outlets spell in Hangul (`엘지전자`) and others in capitals (`LG전자`)."""
_LATIN_SPELLED_WORD = re.compile("|".join(_LATIN_SPELLED))
_DOTTED = re.compile(r"[A-Z]\.(?:[A-Z]\.){1,3}(?![A-Za-z])")
"""A capitals' abbreviation written with dots (`U.S.`, `U.K.`, `E.U.`, `J.P. Morgan`), which
other outlets write without (`US`): a cleaned text would keep only the single letters. (What
comes before it is tested by `_undotted`: a pattern that opens with a capital scans fastest.)"""


def _undotted(match: re.Match[str]) -> str:
    """A dotted abbreviation without its dots, unless a Latin letter or a dot comes right before
    it (it is then the end of something else)."""
    before = match.string[match.start() - 1 : match.start()]
    if before == "." or (before.isascii() and before.isalpha()):
        return match.group(0)
    return match.group(0).replace(".", "")


_SYNONYMS = (
    (re.compile(r"↓|▼|(?<!하)줄(?:어|었)|뚝(?![가-힣])"), " 감소 "),
    (re.compile(r"↑|▲|(?<!하)늘(?:어|었)(?!\s*놓)"), " 증가 "),
    (re.compile(r"숨(?:져|진|졌)"), "사망"),
    (re.compile(r"반토막"), "절반"),
    (re.compile(r"공개"), "발표"),
    (re.compile(r"영업익(?!\w)"), "영업이익"),
    (re.compile(r"(?<![가-힣])순익"), "순이익"),
    (re.compile(r"(?<![a-z0-9])([1-4])q(?![a-z])", re.IGNORECASE), r"\1분기"),
    (re.compile(r"작년"), "지난해"),
    (re.compile(r"인공\s?지능"), "ai"),
    (re.compile(r"국내\s?총생산"), "gdp"),
    (re.compile(r"소비자\s?물가(?:\s?지수)?"), "cpi"),
    (re.compile(r"생산자\s?물가(?:\s?지수)?"), "ppi"),
    (re.compile(r"(?:가상|암호)\s?(?:화폐|자산)"), "가상자산"),
)
"""Headline words and their plain-report equivalents: `줄어`/`뚝`/`↓` is `감소`, `숨져` is `사망`,
`반토막` is `절반`, `공개` is `발표`; headline shorthand of results (`영업익`, `순익`, `2Q`) and
`작년` as `지난해`; a term and the Latin acronym outlets write for it (`인공지능` and `AI`,
`국내총생산` and `GDP`, `소비자물가` and `CPI`), and the three names of crypto assets (`가상화폐`,
`암호화폐`, `가상자산`)."""


def canonical(text: str) -> str:
    """Abbreviations (of countries, bodies and company names), day and month words, spelled-out
    Latin names, dotted capitals and headline synonyms in the wording of a plain report.
    Idempotent, and safe on already cleaned text (stored features)."""
    text = _HANJA_DAY.sub("일", text)
    text = _HANJA_SUFFIX_WORD.sub(lambda m: _HANJA_SUFFIX[m.group(0)], text)
    text = _HANJA_WORD.sub(lambda m: f" {_HANJA[m.group(0)]} ", text)
    text = _MONTH_WORDS.sub(lambda m: f"{_MONTH_VALUES[m.group(1)]}개월", text)
    text = _COUNT_WORDS.sub(lambda m: f"{_MONTH_VALUES[m.group(1)]}{m.group(2)}", text)
    text = _DIGIT_MONTHS.sub(lambda m: f"{m.group(1) or m.group(2)}개월", text)
    text = _DAY_WORDS.sub(lambda m: f"{_DAY_VALUES[m.group(1)]}일", text)
    text = _LATIN_SPELLED_WORD.sub(lambda m: _LATIN_SPELLED[m.group(0)], text)
    text = _DOTTED.sub(_undotted, text)
    for pattern, word in _SYNONYMS:
        text = pattern.sub(word, text)
    return text


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
_ALPHABETIC_WORD = re.compile(r"[^\W\d_]+")
"""A word of any alphabetic script: `miljöbov`, `цитата`."""
_TICKER = re.compile(r"(?<![가-힣A-Za-z0-9&])([가-힣A-Za-z0-9&]+)\s?\(([A-Z]{1,5}(?:\.[A-Z])?)\)")
"""A capitalised code in parentheses after a word: `테슬라(TSLA)`, also `유럽연합(EU)`. The match
opens only where a word does: tried inside one, a long word without a code took quadratic time."""
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
    """Entities decoded (feeds double-escape: `&#039;`, `&quot;`), NFKC, then `canonical`."""
    return canonical(unicodedata.normalize("NFKC", html.unescape(text)))


def fold(text: str) -> str:
    """`plain` and case-fold, so full-width, compatibility and case variants compare equal."""
    return plain(text).casefold()


def strip_labels(text: str) -> str:
    """`text` without the labels outlets add to headlines (`[속보]`, `(종합)`, `UPDATE 2-`)."""
    return _WIRE_LABEL.sub(" ", _TAG.sub(" ", text))


def clean_title(title: str) -> str:
    """A headline without outlet labels, quotes and punctuation, words separated by one space."""
    text = strip_labels(plain(title))
    text = _QUOTES.sub(" ", text.casefold())
    return _SPACE.sub(" ", _NON_WORD.sub(" ", text)).strip()


def clean_lead(text: str, limit: int = 200) -> str:
    """The opening of the body without the wire byline and photo credits, folded like a title."""
    text = plain(text)
    text = _BYLINE.sub(" ", text[: limit + 80], count=1)
    text = _DATELINE.sub(" ", text, count=1)
    text = _PHOTO.sub(" ", text)
    text = _QUOTES.sub(" ", text.casefold())
    return _SPACE.sub(" ", _NON_WORD.sub(" ", text)).strip()[:limit]


def reclean(text: str) -> str:
    """An already cleaned title or lead (stored by an older version) in `canonical` wording."""
    return _SPACE.sub(" ", canonical(text)).strip()


def compact(text: str) -> str:
    """Text without spaces: Korean outlets space the same phrase differently (`4개월 연속`)."""
    return text.replace(" ", "")


def strip_particle(word: str) -> str:
    """`word` without a trailing particle (`한국은행이` -> `한국은행`), keeping two syllables."""
    for particle in _PARTICLES:
        if word.endswith(particle) and len(word) - len(particle) >= 2:
            return word[: -len(particle)]
    return word


def names(text: str) -> frozenset[str]:
    """Proper-noun-like words: Latin words (`skt`, `lg`, `s&p`; in text of an alphabetic script,
    its words that are no function word) and Hangul words of 2+ syllables with a trailing particle
    removed, minus a short list of newsroom words.

    Korean headlines are mostly names and key nouns, so these stand in for named entities (people,
    companies, agencies) without a morphological analyser.
    """
    folded = fold(text)
    found = {strip_particle(w) for w in _HANGUL_WORD.findall(folded)}
    if unspaced(folded):
        found |= set(_LATIN_WORD.findall(folded))
    else:
        found |= set(_ALPHABETIC_WORD.findall(folded)) - language(folded).function_words
    return frozenset(sys.intern(w) for w in found if w not in _STOP_NAMES and len(w) >= 2)


def tickers(text: str, title: str) -> frozenset[str]:
    """Stock tickers in parentheses (`테슬라(TSLA)`): two different ones mean two companies.

    Only the codes of a name the headline carries count: the company the item is about. A lead
    also spells out terms (`5세대(G)`, `손떨림 보정(OIS)`, `유럽연합(EU)`) that name no subject.
    """
    headline = compact(fold(title))
    found = _TICKER.findall(plain(text))
    return frozenset(
        code for name, code in found if code not in _NOT_TICKERS and name.casefold() in headline
    )
