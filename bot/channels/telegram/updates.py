"""PTB's update processor for the bot: a chat's updates are handled in the order Telegram gave
them, one at a time; updates of different chats run side by side, up to a bound. A chat that
sends more at once than anyone types (a script's flood) has the excess dropped, so that its
backlog neither fills the bound nor holds the other chats' answers behind its own."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.channels.turns import ChatTurns

log = logging.getLogger(__name__)

MAX_WAITING = 10
"""A chat's updates waiting for its turn at most: a pasted list of commands is a few."""


class ChatOrderedUpdates(BaseUpdateProcessor):
    """PTB bounds the updates in progress (a chat's waiting ones count: a burst of one chat's
    commands, each a few milliseconds, can hold the bound's slots while it drains)."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._turns = ChatTurns()
        self._pending: Counter[int] = Counter()
        """Each chat's updates taken and not yet handled (the one running, and those waiting)."""
        self._dropping: set[int] = set()
        """Chats whose excess is being dropped: said once per flood."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        if self._pending[chat.id] > MAX_WAITING:
            if isinstance(coroutine, Coroutine):
                coroutine.close()  # never run: no "was never awaited" warning
            if chat.id not in self._dropping:
                self._dropping.add(chat.id)
                log.warning(
                    "telegram: chat %s sent more than %d updates at once; ignoring the rest",
                    chat.id,
                    MAX_WAITING,
                )
            return
        self._pending[chat.id] += 1
        try:
            async with self._turns.of(chat.id):
                await coroutine
        finally:
            self._pending[chat.id] -= 1
            if not self._pending[chat.id]:
                del self._pending[chat.id]
                self._dropping.discard(chat.id)

    async def initialize(self) -> None:
        """Nothing to set up: a chat's turn is made when it speaks."""

    async def shutdown(self) -> None:
        """Nothing to close."""
