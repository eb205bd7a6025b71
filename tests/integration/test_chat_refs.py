"""Chat row ids: remembered from the routing table's read, never from inside a transaction that
may roll back, and forgotten when a group moves to a new id."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select

from bot.models import Platform, Recipient
from bot.store import Store
from bot.store.schema import chats

ALICE = Recipient(Platform.TELEGRAM, "1")
BOB = Recipient(Platform.SLACK, "C2")


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """The SQL statements `store` sends while the block runs."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    engine = store.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_chats_the_routing_table_read_cost_no_statement(store: Store) -> None:
    await store.chats.subscribe(ALICE, ["ai"], 1.0)
    await store.chats.routing()  # reads ALICE's row
    async with store.db.transaction() as conn:
        with statements(store) as sent:
            made = await store.chats.refs.ids(conn, [ALICE, BOB], 2.0)  # BOB's row is new
    assert len(made) == 2 and sent, "BOB's row had to be made"
    async with store.db.transaction() as conn:
        with statements(store) as sent:
            assert await store.chats.refs.ids(conn, [ALICE], 3.0) == {ALICE: made[ALICE]}
    assert sent == [], "a chat the routing table read was looked up again"
    async with store.db.transaction() as conn:
        with statements(store) as sent:
            assert await store.chats.refs.ids(conn, [BOB], 3.0) == {BOB: made[BOB]}
    assert sent, "BOB's row came after the routing read: its id must come from the database"


async def test_a_row_made_in_a_rolled_back_transaction_is_not_remembered(store: Store) -> None:
    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with store.db.transaction() as conn:
            await store.chats.refs.ids(conn, [ALICE], 1.0)
            raise Abort
    async with store.db.transaction() as conn:  # BOB's row may take the id ALICE's had
        await store.chats.refs.ids(conn, [BOB], 2.0)
    async with store.db.transaction() as conn:
        ids = await store.chats.refs.ids(conn, [ALICE], 3.0)
    async with store.db.reading() as conn:
        query = select(chats.c.id).where(chats.c.chat_id == ALICE.chat_id)
        row_id = (await conn.execute(query)).scalar_one()
    assert ids[ALICE] == row_id, "the id given must be ALICE's row"


async def test_a_moved_group_is_looked_up_again(store: Store) -> None:
    group = Recipient(Platform.TELEGRAM, "-100")
    await store.chats.subscribe(group, ["ai"], 1.0)
    (subscription,) = await store.chats.routing()
    async with store.db.transaction() as conn:
        ref = (await store.chats.refs.ids(conn, [group], 2.0))[group]
    await store.chats.move(ref, "-1009")
    async with store.db.transaction() as conn:
        fresh = (await store.chats.refs.ids(conn, [group], 3.0))[group]
    assert fresh != ref, "the old id now names the supergroup's row"
    async with store.db.reading() as conn:
        count = (await conn.execute(select(func.count()).select_from(chats))).scalar_one()
    assert count == 2
    assert subscription.recipient == group
