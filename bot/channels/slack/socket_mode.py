"""Socket Mode and bolt, made to speak in one line: every envelope acknowledged, each failure and
each request nobody answers said once, without a traceback or a page of advice."""

from __future__ import annotations

import logging
import time

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

log = logging.getLogger(__name__)


class AckingSocketModeHandler(AsyncSocketModeHandler):
    """bolt acknowledges an envelope only when a listener took it: Slack then sends one nobody
    answers (another app's command, an event newsbot did not ask for) again, and shows its user
    an error. Every envelope is acknowledged here."""

    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        started = time.time()
        answer = await run_async_bolt_app(self.app, req)
        if answer.status == 200:
            await send_async_response(client, req, answer, started)
        else:
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))


class _OneLine(logging.Filter):
    """slack_sdk logs each failed Socket Mode connection as an ERROR with a traceback; the
    reason alone, as a warning, says all an operator can act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info is not None and record.levelno >= logging.ERROR:
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def socket_mode_logger() -> logging.Logger:
    """The logger slack_sdk's Socket Mode client writes to: ours, one line per failure."""
    logger = log.getChild("socket_mode")
    if not any(isinstance(f, _OneLine) for f in logger.filters):
        logger.addFilter(_OneLine())
    return logger


class _BoltNoise(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN from the environment itself and, since our `authorize` hands
    it that token, warns at every start that the variable "will be ignored": it is used. And it
    follows each request no listener takes with a page of code to handle it: the request's
    first line is what an operator can use."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "`token` will be unused" in message or "will be ignored" in message:
            return False
        if message.startswith("Unhandled request"):
            record.msg, record.args = f"slack: {message.splitlines()[0]}; not answered", None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def quiet_bolt() -> None:
    bolt_log = logging.getLogger("slack_bolt.AsyncApp")
    if not any(isinstance(f, _BoltNoise) for f in bolt_log.filters):
        bolt_log.addFilter(_BoltNoise())
