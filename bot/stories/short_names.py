"""The short names Korean headlines give agencies, parties and companies, and their full names:
`한은` is `한국은행` wherever a story's subject is compared."""

from __future__ import annotations

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
}
"""The short names headlines give agencies, parties and companies (`한은`, `금감원`, `국힘`) and
the names their leads spell out: headlines led by `한은` and by `한국은행` have one subject."""


def spellings(name: str) -> tuple[str, ...]:
    """Every spelling of `name`: its full name and each short one (`한국은행`, `한은`); `name`
    alone when it has no other."""
    full = _SHORT_NAMES.get(name, name)
    return (full, *(short for short, long in _SHORT_NAMES.items() if long == full))
