"""What a command is: the platform-neutral request and reply, the command list with its usage
lines, and the port the admin commands act through."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.i18n import N_, _
from bot.models import Platform, Recipient

log = logging.getLogger(__name__)


MAX_KEYWORDS = 50
MAX_ARGUMENT_CHARS = 500
MAX_MUTE = 7 * 86400.0


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
    language: str = ""
    """The speaker's language as the platform tells it (Telegram `language_code`, Slack locale):
    the chat's language when it has none yet."""
    timezone: str = ""
    """The speaker's own IANA timezone (Slack profile): the chat's when it has none yet."""

    @property
    def recipient(self) -> Recipient:
        return Recipient(self.platform, self.chat_id, self.thread_id)


@dataclass(frozen=True, slots=True)
class CommandReply:
    """What to answer: plain text (adapters escape it) and optional buttons (label, command)."""

    text: str
    buttons: tuple[tuple[str, str], ...] = ()
    refused: bool = False
    """The sender may not do this here (admins only): a button press hears it alone, the group
    does not."""


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
    "start": _Usage("", N_("introduce the bot")),
    "help": _Usage("", N_("list the commands")),
    "topics": _Usage("", N_("the topics you can subscribe to")),
    "subscribe": _Usage("<topic...>", N_("get alerts on these topics"), changes_chat=True),
    "unsubscribe": _Usage("<topic...|all>", N_("stop alerts on these topics"), changes_chat=True),
    "list": _Usage("", N_("this chat's topics and settings")),
    "keywords": _Usage("[add|remove] <word>", N_("your own keywords"), changes_chat=True),
    "mute": _Usage("[1h|8h|1d|off]", N_("pause alerts for a while"), changes_chat=True),
    "why": _Usage("", N_("why the last alerts reached this chat")),
    "stories": _Usage(
        "[on|off]", N_("one alert per story, edited as more outlets report it"), changes_chat=True
    ),
    "timezone": _Usage(
        "[<Area/City>|default]", N_("the timezone of the times shown here"), changes_chat=True
    ),
    "format": _Usage(
        "[full|compact|title|default] | image on|off | preview on|off",
        N_("how much of each story an alert shows, its image, its link preview"),
        changes_chat=True,
    ),
    "mode": _Usage(
        "[instant|hourly|daily <HH:MM>|weekly <day> <HH:MM>|default]",
        N_("alerts one by one, or gathered in a digest"),
        changes_chat=True,
    ),
    "quiet": _Usage(
        "[<HH:MM-HH:MM> [except breaking]|off|default]",
        N_("hold alerts at night, then send them in one digest"),
        changes_chat=True,
    ),
    "lang": _Usage("[en|ko]", N_("the language of the bot's words here"), changes_chat=True),
    "feeds": _Usage("", N_("the feeds polled"), admin=True),
    "addfeed": _Usage("<url> [name]", N_("poll a new feed"), admin=True),
    "removefeed": _Usage("<name>", N_("stop polling a feed"), admin=True),
    "stats": _Usage("", N_("feeds, chats and alerts in numbers"), admin=True),
    "reload": _Usage("", N_("re-read subscriptions.yaml"), admin=True),
}


def usage(command: str, prefix: str = "/") -> str:
    """`Usage: /mute [1h|8h|1d|off]` in the language spoken here."""
    spec = USAGE[command]
    return _("Usage: {syntax}").format(syntax=f"{prefix}{command} {spec.args}".rstrip())
