"""Scale benchmark on PostgreSQL: 10,000 feeds, 100,000 chats, 300,000 subscriptions.

What is measured, each beside its target or baseline from the same run:

  routing   one new item that every chat follows, through the real poll (`App`'s poller): rows/s
            beside a bare COPY of as many rows into a copy of the outbox (the baseline).
  claim     `OutboxStore.claim` of 60 rows with those rows pending and `--history` sent alerts a
            chat: EXPLAIN ANALYZE of its selects (target under 5 ms, no scan of a chat's history),
            each statement's time and the whole call's, beside an empty transaction.
  processes 1, 2 and 3 `newsbot run` against bench/poll.py's feed farm (every feed primed with
            its ETag: each poll a 304) and bench/deliver.py's fake Bot API, both in child
            processes: polls/s until every feed was polled (baseline: one process), the shared
            send rate of the broadcast over `--window` seconds (ceiling 30/s; target 95% of it,
            under 0.5% answered 429), peak RSS (target 300 MB), and, with one process, how long
            20 alerts of another story queued mid-broadcast wait (they must not wait behind it).
            A broadcast to 100,000 chats at 30/s takes 56 minutes: the rate is measured, not it.

    .venv/bin/python bench/scale.py                    # the issue's sizes (about 10 minutes)
    .venv/bin/python bench/scale.py --chats 10000 --feeds 1000 --window 20
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import psutil
from sqlalchemy import event, text

from bench.deliver import TOKEN, FakeProcess
from bench.poll import DEFAULT_CORPUS, FarmProcess, control, load_templates
from bot.app import App
from bot.config import LoadedConfig, parse_config
from bot.models import FeedItem, Platform, Recipient
from bot.settings import Settings
from bot.store import Store, connect
from tests.fakes.feed_server import FeedServer, rss
from tests.helpers import OLD_ITEMS, queue_item, shipped_topics

SERVER = os.environ.get("NEWSBOT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
TOPICS = ("ai", "policy-finance", "breaking")
CEILING = 30.0
FIRST_CHAT = 100_000_000
OUTBOX_COLUMNS = ["chat_ref", "platform", "feed_name", "item_key", "payload"]
OUTBOX_COLUMNS += ["not_before", "created_at"]
REPO = Path(__file__).resolve().parents[1]
SIDE_CHATS = [FIRST_CHAT - 1 - n for n in range(20)]
"""Chats outside the broadcast that get an alert of another story in its middle."""


def config_text(feed_url: str = "") -> str:
    feeds = f'  - {{name: route, url: "{feed_url}", interval: 1h}}\n' if feed_url else ""
    return f"version: 1\nstories: {{enabled: false}}\nfeeds:\n{feeds}{shipped_topics()}"


# the database ----------------------------------------------------------------------------------


async def fill(url: str, farm: str, feeds: int, chats: int, history: int) -> dict[str, float]:
    """Bulk-load feeds (primed with the farm's ETags), chats, subscriptions, sent history."""
    templates = load_templates(DEFAULT_CORPUS)
    etags = [f'"{hashlib.sha1(t.body).hexdigest()[:16]}"' for t in templates]
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    took: dict[str, float] = {}
    try:
        now = time.time()
        started = time.perf_counter()
        await conn.copy_records_to_table(
            "feeds",
            columns=["name", "url", "origin", "interval_s", "primed", "etag"],
            records=[
                (f"farm-{i}", f"{farm}/feed/{i}.xml", "opml", 3600.0, True, etags[i % len(etags)])
                for i in range(feeds)
            ],
        )
        await conn.copy_records_to_table(
            "chats",
            columns=["platform", "chat_id", "created_at"],
            records=[("telegram", str(FIRST_CHAT + n), now) for n in range(chats)],
        )
        refs = [r["id"] for r in await conn.fetch("SELECT id FROM chats ORDER BY id")]
        await conn.copy_records_to_table(
            "subscriptions",
            columns=["chat_ref", "topic", "origin"],
            records=[(ref, topic, "user") for ref in refs for topic in TOPICS],
        )
        took["feeds, chats, subscriptions"] = time.perf_counter() - started
        started = time.perf_counter()
        await conn.copy_records_to_table(
            "outbox",
            columns=[*OUTBOX_COLUMNS, "status", "sent_at"],
            records=[
                (ref, "telegram", "old", f"old-{k}", "{}", now, now, "sent", now)
                for ref in refs
                for k in range(history)
            ],
        )
        await conn.execute("ANALYZE")
        took[f"history ({history} sent alerts a chat)"] = time.perf_counter() - started
    finally:
        await conn.close()
    return took


async def route_one_item(url: str, chats: int) -> tuple[float, int, float]:
    """(seconds, rows written) of the poll that routes one item to every chat, and the COPY
    baseline's rows/s."""
    server = FeedServer()
    await server.start()
    server.publish("route.xml", rss(OLD_ITEMS))
    loaded = LoadedConfig(
        parse_config(config_text(server.url("route.xml"))), Path("subscriptions.yaml")
    )
    app = App(Settings(database_url=url), loaded)
    await app.start()
    try:
        assert app.store is not None and app.poller is not None
        feed = await app.store.feeds.get("route")
        assert feed is not None
        await app.poller.poll(feed)  # primes
        story = [
            {"title": "[속보] AI 정책금융 3조 5000억 원", "guid": "r-1", "link": "https://n/r1"}
        ]
        server.publish("route.xml", rss(story + OLD_ITEMS))
        feed = await app.store.feeds.get("route")
        assert feed is not None
        started = time.perf_counter()
        outcome = await app.poller.poll(feed)
        seconds = time.perf_counter() - started
        rows = sum(outcome.queued.values())
    finally:
        await app.close()
        await server.close()
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await conn.execute("CREATE TEMP TABLE copy_baseline (LIKE outbox INCLUDING ALL)")
        records = [
            (n + 1, "telegram", "route", "r-1", "{}", time.time(), time.time())
            for n in range(chats)
        ]
        started = time.perf_counter()
        await conn.copy_records_to_table(
            "copy_baseline",
            columns=OUTBOX_COLUMNS,
            records=records,
        )
        baseline = chats / (time.perf_counter() - started)
    finally:
        await conn.close()
    return seconds, rows, baseline


async def claim_plan(store: Store) -> dict[str, Any]:
    """The plans of the claim's two selects (EXPLAIN ANALYZE of the statements it sends: the
    oldest heads, the newest), 20 claims' times (ms) with each statement's median (ms, round
    trip included), and 20 empty transactions' times (ms: the baseline of any round trips)."""
    seen: list[tuple[str, Any]] = []
    statements: list[float] = []
    engine = store.db.engine.sync_engine

    def before(_conn: Any, _cursor: Any, statement: str, params: Any, context: Any, _: Any) -> None:
        context.bench_started = time.perf_counter()
        if "SKIP LOCKED" in statement:
            seen.append((statement, params))

    def after(
        _conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _: Any
    ) -> None:
        statements.append((time.perf_counter() - context.bench_started) * 1000)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    times, empty, each = [], [], []
    for _ in range(20):
        started = time.perf_counter()
        async with store.db.transaction() as conn:
            await conn.execute(text("SELECT 1"))
        empty.append((time.perf_counter() - started) * 1000)
        statements.clear()
        started = time.perf_counter()
        entries = await store.outbox.claim(Platform.TELEGRAM, time.time(), limit=60, lease=30)
        times.append((time.perf_counter() - started) * 1000)
        each.append(list(statements))
        await store.outbox.release(entries)
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    plans = []
    async with store.db.reading() as conn:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        for statement, params in seen[-2:]:
            rows = await driver.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *params)
            plans.append([r[0] for r in rows])
    medians = [statistics.median(column) for column in zip(*each, strict=False)]
    return {"plans": plans, "times": times, "empty": empty, "statements": medians}


# the processes ---------------------------------------------------------------------------------


async def schedule_feeds(url: str, due_in: float | None) -> None:
    """Make the farm's feeds due in `due_in` seconds (None: at once)."""
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        at = None if due_in is None else time.time() + due_in
        await conn.execute("UPDATE feeds SET next_poll_at = $1 WHERE origin = 'opml'", at)
    finally:
        await conn.close()


def farm_polls(farm: FarmProcess) -> int:
    stats = control(farm.base, "/_stats")
    return int(stats["200"]) + int(stats["304"]) + int(stats["other"])


async def run_processes(
    n: int, url: str, farm: FarmProcess, fake: FakeProcess, args: argparse.Namespace, config: Path
) -> dict[str, Any]:
    await schedule_feeds(url, None)  # every feed due: polls first, then the sending alone
    control(farm.base, "/_reset")
    env = {**os.environ, "PYTHONPATH": str(REPO), "NEWSBOT_DATABASE_URL": url}
    env |= {"NEWSBOT_CONFIG": str(config), "NEWSBOT_LOG_LEVEL": "WARNING"}
    env |= {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.api_url}
    procs = [
        subprocess.Popen(  # noqa: ASYNC220 (started once, not awaited on)
            [sys.executable, "-m", "bot", "run"], env=env, stdout=subprocess.DEVNULL, cwd="/tmp"
        )
        for _ in range(n)
    ]
    watched = [psutil.Process(p.pid) for p in procs]
    peak = [0.0] * n

    def sample() -> None:
        for i, proc in enumerate(watched):
            peak[i] = max(peak[i], proc.memory_info().rss / 2**20)

    started = time.monotonic()
    first_poll = all_polled = None
    while time.monotonic() - started < args.poll_limit:
        sample()
        polls = farm_polls(farm)
        if polls and first_poll is None:
            first_poll = time.monotonic()
        if polls >= args.feeds:
            all_polled = time.monotonic()
            break
        await asyncio.sleep(0.5)
    polls = farm_polls(farm)
    span = (all_polled or time.monotonic()) - (first_poll or started)
    fake.reset()
    window_start = time.monotonic()
    side_queued = None
    while time.monotonic() - window_start < args.window:
        sample()
        if n == 1 and side_queued is None and time.monotonic() - window_start > args.window / 3:
            side_queued = await queue_side_story(url)
        await asyncio.sleep(0.5)
    stats = fake.stats()
    elapsed = time.monotonic() - window_start
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:  # each given a minute to finish its sends in flight
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    accepted: list[list[float]] = stats["accepted"]  # type: ignore[assignment]
    sends = sum(stats["statuses"].values())  # type: ignore[attr-defined]
    result = {
        "processes": n,
        "polls_per_s": polls / span if span > 0 else 0.0,
        "all_polled": all_polled is not None,
        "send_rate": len([a for a in accepted if a[0] >= FIRST_CHAT]) / elapsed,
        "share_429": int(stats["rejected_429"]) / sends if sends else 0.0,  # type: ignore[call-overload]
        "rss_mb": peak,
    }
    if side_queued is not None:
        result["side_delay"] = [at - side_queued for chat, _, at in accepted if chat in SIDE_CHATS]
    return result


async def queue_side_story(url: str) -> float:
    """20 alerts of another story to chats outside the broadcast; when they were queued
    (monotonic: the fake's clock, one per machine)."""
    store = await connect(url)
    try:
        item = FeedItem(key="side", guid="side", link="https://n/side", title="Side", summary="")
        recipients = [Recipient(Platform.TELEGRAM, str(chat)) for chat in SIDE_CHATS]
        await queue_item(store, item, recipients, now=time.time(), feed="side")
        return time.monotonic()
    finally:
        await store.close()


# the report ------------------------------------------------------------------------------------


def report(runs: list[dict[str, Any]]) -> None:
    base = runs[0]["polls_per_s"]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nthis machine: {os.cpu_count()} cores, load average {load} (1, 5, 15 min)")
    print("\nprocesses  polls/s (x one)       send rate (of 30/s)    429s     peak RSS MB (<= 300)")
    for r in runs:
        polls = f"{r['polls_per_s']:7.1f} ({r['polls_per_s'] / base:4.2f}x)"
        if not r["all_polled"]:
            polls += "*"
        rate = f"{r['send_rate']:5.1f}/s ({r['send_rate'] / CEILING:6.1%})"
        rss = ", ".join(f"{m:.0f}" for m in r["rss_mb"])
        print(f"{r['processes']:>9}  {polls:<20}  {rate:<21}  {r['share_429']:6.2%}   {rss}")
    if any(not r["all_polled"] for r in runs):
        print("* not every feed was polled within --poll-limit: rate over what was")
    for delays in (r["side_delay"] for r in runs if r.get("side_delay")):
        print(
            f"another story's 20 alerts queued mid-broadcast: {len(delays)}/20 delivered, "
            f"median {statistics.median(delays):.1f} s, max {max(delays):.1f} s after queueing"
        )


async def bench(args: argparse.Namespace) -> None:
    name = f"newsbot_scale_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(SERVER)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = SERVER.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + "/" + name
    fake_chats = [*SIDE_CHATS, *(FIRST_CHAT + n for n in range(args.chats))]
    try:
        with FarmProcess(args.feeds) as farm, tempfile.TemporaryDirectory() as tmp:
            store = await connect(url)
            took = await fill(url, farm.base, args.feeds, args.chats, args.history)
            for what, seconds in took.items():
                print(f"bulk load of {what}: {seconds:.1f} s")
            seconds, rows, baseline = await route_one_item(url, args.chats)
            print(
                f"routing one item to {args.chats:,} chats: {rows:,} rows in {seconds:.2f} s = "
                f"{rows / seconds:,.0f} rows/s (baseline, a bare COPY: {baseline:,.0f} rows/s; "
                f"{rows / seconds / baseline:.2f}x)"
            )
            claim = await claim_plan(store)
            await store.close()
            plans, times, empty = claim["plans"], claim["times"], claim["empty"]
            print(
                "\noutbox claim, EXPLAIN ANALYZE of its first select:\n  " + "\n  ".join(plans[0])
            )
            ran = ", ".join(plan[-1].strip() for plan in plans)
            each = ", ".join(f"{ms:.2f}" for ms in claim["statements"])
            print(
                f"outbox claim of 60 rows in one transaction: median {statistics.median(times):.2f}"
                f" ms, max {max(times):.2f} ms over {len(times)}; baseline, an empty transaction: "
                f"{statistics.median(empty):.2f} ms; target under 5 ms: its last two selects, {ran}"
                f"\nits statements (due digests, oldest, newest heads, lease, read): {each} ms"
            )
            scans = [line for plan in plans for line in plan if "Seq Scan on outbox" in line]
            print("scan of the outbox:", "yes" if scans else "none (index only)")
            config = Path(tmp) / "subscriptions.yaml"
            config.write_text(config_text(), encoding="utf-8")
            fake = FakeProcess(fake_chats)
            try:
                runs = []
                for n in args.processes:
                    runs.append(await run_processes(n, url, farm, fake, args, config))
                    print(f"{n} process(es): {runs[-1]}", flush=True)
            finally:
                fake.close()
            if runs:
                report(runs)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--chats", type=int, default=100_000, help="3 subscriptions each")
    parser.add_argument("--history", type=int, default=10, help="sent alerts per chat")
    parser.add_argument("--window", type=float, default=30.0, help="seconds of sending measured")
    parser.add_argument("--poll-limit", type=float, default=300.0)
    parser.add_argument("--processes", type=int, nargs="*", default=[1, 2, 3])
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
