"""The Korean place a headline opens with (`부산 아파트 화재…`, `영덕 산불 확산…`).

Local news is written to one template, place first: `부산 아파트 화재…1명 사망` and `인천 공장
화재…1명 사망` share most of their words and are two fires. A headline led by a province, a city,
a county or a Seoul district is about that place; two headlines led by two places neither item
mentions again are two events. Weather is the exception: one heat wave or one storm is reported
from each place it reaches (`서울 36도…`, `동두천 37도…`), so a weather headline has no place.

Words that are places and also common nouns (`화성` Mars, `예산` budget, `전주` the week before,
`강화` strengthening) are left out: a headline led by the noun must not read as a place.
"""

from __future__ import annotations

import re

from bot.stories.normalize import strip_particle

# fmt: off
_PLACES = frozenset({
    # provinces and metropolitan cities
    "서울", "부산", "대구", "인천", "광주", "대전", "울산", "세종",
    "경기도", "강원", "충북", "충남", "전북", "전남", "경북", "경남",
    "제주", "충청북도", "충청남도", "전라북도", "전라남도", "경상북도",
    "경상남도",
    # cities
    "수원", "성남", "의정부", "안양", "부천", "광명", "평택", "동두천",
    "안산", "고양", "과천", "남양주", "시흥", "군포", "의왕", "하남",
    "용인", "파주", "이천", "안성", "김포", "포천", "여주", "춘천",
    "원주", "강릉", "동해", "태백", "속초", "삼척", "청주", "충주",
    "제천", "천안", "보령", "아산", "서산", "논산", "계룡", "당진",
    "군산", "익산", "정읍", "남원", "김제", "목포", "여수", "순천",
    "나주", "광양", "포항", "경주", "김천", "안동", "구미", "영주",
    "영천", "문경", "경산", "창원", "진주", "통영", "사천", "김해",
    "밀양", "거제", "서귀포",
    # counties
    "가평", "양평", "연천", "홍천", "횡성", "영월", "평창", "정선",
    "철원", "화천", "양구", "인제", "양양", "옥천", "영동", "증평",
    "진천", "괴산", "단양", "금산", "서천", "청양", "홍성", "태안",
    "진안", "무주", "임실", "순창", "고창", "부안", "담양", "곡성",
    "구례", "고흥", "보성", "화순", "장흥", "해남", "영암", "무안",
    "함평", "신안", "군위", "의성", "청송", "영덕", "청도", "고령",
    "성주", "칠곡", "예천", "봉화", "울진", "울릉", "의령", "함안",
    "창녕", "남해", "하동", "산청", "함양", "합천", "옹진", "울주",
    "완도",
    # districts of Seoul and Busan, and new towns
    "강남", "강동", "강북", "강서", "관악", "광진", "구로", "금천",
    "노원", "도봉", "동대문", "마포", "서대문", "서초", "성동", "성북",
    "송파", "양천", "영등포", "용산", "은평", "종로", "중랑", "해운대",
    "일산", "판교",
})
# fmt: on
_SUFFIXES = ("시", "도", "군", "구", "서")
"""An administrative suffix a headline may keep (`부산시`, `영덕군`) or drop, and the headline's
short `에서` (`부산서`)."""


_WEATHER = re.compile(
    "폭염|더위|더웠|무더|열대야|기온|호우|폭우|장마|태풍|강풍|한파|추위|폭설|대설|미세먼지|황사"
    "|가뭄|특보|주의보|경보"
)


def leading_place(title: str) -> str:
    """The place a folded headline opens with, without particle or suffix (`부산서 …` -> `부산`),
    or "" when its first word is no place of the table or the headline is about weather."""
    if _WEATHER.search(title):
        return ""
    first = title.split(maxsplit=1)[0] if title.strip() else ""
    for word in (first, strip_particle(first)):
        if word in _PLACES:
            return word
        if word.endswith(_SUFFIXES) and word[:-1] in _PLACES:
            return word[:-1]
    return ""
