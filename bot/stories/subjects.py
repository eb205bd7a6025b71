"""A headline's leading subject, the spellings that name the same subject, and the terms it quotes.

A Korean headline names who acted or spoke first, then a comma or a quote (`이재명, …`, `윤희숙
“…”`); an English one often opens with the name (`Tesla shares rise…`). Two headlines led by two
subjects are two stories unless each item names the other's subject too; `한은` and `한국은행`
are one subject. Single quotes and title marks set off what the subject acted on, a product, a
game, a film or a term (`컴투스홀딩스, ‘별이되어라’ 업데이트`).
"""

from __future__ import annotations

import re

from bot.stories.normalize import plain, strip_labels, strip_particle
from bot.stories.tokens import unspaced

_SHORT_NAMES = {
    "한은": "한국은행",
    "산은": "산업은행",
    "금감원": "금융감독원",
    "금융위": "금융위원회",
    "공정위": "공정거래위원회",
    "방통위": "방송통신위원회",
    "선관위": "선거관리위원회",
    "권익위": "국민권익위원회",
    "인권위": "국가인권위원회",
    "개인정보위": "개인정보보호위원회",
    "기재부": "기획재정부",
    "국토부": "국토교통부",
    "산업부": "산업통상자원부",
    "산자부": "산업통상자원부",
    "과기정통부": "과학기술정보통신부",
    "과기부": "과학기술정보통신부",
    "복지부": "보건복지부",
    "행안부": "행정안전부",
    "고용부": "고용노동부",
    "노동부": "고용노동부",
    "문체부": "문화체육관광부",
    "농식품부": "농림축산식품부",
    "해수부": "해양수산부",
    "중기부": "중소벤처기업부",
    "여가부": "여성가족부",
    "질병청": "질병관리청",
    "식약처": "식품의약품안전처",
    "공수처": "고위공직자범죄수사처",
    "중대본": "중앙재난안전대책본부",
    "헌재": "헌법재판소",
    "대법": "대법원",
    "국힘": "국민의힘",
    "민주당": "더불어민주당",
    "전경련": "전국경제인연합회",
    "대한상의": "대한상공회의소",
    "한전": "한국전력",
    "현대차": "현대자동차",
    "lg엔솔": "lg에너지솔루션",
    "fed": "federal reserve",
    "ecb": "european central bank",
    "boe": "bank of england",
    "boj": "bank of japan",
}
"""The short names headlines give agencies, parties and companies (`한은`, `금감원`, `국힘`,
`Fed`) and the names their leads spell out: headlines led by `한은` and by `한국은행` have one
subject."""


def _spelling_table() -> dict[str, tuple[str, ...]]:
    """Each full name and each short one, to all the spellings of that name."""
    table: dict[str, tuple[str, ...]] = {}
    for short, full in _SHORT_NAMES.items():
        table[full] = (*table.get(full, (full,)), short)
    return {name: table[_SHORT_NAMES.get(name, name)] for name in (*table, *_SHORT_NAMES)}


_SPELLINGS = _spelling_table()


def spellings(name: str) -> tuple[str, ...]:
    """Every spelling of `name`: its full name and each short one (`한국은행`, `한은`); `name`
    alone when it has no other. (Built once: the decision asks for each pair of subjects.)"""
    return _SPELLINGS.get(name, (name,))


def abbreviates(short: str, full: str) -> bool:
    """Whether `short` is Korean name `full` cut to some of its syllables, in order and from the
    first (`카뱅` for `카카오뱅크`, `삼바` for `삼성바이오로직스`), as outlets shorten names the
    table does not hold. A name's mere start (`서울시` of `서울시교육청`) is another body, and a
    name the table holds is only what the table says (`한은` is no `한국수출입은행`)."""
    if short in _SPELLINGS or full in _SPELLINGS or not 1 < len(short) < len(full):
        return False
    if short[0] != full[0] or full.startswith(short) or not unspaced(short):
        return False
    rest = iter(full)
    return all(syllable in rest for syllable in short)


_LATIN_SHORT_NAME = re.compile(
    r"(?<!\S)(" + "|".join(n for n in _SHORT_NAMES if n.isascii()) + r")(?!\S)"
)


def spelled_out(text: str) -> str:
    """A cleaned English text with each short name followed by its full name (`boe trims rates`
    as `boe bank of england trims rates`), so that wording by either name compares alike."""
    return _LATIN_SHORT_NAME.sub(lambda m: f"{m.group(1)} {_SHORT_NAMES[m.group(1)]}", text)


_SUBJECT = re.compile(
    r"^\s*(?:(?:미국|중국|일본|북한|영국|독일|프랑스|러시아|대만|인도|호주)\s+)?"
    r"([가-힣a-z一-鿿][가-힣a-z0-9一-鿿]{1,9})\s*(?:,|(?=[\"“]))"
)
"""A first word, Hangul, Latin or a Hanja abbreviation (`尹대통령`), before a comma or a quote; a
country before it qualifies it (`美연준,`, which reads `미국 연준,`, is led by `연준`)."""
_LIST = re.compile(r",\s*[^\s,\"“”]{1,10}(?:\s*,|\s+등(?![가-힣]))")
"""A first word's comma, one more word and a comma or `등`: the headline opens with
a list (`로봇, 자율주행, 클라우드 AI 분야…`, `반도체, 배터리 등 수출…`), not with a subject."""
_LATIN_LEADER = re.compile(r"^\s*([A-Z][A-Za-z0-9&]*[a-z][A-Za-z0-9&]*)\b(?![’']s\b)")
"""An English headline's first word when it is a capitalised word (`Tesla`, `OpenAI`), and not a
possessive, which qualifies the subject that follows (`Alphabet's Google`, `Musk's xAI`)."""
_LATIN_NAME_WORD = re.compile(r"\s+((?:of\s+(?:the\s+)?)?[A-Z][A-Za-z0-9&]*)\b(?![’']s\b)")
"""A further capitalised word of a name (`Federal Reserve`, `Hurricane Milton`, `Bank of
England`)."""
# fmt: off
_NOT_LEADERS = frozenset({
    "a", "an", "the", "this", "that", "these", "why", "how", "what", "when", "who", "after",
    "before", "in", "on", "at", "as", "for", "with", "from", "by", "new", "more", "most", "top",
    "breaking", "watch", "live", "exclusive", "update", "opinion", "analysis", "report",
    "reports", "study", "stocks", "shares", "markets", "oil", "gold", "police", "officials",
    "lawmakers", "scientists", "researchers", "experts", "investors", "court", "judge",
    "government", "voters",
})
# fmt: on
"""Capitalised first words of English headlines that are no name (articles, labels, the generic
actors of market and court reports)."""


# fmt: off
_COLLECTIVE_SUBJECTS = frozenset({
    "정부", "당국", "금융당국", "방역당국", "보건당국", "당정", "당정대", "여야", "여당", "야당",
    "정치권", "업계", "재계", "경제계", "전문가", "전문가들", "외신", "증권가", "시장", "학계",
    "시민단체", "노동계",
})
# fmt: on
"""Subjects that stand for a ministry, a party or a company the other headline names (`정부, …`
beside `국토부, …`): no one subject, so never a reason to split."""


# fmt: off
_SOURCES = frozenset({
    "합참", "합동참모본부", "국방부", "군", "경찰", "경찰청", "소방", "소방당국", "소방청", "해경",
    "기상청", "질병청", "질병관리청", "외교부", "통일부", "국정원", "산림청", "백악관", "국무부",
})
# fmt: on
"""Bodies that report what others did (`합참 “북한, 동해상으로 탄도미사일 발사”`, `소방당국 “…”`):
a headline led by one and quoting another's act is that act's news, with its source named."""


def source(name: str) -> bool:
    """Whether `name` is a body that reports others' acts (`합참`, `기상청`, `경찰`)."""
    return name in _SOURCES


def collective(name: str) -> bool:
    """Whether `name` stands for whoever the other headline names (`정부`, `당국`, `업계`)."""
    return name in _COLLECTIVE_SUBJECTS


def subject(title: str, lead: str = "") -> str:
    """The leading subject of a headline, "" when it has none. Korean: the first word when a comma
    or a quoted statement follows it, `이재명, …` or `윤희숙 “…”` (double quotes mark speech;
    single quotes mark terms, `태풍 '송다'`, and do not count). English: the first word when it is
    a name, i.e. written with a capital in the lead too (`Tesla shares rise…` over `Tesla stock
    jumped…`) or spelt out there (`Fed` over `The Federal Reserve…`), not a sentence's capitalised
    first word (`Strong quake hits…`), with the capitalised words after it that the lead writes
    with it (`Federal Reserve`, `Hurricane Milton`; a headline in title case, `Fed Cuts Rates`,
    stops where the lead's wording does)."""
    text = strip_labels(plain(title))
    folded = text.casefold()
    match = _SUBJECT.match(folded)
    if match is not None:
        if _LIST.match(folded, match.end() - 1):
            return ""
        found = strip_particle(match.group(1))
        found = found.removesuffix("그룹") if len(found) > 3 else found  # `현대차그룹`: `현대차`
        return "" if collective(found) else found
    leader = _LATIN_LEADER.match(text)
    if leader is None or leader.group(1).casefold() in _NOT_LEADERS:
        return ""
    lead = plain(lead)
    name = leader.group(1)
    if not re.search(rf"\b{re.escape(name)}\b", lead):
        # a short name the lead spells out (`Fed` over `The Federal Reserve left…`) leads too
        folded = name.casefold()
        spelled = (f" {full} " for full in spellings(folded) if full != folded)
        return folded if any(full in f" {lead.casefold()} " for full in spelled) else ""
    at = leader.end()
    while (word := _LATIN_NAME_WORD.match(text, at)) and f"{name} {word.group(1)}" in lead:
        name, at = f"{name} {word.group(1)}", word.end()
    return name.casefold()


_QUOTED = re.compile(r"(?<![A-Za-z])[‘'「『《〈<]([^‘’'」』》〉<>]{2,40})[’'」』》〉>](?![A-Za-z])")
"""A term in single quotes or title marks; an apostrophe inside a word (`Apple's`) opens none."""


_MODEL_NAME = re.compile(r"(?<![\w.$€£¥-])[a-z]+-?\d[a-z0-9]*(?:[-.][a-z0-9]+)*(?![\w-])")
"""A word of letters then digits in an English headline (`GPT-5`, `o3-mini`, `M4`, `A380`, `Q2`):
the name of a model, a product, a quarter or a summit, which needs no quotes to be set off."""


def quoted(title: str) -> tuple[str, ...]:
    """The terms a headline sets off in single quotes or title marks, folded, in order, then an
    English headline's model names; outlet labels (`<단독>`) are none."""
    text = strip_labels(plain(title))
    terms = [term.strip().casefold() for term in _QUOTED.findall(text)]
    if not unspaced(text):
        terms += _MODEL_NAME.findall(text.casefold())
    return tuple(terms)
