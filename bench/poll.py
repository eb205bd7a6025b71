"""Poll benchmark: newsbot against two feedparser loops, on a local farm of real-world feeds.

What is measured
----------------
A farm (the tests' feed server, tests/fakes/feed_server.py, in its own process so its CPU is not
counted) serves ``--feeds`` feeds (default 1,000) built by cycling through the parseable XML feeds
of /work/shared/corpus/feeds/, with ETag/Last-Modified validators, 304 answers to conditional
requests, and gzip. Each contender
runs in a fresh child process against the same farm, reset to its initial state first:

  * ``newsbot``: the bot itself, built by ``App`` as ``newsbot run`` builds it: a fresh SQLite
    store (WAL) in a temp dir, a config of ``--feeds`` farm feeds with the shipped topics, story
    grouping and operator subscriptions of subscriptions.yaml, and the console channel (its output
    discarded; nothing is delivered during a sweep). A sweep makes every feed due (not timed), then
    runs ``FeedScheduler.poll_due``, the due queue of ``newsbot run`` (batch claims, fetch, parse,
    dedupe, classify, stories, route, one commit per feed). All farm feeds share one host
    (127.0.0.1), which no real deployment does, so the bench lifts only the per-host cap to the
    global one: ``max_concurrent=16, per_host=16`` (``--max-concurrent``, ``--per-host``; 4, 32
    and 64 were no faster: the sweep is CPU-bound). A second newsbot row uses the shipped
    ``PollPolicy()`` defaults (16 concurrent, 2 per host) for comparison.
  * ``conditional``: ``feedparser.parse(url, etag=..., modified=...)`` sequentially over all
    URLs, passing the validators of the previous result of that URL.
  * ``naive``: ``feedparser.parse(url)`` sequentially over all URLs.

Sweep 0 primes (all 200s; newsbot stores validators and seen keys, queues nothing) and is reported
on its own. Before each of the ``--sweeps`` later sweeps, ``--changed`` feeds (default 50, the same
seeded choice for every contender) get a new item with a fresh guid (new ETag and Last-Modified);
publishing is not timed. For the later sweeps the table gives the median wall time and the median
CPU seconds (user+system of the contender's process, every thread included), and per sweep the
200/304 counts and the number of new items the contender noticed (newsbot: ``new_items`` of its
outcomes; feedparser loops: entries whose id was not in that URL's previous 200). The farm's own
200/304 counters are checked against the client's. CPU counts newsbot's parse worker process
too. ``quiet`` is the CPU per feed of a sweep right after the prime in which no feed changed (all
304s): what an unchanged feed costs. Peak RSS is ``ru_maxrss`` of the contender's process over its
whole life (imports, setup, prime sweep and all sweeps); the parse worker's is printed beside it.

Under the table, newsbot's CPU of a measured sweep by layer (bench/layers.py): every thread's and
worker's CPU time around the measured sweeps, and a cProfile, in thread CPU time, of one more
sweep of the same kind, whose shares split the event loop thread's CPU into HTTP client, parse,
store, scheduler, classify/stories/route, poller and the event loop itself.

Targets: a sweep in at most half the conditional loop's wall time, under 1.5 ms of CPU per
unchanged feed, peak RSS under 200 MB; with ``--scale 10``, newsbot on a farm ten times larger
(10,000 feeds, 500 changed) in at most ten times the sweep time, peak RSS under 200 MB.

Reproduce
---------
    .venv/bin/python bench/poll.py                       # 1000 feeds, 50 changed, 3 sweeps
    .venv/bin/python bench/poll.py --skip-naive --skip-defaults --scale 10   # and 10,000 feeds
    .venv/bin/python bench/poll.py --skip-naive          # the naive loop takes ~20 s per sweep
    .venv/bin/python bench/poll.py --only-newsbot --profile /tmp/nb.prof  # the profiled sweep

Run from the repository root or anywhere (paths are resolved from this file). The corpus
location can be overridden with NEWSBOT_CORPUS. Timings are wall-clock on a shared machine: the
``load`` column shows the 1-minute load average, and CPU seconds are the steadier figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.layers import (  # noqa: E402
    LoopProfile,
    ThreadCPU,
    breakdown_lines,
    cpu_by_thread_kind,
)
from tests.fakes.feed_server import FIRST_MODIFIED, FeedServer, insert_item  # noqa: E402

DEFAULT_CORPUS = Path(os.environ.get("NEWSBOT_CORPUS", "/work/shared/corpus/feeds"))
XML_SUFFIXES = (".xml", ".rss", ".atom", ".rdf")
BENCH_MAX_CONCURRENT = 16
BENCH_PER_HOST = 16

_HEADER_CT = re.compile(rb"^Header:\s*Content-type:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


# the farm: the test suite's feed server, in its own process, serving many corpus feeds ----------


@dataclass(frozen=True, slots=True)
class Template:
    path: str
    body: bytes
    content_type: str
    entries: int
    bozo: bool


def load_templates(root: Path = DEFAULT_CORPUS) -> list[Template]:
    """The corpus XML feeds feedparser reads entries from and that take a new item correctly.

    The Content-Type is the one a feedparser test document declares in its ``Header:`` comment,
    else ``application/xml``."""
    import feedparser

    if not root.is_dir():
        sys.exit(
            f"poll bench: corpus not found at {root} (set NEWSBOT_CORPUS to the directory holding "
            "the feed corpus, e.g. /work/shared/corpus/feeds)"
        )
    templates = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in XML_SUFFIXES:
            continue
        body = path.read_bytes()
        declared = _HEADER_CT.search(body[:4096])
        content_type = declared.group(1).decode("latin-1") if declared else "application/xml"
        headers = {"content-type": content_type}
        parsed = feedparser.parse(body, response_headers=headers)
        if not parsed.entries:
            continue
        probe = insert_item(body, "probe-0", "probe title", FIRST_MODIFIED)
        if probe is None:
            continue
        reparsed = feedparser.parse(probe, response_headers=headers)
        if len(reparsed.entries) != len(parsed.entries) + 1 or reparsed.entries[0].get("id") != (
            "urn:newsbot-test:probe-0"
        ):
            continue
        relative = str(path.relative_to(root))
        templates.append(
            Template(relative, body, content_type, len(parsed.entries), bool(parsed.bozo))
        )
    if not templates:
        sys.exit(f"poll bench: no usable XML feed under {root}")
    return templates


class Farm(FeedServer):
    """``count`` feeds at ``/feed/{i}.xml``, feed i serving template i % len(templates), with
    control routes for the parent process (POST, JSON):

      * ``/_publish`` ``{"feeds": [i, ...], "tag": "s1"}``: a new first item with a fresh guid in
        each listed feed (its ETag changes, its Last-Modified moves on);
      * ``/_reset``: every feed back to its template, request counts to zero;
      * ``/_stats``: ``{"200": n, "304": n, "other": n}`` since the last reset, and ``"cpu"``: the
        farm process's CPU seconds so far (to show it is not the bottleneck);
      * ``/_info``: sizes of the templates and feeds.
    """

    def __init__(self, templates: list[Template], count: int) -> None:
        super().__init__()
        self.templates = templates
        self.count = count
        self.published = 0
        self.reset()

    def reset(self) -> None:
        for i in range(self.count):
            template = self.templates[i % len(self.templates)]
            self.publish(f"feed/{i}.xml", template.body, content_type=template.content_type)
        self.requests.clear()

    def publish_items(self, feeds: list[int], tag: str) -> int:
        done = 0
        for i in feeds:
            self.published += 1
            guid = f"{tag}-f{i}-n{self.published}"
            title = f"Bench item {self.published} of feed {i}: AI 속보 update"
            summary = f"A new item {guid} published by the benchmark: 정책금융 to check a poller."
            done += self.add_item(f"feed/{i}.xml", guid, title, summary=summary)
        return done

    def make_app(self) -> web.Application:
        app = super().make_app()  # GET is the feeds'; control routes are POST
        app.router.add_post("/_publish", self._publish_route)
        app.router.add_post("/_reset", self._reset_route)
        app.router.add_post("/_stats", self._stats_route)
        app.router.add_post("/_info", self._info_route)
        return app

    async def _publish_route(self, request: web.Request) -> web.Response:
        data = await request.json()
        done = self.publish_items([int(i) for i in data["feeds"]], str(data.get("tag", "p")))
        return web.json_response({"published": done})

    async def _reset_route(self, _request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"feeds": self.count})

    async def _stats_route(self, _request: web.Request) -> web.Response:
        counts = self.status_counts()
        other = sum(n for status, n in counts.items() if status not in (200, 304))
        body = {"200": counts[200], "304": counts[304], "other": other}
        return web.json_response({**body, "cpu": time.process_time()})

    async def _info_route(self, _request: web.Request) -> web.Response:
        sizes = [len(t.body) for t in self.templates]
        feeds = [self.documents[f"/feed/{i}.xml"] for i in range(self.count)]
        return web.json_response(
            {
                "templates": len(self.templates),
                "bozo_templates": sum(t.bozo for t in self.templates),
                "feeds": self.count,
                "template_bytes_mean": sum(sizes) / len(sizes),
                "template_bytes_max": max(sizes),
                "feed_bytes_mean": sum(len(f.body) for f in feeds) / self.count,
                "gzip_bytes_mean": sum(len(f.gzipped) for f in feeds) / self.count,
            }
        )


def serve_farm(count: int, root: Path) -> None:
    """Child process: the farm, until killed; prints ``READY <port>`` once listening."""
    import asyncio

    async def main() -> None:
        async with Farm(load_templates(root), count) as farm:
            print(f"READY {farm.port}", flush=True)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


class FarmProcess:
    """The farm in a child process, so its CPU is not the contenders' (`with FarmProcess(n)`)."""

    def __init__(self, count: int, root: Path = DEFAULT_CORPUS) -> None:
        self.count = count
        self.root = root
        self.proc: subprocess.Popen[str] | None = None
        self.base = ""

    def __enter__(self) -> FarmProcess:
        command = [sys.executable, __file__, "--serve-farm", "--feeds", str(self.count)]
        self.proc = subprocess.Popen(
            [*command, "--corpus", str(self.root)], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            self.proc.wait()
            sys.exit(f"poll bench: the farm did not start (exit code {self.proc.returncode})")
        self.base = f"http://127.0.0.1:{int(line.split()[1])}"
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


def control(base: str, path: str, payload: object = None) -> dict[str, Any]:
    """POST to a control route of the farm at `base`, with a JSON payload."""
    request = urllib.request.Request(
        base + path,
        data=json.dumps(payload or {}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


# the sweeps ------------------------------------------------------------------------------------


def changed_feeds(seed: int, sweep: int, feeds: int, changed: int) -> list[int]:
    """Which feeds get a new item before `sweep` (the same for every contender)."""
    return sorted(random.Random(f"{seed}:{sweep}").sample(range(feeds), min(changed, feeds)))


def publish(args: argparse.Namespace, sweep: int) -> None:
    """The farm's changes before `sweep`: a new item in each of `--changed` seeded feeds."""
    feeds = changed_feeds(args.seed, sweep, args.feeds, args.changed)
    control(args.farm, "/_publish", {"feeds": feeds, "tag": f"s{sweep}"})


def cpu_seconds() -> float:
    """CPU seconds of this process (every thread) and of its live worker processes."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime + cpu_by_thread_kind().get("worker processes", 0.0)


def children_peak_rss_mb() -> float:
    """The largest peak RSS (VmHWM) of this process's live children: the parse worker. (The
    rusage of ended children counts the parent's pages they were forked with.)"""
    peaks = [0.0]
    for child in psutil.Process().children():
        with contextlib.suppress(OSError, psutil.Error):
            status = Path(f"/proc/{child.pid}/status").read_text()
            peaks += [
                int(line.split()[1]) / 1024
                for line in status.splitlines()
                if line.startswith("VmHWM:")
            ]
    return max(peaks)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _queued(outcome: Any) -> int:
    """Alerts a poll queued (PollOutcome.queued by platform; older versions: .alerts)."""
    queued = getattr(outcome, "queued", None)
    if isinstance(queued, dict):
        return sum(queued.values())
    return int(getattr(outcome, "alerts", 0) or 0)


class SweepTimer:
    def __enter__(self) -> SweepTimer:
        self.wall0, self.cpu0 = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = cpu_seconds() - self.cpu0


def _sweep_record(
    timer: SweepTimer, base: str, before: dict[str, Any], counts: dict[str, int]
) -> dict[str, Any]:
    after = control(base, "/_stats")
    return {
        "wall": timer.wall,
        "cpu": timer.cpu,
        **counts,
        "server_200": int(after["200"]) - int(before["200"]),
        "server_304": int(after["304"]) - int(before["304"]),
        "farm_cpu": float(after["cpu"]) - float(before["cpu"]),
        "loadavg": os.getloadavg()[0],
    }


# contenders (each runs in its own child process) -------------------------------------------


def run_newsbot(args: argparse.Namespace) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        import io

        from ruamel.yaml import YAML
        from sqlalchemy import update

        from bot.app import App
        from bot.config import load_config
        from bot.logs import setup_logging
        from bot.poller import PollPolicy
        from bot.settings import Settings
        from bot.store.schema import feeds

        setup_logging("WARNING", "text", ())
        tmp = tempfile.TemporaryDirectory(prefix="newsbot-bench-")
        config_path = Path(tmp.name) / "subscriptions.yaml"
        yaml = YAML()
        shipped = yaml.load((ROOT / "subscriptions.yaml").read_text(encoding="utf-8"))
        shipped["feeds"] = [
            {"name": f"farm-{i}", "url": f"{args.farm}/feed/{i}.xml", "interval": "5m"}
            for i in range(args.feeds)
        ]
        with config_path.open("w", encoding="utf-8") as out:
            yaml.dump(shipped, out)
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp.name}/bench.db", config_path=config_path
        )
        policy = PollPolicy(max_concurrent=args.max_concurrent, per_host=args.per_host)
        app = App(settings, load_config(config_path), stdout=io.StringIO(), poll_policy=policy)
        await app.start()

        assert app.store is not None and app.scheduler is not None
        store, scheduler = app.store, app.scheduler

        async def sweep(number: int) -> dict[str, Any]:
            async with store.db.transaction() as conn:  # every feed due (not timed)
                await conn.execute(update(feeds).values(next_poll_at=time.time() - 1))
            before = control(args.farm, "/_stats")
            with SweepTimer() as timer:
                outcomes = await scheduler.poll_due()
            statuses = [o.status for o in outcomes]
            errors = [o.error for o in outcomes if o.status in ("error", "disabled")]
            for error in errors[:3]:
                print(f"newsbot sweep {number}: {error}", file=sys.stderr)
            counts = {
                "n200": sum(s not in ("not_modified", "error", "disabled") for s in statuses),
                "n304": statuses.count("not_modified"),
                "errors": len(errors),
                "new_items": sum(o.new_items for o in outcomes),
                "alerts": sum(_queued(o) for o in outcomes),
            }
            return _sweep_record(timer, args.farm, before, counts)

        prime = await sweep(0)
        quiet = await sweep(0)
        sweeps = []
        threads: dict[str, float] = {}
        for number in range(1, args.sweeps + 1):
            publish(args, number)
            with ThreadCPU() as cpu:
                sweeps.append(await sweep(number))
            threads = {k: threads.get(k, 0.0) + v for k, v in cpu.spent.items()}
        publish(args, args.sweeps + 1)
        with LoopProfile() as profile:
            await sweep(args.sweeps + 1)
        if args.profile:
            profile.dump(args.profile)
        worker_rss = children_peak_rss_mb()  # before close: the parse worker still runs
        await app.close()
        tmp.cleanup()
        return {
            "prime": prime,
            "quiet": quiet,
            "worker_rss_mb": worker_rss,
            "breakdown": breakdown_lines(profile.layers(), threads, args.feeds, args.sweeps),
            "sweeps": sweeps,
            "policy": f"max_concurrent={args.max_concurrent}, per_host={args.per_host}",
        }

    from bot.cli import run_event_loop  # the event loop `newsbot run` uses

    return run_event_loop(main())


def run_feedparser_loop(args: argparse.Namespace, conditional: bool) -> dict[str, Any]:
    import feedparser

    urls = [f"{args.farm}/feed/{i}.xml" for i in range(args.feeds)]
    validators: dict[str, tuple[str | None, str | None]] = {}
    known_ids: dict[str, set[str]] = {}

    def sweep(number: int) -> dict[str, Any]:
        before = control(args.farm, "/_stats")
        n200 = n304 = errors = new = 0
        with SweepTimer() as timer:
            for url in urls:
                if conditional:
                    etag, modified = validators.get(url, (None, None))
                    result = feedparser.parse(url, etag=etag, modified=modified)
                    validators[url] = (
                        result.get("etag", etag),
                        result.get("modified", modified),
                    )
                else:
                    result = feedparser.parse(url)
                status = result.get("status")
                if status == 304:
                    n304 += 1
                elif status == 200:
                    n200 += 1
                    ids = {e.get("id") or e.get("link") or "" for e in result.entries}
                    if url in known_ids:
                        new += len(ids - known_ids[url])
                    known_ids[url] = ids
                else:
                    errors += 1
        counts = {"n200": n200, "n304": n304, "errors": errors, "new_items": new, "alerts": 0}
        return _sweep_record(timer, args.farm, before, counts)

    prime = sweep(0)
    quiet = sweep(0)
    sweeps = []
    for number in range(1, args.sweeps + 1):
        publish(args, number)
        sweeps.append(sweep(number))
    return {"prime": prime, "quiet": quiet, "sweeps": sweeps, "policy": "sequential"}


def child(args: argparse.Namespace) -> None:
    if args.child == "newsbot":
        result = run_newsbot(args)
    else:
        result = run_feedparser_loop(args, conditional=args.child == "conditional")
    result["peak_rss_mb"] = peak_rss_mb()
    # the parse workers have exited by now (App.close): the largest one's peak
    print("RESULT " + json.dumps(result), flush=True)


# the parent: farm, one child per contender, the table -------------------------------------


def run_contender(
    args: argparse.Namespace, base: str, name: str, kind: str, extra: list[str]
) -> dict[str, Any]:
    control(base, "/_reset")
    command = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--farm",
        base,
        "--feeds",
        str(args.feeds),
        "--changed",
        str(args.changed),
        "--sweeps",
        str(args.sweeps),
        "--seed",
        str(args.seed),
        *extra,
    ]
    print(f"running {name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    proc = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"{name}: child failed with exit code {proc.returncode}")
    line = next(ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    result["name"] = name
    print(f"  done in {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
    return result


def _counts(sweeps: list[dict[str, Any]], key: str) -> str:
    values = [s[key] for s in sweeps]
    return str(values[0]) if len(set(values)) == 1 else "/".join(map(str, values))


def print_table(
    results: list[dict[str, Any]], args: argparse.Namespace, info: dict[str, Any]
) -> None:
    print()
    print(
        f"farm: {args.feeds} feeds from {info['templates']} corpus templates "
        f"({info['bozo_templates']} ill-formed but readable), mean body "
        f"{info['feed_bytes_mean'] / 1024:.1f} KiB ({info['gzip_bytes_mean'] / 1024:.1f} KiB "
        f"gzipped), largest template {info['template_bytes_max'] / 1024:.0f} KiB"
    )
    print(
        f"{args.changed} feeds get a new item before each of {args.sweeps} measured sweeps "
        f"(seed {args.seed}); {os.cpu_count()} CPUs; sweep/CPU = median of the measured sweeps"
    )
    header = (
        f"{'contender':<26} {'prime s':>7} {'sweep s':>7} {'CPU s':>6} {'quiet':>5} {'RSS MB':>6} "
        f"{'200s':>5} {'304s':>5} {'err':>3} {'new':>4} {'alerts':>6} {'farm CPU':>8} "
        f"{'load':>4}  each sweep (wall s)"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        sweeps = r["sweeps"]
        wall = statistics.median(s["wall"] for s in sweeps)
        cpu = statistics.median(s["cpu"] for s in sweeps)
        farm_cpu = statistics.median(s["farm_cpu"] for s in sweeps)
        load = max(s["loadavg"] for s in sweeps)
        r["median_wall"] = wall
        print(
            f"{r['name']:<26} {r['prime']['wall']:>7.2f} {wall:>7.3f} {cpu:>6.3f} "
            f"{1000 * r['quiet']['cpu'] / args.feeds:>5.2f} "
            f"{r['peak_rss_mb']:>6.1f} {_counts(sweeps, 'n200'):>5} {_counts(sweeps, 'n304'):>5} "
            f"{_counts(sweeps, 'errors'):>3} {_counts(sweeps, 'new_items'):>4} "
            f"{_counts(sweeps, 'alerts'):>6} {farm_cpu:>8.3f} {load:>4.1f}  "
            + " ".join(f"{s['wall']:.3f}" for s in sweeps)
        )
    print(
        "(new: new items the contender noticed; alerts: outbox rows newsbot queued; farm CPU: the "
        "farm process's CPU s per sweep; load: highest 1-min load average seen after a sweep;"
        "\n quiet: CPU ms per feed of a sweep in which no feed changed)"
    )
    for r in results:
        if "breakdown" in r:
            print(
                f"\n{r['name']}: peak RSS {r['peak_rss_mb']:.1f} MB (its current parse worker: "
                f"{r['worker_rss_mb']:.1f} MB); where the CPU of a measured sweep goes"
            )
            print("\n".join(r["breakdown"]))
    print()
    for r in results:
        mismatched = [
            s
            for s in [r["prime"], *r["sweeps"]]
            if (s["server_200"], s["server_304"]) != (s["n200"], s["n304"])
        ]
        if mismatched:
            print(f"WARNING {r['name']}: farm counted other 200/304 figures: {mismatched}")
    by_name = {r["name"]: r for r in results}
    newsbot = by_name.get("newsbot")
    if newsbot is None:
        return
    nb = newsbot["median_wall"]
    print(f"newsbot PollPolicy: {newsbot['policy']}")
    if "newsbot (default policy)" in by_name:
        print(f"shipped PollPolicy: {by_name['newsbot (default policy)']['policy']}")
    for other in ("newsbot (default policy)", "conditional loop", "naive loop"):
        if other in by_name:
            print(f"ratio {other} wall / newsbot wall: {by_name[other]['median_wall'] / nb:.2f}x")
    quiet_ms = 1000 * newsbot["quiet"]["cpu"] / args.feeds
    checks = [
        (f"CPU per unchanged feed under 1.5 ms ({quiet_ms:.2f})", quiet_ms < 1.5),
        ("peak RSS under 200 MB", newsbot["peak_rss_mb"] < 200),
    ]
    cond = by_name.get("conditional loop")
    if cond is not None:
        checks.append(("at most half the conditional loop's wall", cond["median_wall"] / nb >= 2))
    print("target: " + "; ".join(f"{what}: {'PASS' if ok else 'FAIL'}" for what, ok in checks))


def main() -> None:
    parser = argparse.ArgumentParser(description="newsbot poll benchmark (see module docstring)")
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--changed", type=int, default=50)
    parser.add_argument("--sweeps", type=int, default=3, help="measured sweeps after the prime")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-concurrent", type=int, default=BENCH_MAX_CONCURRENT)
    parser.add_argument("--per-host", type=int, default=BENCH_PER_HOST)
    parser.add_argument(
        "--scale",
        type=int,
        default=1,
        help="then run newsbot again on a farm this many times larger (feeds and changed)",
    )
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument(
        "--skip-defaults",
        action="store_true",
        help="no newsbot row with the shipped PollPolicy defaults",
    )
    parser.add_argument("--only-newsbot", action="store_true")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="write the cProfile of newsbot's profiled sweep to FILE (the event loop's thread, "
        "in its CPU time; parsing runs in a worker process and is not in it)",
    )
    parser.add_argument("--child", choices=("newsbot", "conditional", "naive"), help="internal")
    parser.add_argument("--farm", help="internal: the farm's base URL")
    parser.add_argument("--serve-farm", action="store_true", help="internal: be the farm")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_farm:
        serve_farm(args.feeds, args.corpus)
        return
    if args.child:
        child(args)
        return

    with FarmProcess(args.feeds) as farm:
        info = control(farm.base, "/_info")
        bench_policy = [
            "--max-concurrent",
            str(args.max_concurrent),
            "--per-host",
            str(args.per_host),
        ]
        if args.profile:
            bench_policy += ["--profile", args.profile]
        contenders = [("newsbot", "newsbot", bench_policy)]
        if not args.only_newsbot:
            if not args.skip_defaults:
                from bot.poller import PollPolicy

                shipped = PollPolicy()
                defaults = [
                    "--max-concurrent",
                    str(shipped.max_concurrent),
                    "--per-host",
                    str(shipped.per_host),
                ]
                contenders.append(("newsbot (default policy)", "newsbot", defaults))
            contenders.append(("conditional loop", "conditional", []))
            if not args.skip_naive:
                contenders.append(("naive loop", "naive", []))
        results = [run_contender(args, farm.base, *c) for c in contenders]
    print_table(results, args, info)
    if args.scale > 1:
        scaled = argparse.Namespace(**vars(args))
        scaled.feeds, scaled.changed = args.feeds * args.scale, args.changed * args.scale
        with FarmProcess(scaled.feeds) as farm:
            info = control(farm.base, "/_info")
            big = run_contender(scaled, farm.base, "newsbot", "newsbot", bench_policy)
        print_table([big], scaled, info)
        small = next(r for r in results if r["name"] == "newsbot")
        ratio = big["median_wall"] / small["median_wall"]
        cpu_ratio = statistics.median(s["cpu"] for s in big["sweeps"]) / statistics.median(
            s["cpu"] for s in small["sweeps"]
        )
        print(
            f"ratio newsbot at {scaled.feeds} feeds / at {args.feeds}: {ratio:.1f}x wall, "
            f"{cpu_ratio:.1f}x CPU"
        )
        checks = [
            (f"{args.scale}x the feeds in at most {args.scale}x the time", ratio <= args.scale),
            ("peak RSS under 200 MB", big["peak_rss_mb"] < 200),
        ]
        print("target: " + "; ".join(f"{what}: {'PASS' if ok else 'FAIL'}" for what, ok in checks))


if __name__ == "__main__":
    main()
