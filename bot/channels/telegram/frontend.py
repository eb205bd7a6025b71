"""Telegram commands in: long polling or webhook, each command a platform-neutral request."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import traceback
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web
from telegram import (
    BotCommand,
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.base import Fatal
from bot.channels.telegram.limits import (
    MAX_CALLBACK_ANSWER,
    MAX_CALLBACK_DATA,
    MAX_REPLY_WAIT,
    MAX_TEXT,
    START_RETRY,
    retry_after_wait,
)
from bot.channels.telegram.sender import TOKEN_REFUSED, TelegramSender
from bot.commands import USAGE, CommandReply, CommandRequest, Commands
from bot.i18n import LANGUAGES, SOURCE_LANGUAGE, _, speaking
from bot.models import Platform
from bot.text.utf16 import clip

log = logging.getLogger(__name__)


DEFAULT_WEBHOOK_PATH: Final = "/telegram/webhook"
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES: Final = (
    Update.MESSAGE,
    Update.CHANNEL_POST,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,  # the bot removed from a group, or blocked: its alerts stop at once
)
_COMMAND_UPDATES = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
_GONE: Final = frozenset({ChatMemberStatus.LEFT, ChatMemberStatus.BANNED})
"""The bot's statuses in a chat it no longer is in (BANNED is Telegram's `kicked`)."""


class TelegramFrontEnd(TelegramSender):
    """Commands in: PTB's `Application` inside our event loop (never `run_polling`), by long
    polling or by a webhook route whose secret-token header is checked."""

    _commands: Commands
    webhook_url: str
    webhook_path: str
    webhook_secret: str
    _start_task: asyncio.Task[None] | None

    async def start(self) -> None:
        """Receive commands: long polling, or the webhook when one is configured.

        An unreachable Bot API does not stop the bot: it keeps trying in the background.
        """
        try:
            await self._start()
        except InvalidToken:
            raise Fatal(TOKEN_REFUSED) from None
        except BadRequest as exc:  # a webhook URL Telegram refuses, a server that is no Bot API
            raise Fatal(
                f"telegram: the Bot API refused to start: {self._mask(exc.message)}"
            ) from None
        except (TimedOut, NetworkError) as exc:
            log.warning(
                "telegram: no usable Bot API (%s); retrying every %.0fs",
                self._mask(exc.message),
                START_RETRY,
            )
            self._start_task = asyncio.create_task(self._keep_starting(), name="telegram-start")

    async def _start(self) -> None:
        app = self.application
        await self._ready()
        await app.initialize()
        await self._set_commands()
        if self.webhook_url:
            await app.bot.set_webhook(
                self.webhook_url,
                secret_token=self.webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
            )
        if not app.running:
            await app.start()
        if not self.webhook_url and app.updater is not None and not app.updater.running:
            await app.updater.start_polling(
                allowed_updates=list(ALLOWED_UPDATES), error_callback=self._polling_error
            )
        log.info(
            "telegram: receiving commands as @%s by %s",
            app.bot.username,
            "webhook" if self.webhook_url else "long polling",
        )

    async def _keep_starting(self) -> None:
        while True:
            await asyncio.sleep(START_RETRY)
            try:
                await self._start()
                return
            except InvalidToken:
                log.error("%s; commands are not received", TOKEN_REFUSED)
                return
            except (TimedOut, NetworkError) as exc:
                log.warning("telegram: still no usable Bot API: %s", self._mask(exc.message))

    async def stop(self) -> None:
        """Stop receiving, then close the HTTP connections (also after sends-only use)."""
        if self._start_task is not None:
            self._start_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._start_task
            self._start_task = None
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        await app.bot.shutdown()  # after sends-only use, or a start that failed half-way
        self._bot_ready = False

    def web_routes(self) -> list[web.RouteDef]:
        """The webhook route when `TELEGRAM_WEBHOOK_URL` is set; none for long polling."""
        if not self.webhook_url:
            return []
        return [web.post(self.webhook_path, self._on_webhook)]

    async def _on_webhook(self, request: web.Request) -> web.Response:
        """Telegram posts one Update; only requests carrying our secret token are taken."""
        given = request.headers.get(SECRET_HEADER, "")
        # bytes as they came (aiohttp keeps non-UTF-8 ones as surrogates)
        if not hmac.compare_digest(
            given.encode("utf-8", "surrogateescape"), self.webhook_secret.encode()
        ):
            return web.Response(status=401, text="unauthorized")
        if not self.application.running:
            return web.Response(status=503, text="not running")
        try:
            data = await request.json()
            if not isinstance(data, dict):
                raise ValueError("not an object")
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            log.warning("telegram: webhook: unreadable update: %s", exc)
            return web.Response(status=400, text="bad update")
        await self.application.update_queue.put(update)
        return web.Response(text="ok")

    async def _set_commands(self) -> None:
        """The command menu, in English for everyone and in each other language the bot speaks
        for the users whose Telegram is set to it."""
        for language in LANGUAGES:
            with speaking(language):
                commands = [
                    BotCommand(name, _(spec.about))
                    for name, spec in USAGE.items()
                    if not spec.admin
                ]
            code = None if language == SOURCE_LANGUAGE else language
            try:
                await self.application.bot.set_my_commands(commands, language_code=code)
            except TelegramError as exc:
                log.warning(
                    "telegram: setMyCommands failed (%s); continuing", self._mask(exc.message)
                )
                return

    # commands --------------------------------------------------------------------------------

    def _add_handlers(self) -> None:
        app = self.application
        for name in USAGE:
            app.add_handler(CommandHandler(name, self._on_command, filters=_COMMAND_UPDATES))
        app.add_handler(CallbackQueryHandler(self._on_button))
        app.add_handler(MessageHandler(filters.COMMAND & _COMMAND_UPDATES, self._on_other_command))
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migration))
        app.add_handler(ChatMemberHandler(self._on_membership, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_error_handler(self._on_error)

    async def _on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A known command (`/subscribe ai`, `/subscribe@BotName ai` in groups)."""
        message = update.effective_message
        if message is None or not message.text:
            return
        name = message.text.split(maxsplit=1)[0][1:].partition("@")[0].lower()
        await self._answer(message, update.effective_user, name, tuple(context.args or ()))

    async def _on_other_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any other `/word` addressed to us gets a hint; those for other bots are ignored."""
        message = update.effective_message
        if message is None or not message.text:
            return
        first, *args = message.text.split()
        name, _, target = first[1:].partition("@")
        if target and target.lower() != (context.bot.username or "").lower():
            return
        if not target and message.chat.type != ChatType.PRIVATE:
            return  # in a group, an unknown command without @ is likely another bot's
        await self._answer(message, update.effective_user, name.lower()[:64], tuple(args))

    async def _on_migration(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A group upgraded to a supergroup: Telegram says so in both, each naming the other."""
        message = update.effective_message
        if message is None:
            return
        if message.migrate_to_chat_id:
            old, new = message.chat.id, message.migrate_to_chat_id
        elif message.migrate_from_chat_id:
            old, new = message.migrate_from_chat_id, message.chat.id
        else:
            return
        await self._commands.chat_moved(Platform.TELEGRAM, str(old), str(new))

    async def _on_membership(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """The bot was removed from a chat (kicked, left, or blocked by its user): the chat's
        subscriptions stop now, not at a refused alert; subscribing again starts afresh."""
        change = update.my_chat_member
        if change is None or change.new_chat_member.status not in _GONE:
            return
        if (
            change.chat.type == ChatType.GROUP
            and change.new_chat_member.status == ChatMemberStatus.LEFT
        ):
            return  # maybe upgraded to a supergroup: a refused alert says which (moved or gone)
        reason = f"telegram: the bot's membership is now {change.new_chat_member.status}"
        await self._commands.chat_gone(Platform.TELEGRAM, str(change.chat.id), reason)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An inline button: its callback_data is a command (`subscribe ai`) run for the chat."""
        query = update.callback_query
        if query is None:
            return
        message = query.message
        words = (query.data or "").split()
        if message is None or not words or words[0] not in USAGE:
            await query.answer("This button no longer works.")
            return
        thread_id = _thread_of(message) if isinstance(message, Message) else None
        # a button press always comes from a user (never "as the group"): no sender chat
        request = self._request(
            message.chat, query.from_user, None, words[0], tuple(words[1:]), thread_id
        )
        reply = await self._commands.handle(request)
        await _answer_query(query, reply.text)
        if reply.refused and message.chat.type != ChatType.PRIVATE:
            return  # the presser was told; a member's taps post nothing to the group
        await self._reply(message.chat.id, thread_id, reply)

    async def _answer(
        self, message: Message, user: User | None, name: str, args: tuple[str, ...]
    ) -> None:
        thread_id = _thread_of(message)
        request = self._request(message.chat, user, message.sender_chat, name, args, thread_id)
        reply = await self._commands.handle(request)
        await self._reply(message.chat.id, thread_id, reply)

    def _request(
        self,
        chat: Chat,
        user: User | None,
        sender_chat: Chat | None,
        name: str,
        args: tuple[str, ...],
        thread_id: int | None,
    ) -> CommandRequest:
        bot = self.application.bot

        async def is_chat_admin() -> bool:
            if sender_chat is not None and sender_chat.id == chat.id:
                return True  # an anonymous admin, writing as the group itself
            if user is None:
                return False
            member = await bot.get_chat_member(chat.id, user.id)
            return member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)

        return CommandRequest(
            platform=Platform.TELEGRAM,
            chat_id=str(chat.id),
            user_id=str(user.id) if user is not None else "",
            command=name,
            args=args,
            thread_id=str(thread_id) if thread_id is not None else "",
            is_group=chat.type in (ChatType.GROUP, ChatType.SUPERGROUP),
            is_chat_admin=is_chat_admin,
            language=(user.language_code or "") if user is not None else "",
        )

    async def _reply(self, chat_id: int, thread_id: int | None, reply: CommandReply) -> None:
        """Post a command's answer as plain text (no parse mode: nothing to escape)."""
        text = clip(reply.text or "…", MAX_TEXT)
        markup = keyboard(reply.buttons)
        for attempt in (1, 2):
            try:
                async with self.wire.slot():
                    await self.application.bot.send_message(
                        chat_id, text, message_thread_id=thread_id, reply_markup=markup
                    )
                return
            except RetryAfter as exc:
                wait = retry_after_wait(exc)
                if attempt == 2 or wait > MAX_REPLY_WAIT:
                    raise
                await asyncio.sleep(wait)
            except (BadRequest, Forbidden) as exc:  # a topic deleted meanwhile, a bot removed
                said = self._mask(exc.message)
                log.warning(
                    "telegram: the answer in chat %s could not be posted: %s", chat_id, said
                )
                return

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one place handler errors end up: logged once, the token masked."""
        error = context.error
        if error is None:
            return
        where = ""
        if isinstance(update, Update) and update.effective_chat is not None:
            where = f" in chat {update.effective_chat.id}"
        details = self._mask("".join(traceback.format_exception(error)).rstrip())
        log.error("telegram: handling an update%s failed:\n%s", where, details)

    def _polling_error(self, exc: TelegramError) -> None:
        log.warning("telegram: polling: %s: %s", type(exc).__name__, self._mask(exc.message))


def keyboard(buttons: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup | None:
    """Inline buttons, three a row, whose callback_data is the command they run."""
    usable = [
        InlineKeyboardButton(label[:64], callback_data=command)
        for label, command in buttons
        if label and 0 < len(command.encode()) <= MAX_CALLBACK_DATA
    ]
    if not usable:
        return None
    return InlineKeyboardMarkup([usable[i : i + 3] for i in range(0, len(usable), 3)])


async def _answer_query(query: CallbackQuery, text: str) -> None:
    try:
        await query.answer(clip(text.split("\n", 1)[0], MAX_CALLBACK_ANSWER))
    except BadRequest as exc:  # too old: the chat still gets the reply message
        log.info("telegram: callback query not answered: %s", exc.message)


def _thread_of(message: Message) -> int | None:
    """The forum topic a message was written in (reply chains in plain groups are not topics)."""
    return message.message_thread_id if message.is_topic_message else None


def webhook_target(url: str) -> tuple[str, str]:
    """(URL given to setWebhook, path served): a URL without a path gets the default one."""
    if not url:
        return "", DEFAULT_WEBHOOK_PATH
    parts = urlsplit(url)
    if parts.path in ("", "/"):
        return urlunsplit(parts._replace(path=DEFAULT_WEBHOOK_PATH)), DEFAULT_WEBHOOK_PATH
    return url, parts.path
