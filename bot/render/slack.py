"""Alert -> Slack Block Kit message, and command replies as Block Kit; pure, no I/O.

An alert is at most three blocks:

1. a section holding the title in bold, linked to the item (`*<url|title>*`), with the item's image
   as its thumbnail when there is no excerpt;
2. a section holding the excerpt, cut at a sentence or a word, with the image beside it;
3. a context line: source, time in the chat's timezone, topics.

Only the title goes into mrkdwn, because only mrkdwn can link. Everything from the feed that goes
there has `& < >` escaped (mrkdwn's only escapes, so `<!channel>` in a headline stays text),
`verbatim` keeps Slack from turning `@here` or `#general` into mentions, and a `|` in the title
becomes `¦` (inside `<url|label>` it would be read as markup). The excerpt and the context line are
`plain_text`: Slack shows them exactly as written, with no markup to escape or set off. Links and
image URLs must be http(s) and are percent-encoded so that no space, `|` or `>` can end them early.

`text` is the notification and screen-reader fallback Slack asks for beside blocks: the title and
the source, escaped. Section text is at most 3,000 characters and a message at most 50 blocks; the
renderer stays inside both whatever the feed sends.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any, Final

from bot.classify import PERSONAL_PREFIX
from bot.models import Outgoing
from bot.render.also import more_suffix, visible_sources
from bot.render.length import budget, lead
from bot.text.plain import clean_line, clean_lines, excerpt, local_time, safe_url, without_title

# Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks).
MAX_BLOCKS: Final = 50
MAX_SECTION_TEXT: Final = 3000
MAX_CONTEXT_ELEMENTS: Final = 10
MAX_IMAGE_URL: Final = 3000
MAX_ALT_TEXT: Final = 2000
MAX_BUTTONS_PER_ACTIONS: Final = 25
MAX_BUTTON_TEXT: Final = 75
MAX_BUTTON_VALUE: Final = 2000
MAX_MESSAGE_TEXT: Final = 40_000

TITLE_CHARS: Final = 300
SOURCE_CHARS: Final = 80
MAX_TOPICS: Final = 8
EXCERPT_LINES: Final = 8
"""Paragraphs (or headings) kept in the excerpt, so that a list of one-liners stays short."""
UNTITLED: Final = "(untitled)"
ACTION_PREFIX: Final = "newsbot_cmd_"
"""`action_id` of a reply's buttons: the prefix and the button's index (unique per message)."""
LINK_BAR: Final = "¦"
"""Stands in for `|` in a link label, where Slack would read it as the end of the URL."""

Block = dict[str, Any]

_SENTENCE_END = re.compile(r"[.!?。？！…][\"'”’)\]]*$")


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """A message ready for chat.postMessage or a response_url: fallback text and blocks."""

    text: str
    """Notification and accessibility fallback (mrkdwn, escaped)."""
    blocks: tuple[Block, ...]


def render_alert(
    message: Outgoing, *, excerpt_chars: int | None = None, with_image: bool = True
) -> SlackMessage:
    """The alert as Block Kit, its excerpt as long as the chat's `/format` asks unless
    `excerpt_chars` says otherwise, its image shown when the chat wants images;
    `with_image=False` leaves out an image Slack could not fetch."""
    item = message.item
    title = excerpt(clean_line(item.title), TITLE_CHARS) or UNTITLED
    source = excerpt(clean_line(item.source), SOURCE_CHARS)
    if excerpt_chars is None:
        excerpt_chars = budget(message.excerpt)
    limit = max(2, min(excerpt_chars, MAX_SECTION_TEXT))
    body = paragraphs_excerpt(item.summary or item.content, title, limit) if excerpt_chars else ""
    body = lead(body, message.excerpt)
    shown = with_image and message.image
    image = _image(item.image, item.image_alt or title) if shown else None

    heading: Block = {
        "type": "section",
        "block_id": "title",
        "text": _mrkdwn(_title_mrkdwn(title, safe_url(item.link))),
    }
    blocks: list[Block] = [heading]
    if body:
        section: Block = {"type": "section", "block_id": "excerpt", "text": _plain(body)}
        if image is not None:
            section["accessory"] = image
        blocks.append(section)
    elif image is not None:
        heading["accessory"] = image
    meta = [
        part
        for part in (source, local_time(item.published, message.timezone), topics_line(message))
        if part
    ]
    if meta:
        elements = [_plain(part) for part in meta[:MAX_CONTEXT_ELEMENTS]]
        blocks.append({"type": "context", "block_id": "meta", "elements": elements})
    if message.also:
        also = {"type": "context", "block_id": "also", "elements": [_mrkdwn(also_mrkdwn(message))]}
        blocks.append(also)
    fallback = escape_mrkdwn(f"{title} ({source})" if source else title)
    return SlackMessage(fallback, tuple(blocks[:MAX_BLOCKS]))


def also_mrkdwn(message: Outgoing) -> str:
    """`also: <link|한겨레> · <link|서울신문> (+2)`: the story's other sources."""
    shown, hidden = visible_sources(message.also)
    names = []
    for source in shown:
        name = excerpt(clean_line(source.name), SOURCE_CHARS)
        url = safe_url(source.link)
        names.append(f"<{escape_mrkdwn(url)}|{link_label(name)}>" if url else escape_mrkdwn(name))
    return f"also: {' · '.join(names)}{more_suffix(hidden)}"


def render_reply(text: str, buttons: Sequence[tuple[str, str]] = ()) -> SlackMessage:
    """A command's answer: its text as plain_text sections, its buttons as Block Kit buttons whose
    `value` is the command they run (`subscribe ai`)."""
    text = clean_lines(text.replace("\r", "")).strip() or "…"
    blocks: list[Block] = [
        {"type": "section", "text": _plain(chunk)} for chunk in _chunks(text, MAX_SECTION_TEXT)
    ]
    usable = [
        (label, command)
        for label, command in buttons
        if clean_line(label) and 0 < len(command) <= MAX_BUTTON_VALUE
    ]
    room = MAX_BLOCKS - 1 - len(blocks)
    usable = usable[: max(0, room) * MAX_BUTTONS_PER_ACTIONS]
    for start in range(0, len(usable), MAX_BUTTONS_PER_ACTIONS):
        row = usable[start : start + MAX_BUTTONS_PER_ACTIONS]
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"{ACTION_PREFIX}{start + index}",
                        "text": _plain(excerpt(clean_line(label), MAX_BUTTON_TEXT)),
                        "value": command,
                    }
                    for index, (label, command) in enumerate(row)
                ],
            }
        )
    return SlackMessage(escape_mrkdwn(text)[:MAX_MESSAGE_TEXT], tuple(blocks[:MAX_BLOCKS]))


def escape_mrkdwn(text: str) -> str:
    """`& < >` as `&amp; &lt; &gt;`: the only characters mrkdwn needs escaped."""
    return escape(text, quote=False)


def link_label(text: str) -> str:
    """Text for the label of `<url|label>`: escaped, and no `|` for Slack to take as markup."""
    return escape_mrkdwn(text.replace("|", LINK_BAR))


def paragraphs_excerpt(text: str, title: str, limit: int) -> str:
    """At most `limit` characters of `text`, its paragraph breaks kept (plain_text shows them):
    whole paragraphs while they fit, then the next one cut at a sentence or a word when enough
    room is left for it to say something. A summary that opens with the title loses it."""
    lines = [line for raw in (text or "").splitlines() if (line := clean_line(raw))]
    if lines:
        lines[0] = without_title(lines[0], title)
    lines = [line for line in lines if line][:EXCERPT_LINES]
    kept: list[str] = []
    used = 0
    for line in lines:
        room = limit - used - (1 if kept else 0)
        if len(line) <= room:
            kept.append(line)
            used += len(line) + (1 if len(kept) > 1 else 0)
            continue
        if not kept or room >= max(limit // 4, 2):
            kept.append(excerpt(line, room if kept else limit))
        elif len(kept) > 1 and not _SENTENCE_END.search(kept[-1]):
            kept.pop()  # a heading whose paragraph did not fit
        break
    return "\n".join(kept)


def topics_line(message: Outgoing) -> str:
    """`ai, policy-finance, breaking`: the topics that matched (a personal keyword `kw:x` as x)."""
    return ", ".join(_topic_names(tag.topic for tag in message.tags))


def _topic_names(topics: Iterable[str]) -> list[str]:
    names: list[str] = []
    for topic in topics:
        name = clean_line(topic.removeprefix(PERSONAL_PREFIX))[:40]
        if name and name not in names:
            names.append(name)
    return names[:MAX_TOPICS]


def _title_mrkdwn(title: str, link: str | None) -> str:
    label = link_label(title)
    if link is not None:
        linked = f"*<{escape_mrkdwn(link)}|{label}>*"
        if len(linked) <= MAX_SECTION_TEXT:
            return linked
    # an absurdly long URL: the title alone (the limit is on the text as sent, escapes included)
    return f"*{label}*"[:MAX_SECTION_TEXT]


def _image(url: str | None, alt: str) -> Block | None:
    src = safe_url(url)
    if src is None or len(src) > MAX_IMAGE_URL:
        return None
    alt_text = excerpt(clean_line(alt), MAX_ALT_TEXT) or "image"
    return {"type": "image", "image_url": src, "alt_text": alt_text}


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _plain(text: str) -> Block:
    return {"type": "plain_text", "text": text, "emoji": False}


def _chunks(text: str, size: int) -> list[str]:
    """`text` in pieces of at most `size` characters, split between lines where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > size:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:size])
            line = line[size:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > size:
            chunks.append(current)
            candidate = line
        current = candidate
    if current.strip():
        chunks.append(current)
    return chunks or ["…"]
