"""Re-reads the config when its file changes, as SIGHUP does.

Several processes on one database each poll some feeds: one still on the old topics marks the
new topic's items seen without alerting them, for good. Each process watches the file, so an edit
reaches all of them within WATCH_EVERY seconds, whichever one was signalled (or none).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

WATCH_EVERY = 10.0
"""Seconds between two looks at the file's modification time and size."""


class ConfigWatch:
    def __init__(
        self, path: Path, reload: Callable[[], Awaitable[object]], every: float = WATCH_EVERY
    ) -> None:
        self._path = path
        self._reload = reload
        self._every = every
        self._seen = _stamp(path)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            await self.look()

    async def look(self) -> None:
        """Reload when the file changed since the last look (a file gone changes nothing: the
        running config stays, as a refused one does)."""
        stamp = _stamp(self._path)
        if stamp is not None and stamp != self._seen:
            self._seen = stamp
            await self._reload()


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size
