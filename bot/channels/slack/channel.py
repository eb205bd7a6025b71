"""The Slack adapter: one Web API client for alerts and one bolt app for commands."""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.frontend import SlackFrontEnd
from bot.channels.slack.limits import (
    ACTION_PATTERN,
    CHAT_INTERVAL,
    COMMAND,
    SEND_TIMEOUT,
)
from bot.channels.slack.socket_mode import AckingSocketModeHandler, quiet_bolt
from bot.channels.turns import ChatTurns
from bot.commands import Commands
from bot.settings import Settings

log = logging.getLogger(__name__)


class SlackChannel(SlackFrontEnd):
    """The Slack adapter: a `Channel` for the dispatcher and a `FrontEnd` for `/news`."""

    def __init__(self, settings: Settings, commands: Commands) -> None:
        if not settings.slack_bot_token:
            raise ValueError("slack: SLACK_BOT_TOKEN is not set")
        self._commands = commands
        self._app_token = settings.slack_app_token
        self._signing_secret = settings.slack_signing_secret
        self.chat_interval_s = CHAT_INTERVAL
        self.client = AsyncWebClient(
            token=settings.slack_bot_token,
            base_url=settings.slack_api_url,
            timeout=SEND_TIMEOUT,
            retry_handlers=[],
        )
        """For alerts: no retry handlers, so each failure reaches the dispatcher as it happened."""
        quiet_bolt()
        self.app = AsyncApp(
            name="newsbot",
            # no token here: `authorize` hands bolt the bot token for each request
            client=AsyncWebClient(base_url=settings.slack_api_url, timeout=SEND_TIMEOUT),
            signing_secret=settings.slack_signing_secret,
            request_verification_enabled=True,
            process_before_response=False,
            authorize=self._authorizer(),
        )
        """bolt's app; its client keeps slack_sdk's default retry of a failed connection."""
        self.app.command(COMMAND)(self._on_command)
        self.app.action(ACTION_PATTERN)(self._on_button)
        self.app.error(self._on_error)
        self._bot_user_id: str | None = None
        self.socket_mode = bool(self._app_token)
        self._socket: AckingSocketModeHandler | None = None
        self._socket_task: asyncio.Task[None] | None = None
        self._speakers = {}
        self._turns = ChatTurns()
