"""A digest: a chat's held stories as one message, grouped by topic, newest first, each a linked
headline with its source; rendered for Telegram (HTML and its plain twin) and Slack (Block Kit).

A digest longer than a platform allows is split into pages, always between two entries: each page
is one message, and its entries are settled with it. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from bot.models import DigestLine, DigestPage, Recipient
from bot.render.also import more_suffix, visible_sources
from bot.render.slack import (
    MAX_BLOCKS,
    MAX_SECTION_TEXT,
    Block,
    SlackMessage,
    escape_mrkdwn,
    link_label,
)
from bot.render.telegram import TelegramText, hashtags
from bot.text.plain import clean_line, excerpt, safe_url
from bot.text.utf16 import utf16_len

TITLE_CHARS = 200
SOURCE_CHARS = 60
UNTITLED = "(untitled)"
OTHER = "#news"
"""The group of entries without a topic (cannot happen for routed alerts; kept safe)."""


def topic_label(topic: str) -> str:
    """`#ai`, `#policy_finance`, a personal keyword `kw:반도체` as `#반도체`."""
    return hashtags([topic]) or OTHER


def arrange(lines: Sequence[DigestLine]) -> tuple[DigestLine, ...]:
    """Grouped by topic, the group with the newest story first; newest first inside a group."""
    newest = sorted(lines, key=lambda line: (-line.published, -line.row_id))
    groups: dict[str, list[DigestLine]] = {}
    for line in newest:
        groups.setdefault(line.topic, []).append(line)
    return tuple(line for group in groups.values() for line in group)


def paginate(
    recipient: Recipient,
    heading: str,
    lines: Sequence[DigestLine],
    fits: Callable[[DigestPage], bool],
    *,
    preview: bool = False,
) -> list[DigestPage]:
    """`lines` (arranged) in as few pages as `fits` allows, cut only between two entries; a
    page always holds at least one entry."""
    pages: list[list[DigestLine]] = []
    for line in arrange(lines):
        if pages:
            trial = DigestPage(recipient, heading, (*pages[-1], line), 99, 99, preview)
            if fits(trial):
                pages[-1].append(line)
                continue
        pages.append([line])
    return [
        DigestPage(recipient, heading, tuple(page), number, len(pages), preview)
        for number, page in enumerate(pages, start=1)
    ]


def _title(page: DigestPage) -> str:
    suffix = f" ({page.part}/{page.parts})" if page.parts > 1 else ""
    return f"{clean_line(page.heading)}{suffix}"


def _groups(page: DigestPage) -> list[tuple[str, list[DigestLine]]]:
    groups: dict[str, list[DigestLine]] = {}
    for line in page.lines:
        groups.setdefault(topic_label(line.topic), []).append(line)
    return list(groups.items())


def _shown(line: DigestLine) -> tuple[str, str, str | None]:
    """(title, by, link) as a digest shows them: `by` names the source, then the other outlets
    that reported the story (` — 연합뉴스, also 한겨레 · 서울신문 (+2)`), or is empty."""
    title = excerpt(clean_line(line.title), TITLE_CHARS) or UNTITLED
    names = [excerpt(clean_line(line.source), SOURCE_CHARS)] if line.source else []
    if line.also:
        shown, hidden = visible_sources(line.also)
        others = " · ".join(excerpt(clean_line(s.name), SOURCE_CHARS) for s in shown)
        names.append(f"also {others}{more_suffix(hidden)}")
    by = f" — {', '.join(names)}" if names else ""
    return title, by, safe_url(line.link)


def render_telegram_digest(page: DigestPage) -> TelegramText:
    """`<b>heading</b>`, then per topic `<b>#topic</b>` and `• <a>headline</a> — source` lines;
    the plain twin writes each link out under its headline."""
    html = [f"<b>{escape(_title(page), quote=False)}</b>"]
    plain = [_title(page)]
    for label, lines in _groups(page):
        html.append(f"\n<b>{escape(label, quote=False)}</b>")
        plain.append(f"\n{label}")
        for line in lines:
            title, by, link = _shown(line)
            text = escape(title, quote=False)
            linked = f'<a href="{escape(link, quote=True)}">{text}</a>' if link else text
            html.append(f"• {linked}{escape(by, quote=False)}")
            plain.append(f"• {title}{by}" + (f"\n  {link}" if link else ""))
    return TelegramText("\n".join(html), "\n".join(plain))


def telegram_fits(page: DigestPage, limit: int) -> bool:
    """Whether `page` fits one Telegram text of `limit` UTF-16 units, in both forms (the plain
    twin, with its links written out, is the longer)."""
    return utf16_len(render_telegram_digest(page).plain) <= limit


def render_slack_digest(page: DigestPage) -> SlackMessage:
    """A bold heading section, then one section per topic (split between entries where it would
    pass Slack's 3,000 characters), each entry `• <url|headline> — source`."""
    blocks: list[Block] = [_section(f"*{escape_mrkdwn(_title(page))}*")]
    for label, lines in _groups(page):
        text = f"*{escape_mrkdwn(label)}*"
        for line in lines:
            entry = _slack_line(line)
            if len(text) + 1 + len(entry) > MAX_SECTION_TEXT:
                blocks.append(_section(text))
                text = entry
            else:
                text = f"{text}\n{entry}"
        blocks.append(_section(text))
    return SlackMessage(escape_mrkdwn(_title(page)), tuple(blocks))


def slack_fits(page: DigestPage) -> bool:
    """Whether Slack takes `page` as one message (at most 50 blocks)."""
    return len(render_slack_digest(page).blocks) <= MAX_BLOCKS


def _slack_line(line: DigestLine) -> str:
    title, source, link = _shown(line)
    by = escape_mrkdwn(source)
    if link is not None:
        entry = f"• <{escape_mrkdwn(link)}|{link_label(title)}>{by}"
        if len(entry) <= MAX_SECTION_TEXT - 200:
            return entry
    return f"• {link_label(title)}{by}"  # a link too long for a section: the headline alone


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}
