"""What several test modules share: where ../shared lives, scratch PostgreSQL databases, the
items and configs the pipeline tests feed in, `newsbot` in a subprocess, an outbox filler, a
wait that fails at its deadline, and golden-file checks.

Fixtures live in tests/conftest.py; test modules import helpers from here, never from each other.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import socket
import sys
import time
import uuid
from asyncio.subprocess import Process
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from bot.config import LoadedConfig, parse_config
from bot.models import FeedItem, Recipient, Tag
from bot.store import Store, connect
from bot.store.codec import encode_alert
from bot.store.records import FeedSpec, PollRecord, QueuedAlert
from tests.seed import load_seed
from tests.shared import CORPUS, REPO, SEED_DIR, WHERE

POSTGRES_URL = os.environ.get(
    "NEWSBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
UPDATE_GOLDENS = os.environ.get("UPDATE_GOLDENS") == "1"


# ../shared -------------------------------------------------------------------------------------


def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"real-world corpus not found at {CORPUS} ({WHERE})")
    return CORPUS


def seed_file() -> Path:
    files = sorted(SEED_DIR.glob("*.txt")) if SEED_DIR.is_dir() else []
    if not files:
        pytest.skip(f"seed article not found in {SEED_DIR} ({WHERE})")
    return files[0]


# PostgreSQL ------------------------------------------------------------------------------------


async def fresh_postgres_database() -> str:
    """A new empty database on the test server; skips (visibly) when none is reachable."""
    base = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    try:
        admin = await asyncpg.connect(base, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL not reachable at {base}: {exc}")
    name = f"newsbot_t_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


async def drop_postgres_database(url: str) -> None:
    base = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(base, timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def postgres_store() -> AsyncIterator[tuple[str, Store]]:
    """A fresh PostgreSQL database and a store on it, for tests that start more processes on
    it; dropped afterwards (skips, visibly, when no server answers)."""
    url = await fresh_postgres_database()
    store = await connect(url)
    try:
        yield url, store
    finally:
        await store.close()
        await drop_postgres_database(url)


# feeds and configs -----------------------------------------------------------------------------

OLD_ITEMS = [
    {
        "title": "Weather: sunny weekend ahead",
        "link": "https://news.example/1",
        "guid": "n-1",
        "description": "Clear skies.",
    },
    {
        "title": "인공지능 반도체 수출 급증",
        "link": "https://news.example/2",
        "guid": "n-2",
        "description": "AI 반도체 수출이 늘었다.",
    },
]
"""Two items a feed lists before the test starts: the first poll primes them, they never alert."""


def seed_items() -> list[dict[str, str]]:
    """The seed article (an AI, policy-finance and breaking story) on top of OLD_ITEMS."""
    seed = load_seed(seed_file())
    return [
        {
            "title": seed.title,
            "link": "https://news.example/seed",
            "guid": "seed-1",
            "description": seed.html,
            "category": "News",
        },
        *OLD_ITEMS,
    ]


def shipped_topics() -> str:
    """The `topics:` section of the shipped subscriptions.yaml."""
    shipped = (REPO / "subscriptions.yaml").read_text(encoding="utf-8")
    return shipped[shipped.index("topics:") : shipped.index("subscriptions:")]


def config_yaml(feeds_yaml: str) -> str:
    """A subscriptions.yaml with these `feeds:` entries and the shipped topics."""
    return (
        "version: 1\ndefaults: {interval: 5m, timezone: Asia/Seoul}\n"
        f"feeds:\n{feeds_yaml}{shipped_topics()}"
    )


def config_with_feeds(feeds_yaml: str) -> LoadedConfig:
    return LoadedConfig(parse_config(config_yaml(feeds_yaml)), REPO / "subscriptions.yaml")


def one_feed(feed_url: str) -> str:
    """The `feeds:` entry of the one feed most tests poll: `local`, every 5 s."""
    return f'  - {{name: local, url: "{feed_url}", interval: 5s}}\n'


def config_for(feed_url: str) -> LoadedConfig:
    return config_with_feeds(one_feed(feed_url))


def write_config(tmp_path: Path, feed_url: str, *, telegram_chat: str | None = None) -> Path:
    """`tmp_path/subscriptions.yaml` polling `feed_url` as `local` (and subscribing the Telegram
    chat `telegram_chat` to `ai`, when given); returns its path."""
    text = config_yaml(one_feed(feed_url))
    if telegram_chat is not None:
        text += f"subscriptions:\n  - {{telegram: {telegram_chat}, topics: [ai]}}\n"
    path = tmp_path / "subscriptions.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# the outbox ------------------------------------------------------------------------------------

_POLLED = PollRecord(
    state="active",
    etag=None,
    last_modified=None,
    body_hash=None,
    failures=0,
    last_error=None,
    next_poll_at=None,
    succeeded=True,
)


async def queue_item(
    store: Store,
    item: FeedItem,
    recipients: Sequence[Recipient],
    tags: tuple[Tag, ...] = (Tag("ai", ()),),
    *,
    now: float,
    feed: str = "test-feed",
) -> int:
    """Queue `item` for each recipient the way a poll does (`Store.polls.record`): per chat
    oldest first, in call order. Returns how many alerts were queued."""
    record = await store.feeds.get(feed)
    if record is None:
        record = await store.feeds.add(FeedSpec(feed, f"http://127.0.0.1:9/{feed}.xml", 60.0))
    assert record is not None
    payload = encode_alert(item, tags)
    published = item.published.timestamp() if item.published else None
    alerts = [QueuedAlert(r, item.key, payload, published) for r in recipients]
    queued = await store.polls.record(
        record.id, _POLLED, now, listed_keys=[item.key], alerts=alerts
    )
    return sum(queued.values())


# `newsbot` in a subprocess ---------------------------------------------------------------------


def _bot_env(env: Mapping[str, str] | None) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}


async def python(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None, cwd: Path
) -> tuple[int, str]:
    """Run `python ARGS` with the repo importable (and `stdin` as its input); returns exit code
    and stdout+stderr together."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else None,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=_bot_env(env),
        cwd=cwd,
    )
    output, _ = await asyncio.wait_for(process.communicate(stdin), timeout=120)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def newsbot(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None, cwd: Path
) -> tuple[int, str]:
    """Run `python -m bot ARGS`; returns exit code and stdout+stderr together."""
    return await python("-m", "bot", *args, stdin=stdin, env=env, cwd=cwd)


async def start_bot(
    config: Path, cwd: Path, env: dict[str, str] | None = None, *, read: bool = True
) -> Process:
    """`newsbot run --config CONFIG` in the background; its stdout and stderr on one pipe, or
    discarded when nobody will `read` them (an unread pipe fills up and blocks the bot)."""
    output = asyncio.subprocess.PIPE if read else asyncio.subprocess.DEVNULL
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        stdout=output,
        stderr=asyncio.subprocess.STDOUT if read else output,
        env=_bot_env(env),
        cwd=cwd,
    )


async def read_until(process: Process, text: bytes) -> bytes:
    """The output of `process` up to the line holding `text` (a minute at most)."""
    assert process.stdout is not None
    seen = b""
    while text not in seen:
        try:
            line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
        except TimeoutError:
            raise AssertionError(f"waited for {text!r}, saw:\n{seen.decode()}") from None
        assert line, seen.decode()
        seen += line
    return seen


# waiting ---------------------------------------------------------------------------------------


async def eventually(
    check: Callable[[], bool | Awaitable[bool]],
    *,
    within: float = 10.0,
    what: str = "condition",
    describe: Callable[[], object] | None = None,
) -> None:
    """Wait until `check()` holds, looking every 50 ms; FAIL naming `what` (and `describe()`,
    the state seen last) once `within` seconds have passed. Never returns on a timeout."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            seen = f"; last seen: {describe()}" if describe is not None else ""
            raise AssertionError(f"{what} not reached within {within}s{seen}")
        await asyncio.sleep(0.05)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# golden files ----------------------------------------------------------------------------------


def check_goldens(goldens: Mapping[Path, str | None], *, shown: str = "") -> None:
    """Compare each rendering with its golden file (None: there must be no such file); a
    mismatch prints `shown` too (e.g. the full rendering of a redacted golden).

    With UPDATE_GOLDENS=1 the files are rewritten instead and the test never passes: it fails
    naming the files that changed (review the diff, then run again without UPDATE_GOLDENS), or
    skips when every file already held what it would have written.
    """
    if UPDATE_GOLDENS:
        changed = []
        for path, actual in goldens.items():
            old = path.read_text(encoding="utf-8") if path.exists() else None
            if old == actual:
                continue
            changed.append(path.name)
            if actual is None:
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(actual, encoding="utf-8")
        if changed:
            pytest.fail(
                f"UPDATE_GOLDENS=1 rewrote {', '.join(changed)}: review the diff, then run the "
                "tests without UPDATE_GOLDENS",
                pytrace=False,
            )
        pytest.skip("UPDATE_GOLDENS=1: goldens already up to date, nothing compared")
    for path, actual in goldens.items():
        if actual is None:
            assert not path.exists(), f"{path.name}: expected no rendering (UPDATE_GOLDENS=1)"
            continue
        assert path.exists(), f"golden {path} missing: create it with UPDATE_GOLDENS=1, review it"
        assert actual == path.read_text(encoding="utf-8"), (
            f"{path.name} differs from its golden" + (f"; rendering:\n{shown}" if shown else "")
        )
