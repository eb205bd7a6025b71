"""Alert -> Telegram message: HTML parse mode with only the tags Telegram accepts, and a plain twin.

Telegram counts its limits (4096 for a text, 1024 for a caption) in UTF-16 code units of the text
*after* the markup is parsed, so the visible text is built next to the HTML and measured; an astral
character (most emoji) counts 2. When a message would not fit, the excerpt shrinks, cut at a
sentence or a word; markup is never cut. Everything that came from a feed is escaped, and only
http(s) links go into an `href`. The plain twin (no `parse_mode`, link spelled out) is what the
adapter sends when Telegram refuses the HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from bot.classify import PERSONAL_PREFIX
from bot.models import Outgoing
from bot.render.also import more_suffix, visible_sources
from bot.render.length import budget, lead
from bot.text.plain import clean_line, clean_lines, excerpt, local_time, safe_url, without_title
from bot.text.utf16 import chars_within, utf16_len

TITLE_CHARS = 300
SOURCE_CHARS = 80
MAX_HASHTAGS = 8
HASHTAG_CHARS = 40
MIN_TAIL_CHARS = 40
"""A paragraph cut shorter than this is left out: the excerpt ends with the one before."""
UNTITLED = "(untitled)"

_NOT_HASHTAG = re.compile(r"\W+")


@dataclass(frozen=True, slots=True)
class TelegramText:
    """One message ready for the Bot API, in both forms."""

    html: str
    """For `parse_mode=HTML`."""
    plain: str
    """The same message without markup and with the link written out (no `parse_mode`)."""


def render_message(
    message: Outgoing, *, limit: int, excerpt_chars: int | None = None
) -> TelegramText | None:
    """The alert as a text (limit 4096) or caption (limit 1024); None when even without its
    excerpt it would be longer than `limit` (a caption under a huge title: send text instead).
    The excerpt is as long as the chat's `/format` asks unless `excerpt_chars` says otherwise."""
    if excerpt_chars is None:
        excerpt_chars = budget(message.excerpt)
    item = message.item
    title = excerpt(clean_line(item.title), TITLE_CHARS) or UNTITLED
    link = safe_url(item.link)
    meta = " · ".join(
        part
        for part in (
            excerpt(clean_line(item.source), SOURCE_CHARS),
            local_time(item.published, message.timezone),
        )
        if part
    )
    tags = hashtags(tag.topic for tag in message.tags)
    summary = lead(without_title(clean_lines(item.summary).strip(), title), message.excerpt)

    head = f"<b>{_text(title)}</b>"
    if link is not None:
        head = f'<a href="{escape(link, quote=True)}">{head}</a>'
    also_html, also_text = _also(message)
    html = _fit(
        [(head, title), (_text(meta), meta)],
        [(_text(tags), tags), (also_html, also_text)],
        summary,
        limit,
        excerpt_chars,
        markup=True,
    )
    if html is None:
        return None
    plain_tail = [(link or "", link or ""), (tags, tags), (also_text, also_text)]
    plain = _fit([(title, title), (meta, meta)], plain_tail, summary, limit, excerpt_chars)
    if plain is None:  # a link too long to spell out: the plain form goes without it
        short_tail = [(tags, tags), (also_text, also_text)]
        plain = _fit([(title, title), (meta, meta)], short_tail, summary, limit, excerpt_chars)
    assert plain is not None  # the plain text without the link is never longer than the HTML's
    return TelegramText(html, plain)


def _also(message: Outgoing) -> tuple[str, str]:
    """The story's other sources as (HTML with links, visible text); empty when there are none."""
    if not message.also:
        return "", ""
    shown, hidden = visible_sources(message.also)
    names = [excerpt(clean_line(source.name), SOURCE_CHARS) for source in shown]
    links = [safe_url(source.link) for source in shown]
    html = " · ".join(
        f'<a href="{escape(url, quote=True)}">{_text(name)}</a>' if url else _text(name)
        for name, url in zip(names, links, strict=True)
    )
    suffix = more_suffix(hidden)
    return f"also: {html}{suffix}", f"also: {' · '.join(names)}{suffix}"


def hashtags(topics: Iterable[str]) -> str:
    """`#ai #policy_finance #반도체`: one hashtag per topic (a personal keyword `kw:x` -> `#x`).

    A hashtag is letters, digits and `_` only, so `-`, spaces and other signs become `_`.
    """
    seen: list[str] = []
    for topic in topics:
        name = topic.removeprefix(PERSONAL_PREFIX)
        name = _NOT_HASHTAG.sub("_", clean_line(name)).strip("_")[:HASHTAG_CHARS].strip("_")
        if name and f"#{name}" not in seen:
            seen.append(f"#{name}")
    return " ".join(seen[:MAX_HASHTAGS])


def _fit(
    head: list[tuple[str, str]],
    tail: list[tuple[str, str]],
    summary: str,
    limit: int,
    excerpt_chars: int,
    *,
    markup: bool = False,
) -> str | None:
    """Join (markup, visible) blocks around an excerpt that takes what room is left."""
    head = [block for block in head if block[1]]
    tail = [block for block in tail if block[1]]
    fixed = _visible(head, tail, "")
    room = limit - utf16_len(fixed)
    if room < 0:
        return None
    # the excerpt and the blank line before it must fit in `room`
    cut = _excerpt(summary, excerpt_chars, room - 2)
    body = [(escape(cut, quote=False) if markup else cut, cut)] if cut else []
    first = "\n".join(m for m, _ in head)
    rest = "\n\n".join(m for m, _ in [*body, *tail])
    return f"{first}\n\n{rest}" if rest else first


def _visible(head: list[tuple[str, str]], tail: list[tuple[str, str]], body: str) -> str:
    first = "\n".join(v for _, v in head)
    rest = "\n\n".join([*([body] if body else []), *(v for _, v in tail)])
    return f"{first}\n\n{rest}" if rest else first


def _excerpt(summary: str, chars: int, units: int) -> str:
    """Whole paragraphs while they fit in `chars` characters and `units` UTF-16 units, then the
    next one cut at a sentence or a word (when enough room is left to say something)."""
    kept: list[str] = []
    used_chars = used_units = 0
    for line in summary.splitlines():
        paragraph = " ".join(line.split())
        if not paragraph:
            continue
        gap = 1 if kept else 0
        if (
            used_chars + gap + len(paragraph) <= chars
            and used_units + gap + utf16_len(paragraph) <= units
        ):
            kept.append(paragraph)
            used_chars += gap + len(paragraph)
            used_units += gap + utf16_len(paragraph)
            continue
        room = min(chars - used_chars - gap, chars_within(paragraph, units - used_units - gap))
        if room >= (MIN_TAIL_CHARS if kept else 2):
            tail = excerpt(paragraph, room)
            if tail:
                kept.append(tail)
        break
    return "\n".join(kept)


def _text(text: str) -> str:
    return escape(text, quote=False)
