"""Telegram alerts out: render, send, and turn every Bot API error into a typed `SendError`.

The token is part of every request URL, so nothing here logs an exception text unmasked."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
)

from bot.channels.base import (
    Fatal,
    PermanentFailure,
    RateLimited,
    RecipientGone,
    RecipientMoved,
    SendError,
    SentMessage,
    TransientFailure,
)
from bot.channels.telegram.limits import (
    GLOBAL_INTERVAL,
    GROUP_CHAT_INTERVAL,
    MAX_CAPTION,
    MAX_TEXT,
    PRIVATE_CHAT_INTERVAL,
    SlidingWindow,
    retry_after_wait,
)
from bot.logs import any_case
from bot.models import DigestPage, Outgoing, Platform, Recipient
from bot.render.digest import render_telegram_digest, telegram_fits
from bot.render.telegram import TelegramText, render_message
from bot.text.urls import MASK

log = logging.getLogger(__name__)

TOKEN_REFUSED = "telegram: the Bot API refused the token (check TELEGRAM_BOT_TOKEN)"
"""Why the channel cannot work at all; PTB's own message would quote the token."""


class TelegramSender:
    """Alerts out: a photo with an HTML caption when the item has an image and the caption fits,
    else an HTML text; a refused photo falls back to text, refused HTML to plain text, once."""

    platform = Platform.TELEGRAM
    global_interval = GLOBAL_INTERVAL
    application: Application[Any, Any, Any, Any, Any, Any]
    wire: SlidingWindow
    """Every message out (alerts and replies) passes here: Telegram's 30/s, strictly."""
    private_interval: float = PRIVATE_CHAT_INTERVAL
    group_interval: float = GROUP_CHAT_INTERVAL
    _token: str
    _bot_lock: asyncio.Lock
    _bot_ready: bool

    def chat_interval(self, recipient: Recipient) -> float:
        """Groups, supergroups and channels have negative ids (or an @username): 20/min."""
        if recipient.chat_id.startswith(("-", "@")):
            return self.group_interval
        return self.private_interval

    async def send(self, message: Outgoing) -> SentMessage:
        """Deliver one alert or raise the `SendError` that says what to do about it."""
        recipient = message.recipient
        chat_id = api_chat_id(recipient.chat_id)
        thread_id = int(recipient.thread_id) if recipient.thread_id else None
        try:
            await self._ready()
            image = message.item.image if message.image else None
            caption = render_message(message, limit=MAX_CAPTION) if _is_web_url(image) else None
            if image is not None and caption is not None:
                try:
                    async with self.wire.slot():
                        photo = await self.application.bot.send_photo(
                            chat_id,
                            image,
                            caption=caption.html,
                            parse_mode=ParseMode.HTML,
                            message_thread_id=thread_id,
                        )
                    return SentMessage(str(photo.message_id), caption=True)
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
            sent = await self._send_text(chat_id, thread_id, text, message.preview)
            return SentMessage(str(sent.message_id))
        except TelegramError as exc:
            raise self._failure(exc) from None

    def fits_digest(self, page: DigestPage) -> bool:
        return telegram_fits(page, MAX_TEXT)

    async def send_digest(self, page: DigestPage) -> SentMessage:
        """Deliver one page of a digest as an HTML text (plain text when HTML is refused)."""
        chat_id = api_chat_id(page.recipient.chat_id)
        thread_id = int(page.recipient.thread_id) if page.recipient.thread_id else None
        try:
            await self._ready()
            text = render_telegram_digest(page)
            sent = await self._send_text(chat_id, thread_id, text, page.preview)
            return SentMessage(str(sent.message_id))
        except TelegramError as exc:
            raise self._failure(exc) from None

    async def edit(self, message: Outgoing, sent: SentMessage) -> None:
        """Rewrite an alert (text, or a photo's caption) with its story's new sources."""
        chat_id = api_chat_id(message.recipient.chat_id)
        rendered = render_message(message, limit=MAX_CAPTION if sent.caption else MAX_TEXT)
        if rendered is None:  # the caption no longer fits: keep the message as it is
            raise PermanentFailure("telegram: the edited caption would be too long")
        bot = self.application.bot
        try:
            await self._ready()
            for text, mode in ((rendered.html, ParseMode.HTML), (rendered.plain, None)):
                try:
                    async with self.wire.slot():
                        if sent.caption:
                            await bot.edit_message_caption(
                                chat_id, int(sent.message_id), caption=text, parse_mode=mode
                            )
                        else:
                            await bot.edit_message_text(
                                text,
                                chat_id,
                                int(sent.message_id),
                                parse_mode=mode,
                                link_preview_options=_preview(message),
                            )
                    return
                except BadRequest as exc:
                    if "not modified" in exc.message.lower():
                        return  # it already says this
                    if mode is None or not _markup_refused(exc):
                        raise
        except TelegramError as exc:
            raise self._failure(exc) from None

    async def _send_text(
        self, chat_id: int | str, thread_id: int | None, text: TelegramText, wants_preview: bool
    ) -> Message:
        bot = self.application.bot
        chat = str(chat_id)
        preview = LinkPreviewOptions(is_disabled=not wants_preview)
        try:
            async with self.wire.slot():
                sent: Message = await bot.send_message(
                    chat_id,
                    text.html,
                    parse_mode=ParseMode.HTML,
                    message_thread_id=thread_id,
                    link_preview_options=preview,
                )
            return sent
        except BadRequest as exc:
            if not _markup_refused(exc):
                raise
            html_error = self._mask(exc.message)
        log.warning("telegram chat %s: HTML refused (%s); sending plain text", chat, html_error)
        try:
            async with self.wire.slot():
                sent = await bot.send_message(
                    chat_id, text.plain, message_thread_id=thread_id, link_preview_options=preview
                )
            return sent
        except BadRequest as exc:
            if _recipient_gone(exc):
                raise
            raise PermanentFailure(
                f"telegram: HTML refused ({html_error}); plain text refused "
                f"({self._mask(exc.message)})"
            ) from None

    def _failure(self, exc: TelegramError) -> SendError:
        """The typed outcome of a Bot API error (BadRequest is a NetworkError: test it first)."""
        name = type(exc).__name__
        said = exc.message  # Telegram's own words may name the kind already ("Forbidden: bot …")
        named = said.replace(" ", "").lower().startswith(f"{name.lower()}:")
        reason = self._mask(f"telegram: {said}" if named else f"telegram: {name}: {said}")
        if isinstance(exc, RetryAfter):
            return RateLimited(reason, retry_after_wait(exc))
        if isinstance(exc, Forbidden):
            return RecipientGone(reason)
        if isinstance(exc, ChatMigrated):
            return RecipientMoved(reason, str(exc.new_chat_id))
        if isinstance(exc, InvalidToken):
            return Fatal(TOKEN_REFUSED)
        if isinstance(exc, BadRequest):
            return RecipientGone(reason) if _recipient_gone(exc) else PermanentFailure(reason)
        return TransientFailure(reason)  # TimedOut, NetworkError (5xx, connection), the rest

    async def _ready(self) -> None:
        """Sends can come before the front end starts (`run --once`): initialise the bot once."""
        if self._bot_ready:
            return
        async with self._bot_lock:
            if not self._bot_ready:
                try:
                    await self.application.bot.initialize()  # getMe
                except (TypeError, KeyError, ValueError) as exc:
                    # a server that is no Bot API, or not quite one (a getMe user without
                    # `is_bot`): as unusable as an unreachable one, and said so in one line
                    raise NetworkError(
                        f"getMe answered with no user the Bot API gives "
                        f"({type(exc).__name__}: {exc})"
                    ) from None
                self._bot_ready = True

    def _mask(self, text: str) -> str:
        token = any_case([self._token])
        return token.sub(MASK, text) if token is not None else text


def api_chat_id(chat_id: str) -> int | str:
    try:
        return int(chat_id)
    except ValueError:
        return chat_id  # @channelusername


def _preview(message: Outgoing) -> LinkPreviewOptions:
    """Telegram previews a message's first link unless told not to: only when the chat wants."""
    return LinkPreviewOptions(is_disabled=not message.preview)


def _is_web_url(url: str | None) -> bool:
    return bool(url) and str(url).lower().startswith(("http://", "https://"))


def _recipient_gone(exc: BadRequest) -> bool:
    text = exc.message.lower()
    return "chat not found" in text or "message thread not found" in text


def _markup_refused(exc: BadRequest) -> bool:
    text = exc.message.lower()
    return "can't parse" in text or "entit" in text
