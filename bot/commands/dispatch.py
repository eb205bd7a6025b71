"""Runs one command: checks who may, finds the handler, turns any error into a reply."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

from bot.commands.delivery import DeliveryCommands
from bot.commands.language import LanguageCommands
from bot.commands.operator import OperatorCommands
from bot.commands.preferences import PreferenceCommands
from bot.commands.requests import (
    MAX_ARGUMENT_CHARS,
    USAGE,
    CommandReply,
    CommandRequest,
    FeedAdmin,
)
from bot.commands.subscriber import SubscriberCommands
from bot.config import Config
from bot.i18n import _, speaking
from bot.models import Platform
from bot.store import Store

log = logging.getLogger(__name__)


class Commands(
    SubscriberCommands, PreferenceCommands, DeliveryCommands, LanguageCommands, OperatorCommands
):
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
        self.websub = store.websub
        self.chats = store.chats
        self.outbox = store.outbox
        self.stories = store.stories
        self._config = config
        self.feed_admin = feed_admin
        self.clock = clock
        self.prefix = prefix
        self._on_keywords_changed = on_keywords_changed

    async def handle(self, request: CommandRequest) -> CommandReply:
        """Answer one command; errors become a reply, never an exception."""
        if any("\x00" in arg for arg in request.args):
            # no keyboard types a NUL, and PostgreSQL keeps none: a lookup by it failed there
            args = (arg.replace("\x00", "") for arg in request.args)
            request = dataclasses.replace(request, args=tuple(arg for arg in args if arg))
        try:
            language = await self.language_of(request)
        except Exception:
            log.exception(
                "%s: the language of chat %s is unknown", request.platform, request.chat_id
            )
            language = self._config().preferences(request.recipient).language
        with speaking(language):
            return await self._answer(request)

    async def chat_moved(self, platform: Platform, old_chat_id: str, new_chat_id: str) -> None:
        """The platform says a chat has a new id (a Telegram group upgraded to a supergroup):
        its subscriptions, settings and queue follow at once, not at its next alert."""
        if await self.chats.move_all(platform, old_chat_id, new_chat_id):
            log.info("%s: chat %s is now %s", platform, old_chat_id, new_chat_id)

    async def chat_gone(self, platform: Platform, chat_id: str, reason: str) -> None:
        """The platform says the bot is no longer in a chat (removed, blocked): every thread of
        it stops receiving alerts, and its queue is dropped, as a refused send would."""
        if await self.chats.deactivate_all(platform, chat_id, reason):
            log.info("%s: chat %s is gone (%s)", platform, chat_id, reason)

    async def _answer(self, request: CommandRequest) -> CommandReply:
        spec = USAGE.get(request.command)
        if spec is None:
            text = _("Unknown command {command}. Try {prefix}help for the list.")
            return CommandReply(text.format(command=repr(request.command), prefix=self.prefix))
        if sum(len(a) for a in request.args) > MAX_ARGUMENT_CHARS:
            text = _("That is too long (at most {count} characters).")
            return CommandReply(text.format(count=MAX_ARGUMENT_CHARS))
        if spec.admin and not self.is_bot_admin(request):
            text = _("{prefix}{command} is for the bot's admins only.")
            return CommandReply(
                text.format(prefix=self.prefix, command=request.command), refused=True
            )
        if spec.changes_chat and request.args:
            allowed = await self._may_change(request)
            if allowed is None:
                text = _("Could not check this group's admins just now; please try again.")
                return CommandReply(text, refused=True)
            if not allowed:
                text = _("Only this group's admins can change its subscriptions.")
                return CommandReply(text, refused=True)
        handler = getattr(self, f"_cmd_{request.command}")
        try:
            reply: CommandReply = await handler(request)
        except Exception:
            log.exception("%s: command %s failed", request.platform, request.command)
            return CommandReply(_("Something went wrong on our side; please try again later."))
        return reply

    async def _may_change(self, request: CommandRequest) -> bool | None:
        """Whether the sender may change the chat's subscriptions; None when the platform
        could not say who its admins are."""
        if not request.is_group or self.is_bot_admin(request):
            return True
        if request.is_chat_admin is None:
            return False
        try:
            return await request.is_chat_admin()
        except Exception:
            log.warning("%s: could not check admin rights in %s", request.platform, request.chat_id)
            return None
