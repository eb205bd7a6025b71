"""What two headlines say that cannot both be true of one event: other figures, other days, prices
moving opposite ways, decisions with other outcomes. Each is a veto of `explain`, with its
reason."""

from __future__ import annotations

import re

from bot.stories.features import StoryFeatures
from bot.stories.figures import same_figure, total, unit_of

MONEY_UNITS = frozenset({"원", "달러", "유로", "엔", "위안", "파운드"})
"""Different amounts of money in two headlines are two events (two deals, two insider sales)."""
WEATHER_UNITS = frozenset({"도", "㎜"})
"""Temperatures and rainfall differ within one event, from place to place and hour to hour (one
heat wave: `서울 36도`, `동두천 37도`): never a reason to split."""


def figures_differ(a: StoryFeatures, b: StoryFeatures, money: bool) -> str | None:
    """Why the figures of two headlines make two events: different amounts of money (`money`), or
    different measures of any other unit but the weather's (`100명`, `1151회`, `8만명대`). Not
    when each item also gives the figure the other's headline leads with (one results release
    headlined by its profit and by its revenue), nor a casualty count and its update, nor a
    figure and the parts one headline gives of it (`2명 사상` / `1명 숨지고 1명 다쳐`)."""
    if not money and (a.title_updates_toll or b.title_updates_toll):
        return None
    units = {unit_of(t) for t in a.title_numbers} & {unit_of(t) for t in b.title_numbers}
    for unit in sorted(units):
        if (unit in MONEY_UNITS) != money or unit.split("~")[0] in WEATHER_UNITS:
            continue
        mine = {t for t in a.title_numbers if unit_of(t) == unit}
        theirs = {t for t in b.title_numbers if unit_of(t) == unit}
        if any(same_figure(x, y, unit) for x in mine for y in theirs):
            continue
        if _gives(b, mine, unit) and _gives(a, theirs, unit):
            continue
        if total(a.title, unit) in theirs or total(b.title, unit) in mine:
            continue
        return f"different figures in the titles ({min(mine)} vs {min(theirs)})"
    return None


def _gives(item: StoryFeatures, figures: set[str], unit: str) -> bool:
    """Whether `item` (title or lead) gives every one of `figures`, in any rounding."""
    return all(
        any(same_figure(f, n, unit) for n in item.numbers if unit_of(n) == unit) for f in figures
    )


_SERIAL = re.compile(
    r"\b(?:episode|ep|issue|no|vol|volume|part|edition|chapter|season)\s(\d{1,6})\b"
    r"|\s(\d{1,6})$"
)
"""A series' number in a folded headline: after `episode`, `issue`, `no` (`No. 41`, `#41` folds
to a bare number) and the like, or a bare number that ends it (`market update #12`)."""


def _serial(title: str) -> str | None:
    found = _SERIAL.search(title)
    return (found[1] or found[2]) if found else None


def other_occasions(a: StoryFeatures, b: StoryFeatures) -> str | None:
    """What makes two alike headlines two occasions of one recurring news: other days, other
    numbers of a series (`Crypto market update #12` / `Stock market update #13`), prices moving
    opposite ways (two closes) or decisions with other outcomes (two meetings, two instances of
    a trial)."""
    if a.title_dates and b.title_dates and not a.title_dates & b.title_dates:
        return f"other days in the titles ({min(a.title_dates)} vs {min(b.title_dates)})"
    mine, theirs = _serial(a.title), _serial(b.title)
    if mine and theirs and mine != theirs:
        return f"other numbers of a series ({mine} vs {theirs})"
    if {a.title_direction, b.title_direction} == {"up", "down"}:
        return f"prices moving opposite ways ({a.title_direction} vs {b.title_direction})"
    for kind in sorted(a.title_decisions.keys() & b.title_decisions.keys()):
        said, other_said = a.title_decisions[kind], b.title_decisions[kind]
        if not said & other_said:
            outcome, other_outcome = ", ".join(sorted(said)), ", ".join(sorted(other_said))
            return f"other decisions in the titles ({kind} {outcome} vs {other_outcome})"
    return None
