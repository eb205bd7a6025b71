"""Slack: alerts out through chat.postMessage, `/news` commands in through slack-bolt.

Out: `send` renders an alert as Block Kit (`bot.render.slack`) and posts it with slack_sdk's
`AsyncWebClient`, with no retry handlers of its own: the dispatcher owns retries and pacing. Each
Web API outcome becomes one of the typed `SendError`s. An image Slack cannot fetch makes the whole
message `invalid_blocks`, so that one refusal is retried once without the image.

In: a slack-bolt `AsyncApp` handles `/news <verb> args`. It acknowledges at once (Slack wants the
ack within 3 s; the command's work comes after), runs the verb through the platform-neutral
`bot.commands`, and answers ephemerally through the command's response_url. Buttons in a reply
are Block Kit buttons whose value is the command they run. With `SLACK_APP_TOKEN` the app
receives over Socket Mode (no public URL); without it, Slack posts to `POST /slack/events` on the
bot's web server and bolt checks every request's signature against `SLACK_SIGNING_SECRET`
(a bad or stale one gets 401). Request verification is on in every mode.

Who may change a channel's subscriptions: anyone who can type `/news` in it. Slack has no
per-channel admin role an app can read (channel managers are not exposed through the Web API),
and a channel's members already control what is posted there; bot-admin commands stay limited to
the `admins.slack` user ids of the config. So requests carry `is_group=False`.

Every client uses `SLACK_API_URL` as its base URL, bolt's own included, so that a test server or a
proxy can stand in for slack.com.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.base import (
    Fatal,
    Outgoing,
    PermanentFailure,
    RateLimited,
    RecipientGone,
    SendError,
    TransientFailure,
)
from bot.commands import CommandReply, CommandRequest, Commands
from bot.models import Platform, Recipient
from bot.render.slack import (
    ACTION_PREFIX,
    MAX_BLOCKS,
    MAX_SECTION_TEXT,
    SlackMessage,
    render_alert,
    render_reply,
)
from bot.settings import Settings

log = logging.getLogger(__name__)

# Slack limits (https://docs.slack.dev/apis/web-api/rate-limits, .../reference/block-kit/blocks)
CHAT_INTERVAL: Final = 1.1
"""chat.postMessage allows about one message per second per channel; a little more for jitter."""
GLOBAL_INTERVAL: Final = 0.05
"""Between two sends to any channels: the per-workspace limit is far above what one bot posts."""
SECTION_TEXT_LIMIT: Final = MAX_SECTION_TEXT
BLOCK_LIMIT: Final = MAX_BLOCKS
"""Block Kit's limits; `bot.render.slack` keeps every message inside them."""
ACK_DEADLINE: Final = 3.0
"""Seconds Slack waits for a slash command's acknowledgement (we ack before any work)."""
SEND_TIMEOUT: Final = 15
"""Seconds for one Web API call; a timeout is a transient failure the dispatcher retries."""
DEFAULT_RETRY_AFTER: Final = 1.0
"""When a 429 comes without a usable Retry-After header."""
SOCKET_RETRY: Final = 30.0
COMMAND: Final = "/news"
EVENTS_PATH: Final = "/slack/events"

GONE_ERRORS: Final = frozenset({"channel_not_found", "is_archived", "not_in_channel"})
"""The channel will not take messages again: its subscriptions are deactivated."""
FATAL_ERRORS: Final = frozenset(
    {
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_authed",
        "not_allowed_token_type",
        "missing_scope",
    }
)
"""The token cannot post anywhere (revoked, workspace deleted, app without chat:write)."""
TRANSIENT_ERRORS: Final = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
RATE_LIMITED_ERRORS: Final = frozenset({"ratelimited", "rate_limited"})

_NETWORK_ERRORS = (SlackClientError, aiohttp.ClientError, TimeoutError, OSError)
"""Failures on the way (SlackApiError, a refusal, is caught before these)."""
_ACTION = re.compile(rf"^{re.escape(ACTION_PREFIX)}\d+$")
_LINK = re.compile(r"<(https?://[^|<>\s]+)(?:\|[^<>]*)?>")


class SlackChannel:
    """The Slack adapter: a `Channel` for the dispatcher and a `FrontEnd` for `/news`."""

    platform = Platform.SLACK
    global_interval = GLOBAL_INTERVAL

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
        _quiet_bolt_token_warning()
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
        self.app.action(_ACTION)(self._on_button)
        self.app.error(self._on_error)
        self._bot_user_id: str | None = None
        self.socket_mode = bool(self._app_token)
        self._socket: AsyncSocketModeHandler | None = None
        self._socket_task: asyncio.Task[None] | None = None

    # Channel ---------------------------------------------------------------------------------

    def chat_interval(self, recipient: Recipient) -> float:
        return self.chat_interval_s

    async def send(self, message: Outgoing) -> None:
        """Post one alert to its channel, or raise the `SendError` that says what to do."""
        recipient = message.recipient
        rendered = render_alert(message)
        try:
            await self._call_post(recipient, rendered)
            return
        except SlackApiError as exc:
            without_image = render_alert(message, with_image=False)
            if _error_code(exc) != "invalid_blocks" or without_image == rendered:
                raise self._failure(exc, recipient) from None
            log.info(
                "slack channel %s: blocks refused (%s); sending without the image",
                recipient.chat_id,
                _details(exc),
            )
        except _NETWORK_ERRORS as exc:
            raise _network_failure(exc, recipient) from None
        try:
            await self._call_post(recipient, without_image)
        except SlackApiError as exc:
            raise self._failure(exc, recipient) from None
        except _NETWORK_ERRORS as exc:
            raise _network_failure(exc, recipient) from None

    async def _call_post(self, recipient: Recipient, rendered: SlackMessage) -> None:
        await self.client.chat_postMessage(
            channel=recipient.chat_id,
            text=rendered.text,
            blocks=list(rendered.blocks),
            thread_ts=recipient.thread_id or None,
            unfurl_links=False,
            unfurl_media=False,
        )

    def _failure(self, exc: SlackApiError, recipient: Recipient) -> SendError:
        """The typed outcome of a refused Web API call."""
        status = exc.response.status_code
        error = _error_code(exc) or f"HTTP {status}"
        reason = f"slack: chat.postMessage to {recipient.chat_id}: {error}"
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

    # FrontEnd --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token, then receive commands: Socket Mode, or HTTP through `web_routes`.

        A token Slack refuses (`invalid_auth` and the like) stops the start; Slack being
        unreachable does not (alerts queue up, and commands work once it answers).
        """
        await self._check_token()
        if not self.socket_mode:
            if not self._signing_secret:
                log.warning(
                    "slack: SLACK_SIGNING_SECRET is not set; every request to %s will get 401",
                    EVENTS_PATH,
                )
            log.info("slack: receiving /news over HTTP at POST %s", EVENTS_PATH)
            return
        await self._check_app_token()
        self._socket = AsyncSocketModeHandler(
            self.app, self._app_token, logger=log.getChild("socket_mode")
        )
        # connect() retries on its own until it succeeds, so it must not hold up the start
        connecting = self._socket.connect_async()  # type: ignore[no-untyped-call]  # bolt: untyped
        self._socket_task = asyncio.create_task(connecting, name="slack-socket-mode")
        log.info("slack: receiving /news over Socket Mode")

    async def stop(self) -> None:
        """Close the Socket Mode connection, if any (HTTP mode needs nothing: the server stops)."""
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        if self._socket_task is not None:
            self._socket_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._socket_task
            self._socket_task = None

    def web_routes(self) -> list[web.RouteDef]:
        """`POST /slack/events` in HTTP mode (commands and button clicks); none in Socket Mode."""
        if self.socket_mode:
            return []
        return [web.post(EVENTS_PATH, self.handle_http)]

    async def handle_http(self, request: web.Request) -> web.Response:
        """One request from Slack, handed to bolt as it came (bolt checks the signature)."""
        raw = await request.read()
        headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        bolt_request = AsyncBoltRequest(
            body=raw.decode("utf-8", errors="replace"),
            query=request.query_string,
            headers=headers,  # type: ignore[arg-type]  # bolt takes str or a list per header
        )
        answer = await self.app.async_dispatch(bolt_request)
        return web.Response(
            status=answer.status,
            body=answer.body.encode("utf-8"),
            headers=answer.first_headers_without_set_cookie(),
        )

    def _authorizer(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """One workspace, one bot token: bolt needs no `auth.test` call before each request
        (the check at start already told whether the token works). A plain function, because
        bolt passes arguments by the names in its signature."""

        async def authorize(
            enterprise_id: str | None, team_id: str | None, user_id: str | None
        ) -> AuthorizeResult:
            return AuthorizeResult(
                enterprise_id=enterprise_id,
                team_id=team_id,
                bot_token=self.client.token,
                bot_user_id=self._bot_user_id,
                user_id=user_id,
            )

        return authorize

    async def _check_token(self) -> None:
        try:
            auth = await self.client.auth_test()
        except SlackApiError as exc:
            error = _error_code(exc) or f"HTTP {exc.response.status_code}"
            if error in FATAL_ERRORS:
                log.error("slack: auth.test refused the bot token: %s", error)
                raise Fatal(f"slack: auth.test: {error} (check SLACK_BOT_TOKEN)") from None
            log.warning("slack: auth.test failed (%s); starting anyway", error)
            return
        except _NETWORK_ERRORS as exc:
            log.warning("slack: Web API unreachable at start (%s); starting anyway", _name(exc))
            return
        self._bot_user_id = auth.get("user_id")
        log.info(
            "slack: signed in as %s (%s) to workspace %s (%s)",
            auth.get("user"),
            auth.get("user_id"),
            auth.get("team"),
            auth.get("team_id"),
        )

    async def _check_app_token(self) -> None:
        """A refused app-level token is a configuration error worth stopping for; Socket Mode
        itself would retry it forever."""
        try:
            await self.app.client.apps_connections_open(app_token=self._app_token)
        except SlackApiError as exc:
            error = _error_code(exc) or f"HTTP {exc.response.status_code}"
            if error in FATAL_ERRORS:
                log.error("slack: apps.connections.open refused the app token: %s", error)
                raise Fatal(f"slack: Socket Mode: {error} (check SLACK_APP_TOKEN)") from None
            log.warning("slack: apps.connections.open failed (%s); will keep trying", error)
        except _NETWORK_ERRORS as exc:
            log.warning(
                "slack: Socket Mode unreachable at start (%s); will keep trying", _name(exc)
            )

    # commands --------------------------------------------------------------------------------

    async def _on_command(
        self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """`/news <verb> args`: ack first, then run the verb and answer only the user who typed."""
        await ack()
        verb, args = parse_command_text(str(command.get("text") or ""))
        user_id = str(command.get("user_id") or "")
        request = CommandRequest(
            platform=Platform.SLACK,
            chat_id=alert_channel(str(command.get("channel_id") or ""), user_id),
            user_id=user_id,
            command=verb,
            args=args,
            is_group=False,
        )
        await self._answer(request, respond)

    async def _on_button(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """A reply's button: its value is a command (`subscribe ai`) run for that channel."""
        await ack()
        verb, args = parse_command_text(str(action.get("value") or ""))
        channel = body.get("channel") or {}
        container = body.get("container") or {}
        user = body.get("user") or {}
        user_id = str(user.get("id") or "")
        request = CommandRequest(
            platform=Platform.SLACK,
            chat_id=alert_channel(
                str(channel.get("id") or container.get("channel_id") or ""), user_id
            ),
            user_id=user_id,
            command=verb,
            args=args,
            is_group=False,
        )
        await self._answer(request, respond)

    async def _answer(self, request: CommandRequest, respond: AsyncRespond) -> None:
        if not request.chat_id:
            reply = CommandReply("This command needs a channel.")
        else:
            reply = await self._commands.handle(request)
        rendered = render_reply(reply.text, reply.buttons)
        await respond(
            text=rendered.text,
            blocks=list(rendered.blocks),
            response_type="ephemeral",
            replace_original=False,
        )

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        """The one place listener errors end up (a response_url that expired, say)."""
        where = body.get("channel_id") or (body.get("channel") or {}).get("id") or "?"
        log.error("slack: handling a request in %s failed: %s", where, _name(error))


class _BoltTokenWarning(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN from the environment itself and, since our `authorize` hands
    it that token, warns at every start that the variable "will be ignored": it is used."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "`token` will be unused" not in message and "will be ignored" not in message


def _quiet_bolt_token_warning() -> None:
    bolt_log = logging.getLogger("slack_bolt.AsyncApp")
    if not any(isinstance(f, _BoltTokenWarning) for f in bolt_log.filters):
        bolt_log.addFilter(_BoltTokenWarning())


def parse_command_text(text: str) -> tuple[str, tuple[str, ...]]:
    """`subscribe ai policy-finance` -> ("subscribe", ("ai", "policy-finance")); empty -> help.

    Slack escapes `& < >` in a command's text and may wrap URLs as `<url>` or `<url|label>`; the
    arguments are given back as the user typed them.
    """
    text = _LINK.sub(lambda m: m.group(1), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    words = text.split()
    if not words:
        return "help", ()
    return words[0].lower()[:64], tuple(words[1:])


def _error_code(exc: SlackApiError) -> str:
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


def _network_failure(exc: Exception, recipient: Recipient) -> SendError:
    """Timeouts, refused connections, a body that is not Slack's: try again later."""
    reason = f"slack: chat.postMessage to {recipient.chat_id}: {_name(exc)}"
    if isinstance(exc, SlackRequestError):
        return PermanentFailure(reason)  # the request itself was malformed
    return TransientFailure(reason)


def _name(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def alert_channel(channel_id: str, user_id: str) -> str:
    """Where a subscription made in `channel_id` gets its alerts.

    A direct message (`D...`) may be one between two people, where the bot cannot post; the
    alerts then go to the user, whose id `chat.postMessage` accepts as the bot's own DM with them.
    """
    if channel_id.startswith("D") and user_id:
        return user_id
    return channel_id
