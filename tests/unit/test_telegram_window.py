"""The Telegram adapter's wire-side flood window: a request holds its slot until `window` after it
ended, so however late requests start, no more than `limit` can land in one window."""

from __future__ import annotations

import asyncio
import time

from bot.channels.telegram import SlidingWindow


async def run(window: SlidingWindow, latencies: list[float]) -> list[tuple[int, float, float]]:
    spans: list[tuple[int, float, float]] = []

    async def request(n: int, latency: float) -> None:
        async with window.slot():
            started = time.monotonic()
            await asyncio.sleep(latency)
            spans.append((n, started, time.monotonic()))

    await asyncio.gather(*(request(n, latency) for n, latency in enumerate(latencies)))
    return sorted(spans, key=lambda span: span[1])


async def test_a_full_window_holds_the_next_request_until_the_oldest_has_left() -> None:
    window = SlidingWindow(limit=3, window=0.15)

    spans = await run(window, [0.0, 0.03, 0.01, 0.02, 0.0, 0.03, 0.0])

    for _, start, _ in spans:
        holding = [s for s in spans if s[1] < start and s[2] > start - window.window]
        assert len(holding) < window.limit
    assert [n for n, _, _ in spans] == list(range(7))  # first come, first served
    assert spans[3][1] >= min(end for _, _, end in spans[:3]) + window.window


async def test_requests_below_the_limit_do_not_wait() -> None:
    frozen = SlidingWindow(limit=30, window=1.0, clock=lambda: 100.0)  # time never moves on

    spans = await asyncio.wait_for(run(frozen, [0.0] * 30), timeout=5)  # so none may wait

    assert len(spans) == 30
