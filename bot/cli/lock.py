"""One `newsbot run` per SQLite database: an exclusive lock on a file beside it (`newsbot.db.lock`
beside `newsbot.db`), held for the life of the process. The kernel lets go of it when the process
ends however it ends, `kill -9` included, so a lock is never left behind."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.store.problems import DatabaseUnavailable


def lock_path(database_url: str) -> Path | None:
    """The lock file of the SQLite file at `database_url`; None for any other database."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return None  # opening the database says what is wrong with the URL
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(f"{url.database}.lock")


@contextmanager
def sole_run(database_url: str) -> Iterator[None]:
    """Hold the lock of the SQLite database at `database_url` while the body runs (PostgreSQL
    needs none: processes share its work). Another `newsbot run` holding it is
    `DatabaseUnavailable`, naming that process."""
    path = lock_path(database_url)
    if path is None:
        yield
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield  # a folder we cannot write in: opening the database says so in its own line
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise DatabaseUnavailable(
                f"{path.with_suffix('')} is in use by another `newsbot run` (process {holder}): "
                "SQLite serves one process; stop that one, or use PostgreSQL to run several"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
