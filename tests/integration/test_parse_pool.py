"""The parse pool: worker processes parse exactly as `parse_feed` does, and a worker that dies
fails only the document it held; the next one is parsed by a new worker."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from bot.feeds.parse import ParseError, parse_feed
from bot.feeds.parse_pool import ParsePool
from tests.fakes.feed_server import rss
from tests.helpers import OLD_ITEMS

REPO = Path(__file__).resolve().parents[2]
HEADERS = {"content-type": "application/rss+xml; charset=utf-8"}


def workers() -> list[psutil.Process]:
    return [
        p for p in psutil.Process().children() if "resource_tracker" not in " ".join(p.cmdline())
    ]


async def test_workers_parse_like_parse_feed_and_a_dead_one_is_replaced() -> None:
    body = rss(OLD_ITEMS).encode()
    many = [{"title": f"Item {n}", "guid": f"g{n}", "description": "x " * 200} for n in range(4000)]
    big = rss(many).encode()
    pool = ParsePool(workers=1)
    try:
        parsed = await pool(body, HEADERS, "local", "https://n/feed.xml")
        assert parsed == parse_feed(
            body, headers=HEADERS, source="local", base_url="https://n/feed.xml"
        )
        (worker,) = workers()
        slow = asyncio.create_task(pool(big, HEADERS, "big", "https://n/big.xml"))
        await asyncio.sleep(0.3)
        worker.kill()
        with pytest.raises(ParseError, match="parser process died"):
            await slow
        assert await pool(body, HEADERS, "local", "https://n/feed.xml") == parsed
        (replacement,) = workers()
        assert replacement.pid != worker.pid
    finally:
        pool.close()
    assert workers() == [], "closing stops the workers"


async def test_a_document_past_its_deadline_is_given_up_and_the_worker_goes_on() -> None:
    """One tag of 400,000 attributes takes feedparser minutes (quadratic time); a worker held
    that long held every feed behind it."""
    attributes = " ".join(f'a{n}="1"' for n in range(400_000))
    slow = rss([{"title": "x", "guid": "g"}]).replace("<item>", f"<item><x {attributes}/>").encode()
    body = rss(OLD_ITEMS).encode()
    pool = ParsePool(workers=1, deadline=1.0)
    pool.warm()
    try:
        (worker,) = workers()
        with pytest.raises(ParseError, match="parsing took longer than 1s"):
            await pool(slow, HEADERS, "slow", "https://n/slow.xml")
        assert await pool(body, HEADERS, "local", "https://n/feed.xml") == parse_feed(
            body, headers=HEADERS, source="local", base_url="https://n/feed.xml"
        )
        assert workers() == [worker], "the same worker, not a new one"
    finally:
        pool.close()


async def test_workers_are_replaced_by_warm_ones_after_their_quota() -> None:
    body = rss(OLD_ITEMS).encode()
    expected = parse_feed(body, headers=HEADERS, source="s", base_url="https://n/f.xml")
    pool = ParsePool(workers=1, documents_per_worker=2)
    pool.warm()
    try:
        (first,) = workers()
        for _ in range(2):
            assert await pool(body, HEADERS, "s", "https://n/f.xml") == expected
        # past its quota the worker goes on parsing while its successor starts beside it
        assert await pool(body, HEADERS, "s", "https://n/f.xml") == expected
        assert first.is_running() and len(workers()) == 2
        # the successor takes over once its imports are done: seconds, or a minute on a machine
        # that runs other suites beside this one
        for _ in range(600):
            assert await pool(body, HEADERS, "s", "https://n/f.xml") == expected
            if not first.is_running():
                break
            await asyncio.sleep(0.1)
        (successor,) = workers()
        assert successor.pid != first.pid
    finally:
        pool.close()
    assert workers() == []


def test_a_worker_leaves_when_the_bot_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "bot.py"
    script.write_text(
        "import asyncio, sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from bot.feeds.parse_pool import ParsePool\n"
        "async def main():\n"
        "    pool = ParsePool(workers=1)\n"
        "    await pool(b'<rss><channel><item><title>x</title></item></channel></rss>',\n"
        "               {}, 's', '')\n"
        "    print('parsed', flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "if __name__ == '__main__':\n"
        "    asyncio.run(main())\n"
    )
    bot = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert bot.stdout is not None and bot.stdout.readline().strip() == "parsed"
        (worker,) = [
            p
            for p in psutil.Process(bot.pid).children()
            if "resource_tracker" not in " ".join(p.cmdline())
        ]
        bot.kill()
        bot.wait()
        worker.wait(timeout=10)  # raises TimeoutExpired if the worker lingers
    finally:
        bot.kill()
