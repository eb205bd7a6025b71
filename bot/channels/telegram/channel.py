"""The Telegram adapter: one PTB `Application` shared by the sender and the front end."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from typing import Any

from telegram.ext import (
    Application,
    ApplicationBuilder,
)
from telegram.request import HTTPXRequest

from bot.channels.telegram.frontend import TelegramFrontEnd, webhook_target
from bot.channels.telegram.limits import (
    CONNECTION_POOL,
    GLOBAL_RATE,
    GROUP_CHAT_INTERVAL,
    PRIVATE_CHAT_INTERVAL,
    WIRE_WINDOW,
    SlidingWindow,
)
from bot.channels.telegram.updates import ChatOrderedUpdates
from bot.commands import Commands
from bot.settings import Settings

CONCURRENT_UPDATES = 64
"""Updates handled at once, across chats (one chat's are handled one at a time, and those that
wait for their turn count: at most `updates.MAX_WAITING` of one chat)."""


class TelegramChannel(TelegramFrontEnd):
    """The Telegram adapter: a `Channel` for the dispatcher and a `FrontEnd` for commands."""

    def __init__(self, settings: Settings, commands: Commands) -> None:
        if not settings.telegram_bot_token:
            raise ValueError("telegram: TELEGRAM_BOT_TOKEN is not set")
        self._token = settings.telegram_bot_token
        self._commands = commands
        self.private_interval = PRIVATE_CHAT_INTERVAL
        self.group_interval = GROUP_CHAT_INTERVAL
        api = settings.telegram_api_url.rstrip("/")
        self.webhook_url, self.webhook_path = webhook_target(settings.telegram_webhook_url)
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
            .concurrent_updates(ChatOrderedUpdates(CONCURRENT_UPDATES))
            .build()
        )
        self._add_handlers()
        self.wire = SlidingWindow(int(GLOBAL_RATE), WIRE_WINDOW)
        """Every message out (alerts and replies) passes here: Telegram's 30/s, strictly."""
        self._bot_lock = asyncio.Lock()
        self._bot_ready = False
        self._start_task: asyncio.Task[None] | None = None
