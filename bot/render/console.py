"""Alert -> plain text block for the console channel."""

from __future__ import annotations

from bot.models import Outgoing
from bot.render.also import more_suffix, visible_sources
from bot.text.plain import excerpt, local_time

EXCERPT_CHARS = 280


def render_console(message: Outgoing) -> str:
    item = message.item
    topics = ", ".join(tag.topic for tag in message.tags) or "notice"
    lines = [f"[{topics}] {item.title or '(untitled)'}"]
    meta = " · ".join(p for p in (item.source, local_time(item.published, message.timezone)) if p)
    if meta:
        lines.append(f"  {meta}")
    if item.link:
        lines.append(f"  {item.link}")
    if item.summary:
        lines.append(f"  {excerpt(item.summary, EXCERPT_CHARS)}")
    if message.also:
        lines.append("  " + render_also(message))
    return "\n".join(lines)


def render_also(message: Outgoing) -> str:
    """`also: 한겨레 · 서울신문 (+2)`, each name followed by its link."""
    shown, hidden = visible_sources(message.also)
    names = " · ".join(f"{s.name} <{s.link}>" if s.link else s.name for s in shown)
    return f"also: {names}{more_suffix(hidden)}"
