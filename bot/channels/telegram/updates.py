"""PTB's update processor for the bot: a chat's updates are handled in the order Telegram gave
them, one at a time; updates of different chats run side by side, up to a bound."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.channels.turns import ChatTurns


class ChatOrderedUpdates(BaseUpdateProcessor):
    """PTB bounds the updates in progress (a chat's waiting ones count: a burst of one chat's
    commands, each a few milliseconds, can hold the bound's slots while it drains)."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._turns = ChatTurns()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        async with self._turns.of(chat.id):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up: a chat's turn is made when it speaks."""

    async def shutdown(self) -> None:
        """Nothing to close."""
