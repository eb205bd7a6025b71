"""Why the database named by `NEWSBOT_DATABASE_URL` cannot be used, in one line an operator can act
on: the problem and its fix, never the driver's traceback and never the URL's password."""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from pathlib import Path

from alembic.util.exc import CommandError
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from bot.text.reasons import os_reason

EXAMPLES = "sqlite+aiosqlite:///newsbot.db or postgresql://user@host/dbname"
DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
"""The async driver each supported database is used through."""

_UNKNOWN_SETTING = re.compile(r"unexpected keyword argument '(\w+)'")
"""asyncpg's refusal of a query argument of the URL it has no parameter for (`?foo=bar`)."""

# PostgreSQL error codes (SQLSTATE) an operator meets when the URL is wrong
_NO_DATABASE = "3D000"
_REFUSED_LOGIN = frozenset({"28000", "28P01"})


class DatabaseUnavailable(Exception):
    """The database cannot be used; the message names the problem and the fix."""


class NoDatabaseYet(DatabaseUnavailable):
    """A reader (`status`, `feeds export`) found no SQLite file where the bot would make one."""


def check_url(url: URL) -> None:
    """Refuse a URL of a database or driver the bot does not speak."""
    backend = url.get_backend_name()
    if backend not in DRIVERS:
        raise DatabaseUnavailable(
            f"NEWSBOT_DATABASE_URL: {backend!r} is not supported; use {EXAMPLES}"
        )
    driver = url.get_driver_name()  # loads the dialect: only a supported backend's
    if driver != DRIVERS[backend]:
        raise DatabaseUnavailable(
            f"NEWSBOT_DATABASE_URL: the {driver!r} driver is not supported; "
            f"write {backend}+{DRIVERS[backend]}:// or {backend}://"
        )


def check_sqlite_file(path: Path, *, create: bool) -> None:
    """Refuse a SQLite file that cannot be opened, before the driver fails on it in a thread of
    its own; without `create`, also one that does not exist yet, or holds no newsbot database
    (an empty file, another program's); with it, one that holds another program's tables,
    which newsbot's would be added beside."""
    if path.exists():
        tables = _tables(path)
        if "alembic_version" in tables or (create and not tables):
            return
        whose = "another program's tables" if tables else "no tables"
        raise DatabaseUnavailable(
            f"{path} is no newsbot database (it holds {whose}): point NEWSBOT_DATABASE_URL at "
            "the bot's database, or at a new file"
        )
    if not create:
        raise NoDatabaseYet(
            f"no SQLite database at {path}: `newsbot run` creates it there "
            "(or point NEWSBOT_DATABASE_URL at the bot's database)"
        )
    folder = path.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise DatabaseUnavailable(
            f"cannot create the SQLite database {path}: {folder} is not a folder this user may "
            "write in (create it, or point NEWSBOT_DATABASE_URL elsewhere)"
        )


def _tables(path: Path) -> set[str]:
    """The tables of the SQLite file at `path`, read without writing to it."""
    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        ) as db:
            return {
                name
                for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
    except sqlite3.DatabaseError as exc:  # not a database, malformed, locked past the timeout
        raise DatabaseUnavailable(f"cannot open the SQLite database {path}: {exc}") from None


def explain(exc: BaseException, url: URL) -> DatabaseUnavailable | None:
    """The operator's version of a failure to open or migrate the database at `url`; None when
    it is not one of the ways a database URL goes wrong."""
    if isinstance(exc, CommandError) and "Can't locate revision" in str(exc):
        return DatabaseUnavailable(
            f"{url.database}: its schema is newer than this newsbot ({exc}): run the newer "
            "newsbot, or point NEWSBOT_DATABASE_URL at a database of its own"
        )
    if url.get_backend_name() == "sqlite":
        if isinstance(exc, DBAPIError) and isinstance(exc.orig, sqlite3.OperationalError):
            return DatabaseUnavailable(
                f"cannot open the SQLite database {url.database}: {exc.orig} "
                "(does its folder exist, and may this user write there?)"
            )
        return None
    where = f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}"
    if isinstance(exc, TypeError) and (setting := _UNKNOWN_SETTING.search(str(exc))):
        return DatabaseUnavailable(
            f"NEWSBOT_DATABASE_URL: ?{setting.group(1)}= is no setting a PostgreSQL connection "
            "takes (asyncpg's are ssl, timeout, command_timeout, server_settings, ...)"
        )
    if isinstance(exc, OSError):  # refused, unreachable, no such host, timed out
        reason = os_reason(exc)  # "Connection refused", not asyncpg's "Connect call failed"
        return DatabaseUnavailable(
            f"cannot reach {where} ({reason}): is the server running, and are the host and port "
            "in NEWSBOT_DATABASE_URL right?"
        )
    code = _sqlstate(exc)
    if code == _NO_DATABASE:
        return DatabaseUnavailable(
            f"{where} has no database {url.database!r}: create it "
            f"(createdb -h {url.host or 'localhost'} -p {url.port or 5432}"
            f"{f' -U {url.username}' if url.username else ''} {url.database})"
        )
    if code in _REFUSED_LOGIN:
        return DatabaseUnavailable(
            f"{where} refused the login of {url.username or '(no user)'!r}: {_message(exc)} "
            "(check the user and password in NEWSBOT_DATABASE_URL)"
        )
    if isinstance(exc, DBAPIError):
        return DatabaseUnavailable(f"{where}: {_message(exc)}")
    return None


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of the asyncpg error somewhere in `exc`'s chain."""
    seen: BaseException | None = exc
    while seen is not None:
        code = getattr(seen, "sqlstate", None)
        if isinstance(code, str):
            return code
        seen = seen.__cause__ or (seen.orig if isinstance(seen, DBAPIError) else None)
    return None


def _message(exc: BaseException) -> str:
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
