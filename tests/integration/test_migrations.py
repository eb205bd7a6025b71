"""The migrations build exactly the schema the code declares (tables, columns, indexes), on SQLite
and PostgreSQL, and the lookups that must not read the whole outbox use their index."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from bot.store import Store
from bot.store.schema import metadata
from bot.store.story_alerts import STORY_CHATS


async def test_the_migrations_build_the_declared_schema(store: Store) -> None:
    async with store.db.engine.connect() as conn:
        drift = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    assert drift == []


async def test_which_chats_have_a_story_is_read_by_index(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("PostgreSQL picks its plan by the statistics of the moment")
    query = STORY_CHATS.params(b_stories=[1, 2])
    compiled = query.compile(store.db.engine, compile_kwargs={"literal_binds": True})
    async with store.db.reading() as conn:
        plan = " ".join(
            str(r[-1]) for r in await conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        )
    assert "ix_outbox_story" in plan, plan
