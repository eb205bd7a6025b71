"""The plumbing every fake server shares: an aiohttp app on 127.0.0.1, started and stopped with
``async with`` (or ``start()``/``close()``), on an ephemeral port unless one is asked for.

A fake subclasses `LoopbackServer`, builds its routes in `make_app()`, and reads `base_url`.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from aiohttp import web

HOST = "127.0.0.1"


class LoopbackServer:
    """One aiohttp application served on 127.0.0.1.

    ``handler_cancellation`` cancels a handler whose client hung up (long polls need that);
    ``shutdown_timeout`` is how long `close()` lets requests in flight finish.
    """

    handler_cancellation = False
    shutdown_timeout = 0.5

    def __init__(self, *, port: int = 0) -> None:
        self._wanted_port = port
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    def make_app(self) -> web.Application:
        """The application to serve; called once per `start()`."""
        raise NotImplementedError

    async def start(self) -> None:
        """Listen on 127.0.0.1 (an ephemeral port unless one was given) and serve."""
        if self._runner is not None:
            raise RuntimeError(f"{type(self).__name__} is already started")
        runner = web.AppRunner(
            self.make_app(),
            access_log=None,
            handler_cancellation=self.handler_cancellation,
            shutdown_timeout=self.shutdown_timeout,
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, HOST, self._wanted_port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def close(self) -> None:
        """Stop listening; what the fake recorded stays readable."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        return f"http://{HOST}:{self.port}"
