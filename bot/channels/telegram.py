"""Telegram: alerts out and commands in through the Bot API, with python-telegram-bot 22.

Out: `send` renders an alert (`bot.render.telegram`) and posts it as a photo with an HTML caption
when the item has an image and the caption fits, else as an HTML text; a refused photo falls back to
text and refused HTML to plain text, once. Every other outcome is one of the typed `SendError`s the
dispatcher acts on. The limits below are the platform's; the dispatcher paces by them.

In: PTB's `Application` runs inside our event loop (never `run_polling`): long polling by default,
or a webhook route on the bot's web server when `TELEGRAM_WEBHOOK_URL` is set, the secret-token
header checked. Each command becomes a platform-neutral `CommandRequest` for `bot.commands`.

The API base URL comes from settings (tests and self-hosted Bot API servers stand in for
api.telegram.org). The token is part of every request URL, so nothing here logs a URL or an
exception text without masking it first; `bot.logs.SecretFilter` covers what PTB and httpx log.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
import traceback
import warnings
from collections import deque
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any, Final
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
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.channels.base import (
    Fatal,
    Outgoing,
    PermanentFailure,
    RateLimited,
    RecipientGone,
    RecipientMoved,
    SendError,
    TransientFailure,
)
from bot.commands import USAGE, CommandReply, CommandRequest, Commands
from bot.models import Platform, Recipient
from bot.render.telegram import TelegramText, render_message, utf16_len
from bot.settings import Settings

log = logging.getLogger(__name__)

# Bot API limits (https://core.telegram.org/bots/api#sendmessage, /bots/faq#broadcasting-to-users)
MAX_TEXT: Final = 4096
"""UTF-16 code units of a message's text after markup parsing."""
MAX_CAPTION: Final = 1024
MAX_CALLBACK_DATA: Final = 64
"""Bytes of an inline button's callback_data."""
MAX_CALLBACK_ANSWER: Final = 200
GLOBAL_RATE: Final = 30.0
"""Messages per second per bot, to all chats together."""
GLOBAL_INTERVAL: Final = 1 / 29.7
"""The dispatcher's pacing: a little above 1/30 s, so 30 sends span more than a second."""
WIRE_WINDOW: Final = 1.005
"""At most GLOBAL_RATE messages reach Telegram within this many seconds, whatever the scheduling:
a send that starts late (a busy event loop, the first getMe) must not bunch up with the next."""
PRIVATE_CHAT_INTERVAL: Final = 1.0
"""About one message per second to one private chat."""
GROUP_CHAT_INTERVAL: Final = 3.0
"""20 messages per minute to one group, supergroup or channel."""
CONNECTION_POOL: Final = 80
"""Connections for sends and replies: above the dispatcher's ~60 sends in flight at 30/s."""
MAX_REPLY_WAIT: Final = 10.0
"""A command reply that hits flood control waits this long at most, once."""
DEFAULT_WEBHOOK_PATH: Final = "/telegram/webhook"
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES: Final = (Update.MESSAGE, Update.CHANNEL_POST, Update.CALLBACK_QUERY)
START_RETRY: Final = 30.0
"""Seconds between attempts to reach the Bot API when it is unreachable at start."""

_COMMAND_UPDATES = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST


class TelegramChannel:
    """The Telegram adapter: a `Channel` for the dispatcher and a `FrontEnd` for commands."""

    platform = Platform.TELEGRAM
    global_interval = GLOBAL_INTERVAL

    def __init__(self, settings: Settings, commands: Commands) -> None:
        if not settings.telegram_bot_token:
            raise ValueError("telegram: TELEGRAM_BOT_TOKEN is not set")
        self._token = settings.telegram_bot_token
        self._commands = commands
        self.private_interval = PRIVATE_CHAT_INTERVAL
        self.group_interval = GROUP_CHAT_INTERVAL
        api = settings.telegram_api_url.rstrip("/")
        self.webhook_url, self.webhook_path = _webhook_target(settings.telegram_webhook_url)
        self.webhook_secret = hmac.new(
            self._token.encode(), b"newsbot telegram webhook", hashlib.sha256
        ).hexdigest()
        """Derived from the token: stable across restarts, secret as long as the token is."""
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(self._token)
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
            .request(
                HTTPXRequest(
                    connection_pool_size=CONNECTION_POOL,
                    connect_timeout=5.0,
                    read_timeout=15.0,
                    write_timeout=15.0,
                    pool_timeout=10.0,
                    media_write_timeout=30.0,
                )
            )
            .get_updates_request(
                HTTPXRequest(connection_pool_size=2, connect_timeout=5.0, read_timeout=10.0)
            )
            .job_queue(None)
            .concurrent_updates(16)
            .build()
        )
        self._add_handlers()
        self.wire = SlidingWindow(int(GLOBAL_RATE), WIRE_WINDOW)
        """Every message out (alerts and replies) passes here: Telegram's 30/s, strictly."""
        self._bot_lock = asyncio.Lock()
        self._bot_ready = False
        self._start_task: asyncio.Task[None] | None = None

    # Channel ---------------------------------------------------------------------------------

    def chat_interval(self, recipient: Recipient) -> float:
        """Groups, supergroups and channels have negative ids (or an @username): 20/min."""
        if recipient.chat_id.startswith(("-", "@")):
            return self.group_interval
        return self.private_interval

    async def send(self, message: Outgoing) -> None:
        """Deliver one alert or raise the `SendError` that says what to do about it."""
        recipient = message.recipient
        chat_id = _chat_id(recipient.chat_id)
        thread_id = int(recipient.thread_id) if recipient.thread_id else None
        try:
            await self._ready()
            image = message.item.image
            caption = render_message(message, limit=MAX_CAPTION) if _is_web_url(image) else None
            if image is not None and caption is not None:
                try:
                    async with self.wire.slot():
                        await self.application.bot.send_photo(
                            chat_id,
                            image,
                            caption=caption.html,
                            parse_mode=ParseMode.HTML,
                            message_thread_id=thread_id,
                        )
                    return
                except (BadRequest, InvalidToken) as exc:
                    # InvalidToken is PTB's name for any 404, which a Bot API server without
                    # sendPhoto answers too; a token that is really bad fails the text send below
                    if isinstance(exc, BadRequest) and _recipient_gone(exc):
                        raise
                    log.info(
                        "telegram chat %s: photo refused (%s); sending text",
                        recipient.chat_id,
                        self._mask(exc.message),
                    )
            text = render_message(message, limit=MAX_TEXT)
            assert text is not None, "a text message always fits (title and tags are capped)"
            await self._send_text(chat_id, thread_id, text, recipient.chat_id)
        except TelegramError as exc:
            raise self._failure(exc) from None

    async def _send_text(
        self, chat_id: int | str, thread_id: int | None, text: TelegramText, chat: str
    ) -> None:
        bot = self.application.bot
        try:
            async with self.wire.slot():
                await bot.send_message(
                    chat_id, text.html, parse_mode=ParseMode.HTML, message_thread_id=thread_id
                )
            return
        except BadRequest as exc:
            if not _markup_refused(exc):
                raise
            html_error = self._mask(exc.message)
        log.warning("telegram chat %s: HTML refused (%s); sending plain text", chat, html_error)
        try:
            async with self.wire.slot():
                await bot.send_message(chat_id, text.plain, message_thread_id=thread_id)
        except BadRequest as exc:
            if _recipient_gone(exc):
                raise
            raise PermanentFailure(
                f"telegram: HTML refused ({html_error}); plain text refused "
                f"({self._mask(exc.message)})"
            ) from None

    def _failure(self, exc: TelegramError) -> SendError:
        """The typed outcome of a Bot API error (BadRequest is a NetworkError: test it first)."""
        reason = self._mask(f"telegram: {type(exc).__name__}: {exc.message}")
        if isinstance(exc, RetryAfter):
            return RateLimited(reason, retry_after_seconds(exc))
        if isinstance(exc, Forbidden):
            return RecipientGone(reason)
        if isinstance(exc, ChatMigrated):
            return RecipientMoved(reason, str(exc.new_chat_id))
        if isinstance(exc, InvalidToken):
            return Fatal(reason)
        if isinstance(exc, BadRequest):
            return RecipientGone(reason) if _recipient_gone(exc) else PermanentFailure(reason)
        return TransientFailure(reason)  # TimedOut, NetworkError (5xx, connection), the rest

    async def _ready(self) -> None:
        """Sends can come before the front end starts (`run --once`): initialise the bot once."""
        if self._bot_ready:
            return
        async with self._bot_lock:
            if not self._bot_ready:
                await self.application.bot.initialize()
                self._bot_ready = True

    # FrontEnd --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Receive commands: long polling, or the webhook when one is configured.

        An unreachable Bot API does not stop the bot: it keeps trying in the background.
        """
        try:
            await self._start()
        except BadRequest:
            raise
        except (TimedOut, NetworkError) as exc:
            log.warning(
                "telegram: Bot API unreachable (%s); retrying every %.0fs",
                self._mask(exc.message),
                START_RETRY,
            )
            self._start_task = asyncio.create_task(self._keep_starting(), name="telegram-start")

    async def _start(self) -> None:
        app = self.application
        await app.initialize()
        self._bot_ready = True
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
            except (TimedOut, NetworkError) as exc:
                log.warning("telegram: Bot API still unreachable: %s", self._mask(exc.message))

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
        if not hmac.compare_digest(given.encode(), self.webhook_secret.encode()):
            return web.Response(status=401, text="unauthorized")
        if not self.application.running:
            return web.Response(status=503, text="not running")
        try:
            data = await request.json()
            if not isinstance(data, dict):
                raise ValueError("not an object")
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("telegram: webhook: unreadable update: %s", exc)
            return web.Response(status=400, text="bad update")
        await self.application.update_queue.put(update)
        return web.Response(text="ok")

    async def _set_commands(self) -> None:
        commands = [BotCommand(name, spec.about) for name, spec in USAGE.items() if not spec.admin]
        try:
            await self.application.bot.set_my_commands(commands)
        except TelegramError as exc:
            log.warning("telegram: setMyCommands failed (%s); continuing", self._mask(exc.message))

    # commands --------------------------------------------------------------------------------

    def _add_handlers(self) -> None:
        app = self.application
        for name in USAGE:
            app.add_handler(CommandHandler(name, self._on_command, filters=_COMMAND_UPDATES))
        app.add_handler(CallbackQueryHandler(self._on_button))
        app.add_handler(MessageHandler(filters.COMMAND & _COMMAND_UPDATES, self._on_other_command))
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
        await self._answer(message, update.effective_user, name.lower()[:64], tuple(args))

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
                wait = retry_after_seconds(exc)
                if attempt == 2 or wait > MAX_REPLY_WAIT:
                    raise
                await asyncio.sleep(wait)

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

    def _mask(self, text: str) -> str:
        return text.replace(self._token, "***")


# helpers -------------------------------------------------------------------------------------


class SlidingWindow:
    """At most `limit` requests in any `window` seconds as the server sees them, in arrival order.

    A request reaches the server somewhere between its start and its end, so it holds a slot
    from its start until `window` after its end: then no latency, slow start or busy event loop
    can make `limit + 1` of them land in one window. (Of any `limit + 1` requests that land in
    one window, the one started last would have found the other `limit` still holding slots.)
    The dispatcher schedules sends a little below the rate; this holds the line at the wire,
    for command replies too, which the dispatcher does not schedule.
    """

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._ends: deque[float] = deque()
        self._running = 0
        self._lock = asyncio.Lock()
        self._released = asyncio.Event()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot while the request runs (first come, first served)."""
        await self._acquire()
        try:
            yield
        finally:
            self._running -= 1
            self._ends.append(self._clock())
            self._released.set()

    async def _acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                while self._ends and self._ends[0] <= now - self.window:
                    self._ends.popleft()
                if self._running + len(self._ends) < self.limit:
                    self._running += 1
                    return
                self._released.clear()
                timeout = self._ends[0] + self.window - now if self._ends else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._released.wait(), timeout)


def retry_after_seconds(exc: RetryAfter) -> float:
    """`retry_after` in seconds (PTB 22 returns an int or a timedelta, with a warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


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


def clip(text: str, limit: int) -> str:
    """At most `limit` UTF-16 units of `text`, with an ellipsis when cut."""
    if utf16_len(text) <= limit:
        return text
    used, end = 0, 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit - 1:
            end = index
            break
    return text[:end] + "…"


async def _answer_query(query: CallbackQuery, text: str) -> None:
    try:
        await query.answer(clip(text.split("\n", 1)[0], MAX_CALLBACK_ANSWER))
    except BadRequest as exc:  # too old: the chat still gets the reply message
        log.info("telegram: callback query not answered: %s", exc.message)


def _thread_of(message: Message) -> int | None:
    """The forum topic a message was written in (reply chains in plain groups are not topics)."""
    return message.message_thread_id if message.is_topic_message else None


def _chat_id(chat_id: str) -> int | str:
    try:
        return int(chat_id)
    except ValueError:
        return chat_id  # @channelusername


def _is_web_url(url: str | None) -> bool:
    return bool(url) and str(url).lower().startswith(("http://", "https://"))


def _recipient_gone(exc: BadRequest) -> bool:
    text = exc.message.lower()
    return "chat not found" in text or "message thread not found" in text


def _markup_refused(exc: BadRequest) -> bool:
    text = exc.message.lower()
    return "can't parse" in text or "entit" in text


def _webhook_target(url: str) -> tuple[str, str]:
    """(URL given to setWebhook, path served): a URL without a path gets the default one."""
    if not url:
        return "", DEFAULT_WEBHOOK_PATH
    parts = urlsplit(url)
    if parts.path in ("", "/"):
        return urlunsplit(parts._replace(path=DEFAULT_WEBHOOK_PATH)), DEFAULT_WEBHOOK_PATH
    return url, parts.path
