"""Slack alerts out: render as Block Kit, post, and type every Web API outcome."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.base import (
    Fatal,
    PermanentFailure,
    RateLimited,
    RecipientGone,
    SendError,
    SentMessage,
    TransientFailure,
)
from bot.channels.slack.limits import (
    CHAT_INTERVAL,
    DEFAULT_RETRY_AFTER,
    FATAL_ERRORS,
    GLOBAL_INTERVAL,
    GONE_ERRORS,
    NETWORK_ERRORS,
    RATE_LIMITED_ERRORS,
    TRANSIENT_ERRORS,
)
from bot.models import DigestPage, Outgoing, Platform, Recipient
from bot.render.digest import render_slack_digest, slack_fits
from bot.render.slack import (
    SlackMessage,
    render_alert,
)

log = logging.getLogger(__name__)


class SlackSender:
    """Alerts out through chat.postMessage: Block Kit, no retry handlers of the client's own (the
    dispatcher owns retries and pacing), every Web API outcome a typed `SendError`."""

    platform = Platform.SLACK
    global_interval = GLOBAL_INTERVAL
    client: AsyncWebClient
    chat_interval_s: float = CHAT_INTERVAL

    def chat_interval(self, recipient: Recipient) -> float:
        return self.chat_interval_s

    async def send(self, message: Outgoing) -> SentMessage:
        """Post one alert to its channel, or raise the `SendError` that says what to do."""
        recipient = message.recipient
        rendered = render_alert(message)
        try:
            return await self._call_post(message, rendered)
        except SlackApiError as exc:
            without_image = render_alert(message, with_image=False)
            if error_code(exc) != "invalid_blocks" or without_image == rendered:
                raise self._failure(exc, recipient) from None
            log.info(
                "slack channel %s: blocks refused (%s); sending without the image",
                recipient.chat_id,
                _details(exc),
            )
        except NETWORK_ERRORS as exc:
            raise _network_failure(exc, recipient) from None
        try:
            return await self._call_post(message, without_image)
        except SlackApiError as exc:
            raise self._failure(exc, recipient) from None
        except NETWORK_ERRORS as exc:
            raise _network_failure(exc, recipient) from None

    async def edit(self, message: Outgoing, sent: SentMessage) -> None:
        """chat.update the alert with its story's new sources (`message_not_found`,
        `cant_update_message` and the like are permanent)."""
        recipient = message.recipient
        rendered = render_alert(message)
        try:
            await self.client.chat_update(
                channel=sent.chat_id or recipient.chat_id,
                ts=sent.message_id,
                text=rendered.text,
                blocks=list(rendered.blocks),
            )
        except SlackApiError as exc:
            raise self._failure(exc, recipient, "chat.update") from None
        except NETWORK_ERRORS as exc:
            raise _network_failure(exc, recipient, "chat.update") from None

    def fits_digest(self, page: DigestPage) -> bool:
        return slack_fits(page)

    async def send_digest(self, page: DigestPage) -> SentMessage:
        """Post one page of a digest, or raise the `SendError` that says what to do."""
        try:
            return await self._post(page.recipient, render_slack_digest(page), page.preview)
        except SlackApiError as exc:
            raise self._failure(exc, page.recipient) from None
        except NETWORK_ERRORS as exc:
            raise _network_failure(exc, page.recipient) from None

    async def _call_post(self, message: Outgoing, rendered: SlackMessage) -> SentMessage:
        return await self._post(message.recipient, rendered, message.preview)

    async def _post(
        self, recipient: Recipient, rendered: SlackMessage, preview: bool
    ) -> SentMessage:
        """chat.postMessage; Slack unfurls the message's links only when the chat wants previews."""
        response = await self.client.chat_postMessage(
            channel=recipient.chat_id,
            text=rendered.text,
            blocks=list(rendered.blocks),
            thread_ts=recipient.thread_id or None,
            unfurl_links=preview,
            unfurl_media=preview,
        )
        return SentMessage(str(response.get("ts") or ""), str(response.get("channel") or ""))

    def _failure(
        self, exc: SlackApiError, recipient: Recipient, method: str = "chat.postMessage"
    ) -> SendError:
        """The typed outcome of a refused Web API call."""
        status = exc.response.status_code
        error = error_code(exc) or f"HTTP {status}"
        reason = f"slack: {method} to {recipient.chat_id}: {error}"
        if status == 429 or error in RATE_LIMITED_ERRORS:
            return RateLimited(reason, _retry_after(exc.response.headers))
        if error in FATAL_ERRORS:
            return Fatal(f"{reason} (the bot token cannot post: check SLACK_BOT_TOKEN and scopes)")
        if error in GONE_ERRORS:
            return RecipientGone(reason)
        if status >= 500 or error in TRANSIENT_ERRORS:
            return TransientFailure(reason)
        details = _details(exc)
        return PermanentFailure(f"{reason} ({details})" if details else reason)


def error_code(exc: SlackApiError) -> str:
    data = exc.response.data
    if isinstance(data, Mapping):
        return str(data.get("error") or "")
    return ""


def _details(exc: SlackApiError) -> str:
    """Slack's explanation of a refusal (`invalid_blocks` lists what it did not like)."""
    data = exc.response.data
    if not isinstance(data, Mapping):
        return ""
    messages = (data.get("response_metadata") or {}).get("messages") or data.get("errors") or []
    return "; ".join(str(m) for m in messages)[:300]


def _retry_after(headers: Mapping[str, Any] | None) -> float:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) and value else value
            try:
                return max(float(str(raw).strip()), 0.0) or DEFAULT_RETRY_AFTER
            except ValueError:
                return DEFAULT_RETRY_AFTER
    return DEFAULT_RETRY_AFTER


def _network_failure(
    exc: Exception, recipient: Recipient, method: str = "chat.postMessage"
) -> SendError:
    """Timeouts, refused connections, a body that is not Slack's: try again later."""
    reason = f"slack: {method} to {recipient.chat_id}: {error_name(exc)}"
    if isinstance(exc, SlackRequestError):
        return PermanentFailure(reason)  # the request itself was malformed
    return TransientFailure(reason)


def error_name(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__
