"""`newsbot status`: feeds, outbox depth and chats, read from the store, as a table or JSON."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bot.models import OutboxStatus, Platform
from bot.store import Store
from bot.store.election import candidates
from bot.store.websub import PushSubscription
from bot.text.urls import without_secrets


async def collect_status(store: Store) -> dict[str, Any]:
    feeds = await store.feeds.all()
    seen = await store.polls.seen_counts()
    outbox = await store.outbox.counts()
    subscriptions = await store.chats.subscriptions()
    pushes = {s.feed_id: s for s in await store.websub.all() if s.feed_id is not None}
    return {
        "feeds": [
            {
                "name": f.name,
                "url": without_secrets(f.url),
                "state": f.condition,
                "last_poll": _iso(f.last_polled_at),
                "last_success": _iso(f.last_success_at),
                "next_poll": _iso(f.next_poll_at) if f.pollable else None,
                "failures": f.failures,
                "failing_since": _iso(f.failing_since),
                "last_error": _masked(f.last_error),
                "items_seen": seen.get(f.id, 0),
                "push": _push(pushes.get(f.id)),
            }
            for f in feeds
        ],
        "outbox": {
            platform: {status: n for (p, status), n in outbox.items() if p == platform}
            for platform in sorted({p for p, _ in outbox})
        },
        "senders": [
            {
                "platform": c.platform,
                "process": c.process,
                "role": "sender" if c.sender else "standby",
            }
            for c in await candidates(store.db)
        ],
        "chats": len(subscriptions),
        "subscriptions": sum(len(s.topics) + len(s.keywords) for s in subscriptions),
    }


def _push(sub: PushSubscription | None) -> dict[str, Any] | None:
    """A feed's WebSub subscription: its hub, whether the hub pushes it now, the lease's end."""
    if sub is None:
        return None
    return {
        "hub": without_secrets(sub.hub),
        "topic": without_secrets(sub.topic),
        "state": sub.state.value,
        "pushed": sub.pushed(time.time()),
        "lease_expires": _iso(sub.lease_expires_at),
        "failures": sub.failures,
        "last_error": _masked(sub.last_error),
        "last_push": _iso(sub.last_push_at),
    }


def push_line(name: str, push: dict[str, Any]) -> str:
    """One line on how feed `name` reaches the bot through its hub."""
    if push["pushed"]:
        how = f"pushed, lease until {_short(push['lease_expires'])}"
    elif push["state"] == "unsubscribed":
        how = "unsubscribed (the feed is not polled)"
    elif push["failures"]:
        how = f"polled, subscription failing ({push['failures']} in a row): {push['last_error']}"
    else:
        how = f"polled, subscription {push['state']}"
    return f"push {name}: {how} ({push['hub']})"


TOKENS = {Platform.TELEGRAM: "TELEGRAM_BOT_TOKEN", Platform.SLACK: "SLACK_BOT_TOKEN"}


def stranded_alerts(status: dict[str, Any], channels: Iterable[str]) -> list[str]:
    """A warning for each platform with alerts waiting and no channel to send them (its token is
    not set here), e.g. after a run with a config that subscribes chats of that platform."""
    out = []
    for platform, counts in status["outbox"].items():
        waiting = counts.get(OutboxStatus.PENDING, 0)
        if waiting and platform not in channels:
            unlock = f"set {TOKENS[platform]}" if platform in TOKENS else "unset the chat tokens"
            out.append(
                f"warning: {waiting} alert(s) wait for {platform}, which this bot does not send "
                f"to: {unlock}, or remove its subscriptions"
            )
    return out


def format_status(status: dict[str, Any]) -> str:
    rows = [("FEED", "STATE", "LAST POLL", "NEXT POLL", "SEEN", "LAST ERROR")]
    for f in status["feeds"]:
        rows.append(
            (
                f["name"],
                f["state"] + (f" ({f['failures']} in a row)" if f["failures"] else ""),
                _short(f["last_poll"]),
                _short(f["next_poll"]),
                str(f["items_seen"]),
                (f["last_error"] or "")[:70],
            )
        )
    widths = [max(_columns(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = [
        "  ".join(c + " " * (w - _columns(c)) for c, w in zip(r, widths, strict=False))
        + "  "
        + r[-1]
        for r in rows
    ]
    lines.append("")
    pushed = [push_line(f["name"], f["push"]) for f in status["feeds"] if f.get("push")]
    if pushed:
        lines.extend([*pushed, ""])
    if status["outbox"]:
        for platform, counts in status["outbox"].items():
            parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            lines.append(f"outbox {platform}: {parts}")
    else:
        lines.append("outbox: empty")
    for platform in sorted({s["platform"] for s in status["senders"]}):
        roles = [
            f"{s['process']} {s['role']}" for s in status["senders"] if s["platform"] == platform
        ]
        lines.append(f"{platform} processes: {', '.join(roles)}")
    lines.append(f"chats: {status['chats']}, subscriptions: {status['subscriptions']}")
    lines.extend(status.get("warnings", ()))
    return "\n".join(line.rstrip() for line in lines)


def _columns(text: str) -> int:
    """How many terminal columns `text` takes: two for each wide character (`한국일보`: 8)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _masked(error: str | None) -> str | None:
    """A stored error with the password of any URL in it masked (rows an older version wrote)."""
    return without_secrets(error) if error else None


def _iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds") if epoch else None


def _short(iso: str | None) -> str:
    return iso.replace("T", " ").replace("+00:00", "Z") if iso else "-"
