"""The `newsbot` command line: run, check-config, classify, status, feeds import/export."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import httpx

from bot.app import App
from bot.channels.base import SendError
from bot.classify import Classifier, Explanation
from bot.config import ConfigError, load_config
from bot.feeds.fetch import FetchError, fetch_feed, make_client
from bot.feeds.parse import ParseError, parse_feed
from bot.logs import setup_logging
from bot.models import FeedItem, PollStatus
from bot.opml import OPMLError, Outline, read_opml, slug, write_opml
from bot.settings import SettingsError, settings_from_env
from bot.status import collect_status, format_status
from bot.store import connect
from bot.store.records import FeedSpec

log = logging.getLogger("newsbot")
DEFAULT_IMPORT_INTERVAL = 600.0
"""Poll interval of feeds imported from OPML (they can be tuned by listing them in the config)."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_env()
    except SettingsError as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    # `run` logs to stdout, as process managers expect; the commands that print data (status,
    # export, classify) keep stdout for that data and log to stderr
    log_stream = sys.stdout if args.command == "run" else sys.stderr
    setup_logging(settings.log_level, settings.log_format, settings.secrets, log_stream)
    config_path = Path(getattr(args, "config", None) or settings.config_path)
    try:
        if args.command == "check-config":
            loaded = load_config(args.path)
            config = loaded.config
            print(
                f"{args.path}: ok ({len(config.feeds)} feeds, {len(config.topics)} topics, "
                f"{len(config.subscriptions)} subscriptions)"
            )
            return 0
        if args.command == "classify":
            return asyncio.run(
                _classify(args.source, config_path, as_json=args.json, explain=args.explain)
            )
        if args.command == "status":
            return asyncio.run(_status(settings.database_url, as_json=args.json))
        if args.command == "feeds":
            if args.feeds_command == "import":
                return asyncio.run(_import_opml(settings.database_url, Path(args.file)))
            return asyncio.run(_export_opml(settings.database_url))
        if args.command == "run":
            loaded = load_config(config_path)
            app = App(replace(settings, config_path=config_path), loaded)
            return asyncio.run(_run(app, once=args.once))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except SendError as exc:  # a chat platform refused us at start (revoked token, ...)
        print(f"newsbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    parser.print_help()
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsbot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="poll feeds and deliver alerts")
    run.add_argument("--config", help="subscriptions.yaml to use (default: $NEWSBOT_CONFIG)")
    run.add_argument("--once", action="store_true", help="poll every feed once, deliver, exit")
    check = sub.add_parser("check-config", help="validate a subscriptions.yaml")
    check.add_argument("path")
    classify = sub.add_parser("classify", help="show the tags of every item of a feed")
    classify.add_argument("source", metavar="FILE_OR_URL")
    classify.add_argument("--config", help="subscriptions.yaml with the topics")
    classify.add_argument("--json", action="store_true", help="one JSON object per item")
    classify.add_argument(
        "--explain",
        action="store_true",
        help="also show each topic's score, and the topics that scored below their threshold",
    )
    status = sub.add_parser("status", help="feeds, outbox and chats, from the database")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    feeds = sub.add_parser("feeds", help="move feed lists in and out as OPML")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True)
    feeds_import = feeds_sub.add_parser("import", help="add the feeds of an OPML file")
    feeds_import.add_argument("file", metavar="FILE.opml")
    feeds_sub.add_parser("export", help="print every feed as OPML 2.0")
    return parser


async def _status(database_url: str, *, as_json: bool) -> int:
    store = await connect(database_url)
    try:
        status = await collect_status(store)
    finally:
        await store.close()
    print(json.dumps(status, ensure_ascii=False, indent=2) if as_json else format_status(status))
    return 0


async def _import_opml(database_url: str, path: Path) -> int:
    try:
        outlines = read_opml(await asyncio.to_thread(path.read_bytes))
    except (OSError, OPMLError) as exc:
        print(f"newsbot feeds import: {path}: {exc}", file=sys.stderr)
        return 1
    store = await connect(database_url)
    added, skipped, refused = [], [], []
    try:
        known = {f.url for f in await store.feeds.all()}
        names = {f.name for f in await store.feeds.all()}
        for outline in outlines:
            if not outline.url.startswith(("http://", "https://")):
                refused.append(f"{outline.url} (not http or https)")
                continue
            if outline.url in known:
                skipped.append(f"{outline.url} (already polled)")
                continue
            name = base = slug(outline.name, outline.url)
            suffix = 2
            while name in names:
                name, suffix = f"{base[:60]}-{suffix}", suffix + 1
            if await store.feeds.add(FeedSpec(name, outline.url, DEFAULT_IMPORT_INTERVAL), "opml"):
                added.append(f"{name} {outline.url}")
                names.add(name)
                known.add(outline.url)
            else:
                skipped.append(f"{outline.url} (exists)")
    finally:
        await store.close()
    for label, entries in (("added", added), ("skipped", skipped), ("refused", refused)):
        print(f"{label}: {len(entries)}")
        for entry in entries:
            print(f"  {entry}")
    return 0


async def _export_opml(database_url: str) -> int:
    store = await connect(database_url)
    try:
        feeds = [f for f in await store.feeds.all() if f.enabled]
    finally:
        await store.close()
    sys.stdout.write(write_opml(Outline(f.name, f.url) for f in feeds))
    return 0


async def _run(app: App, *, once: bool) -> int:
    try:
        await app.start()
        if once:
            outcomes = await app.run_once()
            failed = [o for o in outcomes if o.status is PollStatus.ERROR]
            for outcome in failed:
                log.warning("feed %s: %s", outcome.feed, outcome.error)
        else:
            await app.run_forever()
    finally:
        await app.close()
    return 0


async def _classify(source: str, config_path: Path, *, as_json: bool, explain: bool) -> int:
    config = load_config(config_path).config
    classifier = Classifier(config.topic_rules())
    try:
        if source.startswith(("http://", "https://")):
            async with make_client() as client:
                result = await fetch_feed(client, source)
            parsed = parse_feed(result.body, headers=result.headers, base_url=result.url)
        else:
            parsed = parse_feed(await asyncio.to_thread(Path(source).read_bytes))
    except (OSError, FetchError, ParseError, httpx.HTTPError) as exc:
        print(f"newsbot classify: {source}: {exc}", file=sys.stderr)
        return 1
    for item in parsed.items:
        explanation = classifier.explain(item)
        if as_json:
            print(_json_line(item, explanation, explain=explain))
        else:
            print(_text_block(item, explanation, explain=explain))
    return 0


def _json_line(item: FeedItem, explanation: Explanation, *, explain: bool) -> str:
    classification = explanation.classification
    line: dict[str, object] = {
        "id": item.guid,
        "link": item.link,
        "title": item.title,
        "tags": [
            {
                "topic": tag.topic,
                "reasons": [{"keyword": r.keyword, "field": r.field} for r in tag.reasons],
                "score": tag.score,
            }
            for tag in classification.tags
        ],
        "vetoes": [
            {"keyword": v.keyword, "rule": v.exclusion, "field": v.field}
            for v in classification.vetoes
        ],
    }
    if explain:
        line["near_misses"] = [
            {
                "topic": s.topic,
                "score": s.score,
                "threshold": s.threshold,
                "hits": [
                    {"keyword": h.phrase, "field": h.field, "points": h.points, "rule": h.rule}
                    for h in s.hits
                ],
            }
            for s in explanation.near_misses
        ]
    return json.dumps(line, ensure_ascii=False)


def _text_block(item: FeedItem, explanation: Explanation, *, explain: bool) -> str:
    classification = explanation.classification
    lines = [item.title or "(untitled)"]
    if item.link:
        lines.append(f"  {item.link}")
    for tag in classification.tags:
        reasons = ", ".join(f"{r.keyword!r} in {r.field}" for r in tag.reasons)
        score = f" [score {tag.score:g}]" if explain else ""
        lines.append(f"  {tag.topic}{score}: {reasons}")
    for veto in classification.vetoes:
        lines.append(f"  (vetoed {veto.keyword!r} by {veto.exclusion!r} in {veto.field})")
    if not classification.tags:
        lines.append("  (no tags)")
    if explain and not explanation.near_misses:
        lines.append("  near misses: none (no other topic scored)")
    if explain:
        for near in explanation.near_misses:
            hits = ", ".join(
                f"{h.phrase!r} in {h.field} +{h.points:g}" + (f" ({h.rule})" if h.rule else "")
                for h in near.hits
            )
            lines.append(
                f"  near miss {near.topic} [score {near.score:g} < {near.threshold:g}]: {hits}"
            )
    return "\n".join(lines)
