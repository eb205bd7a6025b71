"""A forward HTTP proxy on loopback: takes absolute-form requests (`GET http://host/path`), passes
them on to loopback servers only, and records each request as it came (headers included), so a
test can prove which fetches went through it and with which Proxy-Authorization.

Only plain http is forwarded; the bodies go through untouched (gzip stays gzip).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.fakes.loopback import HOST, LoopbackServer

_HOP_BY_HOP = frozenset(
    (
        *("connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "host"),
        *("transfer-encoding", "upgrade", "content-length"),
    )
)


@dataclass(frozen=True)
class ProxiedRequest:
    target: str
    """The absolute URL the client asked the proxy for."""
    headers: dict[str, str]


class HttpProxy(LoopbackServer):
    """``async with HttpProxy() as proxy:``; point a client at `proxy.base_url`."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[ProxiedRequest] = []

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._forward)
        return app

    async def _forward(self, request: web.Request) -> web.Response:
        target = request.raw_path
        self.requests.append(ProxiedRequest(target, dict(request.headers)))
        if urlsplit(target).hostname != HOST:
            return web.Response(status=403, text="this proxy reaches loopback only")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with (
            aiohttp.ClientSession(auto_decompress=False) as session,
            session.get(target, headers=headers, allow_redirects=False) as answer,
        ):
            body = await answer.read()
            passed = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
            return web.Response(status=answer.status, body=body, headers=passed)
