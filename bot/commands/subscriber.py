"""The commands every chat may use."""

from __future__ import annotations

import logging
import re

from bot.classify import normalize
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
        return "\n".join(lines) or "(no topics configured)"

    def _topic_buttons(self) -> tuple[tuple[str, str], ...]:
        return tuple((t, f"subscribe {t}") for t in self._config().topics)

    async def _cmd_start(self, request: CommandRequest) -> CommandReply:
        return CommandReply(
            "I send news alerts on the topics you pick, the moment a story breaks.\n"
            f"Pick one with {self.prefix}subscribe <topic>; {self.prefix}help lists everything.\n"
            f"This chat's id (for subscriptions.yaml): {request.chat_id}",
            self._topic_buttons(),
        )

    async def _cmd_help(self, request: CommandRequest) -> CommandReply:
        admin = self.is_bot_admin(request)
        lines = [
            f"{self.prefix}{name} {spec.args}".rstrip() + f" — {spec.about}"
            for name, spec in USAGE.items()
            if admin or not spec.admin
        ]
        return CommandReply("\n".join(lines))

    async def _cmd_topics(self, request: CommandRequest) -> CommandReply:
        return CommandReply("Topics:\n" + self._topic_list(), self._topic_buttons())

    async def _cmd_subscribe(self, request: CommandRequest) -> CommandReply:
        if not request.args:
            return CommandReply(
                f"{usage('subscribe', self.prefix)}\nTopics:\n{self._topic_list()}",
                self._topic_buttons(),
            )
        resolved, unknown = _resolve_topics(self._config(), request.args)
        if unknown:
            return self._unknown_topics(unknown, "subscribe")
        added = await self.chats.subscribe(request.recipient, resolved, self.clock())
        already = [t for t in resolved if t not in added]
        parts = []
        if added:
            parts.append(f"Subscribed to {', '.join(added)}.")
        if already:
            parts.append(f"Already subscribed to {', '.join(already)}.")
        return CommandReply(" ".join(parts))

    async def _cmd_unsubscribe(self, request: CommandRequest) -> CommandReply:
        if not request.args:
            return CommandReply(f"{usage('unsubscribe', self.prefix)}")
        if [a.lower() for a in request.args] == ["all"]:
            removed = await self.chats.unsubscribe(request.recipient, None)
            self._on_keywords_changed()
            return CommandReply(
                "Unsubscribed from everything." if removed else "Nothing to remove."
            )
        resolved, unknown = _resolve_topics(self._config(), request.args)
        if unknown:
            return self._unknown_topics(unknown, "unsubscribe")
        removed = await self.chats.unsubscribe(request.recipient, resolved)
        if not removed:
            return CommandReply(f"This chat was not subscribed to {', '.join(resolved)}.")
        return CommandReply(f"Unsubscribed from {', '.join(removed)}.")

    def _unknown_topics(self, unknown: list[str], command: str) -> CommandReply:
        return CommandReply(
            f"Unknown topic {', '.join(unknown)}. {usage(command, self.prefix)}\n"
            f"Topics: {', '.join(self._config().topics)}"
        )

    async def _cmd_list(self, request: CommandRequest) -> CommandReply:
        subs = [s for s in await self.chats.subscriptions() if s.recipient == request.recipient]
        if not subs:
            return CommandReply(
                f"No subscriptions here yet. {usage('subscribe', self.prefix)}",
                self._topic_buttons(),
            )
        sub = subs[0]
        shown = await shown_preferences(self, request.recipient)
        lines = [f"Topics: {', '.join(sorted(sub.topics)) or '(none)'}"]
        if sub.keywords:
            lines.append(f"Keywords: {', '.join(sorted(sub.keywords))}")
        if sub.muted_until and sub.muted_until > self.clock():
            lines.append(f"Muted until {at(sub.muted_until, shown)}")
        lines.append(
            "Stories: " + ("one alert each" if sub.stories else "off (every report alerts)")
        )
        lines += await delivery_lines(self, request.recipient)
        lines.append(f"Format: {format_line(shown)}")
        lines.append(f"Timezone: {shown.timezone}")
        return CommandReply("\n".join(lines))

    async def _cmd_keywords(self, request: CommandRequest) -> CommandReply:
        args = list(request.args)
        if not args:
            subs = [s for s in await self.chats.subscriptions() if s.recipient == request.recipient]
            words = sorted(subs[0].keywords) if subs else []
            listing = ", ".join(words) if words else "(none)"
            return CommandReply(f"Your keywords: {listing}\n{usage('keywords', self.prefix)}")
        action = args[0].lower()
        word = " ".join(args[1:]).strip()
        if action not in ("add", "remove") or not word:
            return CommandReply(usage("keywords", self.prefix))
        problem = _keyword_problem(word)
        if problem:
            return CommandReply(problem)
        if action == "add":
            if await self.chats.count_keywords(request.recipient) >= MAX_KEYWORDS:
                return CommandReply(f"This chat has the maximum of {MAX_KEYWORDS} keywords.")
            changed = await self.chats.set_keyword(request.recipient, word, True, self.clock())
            self._on_keywords_changed()
            return CommandReply(f"Added keyword {word}." if changed else f"{word} is already set.")
        changed = await self.chats.set_keyword(request.recipient, word, False, self.clock())
        self._on_keywords_changed()
        return CommandReply(f"Removed keyword {word}." if changed else f"{word} was not set.")

    async def _cmd_mute(self, request: CommandRequest) -> CommandReply:
        now = self.clock()
        if not request.args:
            return CommandReply(f"{usage('mute', self.prefix)} (at most 7d)")
        value = request.args[0].lower()
        if value == "off":
            await self.chats.set_mute(request.recipient, None, now)
            return CommandReply("Alerts are on again.")
        try:
            seconds = parse_duration(value)
        except ValueError:
            return CommandReply(f"{usage('mute', self.prefix)} (at most 7d)")
        if seconds > MAX_MUTE:
            return CommandReply("Mute for at most 7d, or use off.")
        await self.chats.set_mute(request.recipient, now + seconds, now)
        return CommandReply(f"Muted for {format_duration(seconds)}; {self.prefix}mute off ends it.")

    async def _cmd_why(self, request: CommandRequest) -> CommandReply:
        chat = await self.chats.get(request.recipient)
        recent = await self.outbox.recent(chat.id, limit=3) if chat else []
        if not recent:
            return CommandReply("No alerts have been sent to this chat yet.")
        blocks = []
        for payload, story_id in recent:
            item, tags = decode_alert(payload)
            reasons = "; ".join(
                f"{tag.topic}: " + ", ".join(f"“{r.keyword}” in {r.field}" for r in tag.reasons)
                for tag in tags
            )
            block = f"{item.title or '(untitled)'}\n  {reasons}"
            if story_id is not None:
                sources = await self.stories.sources(story_id)
                names = ", ".join(source.name for source in sources)
                block += f"\n  story #{story_id}: {len(sources)} source(s): {names}"
            blocks.append(block)
        return CommandReply("\n".join(blocks))

    async def _cmd_stories(self, request: CommandRequest) -> CommandReply:
        value = request.args[0].lower() if len(request.args) == 1 else ""
        if value not in ("on", "off"):
            chat = await self.chats.get(request.recipient)
            state = "on" if chat is None or chat.stories else "off"
            return CommandReply(f"Stories are {state} here. {usage('stories', self.prefix)}")
        await self.chats.set_stories(request.recipient, value == "on", self.clock())
        if value == "on":
            return CommandReply(
                "Stories on: one alert per story; when more outlets report it, "
                "that message is edited to name them."
            )
        return CommandReply("Stories off: every report alerts on its own.")


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
        return f"A keyword has {KEYWORD_MIN} to {KEYWORD_MAX} characters."
    if not _KEYWORD_CHARS.match(word):
        return "A keyword is plain words: letters, digits, spaces and - . # + ' only."
    return None
