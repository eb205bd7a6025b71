"""Publish-to-chat latency: WebSub push through a real hub, beside a 60 s poll, in one run.

One `App` (temporary SQLite, the fake Bot API of tests/fakes/telegram_api.py, its web server on
loopback with NEWSBOT_PUBLIC_URL pointing at it) follows two feeds of the local feed server:

  push  a feed that names the hub (Flask-WebSub, tests/fakes/websub_hub_server.py, run in its own
        process): each sample publishes a new item, tells the hub (`hub.mode=publish`), and times
        until the fake Telegram chat holds the alert. Wall clock, end to end, nothing computed.
  poll  a feed without a hub, polled every 60 s. Running real 60 s cycles for every sample would
        take an hour, so each sample is measured in two parts: the wait for the next poll is taken
        from the schedule (an item appears at a uniformly spread moment of the interval, the
        samples stratified over it, plus the scheduler's jitter of 6 s for a 60 s interval, also
        stratified), and the rest, from the poll's start to the alert in the chat, is measured
        for real by publishing the item and polling at once.

Samples are spaced so that Telegram's pace of one message per second per chat never delays one.

    .venv/bin/python bench/websub.py             # 40 samples of each
    .venv/bin/python bench/websub.py --samples 10
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import pytest

from bot.app import App
from bot.config import LoadedConfig, parse_config
from bot.feeds.schedule import jitter
from bot.settings import Settings
from bot.store.websub import PushState
from bot.websub import PushTiming
from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.websub_hub import HubProcess
from tests.helpers import config_yaml, free_port

TOKEN = "4242:BENCH_token"
CHAT = 5005
POLL_INTERVAL = 60.0
SPACING = 1.2
"""Seconds between samples: more than Telegram's one message per second per chat."""


def item(feed: str, n: int) -> dict[str, str]:
    return {
        "title": f"AI 정책금융 {feed} {n}조 원 지원",
        "link": f"https://news.example/{feed}/{n}",
        "guid": f"{feed}-{n}",
        "description": "정부가 인공지능(AI) 기업을 지원한다.",
    }


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def wait_for_alerts(tg: FakeTelegram, count: int) -> None:
    """Until the chat holds `count` alerts (the fake wakes this on each message it accepts)."""
    await tg.wait_until(lambda: len(tg.sent_to(CHAT)) >= count, 120)


async def bench(samples: int, workdir: Path) -> tuple[list[float], list[float], list[float]]:
    async with FeedServer() as feeds, FakeTelegram(TOKEN) as tg, HubProcess(workdir) as hub:
        tg.add_chat(CHAT)
        pushed_url, polled_url = feeds.url("pushed.xml"), feeds.url("polled.xml")
        link = {"Link": f'<{hub.url}>; rel="hub", <{pushed_url}>; rel="self"'}
        pushed_items: list[dict[str, str]] = [item("pushed", 0)]
        polled_items: list[dict[str, str]] = [item("polled", 0)]
        feeds.publish("pushed.xml", rss(pushed_items), headers=link)
        feeds.publish("polled.xml", rss(polled_items))
        text = (
            config_yaml(
                f'  - {{name: pushed, url: "{pushed_url}", interval: 60s}}\n'
                f'  - {{name: polled, url: "{polled_url}", interval: 60s}}\n'
            )
            + f"subscriptions:\n  - {{telegram: {CHAT}, topics: [ai]}}\n"
        )
        port = free_port()
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{workdir / 'newsbot.db'}",
            telegram_bot_token=TOKEN,
            telegram_api_url=tg.base_url,
            http_port=port,
            public_url=f"http://127.0.0.1:{port}",
        )
        loaded = LoadedConfig(parse_config(text), workdir / "subscriptions.yaml")
        app = App(settings, loaded, push_timing=PushTiming(tick=0.2))
        await app.start()
        try:
            await app.start_services()
            await app.poll_all()  # primes both feeds and finds the hub
            assert app.store is not None
            deadline = time.monotonic() + 30
            while not any(s.state is PushState.ACTIVE for s in await app.store.websub.all()):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the hub never verified the subscription:\n{hub.log()}")
                await asyncio.sleep(0.05)

            push: list[float] = []
            async with httpx.AsyncClient() as client:
                for n in range(1, samples + 1):
                    pushed_items.insert(0, item("pushed", n))
                    feeds.publish("pushed.xml", rss(pushed_items[:20]), headers=link)
                    started = time.perf_counter()
                    form = {"hub.mode": "publish", "hub.topic": pushed_url}
                    (await client.post(hub.url, data=form)).raise_for_status()
                    await wait_for_alerts(tg, n)
                    push.append(time.perf_counter() - started)
                    await asyncio.sleep(SPACING)

            pipeline: list[float] = []
            for n in range(1, samples + 1):
                polled_items.insert(0, item("polled", n))
                feeds.publish("polled.xml", rss(polled_items[:20]))
                started = time.perf_counter()
                await app.poll_all()
                await wait_for_alerts(tg, samples + n)
                pipeline.append(time.perf_counter() - started)
                await asyncio.sleep(SPACING)
        finally:
            await app.stop_services()
            await app.close()
    spread = jitter(POLL_INTERVAL)
    poll = [
        (i + 0.5) / samples * POLL_INTERVAL + ((i * 7919) % samples + 0.5) / samples * spread + p
        for i, p in enumerate(pipeline)
    ]
    return push, pipeline, poll


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="newsbot-websub-bench-") as tmp:
        try:
            push, pipeline, poll = asyncio.run(bench(args.samples, Path(tmp)))
        except pytest.skip.Exception as exc:
            print(f"skipped: {exc}")
            return 1
    print(f"{args.samples} samples each; publish to Telegram chat, seconds")
    print(f"{'':38}{'p50':>8}{'p99':>8}{'max':>8}")
    rows = [
        ("push through the hub (measured)", push),
        ("poll every 60 s (schedule + measured)", poll),
        ("  of which poll to chat (measured)", pipeline),
    ]
    for name, values in rows:
        print(
            f"{name:38}{quantile(values, 0.5):8.3f}{quantile(values, 0.99):8.3f}{max(values):8.3f}"
        )
    ratio50 = statistics.median(poll) / statistics.median(push)
    ratio99 = quantile(poll, 0.99) / quantile(push, 0.99)
    print(f"poll / push: {ratio50:.0f}x at p50, {ratio99:.0f}x at p99")
    p99 = quantile(push, 0.99)
    print(f"target push p99 < 2 s: {'met' if p99 < 2 else 'NOT met'} ({p99:.3f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
