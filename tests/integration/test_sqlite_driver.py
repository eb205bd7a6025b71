"""SQLite statements run on the event loop's own thread, and its errors reach callers as
SQLAlchemy's, as they did through aiosqlite's thread."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.models import Platform, Recipient
from bot.store import connect


async def test_statements_run_on_the_loop_thread_and_errors_are_sqlalchemys(
    tmp_path: Path,
) -> None:
    store = await connect(f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}")
    try:
        async with store.db.reading() as conn:
            raw = await conn.get_raw_connection()
            await raw.driver_connection.create_function("thread", 0, threading.get_ident)
            ran_on = (await conn.execute(text("SELECT thread()"))).scalar_one()
        assert ran_on == threading.get_ident()
        await store.chats.subscribe(Recipient(Platform.TELEGRAM, "1"), ["ai"], 1.0)
        with pytest.raises(IntegrityError):
            async with store.db.transaction() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO chats (id, platform, chat_id, thread_id, created_at) "
                        "SELECT id, platform, chat_id, thread_id, created_at FROM chats"
                    )
                )
        assert len(await store.chats.routing()) == 1, "the failed transaction changed nothing"
    finally:
        await store.close()


async def test_a_transaction_opened_inside_another_fails_at_once(tmp_path: Path) -> None:
    store = await connect(f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}")
    try:
        async with store.db.transaction(), asyncio.timeout(10):  # were it to wait: fail, not hang
            with pytest.raises(RuntimeError, match="pass the open connection down"):
                async with store.db.transaction():
                    pass
        async with store.db.transaction() as conn:  # the lock was let go
            await conn.execute(text("SELECT 1"))
    finally:
        await store.close()
