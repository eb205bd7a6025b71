"""Delivery benchmark: newsbot's dispatcher against python-telegram-bot's own AIORateLimiter,
through the fake Bot API (tests/fakes/telegram_api.py) with Telegram's flood limits on.

Two loads, each sent by every contender in the same run:

  fan-out  3,000 alerts to 1,000 private chats and 20 groups: item after item, each to every chat
           (so each chat gets about three, oldest first); ceiling 30 messages/s per bot.
  burst    600 alerts to 20 groups, 30 each; ceiling 20 messages/min per group.

Contenders:
  newsbot                  outbox rows in a real Store (temporary SQLite), drained by
                           Dispatcher.run() through TelegramChannel, exactly as the bot runs;
  PTB AIORateLimiter()     python-telegram-bot's ExtBot with AIORateLimiter at its defaults,
                           every message at once through asyncio.gather;
  PTB ...(max_retries=N)   the same with retries on 429.

Printed per load and contender: accepted messages/s and its ratio to the ceiling (for the burst,
per group: (n - 1) / (last - first), in messages/min), 429s (and their share of all sends), lost,
duplicates and per-chat order violations. All contenders send the same rendered HTML.

The fake runs in a child process (its own event loop and CPU), so the clock it enforces the limits
with is not disturbed by the senders. Between runs its counters and flood windows are reset.

    .venv/bin/python bench/deliver.py               # full loads (about 12 minutes)
    .venv/bin/python bench/deliver.py --scale 0.2   # a fifth: 600 alerts, 6 per burst group
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import web
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.channels.telegram import GLOBAL_RATE, MAX_TEXT, TelegramChannel
from bot.commands import Commands
from bot.config import parse_config
from bot.delivery import Dispatcher
from bot.models import FeedItem, Outgoing, Platform, Recipient, Tag
from bot.render.telegram import render_message
from bot.settings import Settings
from bot.store import connect
from bot.store.records import OutboxEntry
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import queue_item

TOKEN = "777000:BENCH-token_secret"
GROUP_PER_MINUTE = 20
PTB_RETRIES = 5
TAGS = (Tag("ai", ()), Tag("policy-finance", ()))
_MARKER = re.compile(r"^Bench (\d+):")

Alert = tuple[int, int]
"""(chat id, item number); alerts are listed in the order they were queued."""


# --------------------------------------------------------------------------------------------
# the loads


@dataclass(frozen=True)
class Load:
    name: str
    alerts: list[Alert]
    per_group_ceiling: bool
    """Judge by the 20/min-per-group ceiling (burst) rather than the 30/s one (fan-out)."""

    @property
    def chats(self) -> list[int]:
        return list(dict.fromkeys(chat for chat, _ in self.alerts))


def fan_out(scale: float) -> Load:
    private = [100_000 + n for n in range(max(1, round(1000 * scale)))]
    groups = [-(2_000_000 + n) for n in range(max(1, round(20 * scale)))]
    chats = private + groups
    random.Random(7).shuffle(chats)
    total = max(1, round(3000 * scale))
    alerts = [(chats[k % len(chats)], k // len(chats)) for k in range(total)]
    return Load("fan-out", alerts, per_group_ceiling=False)


def burst(scale: float) -> Load:
    groups = [-(3_000_000 + n) for n in range(20)]
    per_group = max(2, round(30 * scale))
    return Load("burst", [(g, n) for n in range(per_group) for g in groups], per_group_ceiling=True)


def bench_item(n: int) -> FeedItem:
    return FeedItem(
        key=f"bench-{n}",
        guid=f"bench-{n}",
        link=f"https://news.example/bench/{n}",
        title=f"Bench {n}: 정부, AI 정책금융 3조 5000억 원 지원 & 저리 대출 <속보>",
        summary=(
            "정부가 3조 5000억 원 규모의 AI정책금융 프로그램을 신설해 클라우드, 로봇, 자율주행 등 "
            "AI 분야 지원을 강화한다. 산업은행은 3조 원 규모의 저리 대출 프로그램을 출시하고 "
            "5000억 원 규모의 펀드를 조성한다. The programme adds loans & guarantees."
        ),
        published=datetime(2024, 6, 12, 5, 3, tzinfo=UTC),
        source="bench",
    )


# --------------------------------------------------------------------------------------------
# the fake Bot API in a child process


async def serve(chats: Sequence[int]) -> None:
    """Child process: the fake with every chat of both loads, plus a control server."""
    fake = FakeTelegram(token=TOKEN)
    for chat in chats:
        fake.add_chat(chat, "private" if chat > 0 else "group")
    await fake.start()

    async def stats(_request: web.Request) -> web.Response:
        accepted = []
        for message in fake.sent:
            match = _MARKER.match(message.plain_text)
            accepted.append([message.chat_id, int(match.group(1)) if match else -1, message.at])
        sends = [c for c in fake.calls if c.method in ("sendMessage", "sendPhoto")]
        statuses: dict[str, int] = {}
        for call in sends:
            statuses[str(call.status)] = statuses.get(str(call.status), 0) + 1
        body = {"accepted": accepted, "rejected_429": fake.rejected_429, "statuses": statuses}
        return web.json_response(body)

    async def reset(_request: web.Request) -> web.Response:
        fake.sent.clear()
        fake.calls.clear()
        fake.requests.clear()
        fake.rejected_429 = 0
        fake.rejected_429_by_chat.clear()
        fake.reset_rate_limits()
        return web.json_response({"ok": True})

    control = web.Application()
    control.add_routes([web.get("/stats", stats), web.post("/reset", reset)])
    runner = web.AppRunner(control, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    control_port = runner.addresses[0][1]
    print(f"READY {fake.port} {control_port}", flush=True)
    await asyncio.Event().wait()


class FakeProcess:
    """Starts `serve` in a child process and talks to its control port."""

    def __init__(self, chats: Sequence[int]) -> None:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(list(chats), handle)
            self._chats_file = handle.name
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", self._chats_file],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()
        if not line or line[0] != "READY":
            self.close()
            raise RuntimeError("the fake Bot API did not start")
        self.api_url = f"http://127.0.0.1:{line[1]}"
        self._control = f"http://127.0.0.1:{line[2]}"

    def stats(self) -> dict[str, object]:
        with urllib.request.urlopen(f"{self._control}/stats") as response:
            result: dict[str, object] = json.load(response)
            return result

    def reset(self) -> None:
        request = urllib.request.Request(f"{self._control}/reset", method="POST")
        with urllib.request.urlopen(request) as response:
            response.read()

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.unlink(self._chats_file)


# --------------------------------------------------------------------------------------------
# the contenders


async def run_newsbot(api_url: str, load: Load, workdir: Path) -> float:
    """Queue the load in a fresh store, run the dispatcher until every row is settled."""
    store = await connect(f"sqlite+aiosqlite:///{workdir / f'{load.name}.db'}")
    by_item: dict[int, list[Recipient]] = {}
    for chat, n in load.alerts:
        by_item.setdefault(n, []).append(Recipient(Platform.TELEGRAM, str(chat)))
    now = time.time()
    for n, recipients in by_item.items():
        await queue_item(store, bench_item(n), recipients, TAGS, now=now, feed="bench")
    config = parse_config("version: 1\n")
    settings = Settings(telegram_bot_token=TOKEN, telegram_api_url=api_url)
    channel = TelegramChannel(settings, Commands(store, lambda: config))
    settled = 0
    done = asyncio.Event()

    def observe(outcome: str, _entry: OutboxEntry, _now: float) -> None:
        nonlocal settled
        if outcome in ("sent", "failed", "gone"):
            settled += 1
            if settled >= len(load.alerts):
                done.set()

    dispatcher = Dispatcher(store.outbox, store.chats, channel, observer=observe)
    started = time.monotonic()
    task = asyncio.create_task(dispatcher.run())
    await done.wait()
    elapsed = time.monotonic() - started
    dispatcher.stop()
    await task
    await channel.stop()
    await store.close()
    return elapsed


async def run_ptb(api_url: str, load: Load, max_retries: int) -> float:
    """Every message at once through ExtBot + AIORateLimiter, as its documentation suggests."""
    bot: ExtBot[int] = ExtBot(
        TOKEN,
        base_url=f"{api_url}/bot",
        base_file_url=f"{api_url}/file/bot",
        request=HTTPXRequest(connection_pool_size=256, pool_timeout=30.0),
        rate_limiter=AIORateLimiter(max_retries=max_retries),
    )
    texts = {n: render(n) for n in {n for _, n in load.alerts}}
    async with bot:
        started = time.monotonic()
        sends = [
            bot.send_message(chat, texts[n], parse_mode=ParseMode.HTML) for chat, n in load.alerts
        ]
        await asyncio.gather(*sends, return_exceptions=True)
        return time.monotonic() - started


def render(n: int) -> str:
    message = Outgoing(Recipient(Platform.TELEGRAM, "0"), bench_item(n), TAGS, "")
    rendered = render_message(message, limit=MAX_TEXT)
    assert rendered is not None
    return rendered.html


# --------------------------------------------------------------------------------------------
# scoring


@dataclass(frozen=True)
class Score:
    load: str
    contender: str
    accepted: int
    expected: int
    elapsed: float
    rate: float
    """Messages/s (fan-out) or mean messages/min per group (burst)."""
    ceiling: float
    sends: int
    rejected_429: int
    lost: int
    duplicates: int
    order_violations: int

    @property
    def ratio(self) -> float:
        return self.rate / self.ceiling

    @property
    def share_429(self) -> float:
        return self.rejected_429 / self.sends if self.sends else 0.0


def score(load: Load, contender: str, elapsed: float, stats: dict[str, object]) -> Score:
    accepted: list[list[float]] = stats["accepted"]  # type: ignore[assignment]
    statuses: dict[str, int] = stats["statuses"]  # type: ignore[assignment]
    expected = set(load.alerts)
    received: dict[Alert, int] = {}
    newest: dict[int, int] = {}
    violations = 0
    times: dict[int, list[float]] = {}
    for chat_f, n_f, at in accepted:
        chat, n = int(chat_f), int(n_f)
        received[(chat, n)] = received.get((chat, n), 0) + 1
        if n < newest.get(chat, -1):
            violations += 1
        newest[chat] = max(newest.get(chat, -1), n)
        times.setdefault(chat, []).append(at)
    if load.per_group_ceiling:
        per_group = [(len(ts) - 1) / (ts[-1] - ts[0]) * 60 for ts in times.values() if len(ts) > 1]
        rate = statistics.mean(per_group) if per_group else 0.0
        ceiling = float(GROUP_PER_MINUTE)
    else:
        rate, ceiling = len(accepted) / elapsed, GLOBAL_RATE
    return Score(
        load=load.name,
        contender=contender,
        accepted=len(accepted),
        expected=len(load.alerts),
        elapsed=elapsed,
        rate=rate,
        ceiling=ceiling,
        sends=sum(statuses.values()),
        rejected_429=int(stats["rejected_429"]),  # type: ignore[call-overload]
        lost=len(expected - set(received)),
        duplicates=sum(count - 1 for count in received.values()),
        order_violations=violations,
    )


def table(scores: Sequence[Score]) -> str:
    head = (
        f"{'load':<8} {'contender':<34} {'accepted':>11} {'wall s':>7} {'rate':>17} "
        f"{'of ceiling':>17} {'429s (of sends)':>16} {'lost':>5} {'dup':>4} {'order':>5}"
    )
    lines = [head, "-" * len(head)]
    for s in scores:
        per_group = s.ceiling == GROUP_PER_MINUTE
        rate = f"{s.rate:.2f}{'/min/group' if per_group else '/s'}{'*' if s.lost else ''}"
        ceiling = f"{s.ratio:.1%} of {s.ceiling:g}{'/min' if per_group else '/s'}"
        rejected = f"{s.rejected_429} ({s.share_429:.2%})"
        lines.append(
            f"{s.load:<8} {s.contender:<34} {s.accepted:>5}/{s.expected:<5} {s.elapsed:>7.1f} "
            f"{rate:>17} {ceiling:>17} {rejected:>16} {s.lost:>5} {s.duplicates:>4} "
            f"{s.order_violations:>5}"
        )
    return "\n".join(lines)


def verdict(s: Score) -> str:
    checks = {
        "rate >= 95% of ceiling": s.ratio >= 0.95,
        "0 lost": s.lost == 0,
        "0 duplicates": s.duplicates == 0,
        "0 order violations": s.order_violations == 0,
        "429s < 0.5% of sends": s.share_429 < 0.005,
    }
    failed = [name for name, ok in checks.items() if not ok]
    return f"{s.load}: {'PASS' if not failed else 'FAIL (' + ', '.join(failed) + ')'}"


# --------------------------------------------------------------------------------------------


async def bench(scale: float, contenders: Sequence[str]) -> list[Score]:
    loads = [fan_out(scale), burst(scale)]
    fake = FakeProcess([c for load in loads for c in load.chats])
    scores: list[Score] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for load in loads:
                for contender in contenders:
                    fake.reset()
                    if contender == "newsbot":
                        label = "newsbot"
                        elapsed = await run_newsbot(fake.api_url, load, Path(tmp))
                    elif contender == "ptb":
                        label = "PTB AIORateLimiter()"
                        elapsed = await run_ptb(fake.api_url, load, 0)
                    else:
                        label = f"PTB AIORateLimiter(max_retries={PTB_RETRIES})"
                        elapsed = await run_ptb(fake.api_url, load, PTB_RETRIES)
                    result = score(load, label, elapsed, fake.stats())
                    scores.append(result)
                    print(table([result]).splitlines()[-1], flush=True)
    finally:
        fake.close()
    return scores


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the loads to send")
    parser.add_argument(
        "--only",
        choices=["newsbot", "ptb", "ptb-retries"],
        action="append",
        help="run only these contenders (repeatable)",
    )
    parser.add_argument("--serve", metavar="CHATS_JSON", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    # AIORateLimiter logs a traceback for every message it gives up on; the table counts them
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    if args.serve:
        chats = json.loads(Path(args.serve).read_text())
        asyncio.run(serve(chats))
        return 0
    contenders = args.only or ["newsbot", "ptb", "ptb-retries"]
    print(
        f"delivery benchmark, scale {args.scale:g}: fake Bot API with Telegram's limits "
        f"(30/s per bot, 1/s per private chat, 20/min per group)\n",
        flush=True,
    )
    print(table([]).splitlines()[0], flush=True)
    scores = asyncio.run(bench(args.scale, contenders))
    print("\n" + table(scores))
    if max(n for _, n in burst(args.scale).alerts) + 1 <= GROUP_PER_MINUTE:
        print(
            "note: at this scale a burst group gets 20 alerts or fewer, which Telegram's sliding "
            "minute admits at once; the per-group ceiling only binds from 21 on (--scale 1)."
        )
    if any(s.lost for s in scores):
        print("* counts only what was accepted: the lost messages never arrived")
    newsbot = [s for s in scores if s.contender.startswith("newsbot")]
    if newsbot:
        print("\ntargets (newsbot): " + "; ".join(verdict(s) for s in newsbot))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
