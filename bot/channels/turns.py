"""One chat's commands are answered one at a time, in the order they came; chats run side by side.

A reader who pastes `/lang ko`, `/timezone Asia/Seoul` and `/list` at once expects the answers in
that order, each showing the settings the commands before it made.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class ChatTurns:
    """A queue per chat: `async with turns.of(chat):` waits for the chat's earlier commands.

    Waiters go in the order they asked (asyncio's locks are fair), and a chat's lock is forgotten
    once nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[Hashable, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    @asynccontextmanager
    async def of(self, chat: Hashable) -> AsyncIterator[None]:
        lock = self._locks.get(chat)
        if lock is None:
            lock = self._locks[chat] = asyncio.Lock()
        async with lock:
            yield
