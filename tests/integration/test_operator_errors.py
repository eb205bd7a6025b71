"""An operator's first mistakes, met through the real `newsbot` command: each is one line that
names the problem and its fix, a non-zero exit, no traceback, and no secret in any output."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import (
    OLD_ITEMS,
    drop_postgres_database,
    free_port,
    fresh_postgres_database,
    newsbot,
    read_until,
    start_bot,
    write_config,
)

WRONG_TOKEN = "4242:WRONG_secret-token_value"
DEAD_FEED = "http://127.0.0.1:9/feed.xml"
"""A feed no test polls: the commands below fail before any poll."""
COMMANDS = [("run", "--config", "subscriptions.yaml"), ("status",), ("feeds", "export")]


def one_line(code: int, output: str) -> str:
    """The only line of a command that failed cleanly."""
    assert code == 1, output
    assert "Traceback" not in output, output
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    return lines[0]


async def test_a_refused_telegram_token_is_one_line_without_the_token(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    config = write_config(tmp_path, feed_server.url("feed.xml"))
    async with FakeTelegram(token="4242:the-right-one") as tg:
        env = {
            "TELEGRAM_BOT_TOKEN": WRONG_TOKEN,
            "TELEGRAM_API_URL": tg.base_url,
            "NEWSBOT_LOG_LEVEL": "DEBUG",  # PTB and httpx log request URLs at this level
        }
        code, output = await newsbot("run", "--config", str(config), env=env, cwd=tmp_path)
    assert code == 1, output
    assert "Traceback" not in output, output
    assert output.strip().splitlines()[-1] == (
        "newsbot: telegram: the Bot API refused the token (check TELEGRAM_BOT_TOKEN)"
    )
    assert WRONG_TOKEN.split(":")[1] not in output


BAD_DATABASE_URLS = {
    "not a URL": ("not a url", "NEWSBOT_DATABASE_URL is not a database URL; use "),
    "another database": ("mysql://u:pw@127.0.0.1/db", "'mysql' is not supported; use "),
    "another driver": (
        "postgresql+psycopg://u:pw@127.0.0.1/db",
        "the 'psycopg' driver is not supported; write postgresql+asyncpg:// or postgresql://",
    ),
    "a refused port": (
        "postgres://u:pw@127.0.0.1:{port}/db",
        "cannot reach PostgreSQL at 127.0.0.1:",
    ),
    "a folder that is a file": ("sqlite:///{tmp}/file.txt/newsbot.db", "SQLite database "),
}
"""What an operator may set, and part of the one line they must read (never the password)."""


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
async def test_every_bad_database_url_is_one_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    (tmp_path / "file.txt").write_text("not a folder")
    write_config(tmp_path, DEAD_FEED)
    for name, (url, expected) in BAD_DATABASE_URLS.items():
        env = {"NEWSBOT_DATABASE_URL": url.format(tmp=tmp_path, port=free_port())}
        code, output = await newsbot(*command, env=env, cwd=tmp_path)
        line = one_line(code, output)
        assert line.startswith("newsbot: database: ") and expected in line, (name, line)
        assert ":pw@" not in line and "pw" not in line.split("database: ", 1)[1], (name, line)


@pytest.mark.postgres
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
async def test_a_missing_postgres_database_suggests_createdb(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    url = await fresh_postgres_database()
    await drop_postgres_database(url)
    missing = url.rsplit("/", 1)[1]
    write_config(tmp_path, DEAD_FEED)
    env = {"NEWSBOT_DATABASE_URL": url}
    line = one_line(*await newsbot(*command, env=env, cwd=tmp_path))
    assert f"has no database '{missing}': create it (createdb -h 127.0.0.1" in line, line
    assert line.endswith(f" {missing})"), line


@pytest.mark.postgres
@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
async def test_libpq_style_postgres_urls_use_asyncpg(tmp_path: Path, scheme: str) -> None:
    url = await fresh_postgres_database()
    try:
        plain = scheme + "://" + url.split("://", 1)[1]
        code, output = await newsbot("status", env={"NEWSBOT_DATABASE_URL": plain}, cwd=tmp_path)
    finally:
        await drop_postgres_database(url)
    assert code == 0, output
    assert "outbox: empty" in output, output


async def test_status_in_an_empty_folder_creates_no_database(tmp_path: Path) -> None:
    line = one_line(*await newsbot("status", cwd=tmp_path, env={"NEWSBOT_DATABASE_URL": ""}))
    assert line.startswith("newsbot: database: no SQLite database at newsbot.db: "), line
    assert await asyncio.to_thread(os.listdir, tmp_path) == []


def refused(code: int, output: str) -> str:
    """The only line of a start refused for its environment (exit 2, as for any bad value)."""
    assert code == 2, output
    assert "Traceback" not in output, output
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    return lines[0]


async def test_a_webhook_without_a_web_server_is_refused_before_telegram_hears_of_it(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, DEAD_FEED)
    async with FakeTelegram(token="4242:the-right-one") as tg:
        env = {
            "TELEGRAM_BOT_TOKEN": "4242:the-right-one",
            "TELEGRAM_API_URL": tg.base_url,
            "TELEGRAM_WEBHOOK_URL": "https://bot.example/telegram",
            "NEWSBOT_HTTP_PORT": "",
            "PORT": "",
        }
        line = refused(*await newsbot("run", "--config", str(config), env=env, cwd=tmp_path))
        assert tg.requests == [] and tg.webhook is None
    assert line == (
        "newsbot: telegram: TELEGRAM_WEBHOOK_URL is set but NEWSBOT_HTTP_PORT is not: set the "
        "port the webhook reaches, or unset TELEGRAM_WEBHOOK_URL for long polling"
    )


async def test_slack_http_mode_without_a_web_server_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path, DEAD_FEED)
    env = {
        "SLACK_BOT_TOKEN": "xoxb-not-used",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # refused before any request
        "SLACK_APP_TOKEN": "",
        "NEWSBOT_HTTP_PORT": "",
        "PORT": "",
    }
    line = refused(*await newsbot("run", "--config", str(config), env=env, cwd=tmp_path))
    assert line.startswith("newsbot: slack: HTTP mode (SLACK_APP_TOKEN unset) needs "), line
    assert "xoxb" not in line


async def test_socket_mode_out_of_reach_is_one_line_per_attempt_with_growing_waits(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, DEAD_FEED)
    env = {
        "SLACK_BOT_TOKEN": "xoxb-not-used",
        "SLACK_APP_TOKEN": "xapp-not-used",
        "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/",  # nothing listens there
    }
    process = await start_bot(config, tmp_path, env)
    try:
        seen = await read_until(process, b"Socket Mode unreachable (ClientConnectorError")
        seen += await read_until(process, b"retrying in 4s")
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    output = (seen + rest).decode()
    attempts = [line for line in output.splitlines() if "Socket Mode unreachable" in line]
    assert [line.rsplit(" ", 1)[1] for line in attempts[:3]] == ["1s", "2s", "4s"], output
    assert "Traceback" not in output and " ERROR " not in output, output
    assert "xoxb-not-used" not in output and "xapp-not-used" not in output
