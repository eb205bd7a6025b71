"""Where a poll sweep's CPU goes, by layer: HTTP client, parse, store, scheduler, pipeline.

Two measurements, both of the contender's own process:

  * every thread's CPU time (and that of its worker processes) before and after a sweep, read
    with psutil: the event loop's thread, the threads that parse (asyncio's default executor),
    the store's driver threads (aiosqlite), and the parse pool's processes, if any;
  * a cProfile of the event loop's thread measured in that thread's CPU time (not wall time, so
    waiting in epoll counts nothing), each function's own time given to the layer of the file it
    lives in; time in C functions (socket calls, zlib, sqlite3) goes to the layer that called them.

The profile slows Python code more than C code, so the loop thread's layers are shown as shares of
its profiled CPU and scaled to the loop thread's CPU in the unprofiled sweeps.
"""

from __future__ import annotations

import cProfile
import pstats
import resource
import threading
import time
from collections import defaultdict
from typing import Any

import psutil

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "HTTP client",
        (
            "/httpx/",
            "/httpcore/",
            "/h11/",
            "/anyio/",
            "/aiohttp/",
            "/yarl/",
            "/multidict/",
            "/aiohappyeyeballs/",
            "/propcache/",
            "/bot/feeds/fetch",
            "/bot/feeds/http",
            "/bot/netguard",
            "/http/cookiejar",
            "/ssl.py",
            "/urllib/",
        ),
    ),
    ("parse", ("/feedparser/", "/sgmllib", "/bot/feeds/parse", "/bot/text/", "/xml/", "/html/")),
    ("store", ("/sqlalchemy/", "/aiosqlite/", "/asyncpg/", "/sqlite3/", "/bot/store/")),
    ("scheduler", ("/apscheduler/", "/bot/scheduling", "/bot/feeds/schedule", "/tzlocal/")),
    (
        "classify, stories, route",
        ("/bot/classify/", "/bot/stories/", "/bot/grouping", "/bot/route", "/bot/dedupe"),
    ),
    ("poller", ("/bot/poller", "/bot/app", "/bot/ops", "/prometheus_client/", "/logging/")),
    ("event loop", ("/asyncio/", "/selectors.py", "/contextvars", "/threading.py")),
)
OTHER = "other"


def layer_of(filename: str) -> str | None:
    """The layer a source file belongs to; None for C functions (no file)."""
    if filename == "~" or filename.startswith("<"):
        return None
    for layer, needles in LAYERS:
        if any(needle in filename for needle in needles):
            return layer
    return OTHER


def profile_layers(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of own time per layer; a C function's time goes to its callers' layers in the
    proportion they called it (its callers' callers when they are C functions too)."""
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    totals: dict[str, float] = defaultdict(float)

    def attribute(func: Any, seconds: float, depth: int = 0) -> None:
        layer = layer_of(func[0])
        if layer is not None or depth > 4:
            totals[layer or OTHER] += seconds
            return
        callers = table[func][4] if func in table else {}
        shares = {caller: values[2] for caller, values in callers.items()}
        whole = sum(shares.values())
        if not whole:
            totals[OTHER] += seconds
            return
        for caller, share in shares.items():
            attribute(caller, seconds * share / whole, depth + 1)

    for func, (_cc, _nc, own, _cum, _callers) in table.items():
        attribute(func, own)
    return dict(totals)


def _thread_kind(thread: threading.Thread | None) -> str:
    if thread is None:
        return "other threads"
    if thread is threading.main_thread():
        return "event loop thread"
    if thread.name.startswith("asyncio_"):
        return "parse threads"
    if "aiosqlite" in type(thread).__module__ or "_connection_worker" in thread.name:
        return "store threads"
    return "other threads"


def cpu_by_thread_kind() -> dict[str, float]:
    """CPU seconds so far of this process's threads by what they run, and of its children."""
    by_id = {t.native_id: t for t in threading.enumerate()}
    totals: dict[str, float] = defaultdict(float)
    for info in psutil.Process().threads():
        totals[_thread_kind(by_id.get(info.id))] += info.user_time + info.system_time
    # workers that have exited and been waited for, then the live ones: a parse worker replaced
    # in the middle of a sweep is counted whole
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    totals["worker processes"] = ended.ru_utime + ended.ru_stime
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        totals["worker processes"] += times.user + times.system
    return dict(totals)


class ThreadCPU:
    """``with ThreadCPU() as cpu:`` ... ``cpu.spent``: CPU seconds by thread kind in the block."""

    def __enter__(self) -> ThreadCPU:
        self._before = cpu_by_thread_kind()
        return self

    def __exit__(self, *_exc: object) -> None:
        after = cpu_by_thread_kind()
        self.spent = {k: after.get(k, 0.0) - self._before.get(k, 0.0) for k in after}


class LoopProfile:
    """cProfile of the calling thread in its own CPU time, switched on around sweeps."""

    def __init__(self) -> None:
        self.profile = cProfile.Profile(time.thread_time)

    def __enter__(self) -> LoopProfile:
        self.profile.enable()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.profile.disable()

    def layers(self) -> dict[str, float]:
        return profile_layers(pstats.Stats(self.profile))

    def dump(self, path: str) -> None:
        self.profile.dump_stats(path)


def breakdown_lines(
    profiled: dict[str, float], threads: dict[str, float], feeds: int, sweeps: int
) -> list[str]:
    """The table printed under the sweep figures: ms per sweep and µs per feed by layer."""
    loop_cpu = threads.get("event loop thread", 0.0) / sweeps
    profiled_total = sum(profiled.values()) or 1.0
    lines = [
        f"{'where (CPU of one sweep)':<34} {'ms/sweep':>9} {'µs/feed':>8} {'share':>6}",
    ]
    rows: list[tuple[str, float]] = []
    for layer, seconds in sorted(profiled.items(), key=lambda kv: -kv[1]):
        rows.append((f"  loop thread: {layer}", loop_cpu * seconds / profiled_total))
    for kind in ("parse threads", "store threads", "worker processes", "other threads"):
        if threads.get(kind, 0.0) > 0.0005 * sweeps:
            rows.append((kind, threads[kind] / sweeps))
    whole = sum(seconds for _, seconds in rows) or 1.0
    for name, seconds in rows:
        lines.append(
            f"{name:<34} {seconds * 1000:>9.1f} {seconds * 1e6 / feeds:>8.0f} "
            f"{100 * seconds / whole:>5.1f}%"
        )
    return lines
