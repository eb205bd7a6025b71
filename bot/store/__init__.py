"""Persistence: SQLAlchemy (async) tables, alembic migrations and the queries the bot runs."""

from bot.store.db import Store, connect

__all__ = ["Store", "connect"]
