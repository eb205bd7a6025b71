"""The `newsbot` command as a new user runs it, in a subprocess, against a loopback feed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.config import load_config
from tests.fakes.feed_server import FeedServer, rss
from tests.helpers import (
    OLD_ITEMS,
    REPO,
    config_yaml,
    newsbot,
    python,
    read_until,
    seed_items,
    start_bot,
    write_config,
)


async def test_check_config_accepts_the_shipped_file(tmp_path: Path) -> None:
    code, output = await newsbot("check-config", str(REPO / "subscriptions.yaml"), cwd=tmp_path)
    assert code == 0, output


async def test_the_shipped_file_subscribes_no_chat_and_names_no_admin(tmp_path: Path) -> None:
    """Its chats and admins are commented examples: nothing is queued for chats nobody owns."""
    shipped = REPO / "subscriptions.yaml"
    code, output = await newsbot("check-config", str(shipped), cwd=tmp_path)
    assert code == 0 and ", 0 subscriptions)" in output, output
    config = load_config(shipped).config
    assert config.admins.telegram == () and config.admins.slack == ()
    text = shipped.read_text(encoding="utf-8")
    assert "# - {telegram: -100" in text and "# - {slack: C" in text


async def test_check_config_names_the_line_of_a_broken_file(tmp_path: Path) -> None:
    broken = (
        (REPO / "subscriptions.yaml")
        .read_text(encoding="utf-8")
        .replace("interval: 2m}", "interval: two minutes}", 1)
    )
    lines = broken.splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "two minutes" in text)
    path = tmp_path / "subscriptions.yaml"
    path.write_text(broken, encoding="utf-8")
    code, output = await newsbot("check-config", str(path), cwd=tmp_path)
    assert code != 0
    assert f"subscriptions.yaml:{line}: feeds[0].interval:" in output, output


async def test_check_config_refuses_a_bad_delivery_mode_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "subscriptions.yaml"
    path.write_text(
        "version: 1\ndefaults:\n  timezone: Asia/Seoul\n  mode: daily 8am\n"
        "  quiet: 23:00-07:00 except breaking\n",
        encoding="utf-8",
    )
    code, output = await newsbot("check-config", str(path), cwd=tmp_path)
    assert code != 0
    assert (
        "subscriptions.yaml:4: defaults.mode: 'daily 8am' is not a delivery mode "
        "(use instant, hourly, daily HH:MM or weekly DAY HH:MM)"
    ) in output, output
    assert "quiet" not in output, "the quiet hours are fine"

    path.write_text(path.read_text(encoding="utf-8").replace("8am", "08:00"), encoding="utf-8")
    code, output = await newsbot("check-config", str(path), cwd=tmp_path)
    assert code == 0, output


async def test_run_once_primes_then_prints_the_seed_once(
    tmp_path: Path, feed_server: FeedServer, database_url: str
) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    config = write_config(tmp_path, feed_server.url("feed.xml"))
    env = {"NEWSBOT_DATABASE_URL": database_url}
    run = ("run", "--once", "--config", str(config))

    code, first = await newsbot(*run, env=env, cwd=tmp_path)
    assert code == 0, first
    for item in OLD_ITEMS:
        assert item["title"] not in first, "primed items' titles appear nowhere"
    assert "run --once: polled 1 feed(s): 0 new item(s), 0 alert(s) queued; 1 primed" in first

    feed_server.publish("feed.xml", rss(seed_items()))
    code, second = await newsbot(*run, env=env, cwd=tmp_path)
    assert code == 0, second
    assert second.count("https://news.example/seed") == 1
    header = next(line for line in second.splitlines() if line.startswith("["))
    assert all(topic in header for topic in ("ai", "policy-finance", "breaking")), header

    code, third = await newsbot(*run, env=env, cwd=tmp_path)
    assert code == 0 and "news.example/seed" not in third, third
    assert "run --once: polled 1 feed(s): 0 new item(s), 0 alert(s) queued; 1 " in third, third


async def test_sigterm_stops_cleanly(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    process = await start_bot(write_config(tmp_path, feed_server.url("feed.xml")), tmp_path)
    seen = await read_until(process, b"feed local: primed")
    process.send_signal(signal.SIGTERM)
    rest, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    output = (seen + rest).decode()
    assert process.returncode == 0, output
    assert "Traceback" not in output


async def test_json_logs_on_stdout(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    config = write_config(tmp_path, feed_server.url("missing.xml"))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--once",
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO), "NEWSBOT_LOG_FORMAT": "json"},
        cwd=tmp_path,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()
    records = [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]
    assert any(
        r["level"] == "WARNING" and "HTTP 404" in r["message"] and r["logger"] == "bot.poller"
        for r in records
    ), records


async def test_sighup_reloads_a_new_topic(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    config = write_config(tmp_path, feed_server.url("feed.xml"))
    process = await start_bot(config, tmp_path)
    try:
        await read_until(process, b"feed local: primed")
        weather = "  weather:\n    keywords: [sunny, 날씨]\n    threshold: 1\n"
        config.write_text(config.read_text().replace("topics:\n", "topics:\n" + weather, 1))
        process.send_signal(signal.SIGHUP)
        await read_until(process, b"topics weather, ai")
        feed_server.publish(
            "feed.xml", rss([{"title": "Sunny days ahead", "guid": "w", "link": "https://n/w"}])
        )
        await read_until(process, b"[weather] Sunny days ahead")
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0


async def test_run_once_names_a_failing_feed_once(tmp_path: Path, feed_server: FeedServer) -> None:
    config = write_config(tmp_path, feed_server.url("missing.xml"))
    code, output = await newsbot("run", "--once", "--config", str(config), cwd=tmp_path)
    assert code == 0, output
    assert output.count("HTTP 404") == 1, output


async def test_status_shows_no_next_poll_for_a_removed_feed(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    config = write_config(tmp_path, feed_server.url("feed.xml"))
    code, output = await newsbot("run", "--once", "--config", str(config), cwd=tmp_path)
    assert code == 0, output
    config.write_text(config_yaml(""), encoding="utf-8")  # the feed is no longer listed
    code, output = await newsbot("run", "--once", "--config", str(config), cwd=tmp_path)
    assert code == 0, output

    code, output = await newsbot("status", "--json", cwd=tmp_path)
    assert code == 0, output
    [feed] = json.loads(output)["feeds"]
    assert feed["state"] == "removed" and feed["last_poll"] is not None, feed
    assert feed["next_poll"] is None, feed


async def test_status_warns_of_alerts_waiting_for_a_platform_without_a_token(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    config = write_config(tmp_path, feed_server.url("feed.xml"), telegram_chat="-1001")
    run = ("run", "--once", "--config", str(config))
    assert (await newsbot(*run, cwd=tmp_path))[0] == 0
    feed_server.publish("feed.xml", rss(seed_items()))
    assert (await newsbot(*run, cwd=tmp_path))[0] == 0  # queued for Telegram, which has no token

    code, output = await newsbot("status", cwd=tmp_path)
    assert code == 0, output
    assert output.endswith(
        "warning: 1 alert(s) wait for telegram, which this bot does not send to: set "
        "TELEGRAM_BOT_TOKEN, or remove its subscriptions\n"
    ), output
    code, output = await newsbot("status", cwd=tmp_path, env={"TELEGRAM_BOT_TOKEN": "1:x"})
    assert code == 0 and "warning" not in output, output


HEAVY_MODULES = (
    "bot.app",
    "bot.store",
    "sqlalchemy",
    "alembic",
    "telegram",
    "slack_sdk",
    "aiohttp",
)
"""What only `run`, `status` and `feeds` need: the database, the chat SDKs, the web server."""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["check-config", str(REPO / "subscriptions.yaml")],
        ["classify", "--config", str(REPO / "subscriptions.yaml"), "-"],
    ],
    ids=lambda args: args[0],
)
async def test_data_commands_load_neither_the_database_nor_the_chat_sdks(
    tmp_path: Path, args: list[str]
) -> None:
    """What makes them start in a fraction of the time `run` takes (bench/startup.py)."""
    probe = (
        "import sys\nfrom bot.cli import main\ntry:\n    main(sys.argv[1:])\n"
        "except SystemExit:\n    pass\n"
        f"print('LOADED', sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))\n"
    )
    _, output = await python("-c", probe, *args, stdin=rss(OLD_ITEMS).encode(), cwd=tmp_path)
    assert "LOADED []" in output, output
