"""Every file of the real-world corpus, served over loopback HTTP, goes through the whole pipeline.

Each file is served with the headers it expects: feedparser's test files name them in a leading
`Header:` comment, and the recorded arXiv responses carry their status, headers and body. Every
item is classified, routed to the console and rendered (backlog on), so a crash anywhere shows.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from bot.app import App
from bot.settings import Settings
from tests.fakes.feed_server import Fault, FeedServer
from tests.helpers import config_with_feeds, corpus_dir

_HEADER = re.compile(rb"^Header:\s*([\w-]+):\s*(.*?)\s*$", re.MULTILINE)


def serve_file(server: FeedServer, path: str, file: Path) -> None:
    data = file.read_bytes()
    if file.parent.name == "arxiv-recorded":
        recorded = json.loads(data)
        headers = {
            k: v
            for k, v in recorded.get("headers", {}).items()
            if k.lower() in ("content-type", "etag", "last-modified", "retry-after")
        }
        status = int(recorded.get("status_code", 200))
        body = recorded.get("body", "").encode()
        if status == 200:
            server.publish(path, body, content_type=headers.get("Content-Type", "application/xml"))
        else:
            server.fault(path, Fault(status=status, headers=headers, body=body))
        return
    headers = {
        name.decode(): value.decode("latin-1") for name, value in _HEADER.findall(data[:2000])
    }
    content_type = next(
        (v for k, v in headers.items() if k.lower() == "content-type"), "application/xml"
    )
    extra = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    server.publish(path, data, content_type=content_type, headers=extra)


async def test_the_whole_corpus_goes_through_the_pipeline(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    root = corpus_dir()
    files = sorted(p for p in root.rglob("*") if p.is_file())
    feeds_yaml = []
    for index, file in enumerate(files):
        path = f"c/{index}"
        serve_file(feed_server, path, file)
        feeds_yaml.append(f'  - {{name: c{index}, url: "{feed_server.url(path)}", backlog: 100}}\n')
    out = io.StringIO()
    app = App(
        Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'corpus.db'}"),
        config_with_feeds("".join(feeds_yaml)),
        stdout=out,
    )
    await app.start()
    try:
        outcomes = await app.run_once()
    finally:
        await app.close()
    by_status: dict[str, int] = {}
    for outcome in outcomes:
        by_status[outcome.status] = by_status.get(outcome.status, 0) + 1
    refused = {o.feed: o.error for o in outcomes if o.status == "error"}
    print(f"\ncorpus: {len(files)} files, outcomes {by_status}; refused: {refused}")
    assert len(outcomes) == len(files)
    assert set(by_status) <= {"primed", "error"}, by_status
    # a refusal must be a typed one naming the document, never an exception from inside
    for error in refused.values():
        assert error and ("not a feed" in error or "not a JSON Feed" in error or "HTTP" in error)
    assert by_status["primed"] >= len(files) - 20
    assert out.getvalue().count("\n\n") > 20, "tagged corpus items reached the console"
