"""Chat commands, written once for every platform: a `CommandRequest` in, a `CommandReply` out.

Adapters turn a Telegram message or a Slack slash command into a request (command name without the
slash or `@BotName`, arguments split on whitespace) and render the reply in their own markup. Every
wrong argument gets a one-line usage with the valid choices; nothing here raises to the adapter.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from bot.classify import normalize
from bot.config import Config
from bot.durations import format_duration, parse_duration
from bot.models import FeedCondition, OutboxStatus, Platform, Recipient
from bot.store import Store
from bot.store.codec import decode_alert

log = logging.getLogger(__name__)

MAX_KEYWORDS = 50
KEYWORD_MIN, KEYWORD_MAX = 2, 40
MAX_ARGUMENT_CHARS = 500
MAX_MUTE = 7 * 86400.0
_KEYWORD_CHARS = re.compile(r"^[\w .#+\-']+$")


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """One command typed in a chat, in platform-neutral form."""

    platform: Platform
    chat_id: str
    user_id: str
    command: str
    """Lower-case name without the slash or `@BotName`: `subscribe`."""
    args: tuple[str, ...] = ()
    thread_id: str = ""
    """Telegram forum topic the command was typed in (alerts go back there)."""
    is_group: bool = False
    is_chat_admin: Callable[[], Awaitable[bool]] | None = None
    """Asks the platform whether the user administers this group (only called when needed)."""

    @property
    def recipient(self) -> Recipient:
        return Recipient(self.platform, self.chat_id, self.thread_id)


@dataclass(frozen=True, slots=True)
class CommandReply:
    """What to answer: plain text (adapters escape it) and optional buttons (label, command)."""

    text: str
    buttons: tuple[tuple[str, str], ...] = ()


class FeedAdmin(Protocol):
    """What the admin commands change beyond the store: feeds checked before they are added, and
    the config re-read."""

    async def add_feed(self, url: str, name: str) -> str:
        """The reply text; raises ValueError with a user-facing message on refusal."""
        ...

    async def remove_feed(self, name: str) -> bool: ...

    async def reload(self) -> str: ...


@dataclass(frozen=True, slots=True)
class _Usage:
    args: str
    about: str
    admin: bool = False
    changes_chat: bool = False


USAGE: dict[str, _Usage] = {
    "start": _Usage("", "introduce the bot"),
    "help": _Usage("", "list the commands"),
    "topics": _Usage("", "the topics you can subscribe to"),
    "subscribe": _Usage("<topic...>", "get alerts on these topics", changes_chat=True),
    "unsubscribe": _Usage("<topic...|all>", "stop alerts on these topics", changes_chat=True),
    "list": _Usage("", "this chat's topics, keywords and mute"),
    "keywords": _Usage("[add|remove] <word>", "your own keywords", changes_chat=True),
    "mute": _Usage("[1h|8h|1d|off]", "pause alerts for a while", changes_chat=True),
    "why": _Usage("", "why the last alerts reached this chat"),
    "feeds": _Usage("", "the feeds polled", admin=True),
    "addfeed": _Usage("<url> [name]", "poll a new feed", admin=True),
    "removefeed": _Usage("<name>", "stop polling a feed", admin=True),
    "stats": _Usage("", "feeds, chats and alerts in numbers", admin=True),
    "reload": _Usage("", "re-read subscriptions.yaml", admin=True),
}


def usage(command: str, prefix: str = "/") -> str:
    spec = USAGE[command]
    return f"Usage: {prefix}{command} {spec.args}".rstrip()


class Commands:
    """Executes commands against the store and the config in force."""

    def __init__(
        self,
        store: Store,
        config: Callable[[], Config],
        *,
        feed_admin: FeedAdmin | None = None,
        clock: Callable[[], float] = time.time,
        prefix: str = "/",
        on_keywords_changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.feeds = store.feeds
        self.chats = store.chats
        self.outbox = store.outbox
        self._config = config
        self.feed_admin = feed_admin
        self.clock = clock
        self.prefix = prefix
        """How commands are written on this platform: `/` (Telegram) or `/news ` (Slack)."""
        self._on_keywords_changed = on_keywords_changed

    async def handle(self, request: CommandRequest) -> CommandReply:
        """Answer one command; errors become a reply, never an exception."""
        spec = USAGE.get(request.command)
        if spec is None:
            return CommandReply(
                f"Unknown command {request.command!r}. Try {self.prefix}help for the list."
            )
        if sum(len(a) for a in request.args) > MAX_ARGUMENT_CHARS:
            return CommandReply(f"That is too long (at most {MAX_ARGUMENT_CHARS} characters).")
        if spec.admin and not self.is_bot_admin(request):
            return CommandReply(f"{self.prefix}{request.command} is for the bot's admins only.")
        if spec.changes_chat and request.args and not await self._may_change(request):
            return CommandReply("Only this group's admins can change its subscriptions.")
        handler = getattr(self, f"_cmd_{request.command}")
        try:
            reply: CommandReply = await handler(request)
        except Exception:
            log.exception("%s: command %s failed", request.platform, request.command)
            return CommandReply("Something went wrong on our side; please try again later.")
        return reply

    def is_bot_admin(self, request: CommandRequest) -> bool:
        admins = self._config().admins
        if request.platform is Platform.TELEGRAM:
            return request.user_id in {str(a) for a in admins.telegram}
        if request.platform is Platform.SLACK:
            return request.user_id in admins.slack
        return False

    async def _may_change(self, request: CommandRequest) -> bool:
        if not request.is_group or self.is_bot_admin(request):
            return True
        if request.is_chat_admin is None:
            return False
        try:
            return await request.is_chat_admin()
        except Exception:
            log.warning("%s: could not check admin rights in %s", request.platform, request.chat_id)
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

    # everyone ------------------------------------------------------------------------------

    async def _cmd_start(self, request: CommandRequest) -> CommandReply:
        return CommandReply(
            "I send news alerts on the topics you pick, the moment a story breaks.\n"
            f"Pick one with {self.prefix}subscribe <topic>; {self.prefix}help lists everything.",
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
        config = self._config()
        resolved, unknown = _resolve_topics(config, request.args)
        if unknown:
            return CommandReply(
                f"Unknown topic {', '.join(unknown)}. {usage('subscribe', self.prefix)}\n"
                f"Topics: {', '.join(config.topics)}"
            )
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
        config = self._config()
        resolved, unknown = _resolve_topics(config, request.args)
        if unknown:
            return CommandReply(
                f"Unknown topic {', '.join(unknown)}. {usage('unsubscribe', self.prefix)}\n"
                f"Topics: {', '.join(config.topics)}"
            )
        removed = await self.chats.unsubscribe(request.recipient, resolved)
        if not removed:
            return CommandReply(f"This chat was not subscribed to {', '.join(resolved)}.")
        return CommandReply(f"Unsubscribed from {', '.join(removed)}.")

    async def _cmd_list(self, request: CommandRequest) -> CommandReply:
        subs = [s for s in await self.chats.subscriptions() if s.recipient == request.recipient]
        if not subs:
            return CommandReply(
                f"No subscriptions here yet. {usage('subscribe', self.prefix)}",
                self._topic_buttons(),
            )
        sub = subs[0]
        lines = [f"Topics: {', '.join(sorted(sub.topics)) or '(none)'}"]
        if sub.keywords:
            lines.append(f"Keywords: {', '.join(sorted(sub.keywords))}")
        if sub.muted_until and sub.muted_until > self.clock():
            lines.append(f"Muted until {_utc(sub.muted_until)}")
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
        payloads = await self.outbox.recent(chat.id, limit=3) if chat else []
        if not payloads:
            return CommandReply("No alerts have been sent to this chat yet.")
        blocks = []
        for payload in payloads:
            item, tags = decode_alert(payload)
            reasons = "; ".join(
                f"{tag.topic}: " + ", ".join(f"“{r.keyword}” in {r.field}" for r in tag.reasons)
                for tag in tags
            )
            blocks.append(f"{item.title or '(untitled)'}\n  {reasons}")
        return CommandReply("\n".join(blocks))

    # bot admins ----------------------------------------------------------------------------

    async def _cmd_feeds(self, request: CommandRequest) -> CommandReply:
        feeds = await self.feeds.all()
        if not feeds:
            return CommandReply("No feeds.")
        lines = []
        for feed in feeds:
            error = f" — {feed.last_error[:80]}" if feed.last_error else ""
            lines.append(f"• {feed.name} [{feed.condition}] {feed.url}{error}")
        return CommandReply("\n".join(lines))

    async def _cmd_addfeed(self, request: CommandRequest) -> CommandReply:
        if not request.args or len(request.args) > 2 or self.feed_admin is None:
            return CommandReply(usage("addfeed", self.prefix))
        url = request.args[0].strip("<>")
        name = request.args[1] if len(request.args) > 1 else ""
        try:
            return CommandReply(await self.feed_admin.add_feed(url, name))
        except ValueError as exc:
            return CommandReply(f"Feed refused: {exc}")

    async def _cmd_removefeed(self, request: CommandRequest) -> CommandReply:
        if len(request.args) != 1 or self.feed_admin is None:
            return CommandReply(usage("removefeed", self.prefix))
        if await self.feed_admin.remove_feed(request.args[0]):
            return CommandReply(f"Removed feed {request.args[0]}.")
        names = ", ".join(f.name for f in await self.feeds.all())
        return CommandReply(f"No feed named {request.args[0]}. Feeds: {names}")

    async def _cmd_stats(self, request: CommandRequest) -> CommandReply:
        feeds = await self.feeds.all()
        subs = await self.chats.subscriptions()
        counts = await self.outbox.counts()
        by_status: dict[OutboxStatus, int] = {}
        for (_platform, status), n in counts.items():
            by_status[status] = by_status.get(status, 0) + n
        failing = sum(
            1 for f in feeds if f.condition in (FeedCondition.FAILING, FeedCondition.DISABLED)
        )
        return CommandReply(
            f"Feeds: {len(feeds)} ({failing} failing or disabled)\n"
            f"Chats subscribed: {len(subs)}\n"
            f"Alerts: {by_status.get(OutboxStatus.SENT, 0)} sent, "
            f"{by_status.get(OutboxStatus.PENDING, 0)} pending, "
            f"{by_status.get(OutboxStatus.FAILED, 0)} failed"
        )

    async def _cmd_reload(self, request: CommandRequest) -> CommandReply:
        if self.feed_admin is None:
            return CommandReply("Reload is not available here.")
        return CommandReply(await self.feed_admin.reload())


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


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")
