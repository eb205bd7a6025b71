"""Slack commands in: `/news` through slack-bolt, acknowledged at once, answered ephemerally."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from bot.channels.base import (
    Fatal,
)
from bot.channels.slack.limits import (
    EVENTS_PATH,
    FATAL_ERRORS,
    NETWORK_ERRORS,
    SOCKET_RETRY,
    SOCKET_RETRY_MAX,
)
from bot.channels.slack.sender import SlackSender, error_code, error_name
from bot.channels.slack.socket_mode import AckingSocketModeHandler, socket_mode_logger
from bot.channels.turns import ChatTurns
from bot.commands import CommandReply, CommandRequest, Commands
from bot.i18n import _
from bot.models import Platform
from bot.render.slack import (
    render_reply,
)
from bot.text.plain import ascii_count

log = logging.getLogger(__name__)


_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
"""The form of Slack's signature header: anything else is refused before it is computed."""


class _Unreachable(Exception):
    """Slack did not answer apps.connections.open (network, 5xx): try again later."""


_LINK = re.compile(r"<(https?://[^|<>\s]+)(?:\|[^<>]*)?>")


class SlackFrontEnd(SlackSender):
    """`/news` in through a slack-bolt `AsyncApp`: Socket Mode, or signed HTTP requests."""

    app: AsyncApp
    _commands: Commands
    _app_token: str
    _signing_secret: str
    _bot_user_id: str | None
    socket_mode: bool
    _socket: AckingSocketModeHandler | None
    _socket_task: asyncio.Task[None] | None
    _speakers: dict[str, tuple[str, str]]
    """Member id -> (locale, timezone) from users.info."""
    _turns: ChatTurns

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
        self._socket = AckingSocketModeHandler(
            self.app, self._app_token, logger=socket_mode_logger()
        )
        try:  # a refused app token stops the start; Slack out of reach does not
            self._socket.client.wss_uri = await self._socket_url()
            wait = 0.0
        except _Unreachable as exc:
            log.warning("slack: Socket Mode unreachable (%s); retrying in %.0fs", exc, SOCKET_RETRY)
            wait = SOCKET_RETRY
        self._socket_task = asyncio.create_task(self._connect(wait), name="slack-socket-mode")
        log.info("slack: receiving /news over Socket Mode")

    async def _connect(self, wait: float) -> None:
        """Open the Socket Mode connection; while Slack is out of reach, one line per attempt
        and twice the wait each time (slack_sdk would log a traceback every few seconds)."""
        assert self._socket is not None
        client = self._socket.client
        while wait:
            await asyncio.sleep(wait)
            try:
                client.wss_uri = await self._socket_url()
                wait = 0.0
            except _Unreachable as exc:
                wait = min(wait * 2, SOCKET_RETRY_MAX)
                log.warning("slack: Socket Mode unreachable (%s); retrying in %.0fs", exc, wait)
            except Fatal as exc:
                log.error("%s; commands are not received", exc)
                return
        await client.connect()  # type: ignore[no-untyped-call]  # slack_sdk: untyped

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
        """One request from Slack, handed to bolt as it came once its signature is checked here:
        bolt reads the body before it checks, and some bodies break its reading (500s with a
        traceback, for anyone who can reach the port), and it logs every unsigned body."""
        raw = await request.read()
        body = raw.decode("utf-8", errors="replace")
        if not self._signed(body, request.headers):
            return web.Response(status=401, text="invalid signature\n")
        headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        try:
            bolt_request = AsyncBoltRequest(
                body=body,
                query=request.query_string,
                headers=headers,  # type: ignore[arg-type]  # bolt takes str or a list per header
            )
            answer = await self.app.async_dispatch(bolt_request)
        except Exception as exc:  # signed, yet a body bolt cannot read (no Slack request)
            log.warning("slack: unreadable request to %s: %s", EVENTS_PATH, error_name(exc))
            return web.Response(status=400, text="unreadable request\n")
        if answer.status == 404:  # no listener takes it
            if not _from_slack(bolt_request.body):
                return web.Response(status=400, text="no request newsbot answers\n")
            # another app's command, an event newsbot did not ask for: acknowledged, as Slack
            # sends again what is not, and shows its user an error
            return web.Response(status=200)
        return web.Response(
            status=answer.status,
            body=answer.body.encode("utf-8"),
            headers=answer.first_headers_without_set_cookie(),
        )

    def _signed(self, body: str, headers: Mapping[str, str]) -> bool:
        """Whether the signing secret signed `body` within the last five minutes."""
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        if not self._signing_secret.strip():
            return False
        if ascii_count(timestamp) is None or not _SIGNATURE.fullmatch(signature):
            return False
        return SignatureVerifier(self._signing_secret).is_valid(body, timestamp, signature)

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
            error = error_code(exc) or f"HTTP {exc.response.status_code}"
            if error in FATAL_ERRORS:
                raise Fatal(f"slack: auth.test: {error} (check SLACK_BOT_TOKEN)") from None
            log.warning("slack: auth.test failed (%s); starting anyway", error)
            return
        except NETWORK_ERRORS as exc:
            log.warning(
                "slack: Web API unreachable at start (%s); starting anyway", error_name(exc)
            )
            return
        self._bot_user_id = auth.get("user_id")
        log.info(
            "slack: signed in as %s (%s) to workspace %s (%s)",
            auth.get("user"),
            auth.get("user_id"),
            auth.get("team"),
            auth.get("team_id"),
        )

    async def _socket_url(self) -> str:
        """apps.connections.open: the WebSocket URL to connect to. A refused app token is a
        configuration error worth stopping for (Socket Mode itself would retry it forever)."""
        try:
            opened = await self.client.apps_connections_open(app_token=self._app_token)
        except SlackApiError as exc:
            error = error_code(exc) or f"HTTP {exc.response.status_code}"
            if error in FATAL_ERRORS:
                raise Fatal(f"slack: Socket Mode: {error} (check SLACK_APP_TOKEN)") from None
            raise _Unreachable(error) from None
        except NETWORK_ERRORS as exc:
            raise _Unreachable(error_name(exc)) from None
        return str(opened["url"])

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

    async def _speaker(self, user_id: str) -> tuple[str, str]:
        """The locale and IANA timezone of a member's profile (users.info), asked once per
        member; ('', '') when Slack does not say."""
        if user_id not in self._speakers:
            try:
                info = await self.client.users_info(user=user_id, include_locale=True)
                user = info.get("user") or {}
                self._speakers[user_id] = (str(user.get("locale") or ""), str(user.get("tz") or ""))
            except (SlackApiError, *NETWORK_ERRORS) as exc:  # the bot's defaults then
                log.info("slack: users.info %s: %s", user_id, error_name(exc))
                return "", ""
        return self._speakers[user_id]

    async def _answer(self, request: CommandRequest, respond: AsyncRespond) -> None:
        """Run the command and answer it, after the channel's earlier commands (`ChatTurns`)."""
        async with self._turns.of(request.chat_id):
            locale, timezone = await self._speaker(request.user_id) if request.user_id else ("", "")
            request = dataclasses.replace(request, language=locale, timezone=timezone)
            if not request.chat_id:
                reply = CommandReply(_("This command needs a channel."))
            else:
                reply = await self._commands.handle(request)
            rendered = render_reply(reply.text, reply.buttons)
            answered = await respond(
                text=rendered.text,
                blocks=list(rendered.blocks),
                response_type="ephemeral",
                replace_original=False,
            )
            if answered.status_code != 200:  # an expired response_url (30 min, 5 answers)
                log.warning(
                    "slack: the answer to %s in %s could not be posted (response_url: HTTP %d %s)",
                    request.command,
                    request.chat_id or "?",
                    answered.status_code,
                    (answered.body or "").strip()[:100],
                )

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        """The one place listener errors end up (a response_url that expired, say)."""
        channel = body.get("channel")
        where = body.get("channel_id") or (channel.get("id") if isinstance(channel, dict) else "")
        where = where if isinstance(where, str) and where else "?"
        log.error("slack: handling a request in %s failed: %s", where, error_name(error))


_SLACK_KINDS = frozenset(
    {"event_callback", "block_actions", "shortcut", "message_action", "view_submission"}
    | {"view_closed", "block_suggestion", "interactive_message", "app_rate_limited"}
)
"""The `type`s of the requests Slack posts besides slash commands (which carry `command`)."""


def _from_slack(body: dict[str, Any]) -> bool:
    """Whether a parsed body is a request Slack sends: a slash command, an event, an action."""
    return bool(body.get("command")) or body.get("type") in _SLACK_KINDS


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


def alert_channel(channel_id: str, user_id: str) -> str:
    """Where a subscription made in `channel_id` gets its alerts.

    A direct message (`D...`) may be one between two people, where the bot cannot post; the
    alerts then go to the user, whose id `chat.postMessage` accepts as the bot's own DM with them.
    """
    if channel_id.startswith("D") and user_id:
        return user_id
    return channel_id
