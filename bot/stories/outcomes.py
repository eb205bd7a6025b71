"""Which way a headline says something went: prices up or down, a rate raised, cut or held, a
court's verdict, a halt or its end, a vote's result.

Two reports of one event agree on it; two days' closes of an index, two meetings of a central
bank or two instances of a trial do not, however alike their headlines read.
"""

from __future__ import annotations

import re

_RISING = re.compile(
    r"상승|급등|반등|강세|오름세|higher|\b(?:rises?|rose|gains?|jumps?|surges?|climbs?)\b"
)
_FALLING = re.compile(
    r"하락|급락|약세|내림세|떨어|lower|\b(?:falls?|fell|drops?|slides?|slumps?|declines?|sinks?"
    r"|tumbles?|plunges?)\b"
)

_DECISIONS = {
    "rate": {
        "raised": re.compile(r"인상(?!적)|\b(?:raises?|raised|hikes?|hiked)\b"),
        "cut": re.compile(r"인하(?!대)|\b(?:cuts?|lowers?|lowered)\b"),
        "held": re.compile(
            r"동결|\b(?:holds?|held|keeps?|kept|leaves?|left)\b(?: \w+)? rates?\b|\bunchanged\b"
        ),
    },
    "verdict": {
        "guilty": re.compile(
            r"유죄|징역|실형|집행유예|\b(?:convicted|(?<!not )guilty|sentenced|jailed)\b"
        ),
        "cleared": re.compile(r"무죄|무혐의|\b(?:acquitted|not guilty)\b"),
    },
    "halt": {
        "stopped": re.compile(r"중단|금지|\b(?:suspends?|suspended|halts?|halted|bans?|banned)\b"),
        "resumed": re.compile(r"재개|해제|\b(?:resumes?|resumed|lifts?|lifted)\b"),
    },
    "vote": {
        "passed": re.compile(r"가결|\b(?:passes|passed|approves|approved)\b"),
        "rejected": re.compile(r"부결|\b(?:rejects|rejected|voted down)\b"),
    },
}
"""Decisions a headline reports, by kind, each with the words for its outcomes: a central bank's
or a company's prices (`기준금리 인상` / `동결`), a court's verdict (`징역 3년` / `무죄`), a halt
(`공매도 전면 금지` / `공매도 재개`, `운행 중단` / `운행 재개`), a vote (`가결` / `부결`).
`인상적` (impressive) and `인하대` (a university) are no decisions."""


def direction(title: str) -> str:
    """Which way a folded headline says prices moved, `up` or `down`, or "" when it says neither
    or both (`코스피 상승 마감` is up, `Stocks close lower` down). Quantities (`증가`, `감소`) are
    not prices: a count that grew and one that shrank differ by their figures."""
    rising, falling = _RISING.search(title), _FALLING.search(title)
    if bool(rising) == bool(falling):
        return ""
    return "up" if rising else "down"


def decisions(title: str) -> dict[str, frozenset[str]]:
    """The outcomes a folded headline names for each kind of decision it reports
    (`{"rate": {"held"}}` for `한은 기준금리 동결`; `기준금리 동결…대출금리 인상` names two, as
    `Fed holds rates steady, signals two cuts` does). Two headlines that name outcomes of one
    kind and none in common report two decisions."""
    found = {}
    for kind, outcomes in _DECISIONS.items():
        said = frozenset(outcome for outcome, pattern in outcomes.items() if pattern.search(title))
        if said:
            found[kind] = said
    return found
