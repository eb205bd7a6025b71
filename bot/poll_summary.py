"""The line a round of polls ends with (`newsbot run --once`): what it brought, even nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bot.models import PollStatus
from bot.poller import PollOutcome


def once_summary(outcomes: Sequence[PollOutcome]) -> str:
    """One line on a round of polls (`polled 3 feed(s): 2 new item(s), 1 alert(s) queued; 1
    unchanged, 1 failed`), so that a round in which nothing changed still says so."""
    new = sum(o.new_items for o in outcomes)
    queued = sum(sum(o.queued.values()) for o in outcomes)
    ended = Counter(o.status for o in outcomes)
    tally = ", ".join(
        f"{ended[status]} {_ENDED[status]}"
        for status in PollStatus
        if ended[status] and status in _ENDED
    )
    line = f"polled {len(outcomes)} feed(s): {new} new item(s), {queued} alert(s) queued"
    return f"{line}; {tally}" if tally else line


_ENDED = {
    PollStatus.PRIMED: "primed",
    PollStatus.UNCHANGED: "unchanged",
    PollStatus.NOT_MODIFIED: "not modified",
    PollStatus.ERROR: "failed",
    PollStatus.DISABLED: "disabled",
    PollStatus.ABORTED: "aborted",
}
"""How the summary names the ends of polls that brought nothing new."""
