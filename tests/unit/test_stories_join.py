"""An item that is the same story as two stories joins them, unless they look like two events."""

from __future__ import annotations

from bot.stories import StoryIndex, StoryInput, explain, features, group
from bot.stories.decide import THRESHOLD
from bot.stories.index import JOIN_FLOOR

# the ministry's answer, headlined alone; the disciplinary referral; a report of both
ANSWER = ("행안부, 인사 번복에 “경찰국 필요한 이유”…징계 착수", "")
REFERRAL = (
    "치안감 인사 번복 책임…치안정책관 중앙징계위 회부",
    "행정안전부가 치안감 인사 번복 사태의 책임을 물어 치안정책관을 중앙징계위원회에 회부하기로 "
    "했다. 행안부는 29일 감사 결과를 발표했다.",
)
BOTH = (
    "‘인사 번복’ 치안정책관 징계 회부…행안부 “이래서 경찰국 필요”",
    "행정안전부가 치안감 인사 번복 사태의 책임을 물어 치안정책관을 징계위원회에 회부했다. "
    "행안부는 이번 일이 경찰국이 필요한 이유라고 밝혔다.",
)

# two companies' results, and a round-up of the sector that each alone would be a report of
ONE_RESULTS = (
    "삼성전자, 2분기 영업이익 14조원…반도체 호조",
    "삼성전자가 2분기 영업이익 14조원을 기록했다고 28일 밝혔다. 반도체 부문이 실적을 이끌었다.",
)
OTHER_RESULTS = (
    "SK하이닉스, 2분기 영업이익 4조원…반도체 호조",
    "SK하이닉스가 2분기 영업이익 4조원을 기록했다고 28일 밝혔다. 반도체 부문이 실적을 이끌었다.",
)
ROUND_UP = (
    "반도체 호조에 2분기 영업이익 껑충",
    "삼성전자와 SK하이닉스가 28일 2분기 실적을 발표했다. 반도체 부문이 실적을 이끌었다.",
)


def _score(one: tuple[str, str], other: tuple[str, str]) -> float:
    return explain(features(*one), features(*other)).score


def test_a_report_matching_two_stories_of_one_event_joins_them() -> None:
    # the premise: the first two reports alone are no pair, yet nothing parts them
    assert JOIN_FLOOR <= _score(ANSWER, REFERRAL) < THRESHOLD
    assert min(_score(BOTH, ANSWER), _score(BOTH, REFERRAL)) >= THRESHOLD
    items = [StoryInput(*ANSWER, 1.0), StoryInput(*REFERRAL, 2.0), StoryInput(*BOTH, 3.0)]
    assert group(items) == [0, 0, 0]
    assert group(items[:2]) == [0, 1]


def test_a_round_up_of_two_events_does_not_join_them() -> None:
    assert _score(ONE_RESULTS, OTHER_RESULTS) < JOIN_FLOOR  # two subjects: vetoed
    assert min(_score(ROUND_UP, ONE_RESULTS), _score(ROUND_UP, OTHER_RESULTS)) >= THRESHOLD
    reports = (ONE_RESULTS, OTHER_RESULTS, ROUND_UP)
    grouped = group([StoryInput(*report, float(at)) for at, report in enumerate(reports)])
    assert grouped[0] != grouped[1] and grouped[2] in grouped[:2]


def test_the_index_names_the_stories_to_join_best_first_and_joins_them() -> None:
    index = StoryIndex(window_seconds=100.0)
    index.add(4, features(*ANSWER), at=1.0)
    index.add(9, features(*REFERRAL), at=2.0)
    both = features(*BOTH)
    assert index.matches(both, at=3.0) == [9, 4]  # the referral scores higher
    index.join(9, [4])
    assert len(index) == 1 and index.matches(features(*ANSWER), at=4.0) == [9]
