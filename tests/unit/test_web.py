"""The web server's answer to requests it cannot parse."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.web import build_web_app, serve
from tests.helpers import free_port


async def test_an_overlong_request_line_is_one_warning_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def healthy() -> tuple[bool, dict[str, object]]:
        return True, {}

    async def no_metrics() -> tuple[bytes, str]:
        return b"", "text/plain"

    port = free_port()
    runner = await serve(build_web_app(healthy, no_metrics), port, "127.0.0.1")
    try:
        with caplog.at_level(logging.INFO):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: bot\r\n\r\n")
            answer = await reader.read(100)
            writer.close()
    finally:
        await runner.cleanup()
    assert answer.startswith(b"HTTP/1.0 400"), answer
    server = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert [(r.levelname, r.getMessage()) for r in server] == [
        ("WARNING", "web: a malformed request refused (400): Got more than 8190 bytes when reading")
    ]
    assert server[0].exc_info is None and not server[0].exc_text
