"""The bot's one web server: `/healthz`, `/metrics`, and the webhook routes of chat front-ends."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot.settings import SettingsError
from bot.text.reasons import os_reason

HealthCheck = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]
"""-> (healthy, details for the JSON body)."""


def build_web_app(
    health: HealthCheck,
    metrics: Callable[[], Awaitable[tuple[bytes, str]]],
    routes: Sequence[web.RouteDef] = (),
) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        healthy, details = await health()
        return web.json_response(details, status=200 if healthy else 503)

    async def metrics_view(_request: web.Request) -> web.Response:
        body, content_type = await metrics()
        return web.Response(body=body, headers={"Content-Type": content_type})

    app = web.Application(client_max_size=1024 * 1024)
    app.add_routes([web.get("/healthz", healthz), web.get("/metrics", metrics_view), *routes])
    return app


async def serve(app: web.Application, port: int, host: str = "0.0.0.0") -> web.AppRunner:
    """Listen on `port`; a port that cannot be had (another program holds it) is the operator's
    to fix, in one line."""
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequestLine) for f in server_log.filters):
        server_log.addFilter(MalformedRequestLine())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        reason = os_reason(exc)
        raise SettingsError(
            f"NEWSBOT_HTTP_PORT {port}: cannot listen ({reason}): is another newsbot or another "
            "program on it? Choose a free port"
        ) from None
    return runner


class MalformedRequestLine(logging.Filter):
    """A request aiohttp cannot parse (a line over 8 KiB, a bogus method) is answered 400 by
    aiohttp, which logs it with a traceback as if the bot had failed: one warning line instead,
    without the client's bytes."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            reason = str(error.message).split(":", 1)[0].strip()
            record.msg, record.args = f"web: a malformed request refused (400): {reason}", None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True
