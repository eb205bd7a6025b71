"""The commands every chat may use."""

from __future__ import annotations

import logging
import re

from bot.classify import PERSONAL_PREFIX, normalize
from bot.commands.context import CommandContext
from bot.commands.delivery import delivery_lines
from bot.commands.preferences import at, format_line, shown_preferences
from bot.commands.requests import (
    MAX_KEYWORDS,
    MAX_MUTE,
    USAGE,
    CommandReply,
    CommandRequest,
    usage,
)
from bot.config import Config
from bot.durations import format_duration, parse_duration
from bot.i18n import N_, _
from bot.models import Platform
from bot.store.codec import decode_alert

log = logging.getLogger(__name__)

KEYWORD_MIN, KEYWORD_MAX = 2, 40
_KEYWORD_CHARS = re.compile(r"^[\w .#+\-']+$")


class SubscriberCommands(CommandContext):
    """What every chat may ask: topics, subscriptions, keywords, mute, why, stories."""

    def is_bot_admin(self, request: CommandRequest) -> bool:
        admins = self._config().admins
        if request.platform is Platform.TELEGRAM:
            return request.user_id in {str(a) for a in admins.telegram}
        if request.platform is Platform.SLACK:
            return request.user_id in admins.slack
        return False

    def _topic_list(self) -> str:
        config = self._config()
        lines = []
        for topic_id, topic in config.topics.items():
            label = f" ({topic.label})" if topic.label else ""
            lines.append(f"• {topic_id}{label}")
        return "\n".join(lines) or _("(no topics configured)")

    def _topic_buttons(self) -> tuple[tuple[str, str], ...]:
        return tuple((t, f"subscribe {t}") for t in self._config().topics)

    async def _cmd_start(self, request: CommandRequest) -> CommandReply:
        text = _(
            "I send news alerts on the topics you pick, the moment a story breaks.\n"
            "Pick one with {prefix}subscribe <topic>; {prefix}help lists everything.\n"
            "This chat's id (for subscriptions.yaml): {chat}"
        )
        return CommandReply(
            text.format(prefix=self.prefix, chat=request.chat_id), self._topic_buttons()
        )

    async def _cmd_help(self, request: CommandRequest) -> CommandReply:
        admin = self.is_bot_admin(request)
        lines = [
            f"{self.prefix}{name} {spec.args}".rstrip() + f" — {_(spec.about)}"
            for name, spec in USAGE.items()
            if admin or not spec.admin
        ]
        return CommandReply("\n".join(lines))

    async def _cmd_topics(self, request: CommandRequest) -> CommandReply:
        return CommandReply(_("Topics:") + "\n" + self._topic_list(), self._topic_buttons())

    async def _cmd_subscribe(self, request: CommandRequest) -> CommandReply:
        if not request.args:
            return CommandReply(
                f"{usage('subscribe', self.prefix)}\n{_('Topics:')}\n{self._topic_list()}",
                self._topic_buttons(),
            )
        resolved, unknown = _resolve_topics(self._config(), request.args)
        if unknown:
            return self._unknown_topics(unknown, "subscribe")
        added = await self.chats.subscribe(request.recipient, resolved, self.clock())
        already = [t for t in resolved if t not in added]
        parts = []
        if added:
            parts.append(_("Subscribed to {topics}.").format(topics=", ".join(added)))
        if already:
            parts.append(_("Already subscribed to {topics}.").format(topics=", ".join(already)))
        return CommandReply(" ".join(parts))

    async def _cmd_unsubscribe(self, request: CommandRequest) -> CommandReply:
        if not request.args:
            return CommandReply(f"{usage('unsubscribe', self.prefix)}")
        if [a.lower() for a in request.args] == ["all"]:
            removed = await self.chats.unsubscribe(request.recipient, None)
            self._on_keywords_changed()
            return CommandReply(
                _("Unsubscribed from everything.") if removed else _("Nothing to remove.")
            )
        resolved, unknown = _resolve_topics(self._config(), request.args)
        if unknown:
            return self._unknown_topics(unknown, "unsubscribe")
        removed = await self.chats.unsubscribe(request.recipient, resolved)
        if not removed:
            text = _("This chat was not subscribed to {topics}.")
            return CommandReply(text.format(topics=", ".join(resolved)))
        return CommandReply(_("Unsubscribed from {topics}.").format(topics=", ".join(removed)))

    def _unknown_topics(self, unknown: list[str], command: str) -> CommandReply:
        text = _("Unknown topic {names}. {usage}\nTopics: {topics}")
        return CommandReply(
            text.format(
                names=", ".join(unknown),
                usage=usage(command, self.prefix),
                topics=", ".join(self._config().topics),
            )
        )

    async def _cmd_list(self, request: CommandRequest) -> CommandReply:
        subs = [s for s in await self.chats.subscriptions() if s.recipient == request.recipient]
        if not subs:
            text = _("No subscriptions here yet. {usage}")
            return CommandReply(
                text.format(usage=usage("subscribe", self.prefix)), self._topic_buttons()
            )
        sub = subs[0]
        shown = await shown_preferences(self, request.recipient)
        topics = ", ".join(sorted(sub.topics)) or _("(none)")
        lines = [_("Topics: {topics}").format(topics=topics)]
        if sub.keywords:
            lines.append(_("Keywords: {words}").format(words=", ".join(sorted(sub.keywords))))
        if sub.muted_until and sub.muted_until > self.clock():
            lines.append(_("Muted until {time}").format(time=at(sub.muted_until, shown)))
        if not self._config().stories.enabled:
            lines.append(_("Stories: off for the whole bot (every report alerts)"))
        elif sub.stories:
            lines.append(_("Stories: one alert per story"))
        else:
            lines.append(_("Stories: off (every report alerts)"))
        lines += await delivery_lines(self, request.recipient)
        lines.append(_("Format: {format}").format(format=format_line(shown)))
        lines.append(_("Timezone: {zone}").format(zone=shown.timezone))
        return CommandReply("\n".join(lines))

    async def _cmd_keywords(self, request: CommandRequest) -> CommandReply:
        args = list(request.args)
        if not args:
            subs = [s for s in await self.chats.subscriptions() if s.recipient == request.recipient]
            words = sorted(subs[0].keywords) if subs else []
            listing = ", ".join(words) if words else _("(none)")
            text = _("Your keywords: {words}").format(words=listing)
            return CommandReply(f"{text}\n{usage('keywords', self.prefix)}")
        action = args[0].lower()
        word = " ".join(args[1:]).strip()
        if action not in ("add", "remove") or not word:
            return CommandReply(usage("keywords", self.prefix))
        problem = _keyword_problem(word)
        if problem:
            return CommandReply(problem)
        if action == "add":
            if await self.chats.count_keywords(request.recipient) >= MAX_KEYWORDS:
                text = _("This chat has the maximum of {count} keywords.")
                return CommandReply(text.format(count=MAX_KEYWORDS))
            changed = await self.chats.set_keyword(request.recipient, word, True, self.clock())
            self._on_keywords_changed()
            text = _("Added keyword {word}.") if changed else _("{word} is already set.")
            return CommandReply(text.format(word=word))
        changed = await self.chats.set_keyword(request.recipient, word, False, self.clock())
        self._on_keywords_changed()
        text = _("Removed keyword {word}.") if changed else _("{word} was not set.")
        return CommandReply(text.format(word=word))

    async def _cmd_mute(self, request: CommandRequest) -> CommandReply:
        now = self.clock()
        at_most = _("(at most 7d)")
        if not request.args:
            chat = await self.chats.get(request.recipient)
            muted = chat.muted_until if chat is not None else None
            state = ""
            if muted is not None and muted > now:  # alone, it says the mute in force, as /list
                shown = await shown_preferences(self, request.recipient)
                state = _("Muted until {time}").format(time=at(muted, shown)) + "\n"
            return CommandReply(f"{state}{usage('mute', self.prefix)} {at_most}")
        value = request.args[0].lower()
        if value == "off":
            await self.chats.set_mute(request.recipient, None, now)
            return CommandReply(_("Alerts are on again."))
        try:
            seconds = parse_duration(value)
        except ValueError:
            return CommandReply(f"{usage('mute', self.prefix)} {at_most}")
        if seconds > MAX_MUTE:
            return CommandReply(_("Mute for at most 7d, or use off."))
        await self.chats.set_mute(request.recipient, now + seconds, now)
        text = _("Muted for {duration}; {prefix}mute off ends it.")
        return CommandReply(text.format(duration=format_duration(seconds), prefix=self.prefix))

    async def _cmd_why(self, request: CommandRequest) -> CommandReply:
        chat = await self.chats.get(request.recipient)
        recent = await self.outbox.recent(chat.id, limit=3) if chat else []
        if not recent:
            return CommandReply(_("No alerts have been sent to this chat yet."))
        blocks = []
        for payload, story_id in recent:
            item, tags = decode_alert(payload)
            reasons = "; ".join(
                f"{_topic_name(tag.topic)}: "
                + ", ".join(
                    _("“{keyword}” in {field}").format(keyword=r.keyword, field=_field(r.field))
                    for r in tag.reasons
                )
                for tag in tags
            )
            title = item.title or _("(untitled)")
            block = f"{title}\n  {reasons}"
            if story_id is not None:
                sources = await self.stories.sources(story_id)
                names = ", ".join(source.name for source in sources)
                line = _("story #{story}: {count} source(s): {names}")
                block += "\n  " + line.format(story=story_id, count=len(sources), names=names)
            blocks.append(block)
        return CommandReply("\n".join(blocks))

    async def _cmd_stories(self, request: CommandRequest) -> CommandReply:
        value = request.args[0].lower() if len(request.args) == 1 else ""
        if not self._config().stories.enabled:
            # the chat's choice is kept for when the operator turns stories on
            if value in ("on", "off"):
                await self.chats.set_stories(request.recipient, value == "on", self.clock())
            return CommandReply(
                _(
                    "Stories are off for the whole bot (its operator's setting): every report "
                    "alerts on its own."
                )
            )
        if value not in ("on", "off"):
            chat = await self.chats.get(request.recipient)
            on = chat is None or chat.stories
            state = _("Stories are on here.") if on else _("Stories are off here.")
            return CommandReply(f"{state} {usage('stories', self.prefix)}")
        await self.chats.set_stories(request.recipient, value == "on", self.clock())
        if value == "on":
            return CommandReply(
                _(
                    "Stories on: one alert per story; when more outlets report it, "
                    "that message is edited to name them."
                )
            )
        return CommandReply(_("Stories off: every report alerts on its own."))


_FIELDS = {
    "title": N_("title"),
    "lead": N_("lead"),
    "summary": N_("summary"),
    "content": N_("article text"),
    "categories": N_("categories"),
}
"""The parts of an item `/why` names, in the chat's language."""


def _field(name: str) -> str:
    return _(_FIELDS[name]) if name in _FIELDS else name


def _topic_name(topic: str) -> str:
    """A topic as `/why` shows it; a chat's own keyword (`kw:반도체`) as `your keyword 반도체`."""
    if topic.startswith(PERSONAL_PREFIX):
        return _("your keyword {word}").format(word=topic.removeprefix(PERSONAL_PREFIX))
    return topic


def _resolve_topics(config: Config, names: tuple[str, ...]) -> tuple[list[str], list[str]]:
    resolved: list[str] = []
    unknown: list[str] = []
    for raw in names:
        for name in raw.split(","):
            if not name.strip():
                continue
            topic = config.topic_for(name.strip())
            if topic is None:
                unknown.append(name.strip()[:40])
            elif topic not in resolved:
                resolved.append(topic)
    return resolved, unknown


def _keyword_problem(word: str) -> str | None:
    length = len(normalize(word))
    if not KEYWORD_MIN <= length <= KEYWORD_MAX:
        return _("A keyword has {least} to {most} characters.").format(
            least=KEYWORD_MIN, most=KEYWORD_MAX
        )
    if not _KEYWORD_CHARS.match(word):
        return _("A keyword is plain words: letters, digits, spaces and - . # + ' only.")
    return None
