"""A fake Slack Web API that speaks real HTTP on 127.0.0.1, for slack_sdk and slack_bolt in tests.

It serves the Web API methods the bot uses under ``/api/`` (point
``AsyncWebClient(base_url=fake.api_url)`` at it) and a ``response_url`` endpoint under
``/response/{id}`` that records what bolt's ``respond()`` posts. It enforces what Slack enforces
and the bot must survive: token checks, chat.postMessage and chat.update validation, and the
per-channel rate limit (posts and updates alike) answered with HTTP 429 and ``Retry-After``.
Everything it accepted or refused is kept for assertions. The clock is a parameter, so rate-limit
tests need not sleep.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.loopback import LoopbackServer

# Documented limits (https://docs.slack.dev/reference/methods/chat.postMessage and
# https://docs.slack.dev/reference/block-kit/blocks).
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_SECTION_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_MESSAGE_TEXT = 40_000

Clock = Callable[[], float]
JSONDict = dict[str, Any]


@dataclass(frozen=True)
class PostedMessage:
    """One message the fake accepted (chat.postMessage or chat.postEphemeral)."""

    channel: str
    """The channel id (names like ``#news`` are resolved to the id, as Slack does)."""
    ts: str
    """The message timestamp the fake returned (``message_ts`` for an ephemeral message)."""
    text: str | None
    blocks: list[JSONDict] | None
    attachments: list[JSONDict] | None
    thread_ts: str | None
    unfurl_links: bool | None
    unfurl_media: bool | None
    at: float
    """The fake's clock when the message was accepted."""
    user: str | None = None
    """The recipient of an ephemeral message; None for chat.postMessage."""
    params: JSONDict = field(default_factory=dict)
    """Every argument as received, for assertions on anything not broken out above."""


@dataclass(frozen=True)
class ApiCall:
    """One request to a Web API method and the status the fake answered with."""

    method: str
    params: JSONDict
    token: str | None
    status: int
    error: str | None
    """The ``error`` of a refused call; None when the call succeeded."""


@dataclass
class FakeChannel:
    """A conversation the fake knows about."""

    id: str
    name: str
    archived: bool = False
    member: bool = True
    """Whether the bot is in the channel (if not, chat.postMessage answers not_in_channel)."""
    private: bool = False
    created: int = 1_700_000_000


@dataclass
class FakeUser:
    """A workspace member the fake knows about."""

    id: str
    name: str
    real_name: str
    is_bot: bool = False
    deleted: bool = False
    tz: str = "Asia/Seoul"
    locale: str = "en-US"


@dataclass
class _Bucket:
    tokens: float
    updated: float


class _ApiError(Exception):
    """A Web API refusal: ``{"ok": false, "error": ...}`` with an HTTP status and extras."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        extra: JSONDict | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class FakeSlack(LoopbackServer):
    """The fake Slack server; use ``async with FakeSlack(...) as slack:``.

    ``rate_burst`` and ``rate_per_second`` shape chat.postMessage's per-channel token bucket:
    a channel may take ``rate_burst`` messages at once, then ``rate_per_second`` a second.
    """

    def __init__(
        self,
        token: str = "xoxb-test",
        *,
        app_token: str | None = None,
        team_id: str = "T0001",
        team: str = "Newsbot Test",
        team_domain: str = "newsbot-test",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        bot_name: str = "newsbot",
        app_id: str = "A0NEWSBOT",
        rate_burst: int = 2,
        rate_per_second: float = 1.0,
        account_inactive: bool = False,
        socket_mode: bool = False,
        clock: Clock = time.time,
    ) -> None:
        if rate_burst < 1 or rate_per_second <= 0:
            raise ValueError("rate_burst must be >= 1 and rate_per_second > 0")
        super().__init__()
        self.token = token
        self.app_token = app_token
        self.socket_mode = socket_mode
        """Whether the URL apps.connections.open gives takes WebSocket connections."""
        self._sockets: list[web.WebSocketResponse] = []
        self.socket_acks: list[JSONDict] = []
        """What the app sent back over Socket Mode (acknowledgements), oldest first."""
        """When set, apps.connections.open accepts this app-level (xapp-) token."""
        self.team_id = team_id
        self.team = team
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.app_id = app_id
        self.rate_burst = rate_burst
        self.rate_per_second = rate_per_second
        self.account_inactive = account_inactive
        """While True, the right token is answered with account_inactive (a deleted workspace)."""
        self._clock = clock

        self._channels: dict[str, FakeChannel] = {}
        self._users: dict[str, FakeUser] = {
            bot_user_id: FakeUser(bot_user_id, bot_name, bot_name, is_bot=True)
        }
        self._posted: list[PostedMessage] = []
        self._updates: list[PostedMessage] = []
        self._others: dict[tuple[str, str], str] = {}
        """(channel id, ts) -> user id of messages people posted, which the bot cannot update."""
        self._ephemeral: list[PostedMessage] = []
        self._responses: dict[str, list[JSONDict]] = {}
        self.expired_responses: set[str] = set()
        """response_url ids that answer 404 `expired_url`, as Slack does after 30 minutes."""
        self._calls: list[ApiCall] = []
        self._failures: dict[str, deque[tuple[int, str]]] = {}
        self._delays: dict[str, float] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._rejected_429 = 0
        self._rejected_429_by_channel: Counter[str] = Counter()
        self._last_ts_us = 0
        self._changed = asyncio.Condition()

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{response_id}", self._handle_response_url)
        if self.socket_mode:
            app.router.add_get("/link/", self._handle_socket)
        return app

    async def send_envelope(self, envelope: JSONDict) -> None:
        """Send a Socket Mode envelope over every open connection (once one is open)."""
        await self._wait_until(lambda: bool(self._sockets), 5.0, lambda: "no Socket Mode client")
        for socket in self._sockets:
            await socket.send_json(envelope)

    async def wait_for_acks(self, n: int, timeout: float = 5.0) -> list[JSONDict]:  # noqa: ASYNC109
        await self._wait_until(
            lambda: len(self.socket_acks) >= n,
            timeout,
            lambda: f"expected {n} Socket Mode acks, got {self.socket_acks}",
        )
        return list(self.socket_acks)

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": self.app_id}}
        )
        await self._notify()
        try:
            async for message in socket:
                if message.type == web.WSMsgType.TEXT:
                    self.socket_acks.append(message.json())
                    await self._notify()
        finally:
            self._sockets.remove(socket)
        return socket

    @property
    def api_url(self) -> str:
        """The Web API root with its trailing slash, for ``AsyncWebClient(base_url=...)``."""
        return f"{self.base_url}/api/"

    def response_url(self, response_id: str) -> str:
        """A response_url to put into a slash-command payload; posts to it land in responses()."""
        return f"{self.base_url}/response/{response_id}"

    # -- workspace setup ---------------------------------------------------------------------

    def add_channel(
        self,
        id: str,
        *,
        name: str | None = None,
        archived: bool = False,
        member: bool = True,
        private: bool = False,
    ) -> FakeChannel:
        """Create (or replace) a channel; ``member`` says whether the bot is in it."""
        channel = FakeChannel(
            id=id,
            name=name if name is not None else id.lower(),
            archived=archived,
            member=member,
            private=private,
        )
        self._channels[id] = channel
        return channel

    def archive(self, id: str) -> None:
        """Archive a channel: further posts to it are refused with is_archived."""
        self._channels[id].archived = True

    def remove_channel(self, id: str) -> None:
        """Delete a channel: further posts to it are refused with channel_not_found."""
        del self._channels[id]

    def add_user(
        self,
        id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
        tz: str = "Asia/Seoul",
        locale: str = "en-US",
    ) -> FakeUser:
        """Create (or replace) a workspace member, for users.info (its `tz`, and its `locale`
        when asked with `include_locale`) and chat.postEphemeral."""
        user_name = name if name is not None else id.lower()
        user = FakeUser(
            id=id,
            name=user_name,
            real_name=real_name if real_name is not None else user_name,
            is_bot=is_bot,
            deleted=deleted,
            tz=tz,
            locale=locale,
        )
        self._users[id] = user
        return user

    def add_message_from(self, channel: str, user: str) -> str:
        """A message someone else posted in ``channel`` (chat.update refuses it); returns its ts."""
        ts = self._next_ts(self._clock())
        self._others[(self._channels[channel].id, ts)] = user
        return ts

    def fail_next(
        self, method: str, times: int = 1, status: int = 503, *, error: str | None = None
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP ``status`` (a transient fault).

        The failure comes before the token check and the rate limit and spends no rate budget.
        An injected 429 carries ``Retry-After: 1`` and counts in ``rejected_429`` (not per channel).
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        if error is None:
            error = "ratelimited" if status == 429 else "service_unavailable"
        queue = self._failures.setdefault(method, deque())
        queue.extend([(status, error)] * times)

    def delay_next(self, method: str, seconds: float) -> None:
        """Answer the next call of ``method`` ``seconds`` late (a slow API), later ones at once."""
        self._delays[method] = seconds

    # -- recorded traffic --------------------------------------------------------------------

    @property
    def posted(self) -> list[PostedMessage]:
        """Every message chat.postMessage accepted, oldest first (a copy)."""
        return list(self._posted)

    def posted_to(self, channel: str) -> list[PostedMessage]:
        """The accepted messages of one channel id, oldest first."""
        return [m for m in self._posted if m.channel == channel]

    @property
    def updates(self) -> list[PostedMessage]:
        """Every chat.update accepted, oldest first (a copy); ``ts`` is the updated message's."""
        return list(self._updates)

    def updates_to(self, channel: str, ts: str | None = None) -> list[PostedMessage]:
        """The accepted updates of one channel id (of one message with ``ts``), oldest first."""
        return [u for u in self._updates if u.channel == channel and (ts is None or u.ts == ts)]

    def message(self, channel: str, ts: str) -> PostedMessage:
        """The bot's message as it reads now: its latest update, else as posted (KeyError)."""
        for record in reversed([*self._posted, *self._updates]):
            if record.channel == channel and record.ts == ts:
                return record
        raise KeyError((channel, ts))

    @property
    def ephemeral(self) -> list[PostedMessage]:
        """Every message chat.postEphemeral accepted, oldest first (a copy)."""
        return list(self._ephemeral)

    @property
    def calls(self) -> list[ApiCall]:
        """Every Web API request, accepted or not, oldest first (a copy)."""
        return list(self._calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        """The requests to one Web API method, oldest first."""
        return [c for c in self._calls if c.method == method]

    @property
    def rejected_429(self) -> int:
        """How many requests were answered with HTTP 429, in total."""
        return self._rejected_429

    @property
    def rejected_429_by_channel(self) -> dict[str, int]:
        """How many chat.postMessage requests were answered with 429, per channel id."""
        return dict(self._rejected_429_by_channel)

    def responses(self, response_id: str) -> list[JSONDict]:
        """The JSON bodies posted to ``response_url(response_id)``, oldest first."""
        return list(self._responses.get(response_id, []))

    # A timeout argument (ASYNC109) keeps the tests' waits one readable call; it is a test helper.
    async def wait_for_posts(self, n: int, timeout: float = 5.0) -> list[PostedMessage]:  # noqa: ASYNC109
        """Wait until at least ``n`` messages were accepted; TimeoutError names what arrived."""
        await self._wait_until(
            lambda: len(self._posted) >= n,
            timeout,
            lambda: f"expected {n} posted messages, got {len(self._posted)}",
        )
        return self.posted

    async def wait_for_responses(
        self,
        response_id: str,
        n: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[JSONDict]:
        """Wait until ``response_url(response_id)`` received at least ``n`` bodies."""
        await self._wait_until(
            lambda: len(self._responses.get(response_id, [])) >= n,
            timeout,
            lambda: (
                f"expected {n} posts to response_url {response_id!r}, "
                f"got {len(self._responses.get(response_id, []))}"
            ),
        )
        return self.responses(response_id)

    async def _wait_until(
        self, predicate: Callable[[], bool], seconds: float, describe: Callable[[], str]
    ) -> None:
        try:
            async with asyncio.timeout(seconds), self._changed:
                await self._changed.wait_for(predicate)
        except TimeoutError:
            raise TimeoutError(f"FakeSlack: {describe()} within {seconds}s") from None

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- HTTP handlers -----------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, body_is_json = await _read_params(request)
        token = _request_token(request, params, body_is_json)
        try:
            result = await self._dispatch(method, params, token)
        except _ApiError as refusal:
            if refusal.status == 429:
                self._rejected_429 += 1
            self._calls.append(ApiCall(method, params, token, refusal.status, refusal.error))
            body = {"ok": False, "error": refusal.error, **refusal.extra}
            return web.json_response(body, status=refusal.status, headers=refusal.headers)
        self._calls.append(ApiCall(method, params, token, 200, None))
        return web.json_response({"ok": True, **result})

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        # Slack answers a response_url with a bare "ok"; a body that is not JSON is refused.
        response_id = request.match_info["response_id"]
        if response_id in self.expired_responses:
            return web.Response(status=404, text="expired_url")
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        if not isinstance(body, dict):
            return web.Response(status=400, text="invalid_payload")
        self._responses.setdefault(response_id, []).append(body)
        await self._notify()
        return web.Response(text="ok")

    async def _dispatch(self, method: str, params: JSONDict, token: str | None) -> JSONDict:
        if method in self._delays:
            await asyncio.sleep(self._delays.pop(method))
        failures = self._failures.get(method)
        if failures:
            status, error = failures.popleft()
            headers = {"Retry-After": "1"} if status == 429 else {}
            raise _ApiError(error, status=status, headers=headers)

        handlers: dict[str, Callable[[JSONDict], JSONDict]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "conversations.info": self._conversations_info,
            "users.info": self._users_info,
        }
        if method == "apps.connections.open":
            self._check_app_token(token)
            result = self._apps_connections_open()
        elif method in handlers:
            self._check_bot_token(token)
            result = handlers[method](params)
        else:
            raise _ApiError("unknown_method")
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            await self._notify()
        return result

    # -- authentication ----------------------------------------------------------------------

    def _check_bot_token(self, token: str | None) -> None:
        if not token:
            raise _ApiError("not_authed")
        if self.app_token is not None and token == self.app_token:
            raise _ApiError("not_allowed_token_type")
        if token != self.token:
            raise _ApiError("invalid_auth")
        if self.account_inactive:
            raise _ApiError("account_inactive")

    def _check_app_token(self, token: str | None) -> None:
        if not token:
            raise _ApiError("not_authed")
        if token == self.token:
            raise _ApiError("not_allowed_token_type")
        if self.app_token is None or token != self.app_token:
            raise _ApiError("invalid_auth")
        if self.account_inactive:
            raise _ApiError("account_inactive")

    # -- methods -----------------------------------------------------------------------------

    def _auth_test(self, params: JSONDict) -> JSONDict:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self) -> JSONDict:
        # Unless `socket_mode`, nothing listens there: the URL is well-formed, and refused.
        return {"url": f"{self.base_url.replace('http://', 'ws://')}/link/?ticket=fake"}

    def _chat_post_message(self, params: JSONDict) -> JSONDict:
        channel = self._find_channel(params.get("channel"))
        self._check_rate_limit(channel.id)
        if channel.archived:
            raise _ApiError("is_archived")
        if not channel.member:
            raise _ApiError("not_in_channel")
        text, blocks, attachments = _validated_content(params)

        now = self._clock()
        ts = self._next_ts(now)
        thread_ts = _optional_str(params.get("thread_ts"))
        self._spend_rate_token(channel.id)
        self._posted.append(
            PostedMessage(
                channel=channel.id,
                ts=ts,
                text=text,
                blocks=blocks,
                attachments=attachments,
                thread_ts=thread_ts,
                unfurl_links=_optional_bool(params.get("unfurl_links")),
                unfurl_media=_optional_bool(params.get("unfurl_media")),
                at=now,
                params=params,
            )
        )
        message: JSONDict = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": text or "",
            "team": self.team_id,
            "bot_profile": {
                "id": self.bot_id,
                "app_id": self.app_id,
                "name": self.bot_name,
                "deleted": False,
                "team_id": self.team_id,
            },
        }
        if blocks is not None:
            message["blocks"] = blocks
        if attachments is not None:
            message["attachments"] = attachments
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        return {"channel": channel.id, "ts": ts, "message": message}

    def _chat_update(self, params: JSONDict) -> JSONDict:
        # chat.update takes a channel id only (no names) and the ts of a message in it.
        channel = self._channels.get(_optional_str(params.get("channel")) or "")
        if channel is None:
            raise _ApiError("channel_not_found")
        ts = _optional_str(params.get("ts")) or ""
        if (channel.id, ts) in self._others:
            raise _ApiError("cant_update_message")
        try:
            current = self.message(channel.id, ts)
        except KeyError:
            raise _ApiError("message_not_found") from None
        self._check_rate_limit(channel.id)
        if channel.archived:
            raise _ApiError("is_archived")
        text, blocks, attachments = _validated_content(params)
        now = self._clock()
        self._spend_rate_token(channel.id)
        self._updates.append(
            PostedMessage(
                channel=channel.id,
                ts=ts,
                text=text,
                blocks=blocks,
                attachments=attachments,
                thread_ts=current.thread_ts,
                unfurl_links=current.unfurl_links,
                unfurl_media=current.unfurl_media,
                at=now,
                params=params,
            )
        )
        message: JSONDict = {"text": text or "", "user": self.bot_user_id, "bot_id": self.bot_id}
        if blocks is not None:
            message["blocks"] = blocks
        if attachments is not None:
            message["attachments"] = attachments
        return {"channel": channel.id, "ts": ts, "text": text or "", "message": message}

    def _chat_post_ephemeral(self, params: JSONDict) -> JSONDict:
        channel = self._find_channel(params.get("channel"))
        user_id = _optional_str(params.get("user"))
        user = self._users.get(user_id or "")
        if user is None or user.deleted:
            raise _ApiError("user_not_found")
        if channel.archived:
            raise _ApiError("is_archived")
        if not channel.member:
            raise _ApiError("not_in_channel")
        text, blocks, attachments = _validated_content(params)
        now = self._clock()
        ts = self._next_ts(now)
        self._ephemeral.append(
            PostedMessage(
                channel=channel.id,
                ts=ts,
                text=text,
                blocks=blocks,
                attachments=attachments,
                thread_ts=_optional_str(params.get("thread_ts")),
                unfurl_links=None,
                unfurl_media=None,
                at=now,
                user=user.id,
                params=params,
            )
        )
        return {"message_ts": ts}

    def _conversations_info(self, params: JSONDict) -> JSONDict:
        channel = self._find_channel(params.get("channel"))
        if channel.private and not channel.member:
            raise _ApiError("channel_not_found")
        return {
            "channel": {
                "id": channel.id,
                "name": channel.name,
                "is_channel": not channel.private,
                "is_group": channel.private,
                "is_im": False,
                "is_mpim": False,
                "is_private": channel.private,
                "created": channel.created,
                "is_archived": channel.archived,
                "is_general": False,
                "unlinked": 0,
                "name_normalized": channel.name,
                "is_shared": False,
                "is_org_shared": False,
                "is_ext_shared": False,
                "is_pending_ext_shared": False,
                "is_member": channel.member,
                "creator": "U0CREATOR",
                "context_team_id": self.team_id,
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0},
                "previous_names": [],
            }
        }

    def _users_info(self, params: JSONDict) -> JSONDict:
        user = self._users.get(_optional_str(params.get("user")) or "")
        if user is None:
            raise _ApiError("user_not_found")
        return {
            "user": {
                "id": user.id,
                "team_id": self.team_id,
                "name": user.name,
                "deleted": user.deleted,
                "real_name": user.real_name,
                "tz": user.tz,
                **({"locale": user.locale} if _optional_bool(params.get("include_locale")) else {}),
                "is_admin": False,
                "is_owner": False,
                "is_bot": user.is_bot,
                "is_app_user": False,
                "profile": {
                    "real_name": user.real_name,
                    "display_name": user.name,
                    "team": self.team_id,
                },
            }
        }

    # -- helpers -----------------------------------------------------------------------------

    def _find_channel(self, value: object) -> FakeChannel:
        # Slack takes a channel id or a name (with or without '#') and answers with the id.
        ref = _optional_str(value)
        if not ref:
            raise _ApiError("channel_not_found")
        if ref in self._channels:
            return self._channels[ref]
        name = ref.removeprefix("#")
        for channel in self._channels.values():
            if channel.name == name:
                return channel
        raise _ApiError("channel_not_found")

    def _refilled(self, channel_id: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(channel_id)
        if bucket is None:
            bucket = _Bucket(tokens=float(self.rate_burst), updated=now)
            self._buckets[channel_id] = bucket
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(float(self.rate_burst), bucket.tokens + elapsed * self.rate_per_second)
        bucket.updated = now
        return bucket

    def _check_rate_limit(self, channel_id: str) -> None:
        # Checked before validation so a client over the limit always sees 429, but only an
        # accepted message spends the token (see _spend_rate_token).
        bucket = self._refilled(channel_id)
        if bucket.tokens >= 1.0:
            return
        wait = (1.0 - bucket.tokens) / self.rate_per_second
        self._rejected_429_by_channel[channel_id] += 1
        raise _ApiError(
            "ratelimited",
            status=429,
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )

    def _spend_rate_token(self, channel_id: str) -> None:
        self._refilled(channel_id).tokens -= 1.0

    def _next_ts(self, now: float) -> str:
        # Slack's ts is "seconds.microseconds" and unique per message; keep it strictly increasing.
        micros = max(int(now * 1_000_000), self._last_ts_us + 1)
        self._last_ts_us = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


async def _read_params(request: web.Request) -> tuple[JSONDict, bool]:
    """Merge query string and body, as Slack does; say whether the body was JSON."""
    params: JSONDict = dict(request.query)
    if not request.can_read_body:
        return params, False
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise web.HTTPBadRequest(text="invalid_json") from exc
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="invalid_json")
        params.update(body)
        return params, True
    form = await request.post()
    params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params, False


def _request_token(request: web.Request, params: JSONDict, body_is_json: bool) -> str | None:
    """The bearer token, else a ``token`` argument (Slack ignores ``token`` in a JSON body)."""
    token = params.pop("token", None)
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth.removeprefix("Bearer ").strip()
    if body_is_json:
        token = request.query.get("token")
    return _optional_str(token)


def _validated_content(
    params: JSONDict,
) -> tuple[str | None, list[JSONDict] | None, list[JSONDict] | None]:
    """Text, blocks and attachments of a message, refused the way Slack refuses them."""
    text = _optional_str(params.get("text"))
    blocks = _json_list(params.get("blocks"), "invalid_blocks_format")
    attachments = _json_list(params.get("attachments"), "invalid_attachments")
    if not text and not blocks and not attachments:
        raise _ApiError("no_text")
    if text is not None and len(text) > MAX_MESSAGE_TEXT:
        raise _ApiError("msg_too_long")
    if blocks is not None:
        problems = _block_problems(blocks)
        if problems:
            raise _ApiError(
                "invalid_blocks",
                extra={
                    "errors": problems,
                    "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]},
                },
            )
    return text, blocks, attachments


def _block_problems(blocks: list[JSONDict]) -> list[str]:
    """The Block Kit limits a message breaks, worded like Slack's ``errors``."""
    if len(blocks) > MAX_BLOCKS:
        return [f"must provide no more than {MAX_BLOCKS} items [json-pointer:/blocks]"]
    problems: list[str] = []
    for i, block in enumerate(blocks):
        where = f"/blocks/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"missing required field: type [json-pointer:{where}]")
            continue
        kind = block["type"]
        if kind == "section":
            text = _text_of(block.get("text"))
            fields = block.get("fields")
            if text is None and not fields:
                problems.append(f"must provide text or fields [json-pointer:{where}]")
            if text is not None and len(text) > MAX_SECTION_TEXT:
                problems.append(
                    f"must be less than {MAX_SECTION_TEXT + 1} characters "
                    f"[json-pointer:{where}/text/text]"
                )
            if isinstance(fields, list):
                if len(fields) > MAX_SECTION_FIELDS:
                    problems.append(
                        f"must provide no more than {MAX_SECTION_FIELDS} items "
                        f"[json-pointer:{where}/fields]"
                    )
                for j, item in enumerate(fields):
                    field_text = _text_of(item) or ""
                    if len(field_text) > MAX_SECTION_FIELD_TEXT:
                        problems.append(
                            f"must be less than {MAX_SECTION_FIELD_TEXT + 1} characters "
                            f"[json-pointer:{where}/fields/{j}/text]"
                        )
        elif kind == "header":
            text = _text_of(block.get("text"))
            if text is None:
                problems.append(f"missing required field: text [json-pointer:{where}]")
            elif len(text) > MAX_HEADER_TEXT:
                problems.append(
                    f"must be less than {MAX_HEADER_TEXT + 1} characters "
                    f"[json-pointer:{where}/text/text]"
                )
    return problems


def _text_of(obj: object) -> str | None:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        text: str = obj["text"]
        return text
    return None


def _json_list(value: object, error: str) -> list[JSONDict] | None:
    """A list argument, sent either as JSON (already a list) or as a JSON string in a form."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _ApiError(error) from None
    if not isinstance(value, list):
        raise _ApiError(error)
    return value


def _optional_str(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _optional_bool(value: object) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true")
