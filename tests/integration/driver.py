"""The driver of the end-to-end chat tests: the reader's ids on both fakes, a clock the test moves,
and the bot run as `newsbot run --once` would (with a restart when a test asks) while the reader
types commands. The fixtures that start it are in conftest.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from bot.app import App
from bot.commands import CommandRequest
from bot.config import LoadedConfig, parse_config
from bot.models import Platform
from bot.settings import Settings

TOKEN = "4242:TEST_chat-token"
SLACK_TOKEN = "xoxb-TEST-chat"
USER = 1001
"""The reader's Telegram user id, which is also their private chat's id."""
CHANNEL = "C0NEWS"
SLACK_USER = "U0READER"


class Clock:
    """Wall time for the bot: real time from `start` (now, when None), or standing still at
    `start` when `frozen`, plus whatever the test skips ahead."""

    def __init__(self, start: float | None = None, *, frozen: bool = False) -> None:
        self._origin = time.time()
        self._start = self._origin if start is None else start
        self._frozen = frozen
        self.skipped = 0.0

    def advance(self, seconds: float) -> None:
        self.skipped += seconds

    def set(self, when: float) -> None:
        """Move to `when` (forward only: a wall clock the test turns back is not a test)."""
        assert when >= self(), "the clock only moves forward"
        self.skipped += when - self()

    def __call__(self) -> float:
        flowing = 0.0 if self._frozen else time.time() - self._origin
        return self._start + flowing + self.skipped


class ChatBot:
    """`newsbot run --once`, as many times as a test asks, with a restart when it asks; its
    commands are typed by one reader in one chat."""

    def __init__(self, config: Path, settings: Settings, clock: Clock, platform: Platform) -> None:
        self.config = config
        self.settings = settings
        self.clock = clock
        self.platform = platform
        telegram = platform is Platform.TELEGRAM
        self.chat = str(USER) if telegram else CHANNEL
        self.user = str(USER) if telegram else SLACK_USER
        self.app: App | None = None

    async def start(self) -> App:
        loaded = LoadedConfig(parse_config(self.config.read_text(encoding="utf-8")), self.config)
        self.app = App(self.settings, loaded, clock=self.clock)
        await self.app.start()
        return self.app

    async def restart(self) -> App:
        await self.close()
        return await self.start()

    async def close(self) -> None:
        if self.app is not None:
            await self.app.close()
            self.app = None

    async def command(self, text: str) -> str:
        """The reply to `text`, typed as on either platform (`/mode daily 08:00`, `/news mode`)."""
        assert self.app is not None
        name, *args = text.removeprefix("/news ").lstrip("/").split()
        request = CommandRequest(self.platform, self.chat, self.user, name, tuple(args))
        return (await self.app.commands_for(self.platform).handle(request)).text

    async def once(self) -> None:
        assert self.app is not None
        await self.app.run_once()


Launch = Callable[..., AbstractAsyncContextManager[ChatBot]]
"""The `launch` fixture: `launch(platform, config, clock, **settings)` starts a bot (settings
override the test's) and stops it when the block ends."""
