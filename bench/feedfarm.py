"""A local farm of N feeds over HTTP, built from the real-world corpus, for the poll benchmark.

Every XML feed under /work/shared/corpus/feeds/ (or $NEWSBOT_CORPUS) that feedparser reads at least
one entry from, and into which a new item can be inserted and read back, is a "template"; feed i
serves template i % len(templates) at ``/feed/{i}.xml``. Each feed has its own state: a version
(-> strong ETag), a Last-Modified date, and its current body (plain and gzip, both precomputed so a
request costs the server no compression).

HTTP behaviour, per feed:
  * ``ETag`` and ``Last-Modified`` on every 200 and 304;
  * ``If-None-Match`` -> 304 when it lists the current ETag (``*`` and ``W/`` are honoured); when
    it is present, ``If-Modified-Since`` is ignored (RFC 9110 13.2.2); otherwise
    ``If-Modified-Since`` -> 304 when the feed has not changed since that date;
  * ``Content-Encoding: gzip`` when the request's Accept-Encoding allows gzip;
  * the Content-Type a feedparser test document declares in its ``Header:`` comment, else
    ``application/xml``.

Control endpoints (not part of any measured sweep):
  * ``POST /_publish`` body ``{"feeds": [i, ...], "tag": "s1"}``: prepend a new item (RSS/RDF
    ``<item>``, Atom ``<entry>``) with a fresh guid to each listed feed; its ETag changes and its
    Last-Modified moves forward by at least one second;
  * ``POST /_reset``: every feed back to its template (version 0), counters to zero;
  * ``GET /_stats``: ``{"200": n, "304": n, "other": n}`` served since the last reset, and
    ``"cpu"``: the farm process's CPU seconds so far (to show it is not the bottleneck).

Run it alone: ``python bench/feedfarm.py --feeds 1000`` prints ``READY <port>`` once listening on
127.0.0.1 (port 0: the OS picks). `Farm` starts it as a child process so its CPU is not the
client's; the benchmark (bench/poll.py) uses that.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

DEFAULT_CORPUS = Path(os.environ.get("NEWSBOT_CORPUS", "/work/shared/corpus/feeds"))
XML_SUFFIXES = (".xml", ".rss", ".atom", ".rdf")
BASE_LAST_MODIFIED = 1_700_000_000  # 2023-11-14: every template's Last-Modified

_HEADER_CT = re.compile(rb"^Header:\s*Content-type:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
# the first entry element, with any namespace prefix: <item ...>, <rss:item>, <entry>, <atom:entry>
_FIRST_ITEM = re.compile(rb"<((?:[A-Za-z_][\w.\-]*:)?)(item|entry)(?=[\s>/])")


# templates -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Template:
    path: str
    body: bytes
    content_type: str
    entries: int
    bozo: bool


def new_item(body: bytes, guid: str, when: float, title: str) -> bytes | None:
    """`body` with a new first item (same element name and prefix as its first one); None if
    there is no item to put it before. Text is ASCII (non-ASCII as character references), so the
    insertion is valid in any ASCII-compatible encoding."""
    match = _FIRST_ITEM.search(body)
    if match is None:
        return None
    prefix = match.group(1).decode()
    kind = match.group(2).decode()
    link = f"http://farm.invalid/{guid}"
    summary = (
        "A new item published by the benchmark farm &#xC815;&#xCC45;&#xAE08;&#xC735; "
        f"{guid} to check that a poller notices the change."
    )
    p = prefix
    if kind == "entry":
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
        xml = (
            f"<{p}entry><{p}id>urn:newsbot-bench:{guid}</{p}id><{p}title>{title}</{p}title>"
            f'<{p}link rel="alternate" href="{link}"/><{p}updated>{stamp}</{p}updated>'
            f"<{p}summary>{summary}</{p}summary></{p}entry>\n"
        )
    else:
        stamp = formatdate(when, usegmt=True)
        about = f' rdf:about="{link}"' if b"rdf:RDF" in body[:4096] else ""
        xml = (
            f"<{p}item{about}><{p}title>{title}</{p}title><{p}link>{link}</{p}link>"
            f'<guid isPermaLink="false">urn:newsbot-bench:{guid}</guid>'
            f"<{p}description>{summary}</{p}description><pubDate>{stamp}</pubDate></{p}item>\n"
        )
    return body[: match.start()] + xml.encode("ascii") + body[match.start() :]


def _content_type(body: bytes) -> str:
    match = _HEADER_CT.search(body[:4096])
    return match.group(1).decode("latin-1") if match else "application/xml"


def load_templates(root: Path = DEFAULT_CORPUS) -> list[Template]:
    """The corpus feeds feedparser reads entries from and that take a new item correctly."""
    import feedparser

    if not root.is_dir():
        sys.exit(
            f"feedfarm: corpus not found at {root} (set NEWSBOT_CORPUS to the directory holding "
            "the feed corpus, e.g. /work/shared/corpus/feeds)"
        )
    templates = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in XML_SUFFIXES:
            continue
        body = path.read_bytes()
        content_type = _content_type(body)
        headers = {"content-type": content_type}
        parsed = feedparser.parse(body, response_headers=headers)
        if not parsed.entries:
            continue
        probe = new_item(body, "probe-0", BASE_LAST_MODIFIED, "probe title")
        if probe is None:
            continue
        reparsed = feedparser.parse(probe, response_headers=headers)
        if len(reparsed.entries) != len(parsed.entries) + 1 or reparsed.entries[0].get("id") != (
            "urn:newsbot-bench:probe-0"
        ):
            continue
        templates.append(
            Template(
                str(path.relative_to(root)),
                body,
                content_type,
                len(parsed.entries),
                bool(parsed.bozo),
            )
        )
    if not templates:
        sys.exit(f"feedfarm: no usable XML feed under {root}")
    return templates


# the server ----------------------------------------------------------------------------------


@dataclass(slots=True)
class FeedState:
    template: int
    body: bytes
    gzipped: bytes
    version: int = 0
    last_modified: int = BASE_LAST_MODIFIED
    etag: str = ""
    lm_header: str = ""
    published: int = 0

    def refresh(self, index: int) -> None:
        self.etag = f'"f{index:x}-v{self.version}"'
        self.lm_header = formatdate(self.last_modified, usegmt=True)


@dataclass(slots=True)
class Farm:
    templates: list[Template]
    count: int
    feeds: list[FeedState] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def reset(self) -> None:
        gz = [gzip.compress(t.body, 6, mtime=0) for t in self.templates]
        self.feeds = []
        for i in range(self.count):
            t = i % len(self.templates)
            state = FeedState(t, self.templates[t].body, gz[t])
            state.refresh(i)
            self.feeds.append(state)
        self.counters = {"200": 0, "304": 0, "other": 0}

    def publish(self, indices: list[int], tag: str) -> int:
        done = 0
        for i in indices:
            state = self.feeds[i]
            state.published += 1
            now = time.time()
            guid = f"{tag}-f{i}-n{state.published}-{time.monotonic_ns()}"
            title = f"Bench item {state.published} of feed {i}: AI &#xC18D;&#xBCF4; update"
            body = new_item(state.body, guid, now, title)
            if body is None:
                continue
            state.body = body
            state.gzipped = gzip.compress(body, 6, mtime=0)
            state.version += 1
            state.last_modified = max(int(now), state.last_modified + 1)
            state.refresh(i)
            done += 1
        return done


def _etag_matches(header: str, etag: str) -> bool:
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


def _not_modified(request_headers: object, state: FeedState) -> bool:
    inm = request_headers.get("If-None-Match")  # type: ignore[attr-defined]
    if inm is not None:
        return _etag_matches(inm, state.etag)
    ims = request_headers.get("If-Modified-Since")  # type: ignore[attr-defined]
    if ims:
        try:
            since = parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
        return state.last_modified <= since
    return False


def _accepts_gzip(value: str) -> bool:
    for part in value.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip", "*"):
            q = params.strip().removeprefix("q=")
            return not (params and q.replace(".", "").strip("0") == "")
    return False


def make_app(farm: Farm) -> object:
    from aiohttp import web

    async def feed(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        try:
            index = int(name)
            state = farm.feeds[index]
        except (ValueError, IndexError):
            farm.counters["other"] += 1
            return web.Response(status=404, text="no such feed")
        headers = {"ETag": state.etag, "Last-Modified": state.lm_header, "Vary": "Accept-Encoding"}
        if _not_modified(request.headers, state):
            farm.counters["304"] += 1
            return web.Response(status=304, headers=headers)
        farm.counters["200"] += 1
        headers["Content-Type"] = farm.templates[state.template].content_type
        if _accepts_gzip(request.headers.get("Accept-Encoding", "")):
            headers["Content-Encoding"] = "gzip"
            return web.Response(body=state.gzipped, headers=headers)
        return web.Response(body=state.body, headers=headers)

    async def publish(request: web.Request) -> web.Response:
        data = await request.json()
        done = farm.publish([int(i) for i in data["feeds"]], str(data.get("tag", "p")))
        return web.json_response({"published": done})

    async def reset(_request: web.Request) -> web.Response:
        farm.reset()
        return web.json_response({"feeds": farm.count})

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response({**farm.counters, "cpu": time.process_time()})

    async def info(_request: web.Request) -> web.Response:
        sizes = [len(t.body) for t in farm.templates]
        return web.json_response(
            {
                "templates": len(farm.templates),
                "bozo_templates": sum(t.bozo for t in farm.templates),
                "feeds": farm.count,
                "template_bytes_mean": sum(sizes) / len(sizes),
                "template_bytes_max": max(sizes),
                "feed_bytes_mean": sum(len(f.body) for f in farm.feeds) / farm.count,
                "gzip_bytes_mean": sum(len(f.gzipped) for f in farm.feeds) / farm.count,
            }
        )

    app = web.Application()
    app.router.add_get("/feed/{name:\\d+}.xml", feed)
    app.router.add_post("/_publish", publish)
    app.router.add_post("/_reset", reset)
    app.router.add_get("/_stats", stats)
    app.router.add_get("/_info", info)
    return app


def serve(count: int, root: Path, port: int) -> None:
    import asyncio

    from aiohttp import web

    farm = Farm(load_templates(root), count)
    farm.reset()

    async def main() -> None:
        runner = web.AppRunner(make_app(farm), access_log=None)  # type: ignore[arg-type]
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(f"READY {bound}", flush=True)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


# the client side: start the farm in a child process and drive its control endpoints ----------


class FarmProcess:
    """The farm in a child process (`with FarmProcess(1000) as farm: farm.url(7)`)."""

    def __init__(self, count: int, root: Path = DEFAULT_CORPUS) -> None:
        self.count = count
        self.root = root
        self.proc: subprocess.Popen[str] | None = None
        self.base = ""

    def __enter__(self) -> FarmProcess:
        if not self.root.is_dir():
            sys.exit(
                f"feedfarm: corpus not found at {self.root} (set NEWSBOT_CORPUS to the directory "
                "holding the feed corpus, e.g. /work/shared/corpus/feeds)"
            )
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--feeds", str(self.count), "--corpus", str(self.root)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            self.proc.wait()
            sys.exit(f"feedfarm: the farm did not start (exit code {self.proc.returncode})")
        self.base = f"http://127.0.0.1:{int(line.split()[1])}"
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)

    def url(self, index: int) -> str:
        return f"{self.base}/feed/{index}.xml"


def control(base: str, path: str, payload: object | None = None) -> dict[str, object]:
    """Call a control endpoint of the farm at `base` (GET, or POST with a JSON payload)."""
    data = None if payload is None else json.dumps(payload).encode()
    method = "GET" if path in ("/_stats", "/_info") else "POST"
    request = urllib.request.Request(
        base + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    serve(args.feeds, args.corpus, args.port)


if __name__ == "__main__":
    main()
