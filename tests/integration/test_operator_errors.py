"""An operator's first mistakes, met through the real `newsbot` command: each is one line that
names the problem and its fix, a non-zero exit, no traceback, and no secret in any output."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
from pathlib import Path

import pytest
from aiohttp import web

from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.http_proxy import HttpProxy
from tests.fakes.loopback import LoopbackServer
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import (
    OLD_ITEMS,
    config_yaml,
    drop_postgres_database,
    free_port,
    fresh_postgres_database,
    newsbot,
    read_until,
    seed_items,
    start_bot,
    write_config,
)

WRONG_TOKEN = "4242:WRONG_secret-token_value"
DEAD_FEED = "http://127.0.0.1:9/feed.xml"
"""A feed no test polls: the commands below fail before any poll."""
COMMANDS = [
    ("run", "--config", "subscriptions.yaml"),
    ("status",),
    ("feeds", "import", "feeds.opml"),
    ("feeds", "export"),
]
"""Every command that opens the database (`feeds export` reads the config's feeds when the
SQLite file does not exist yet: see `test_feeds_export_before_the_first_run`)."""
EMPTY_OPML = '<?xml version="1.0"?><opml version="2.0"><body/></opml>'


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


class EchoingBotApi(LoopbackServer):
    """A server that answers every Bot API call 400, quoting the request's path (and with it
    the token) in its description, as some proxies and gateways do."""

    def make_app(self) -> web.Application:
        async def refuse(request: web.Request) -> web.Response:
            said = f"Bad Request: invalid path {request.path}"
            return web.json_response(
                {"ok": False, "error_code": 400, "description": said}, status=400
            )

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", refuse)
        return app


async def test_a_bot_api_that_quotes_the_token_back_is_one_line_without_it(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """python-telegram-bot capitalises a description (`Invalid path /bot4242:abc/getme`): the
    lower-cased token passed the mask, in a traceback."""
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    config = write_config(tmp_path, feed_server.url("feed.xml"))
    async with EchoingBotApi() as api:
        env = {"TELEGRAM_BOT_TOKEN": WRONG_TOKEN, "TELEGRAM_API_URL": api.base_url}
        code, output = await newsbot("run", "--config", str(config), env=env, cwd=tmp_path)
    assert code == 1 and "Traceback" not in output, output
    assert (
        output.strip()
        .splitlines()[-1]
        .startswith("newsbot: telegram: the Bot API refused to start: Invalid path /bot***/getme")
    ), output
    assert WRONG_TOKEN.split(":")[1].lower() not in output.lower(), output


BAD_DATABASE_URLS = {
    "not a URL": ("not a url", "NEWSBOT_DATABASE_URL is not a database URL; use "),
    "another database": ("mysql://u:pw@127.0.0.1/db", "'mysql' is not supported; use "),
    "another driver": (
        "postgresql+psycopg://u:pw@127.0.0.1/db",
        "the 'psycopg' driver is not supported; write postgresql+asyncpg:// or postgresql://",
    ),
    "a refused port": (
        "postgres://u:pw@127.0.0.1:{port}/db",
        "(Connection refused): is the server running",  # the system's words, whichever command
    ),
    "a folder that is a file": ("sqlite:///{tmp}/file.txt/newsbot.db", "SQLite database "),
    "no database's scheme": ("http://u:pw@127.0.0.1/", "'http' is not supported; use "),
    "a setting asyncpg has not": (
        "postgresql://u:pw@127.0.0.1:{port}/db?foo=bar",
        "?foo= is no setting a PostgreSQL connection takes",
    ),
}
"""What an operator may set, and part of the one line they must read (never the password)."""


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]).strip("-"))
async def test_every_bad_database_url_is_one_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    (tmp_path / "file.txt").write_text("not a folder")
    (tmp_path / "feeds.opml").write_text(EMPTY_OPML)
    write_config(tmp_path, DEAD_FEED)
    for name, (url, expected) in BAD_DATABASE_URLS.items():
        if command == ("feeds", "export") and url.startswith("sqlite"):
            continue  # no database yet: the config's feeds are exported
        env = {"NEWSBOT_DATABASE_URL": url.format(tmp=tmp_path, port=free_port())}
        code, output = await newsbot(*command, env=env, cwd=tmp_path)
        line = one_line(code, output)
        assert line.startswith("newsbot: database: ") and expected in line, (name, line)
        assert ":pw@" not in line and "pw" not in line.split("database: ", 1)[1], (name, line)


@pytest.mark.postgres
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]).strip("-"))
async def test_a_missing_postgres_database_suggests_createdb(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    url = await fresh_postgres_database()
    await drop_postgres_database(url)
    missing = url.rsplit("/", 1)[1]
    (tmp_path / "feeds.opml").write_text(EMPTY_OPML)
    write_config(tmp_path, DEAD_FEED)
    env = {"NEWSBOT_DATABASE_URL": url}
    line = one_line(*await newsbot(*command, env=env, cwd=tmp_path))
    assert f"has no database '{missing}': create it (createdb -h 127.0.0.1" in line, line
    assert line.endswith(f" {missing})"), line


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("scheme", "query"), [("postgresql", ""), ("postgres", ""), ("postgresql", "?sslmode=disable")]
)
async def test_libpq_style_postgres_urls_use_asyncpg(
    tmp_path: Path, scheme: str, query: str
) -> None:
    url = await fresh_postgres_database()
    try:
        plain = scheme + "://" + url.split("://", 1)[1] + query
        code, output = await newsbot("status", env={"NEWSBOT_DATABASE_URL": plain}, cwd=tmp_path)
    finally:
        await drop_postgres_database(url)
    assert code == 0, output
    assert "outbox: empty" in output, output


async def test_status_in_an_empty_folder_creates_no_database(tmp_path: Path) -> None:
    line = one_line(*await newsbot("status", cwd=tmp_path, env={"NEWSBOT_DATABASE_URL": ""}))
    assert line.startswith("newsbot: database: no SQLite database at newsbot.db: "), line
    assert await asyncio.to_thread(os.listdir, tmp_path) == []


def foreign_files(folder: Path) -> dict[str, bytes]:
    """SQLite files newsbot did not write: empty, not SQLite at all, another program's database."""
    (folder / "empty.db").write_bytes(b"")
    (folder / "notes.db").write_text("not a database\n")
    with contextlib.closing(sqlite3.connect(folder / "other.db")) as other:
        other.execute("CREATE TABLE other (x)")
        other.commit()
    return {name: (folder / name).read_bytes() for name in ("empty.db", "notes.db", "other.db")}


async def test_a_file_that_is_no_newsbot_database_is_one_line_and_stays_as_it_was(
    tmp_path: Path,
) -> None:
    before = foreign_files(tmp_path)
    expected = {
        "empty.db": "is no newsbot database (it holds no tables)",
        "notes.db": "cannot open the SQLite database",
        "other.db": "is no newsbot database (it holds another program's tables)",
    }
    for name, reason in expected.items():
        env = {"NEWSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / name}"}
        for command in (("status",), ("feeds", "export")):
            assert reason in one_line(*await newsbot(*command, env=env, cwd=tmp_path)), name
    env = {"NEWSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"}
    write_config(tmp_path, DEAD_FEED)
    line = one_line(*await newsbot("run", "--once", env=env, cwd=tmp_path))
    assert "other.db is no newsbot database" in line, line
    assert {name: (tmp_path / name).read_bytes() for name in before} == before


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


async def test_a_web_port_another_program_holds_is_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path, DEAD_FEED)
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"NEWSBOT_HTTP_PORT": str(port), "TELEGRAM_BOT_TOKEN": "", "SLACK_BOT_TOKEN": ""}
        line = refused(*await newsbot("run", "--config", str(config), env=env, cwd=tmp_path))
    assert line == (
        f"newsbot: NEWSBOT_HTTP_PORT {port}: cannot listen (Address already in use): is another "
        "newsbot or another program on it? Choose a free port"
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


async def test_feeds_export_before_the_first_run_lists_the_configs_feeds(tmp_path: Path) -> None:
    write_config(tmp_path, DEAD_FEED)
    code, output = await newsbot("feeds", "export", cwd=tmp_path, env={"NEWSBOT_DATABASE_URL": ""})
    assert code == 0, output
    assert f'text="local" title="local" xmlUrl="{DEAD_FEED}"' in output, output
    assert await asyncio.to_thread(os.listdir, tmp_path) == ["subscriptions.yaml"]
    missing = ("feeds", "export", "--config", "gone.yaml")
    line = one_line(*await newsbot(*missing, cwd=tmp_path, env={"NEWSBOT_DATABASE_URL": ""}))
    assert line.startswith("gone.yaml: cannot read: no such file"), "a named config must be there"


EVERY_COMMAND = [
    ("run", "--once", "--config", "subscriptions.yaml"),
    ("check-config", "subscriptions.yaml"),
    ("classify", "--config", "subscriptions.yaml", "feed.xml"),
    ("stories", "--config", "subscriptions.yaml", "feed.xml"),
    ("status",),
    ("feeds", "import", "feeds.opml"),
    ("feeds", "export"),
]
BAD_ENVIRONMENT = {
    "NEWSBOT_LOG_LEVEL": ("bogus", "'BOGUS' is not one of DEBUG, INFO, WARNING, ERROR"),
    "NEWSBOT_LOG_FORMAT": ("xml", "'xml' is not text or json"),
    "NEWSBOT_HTTP_PORT": ("http", "'http' is not a TCP port"),
    "TELEGRAM_API_URL": ("api.telegram.example", "'api.telegram.example' is not an http:// or "),
    "SLACK_API_URL": ("ftp://127.0.0.1/api/", "'ftp://127.0.0.1/api/' is not an http:// or "),
}
BAD_CONFIGS = {
    "missing": (
        None,
        "subscriptions.yaml: cannot read: no such file (--config PATH or NEWSBOT_CONFIG names",
    ),
    "broken YAML": ("version: 1\nfeeds: [\n", "subscriptions.yaml:3: invalid YAML: "),
    "not a mapping": ("- a list\n", "subscriptions.yaml:1: expected a mapping with `version: 1`"),
    "a bad value": (
        config_yaml('  - {name: a, url: "http://127.0.0.1:9/a", interval: soon}\n'),
        "subscriptions.yaml:4: feeds[0].interval: ",
    ),
}


def command_id(command: tuple[str, ...]) -> str:
    return " ".join(word for word in command[:2] if not word.startswith("-"))


def scratch_files(folder: Path) -> None:
    """A working folder where every command of EVERY_COMMAND could succeed."""
    write_config(folder, DEAD_FEED)
    (folder / "feed.xml").write_text(rss(OLD_ITEMS), encoding="utf-8")
    (folder / "feeds.opml").write_text(EMPTY_OPML)
    (folder / "notes.txt").write_text("a line of notes, no feed\n")


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=command_id)
async def test_every_bad_environment_value_is_one_line(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    scratch_files(tmp_path)
    for name, (value, expected) in BAD_ENVIRONMENT.items():
        code, output = await newsbot(*command, env={name: value}, cwd=tmp_path)
        assert code == 2, (name, output)
        assert output.strip().startswith(f"newsbot: {name}: {expected}"), (name, output)
        assert len(output.strip().splitlines()) == 1, (name, output)


@pytest.mark.parametrize(
    "command", [c for c in EVERY_COMMAND if "subscriptions.yaml" in c], ids=command_id
)
async def test_every_bad_config_file_is_one_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    scratch_files(tmp_path)
    config = tmp_path / "subscriptions.yaml"
    for name, (text, expected) in BAD_CONFIGS.items():
        if text is None:
            config.unlink(missing_ok=True)
        else:
            config.write_text(text, encoding="utf-8")
        line = one_line(*await newsbot(*command, cwd=tmp_path))
        assert line.startswith(expected), (name, line)


BAD_DOCUMENTS = {
    "classify": [
        ("missing.xml", "newsbot classify: missing.xml: No such file or directory"),
        (
            "ftp://127.0.0.1/feed.xml",
            "newsbot classify: ftp://127.0.0.1/feed.xml: only http and https URLs are fetched",
        ),
        (f"http://127.0.0.1:{free_port()}/feed.xml", "newsbot classify: http://127.0.0.1:"),
    ],
    "stories": [
        ("missing.xml", "newsbot stories: missing.xml: No such file or directory"),
        ("notes.txt", "newsbot stories: notes.txt: not a feed: not well-formed XML (syntax error)"),
        ("/dev/zero", "newsbot stories: /dev/zero: larger than the 10,485,760 bytes it may hold"),
    ],
    "feeds": [
        ("missing.opml", "newsbot feeds import: missing.opml: No such file or directory"),
        ("feed.xml", "newsbot feeds import: feed.xml: root element is <rss>, not <opml>"),
        ("/dev/zero", "newsbot feeds import: /dev/zero: larger than the 16,777,216 bytes it may"),
    ],
}


@pytest.mark.parametrize("command", sorted(BAD_DOCUMENTS))
async def test_every_bad_document_is_one_line(tmp_path: Path, command: str) -> None:
    scratch_files(tmp_path)
    args = (
        ("feeds", "import") if command == "feeds" else (command, "--config", "subscriptions.yaml")
    )
    for source, expected in BAD_DOCUMENTS[command]:
        line = one_line(*await newsbot(*args, source, cwd=tmp_path))
        assert line.startswith(expected), line
        assert line.count(source) == 1, line  # the source is named once, not repeated


async def test_a_served_feed_is_named_without_its_password(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    url = feed_server.url("feed.xml").replace("127.0.0.1", "reader:pw123@127.0.0.1")
    code, output = await newsbot("stories", "--json", url, cwd=tmp_path)
    assert code == 0, output
    named = url.replace("pw123", "***")
    assert output.count(f'"feed": "{named}"') == len(OLD_ITEMS), output
    assert "pw123" not in output, output


async def test_the_environments_proxy_is_read_like_curl_and_an_odd_no_proxy_stops_nothing(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """`[::1]:80` and stray commas in NO_PROXY stopped httpx, and with it the bot, with a
    traceback; the bot's own reading of the variables routes every fetch."""
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    url = feed_server.url("feed.xml")
    async with HttpProxy() as proxy:
        env = {"HTTP_PROXY": proxy.base_url, "NO_PROXY": ",,,::::,[::1]:80"}
        code, output = await newsbot("stories", "--json", url, env=env, cwd=tmp_path)
        assert code == 0 and output.count('"story"') == len(OLD_ITEMS), output
        assert [r.target for r in proxy.requests] == [url]
        env["NO_PROXY"] = "[::1]:80, 127.0.0.1"
        code, output = await newsbot("stories", "--json", url, env=env, cwd=tmp_path)
        assert code == 0 and len(proxy.requests) == 1, "NO_PROXY names the feed's host"
    write_config(tmp_path, url)
    env = {"NO_PROXY": ",,,::::", "NEWSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'n.db'}"}
    code, output = await newsbot("run", "--once", env=env, cwd=tmp_path)
    assert code == 0 and "Traceback" not in output, output


async def test_classify_reads_standard_input(tmp_path: Path) -> None:
    scratch_files(tmp_path)
    classify = ("classify", "--config", "subscriptions.yaml", "-")
    code, output = await newsbot(*classify, stdin=rss(OLD_ITEMS).encode(), cwd=tmp_path)
    assert code == 0, output
    assert "인공지능 반도체 수출 급증\n  https://news.example/2\n  ai: " in output


async def test_run_once_with_a_refused_telegram_token_fails_in_one_line(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    config = write_config(tmp_path, feed_server.url("feed.xml"), telegram_chat="42")
    run = ("run", "--once", "--config", str(config))
    async with FakeTelegram(token="4242:the-right-one") as tg:
        env = {"TELEGRAM_BOT_TOKEN": WRONG_TOKEN, "TELEGRAM_API_URL": tg.base_url}
        code, output = await newsbot(*run, env=env, cwd=tmp_path)  # primes: nothing to send
        assert code == 0, output
        feed_server.publish("feed.xml", rss(seed_items()))
        code, output = await newsbot(*run, env=env, cwd=tmp_path)
    assert code == 1, output
    assert output.strip().endswith(
        "telegram: dispatcher stopped: telegram: the Bot API refused the token "
        "(check TELEGRAM_BOT_TOKEN)"
    ), output
    assert "Traceback" not in output and WRONG_TOKEN.split(":")[1] not in output, output


async def test_a_refused_slack_token_is_one_line_without_the_token(tmp_path: Path) -> None:
    config = write_config(tmp_path, DEAD_FEED)
    async with FakeSlack(token="xoxb-the-right-one", app_token="xapp-the-right-one") as slack:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-WRONG-secret",
            "SLACK_APP_TOKEN": "xapp-the-right-one",
            "SLACK_API_URL": slack.api_url,
            "NEWSBOT_LOG_LEVEL": "DEBUG",
        }
        code, output = await newsbot("run", "--config", str(config), env=env, cwd=tmp_path)
    assert code == 1, output
    assert "Traceback" not in output and "WRONG-secret" not in output, output
    lines = [line for line in output.splitlines() if " DEBUG " not in line]
    assert lines[-1] == "newsbot: slack: auth.test: invalid_auth (check SLACK_BOT_TOKEN)", output
    assert not any("invalid_auth" in line for line in lines[:-1]), output


async def test_a_database_of_a_newer_newsbot_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "subscriptions.yaml").write_text(config_yaml(""), encoding="utf-8")
    assert (await newsbot("run", "--once", "--config", "subscriptions.yaml", cwd=tmp_path))[0] == 0

    def from_the_future() -> None:
        with sqlite3.connect(tmp_path / "newsbot.db") as db:
            db.execute("UPDATE alembic_version SET version_num = '0999'")

    await asyncio.to_thread(from_the_future)
    for command in COMMANDS[:2]:
        line = one_line(*await newsbot(*command, cwd=tmp_path))
        assert line == (
            "newsbot: database: newsbot.db: its schema is newer than this newsbot (Can't locate "
            "revision identified by '0999'): run the newer newsbot, or point "
            "NEWSBOT_DATABASE_URL at a database of its own"
        ), line
