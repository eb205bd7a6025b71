"""Operations: /healthz and /metrics over HTTP, reload, status, OPML in and out."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from pathlib import Path

import httpx
import pytest

from bot.app import App
from bot.config import load_config
from bot.opml import OPMLError, read_opml, write_opml
from bot.settings import Settings
from bot.status import collect_status, format_status
from tests.fakes.feed_server import Fault, FeedServer, rss
from tests.helpers import OLD_ITEMS, eventually, free_port, newsbot, seed_items, write_config

DATA = Path(__file__).resolve().parents[1] / "data"


async def test_health_and_metrics_move_after_a_poll_and_a_send(
    tmp_path: Path, feed_server: FeedServer, database_url: str
) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    feed_server.fault("down.xml", Fault(status=503))
    config = write_config(tmp_path, feed_server.url("feed.xml"))
    config.write_text(
        config.read_text().replace(
            "feeds:\n", f'feeds:\n  - {{name: down, url: "{feed_server.url("down.xml")}"}}\n'
        )
    )
    port = free_port()
    out = io.StringIO()
    app = App(Settings(database_url=database_url, http_port=port), load_config(config), stdout=out)
    await app.start()
    await app.start_services()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            metrics = ""

            async def metrics_show(*lines: str) -> bool:
                nonlocal metrics
                metrics = (await client.get("/metrics")).text
                return all(line in metrics for line in lines)

            await eventually(
                lambda: metrics_show(
                    'outcome="primed"} 1.0', 'newsbot_polls_total{outcome="error"}'
                ),
                what="one primed poll and one failed poll in /metrics",
                describe=lambda: metrics,
            )
            health = await client.get("/healthz")
            assert health.status_code == 200, "an unreachable feed is reported, not unhealthy"
            assert health.json()["feeds"] == 2
            assert health.json()["failing_feeds"] == ["down"]

            feed_server.publish("feed.xml", rss(seed_items()))
            expected = (
                'newsbot_alerts_sent_total{platform="console"} 1.0',
                'newsbot_alerts_queued_total{platform="console"} 1.0',
                'newsbot_outbox_depth{platform="console"} 0.0',
                'newsbot_feeds{state="ok"} 1.0',
                'newsbot_feeds{state="failing"} 1.0',
                "newsbot_poll_duration_seconds_bucket",
                "newsbot_publish_to_send_seconds",
                "newsbot_new_items_total 1.0",
            )
            # a scrape reads the gauges from the store, and one whose read fails leaves them out
            # (and logs it): wait for a scrape that shows every line
            await eventually(
                lambda: metrics_show(*expected),
                within=15.0,
                what="the alert sent and every gauge in /metrics",
                describe=lambda: [line for line in expected if line not in metrics],
            )
            assert out.getvalue().count("news.example/seed") == 1
    finally:
        await app.stop_services()
        await app.close()


async def test_healthz_is_503_when_the_database_is_gone(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, "http://127.0.0.1:9/feed.xml")
    app = App(
        Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", http_port=port),
        load_config(config),
        stdout=io.StringIO(),
    )
    await app.start()
    await app.start_services()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/healthz")).status_code == 200
            assert app.store is not None
            await app.store.db.engine.dispose()
            (tmp_path / "db.sqlite").unlink()
            (tmp_path / "db.sqlite").mkdir()  # the file is gone and cannot come back
            response = await client.get("/healthz")
            assert response.status_code == 503
            assert "database unreachable" in response.json()["status"]
    finally:
        await app.stop_services()
        await app.close()


async def test_reload_applies_a_valid_file_and_refuses_a_broken_one(
    tmp_path: Path, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    config = write_config(tmp_path, feed_server.url("feed.xml"))
    out = io.StringIO()
    app = App(
        Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"),
        load_config(config),
        stdout=out,
    )
    await app.start()
    try:
        await app.run_once()  # primes
        original = config.read_text()
        config.write_text(original.replace("feeds:\n", "feeds:\n  - {name: x, url: nope}\n"))
        reply = await app.reload()
        assert "refused" in reply and "subscriptions.yaml:4: feeds[0].url" in reply
        assert [f.name for f in app.config.feeds] == ["local"], "the running config stays"
        [logged] = [r.getMessage() for r in caplog.records if r.name == "bot.admin"]
        assert logged.startswith("reload refused, the running config stays: ") and (
            "\n" not in logged and "subscriptions.yaml:4: feeds[0].url" in logged
        ), logged

        weather = "  weather:\n    keywords: [sunny, 날씨]\n    threshold: 1\n"
        config.write_text(original.replace("topics:\n", "topics:\n" + weather))
        assert "Reloaded" in await app.reload()
        feed_server.publish(
            "feed.xml",
            rss(
                [{"title": "Sunny days return", "guid": "w-2", "link": "https://n/w2"}, *OLD_ITEMS]
            ),
        )
        await app.run_once()
        assert "[weather] Sunny days return" in out.getvalue()
    finally:
        await app.close()


async def test_status_shows_feeds_outbox_and_failures(
    tmp_path: Path, feed_server: FeedServer, database_url: str
) -> None:
    feed_server.fault("feed.xml", Fault(status=500))
    config = write_config(tmp_path, feed_server.url("feed.xml"))
    app = App(Settings(database_url=database_url), load_config(config), stdout=io.StringIO())
    await app.start()
    try:
        await app.run_once()
        assert app.store is not None
        status = await collect_status(app.store)
    finally:
        await app.close()
    (feed,) = status["feeds"]
    assert feed["name"] == "local" and feed["failures"] == 1 and "HTTP 500" in feed["last_error"]
    table = format_status(status)
    assert "local" in table and "HTTP 500" in table and "failing (1 in a row)" in table
    assert feed["state"] == "failing"
    code, output = await newsbot(
        "status", "--json", env={"NEWSBOT_DATABASE_URL": database_url}, cwd=tmp_path
    )
    assert code == 0, output
    assert json.loads(output)["feeds"][0]["last_error"].endswith("HTTP 500")


def test_opml_reader_flattens_folders_and_reads_1_0() -> None:
    nested = read_opml((DATA / "opml" / "nested.opml").read_bytes())
    assert [o.url for o in nested] == [
        "https://news.example.kr/rss/economy.xml",
        "https://news.example.kr/rss/science.xml",
        "https://tech.example.com/feed/",
        "ftp://files.example.com/feed.xml",
        "https://tech.example.com/feed/",
    ]
    flat = read_opml((DATA / "opml" / "flat-1.0.opml").read_bytes())
    assert (flat[0].name, flat[0].url) == ("Café News", "http://cafe.example.org/rss")
    assert read_opml(write_opml(flat).encode()) == flat


@pytest.mark.parametrize(
    "document",
    [b'<?xml version="1.0" encoding="x-bogus"?><opml/>', b"<opml>\xff</opml>", b"<opml"],
)
def test_an_opml_file_that_cannot_be_read_is_refused_with_a_reason(document: bytes) -> None:
    """An unknown encoding raised LookupError past the reader: now one line, like broken XML."""
    with pytest.raises(OPMLError, match="not well-formed XML"):
        read_opml(document)


async def test_opml_import_shows_no_password_of_a_feeds_url(
    tmp_path: Path, database_url: str
) -> None:
    opml = tmp_path / "private.opml"
    opml.write_text(
        '<opml version="2.0"><body>'
        '<outline text="ok" xmlUrl="https://reader:pw123@feeds.example/a.xml"/>'
        '<outline text="bad" xmlUrl="https://reader:pw123@feeds.example:99999/b.xml"/>'
        "</body></opml>",
        encoding="utf-8",
    )
    env = {"NEWSBOT_DATABASE_URL": database_url}
    for _ in range(2):  # added and refused, then skipped and refused
        code, output = await newsbot("feeds", "import", str(opml), env=env, cwd=tmp_path)
        assert code == 0 and "reader:***@feeds.example" in output, output
        assert "pw123" not in output, output


async def test_opml_outlines_without_a_feed_address_are_named_not_lost(
    tmp_path: Path, database_url: str
) -> None:
    opml = tmp_path / "sites.opml"
    opml.write_text(
        '<opml version="2.0"><body><outline text="Folder">'
        '<outline type="rss" text="Typed, no address"/>'
        '<outline text="A site" htmlUrl="https://site.example/"/>'
        '<outline text="A feed" xmlUrl="https://site.example/feed.xml"/>'
        '<outline text="A label"/>'
        "</outline></body></opml>",
        encoding="utf-8",
    )
    env = {"NEWSBOT_DATABASE_URL": database_url}
    code, output = await newsbot("feeds", "import", str(opml), env=env, cwd=tmp_path)
    assert code == 0, output
    assert "added: 1" in output and "refused: 2" in output, output
    assert "Typed, no address (no xmlUrl" in output and "A site (no xmlUrl" in output, output
    assert "Folder" not in output and "A label" not in output, output


async def test_opml_import_then_export_round_trip(tmp_path: Path, database_url: str) -> None:
    env = {"NEWSBOT_DATABASE_URL": database_url}
    code, output = await newsbot(
        "feeds", "import", str(DATA / "opml" / "nested.opml"), env=env, cwd=tmp_path
    )
    assert code == 0, output
    assert "added: 3" in output and "skipped: 1" in output and "refused: 1" in output
    code, again = await newsbot(
        "feeds", "import", str(DATA / "opml" / "nested.opml"), env=env, cwd=tmp_path
    )
    assert "added: 0" in again and "skipped: 4" in again
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "feeds",
        "export",
        stdout=asyncio.subprocess.PIPE,
        env={**env, "PYTHONPATH": str(DATA.parents[1])},
        cwd=tmp_path,
    )
    exported, _ = await process.communicate()
    urls = {o.url for o in read_opml(exported)}
    assert urls == {
        "https://news.example.kr/rss/economy.xml",
        "https://news.example.kr/rss/science.xml",
        "https://tech.example.com/feed/",
    }
