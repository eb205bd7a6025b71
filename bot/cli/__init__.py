"""The `newsbot` command line: run, check-config, classify, stories, status, feeds import/export."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Coroutine, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.logs import setup_logging
from bot.settings import Settings, SettingsError, require_web_server, settings_from_env

if TYPE_CHECKING:
    from bot.app import App


def main(argv: Sequence[str] | None = None) -> int:
    """Each command imports only what it uses, so `--help`, `check-config` and `classify` start
    without the database, the chat SDKs, the web server or an event loop."""
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
    try:
        return _command(args, settings)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `newsbot stories ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        line = _operator_line(exc)
        if line is None:
            raise
        print(line, file=sys.stderr)
        return 2 if isinstance(exc, SettingsError) else 1


def _command(args: argparse.Namespace, settings: Settings) -> int:
    config_path = Path(getattr(args, "config", None) or settings.config_path)
    if args.command == "check-config":
        from bot.cli.check import check_config

        return check_config(Path(args.path))
    if args.command == "classify":
        from bot.cli.classify import classify

        return classify(args.source, config_path, as_json=args.json, explain=args.explain)
    if args.command == "stories":
        from bot.cli.stories import stories

        given = args.config is not None
        return stories(args.sources, config_path, config_given=given, as_json=args.json)
    import asyncio  # the commands below run in an event loop; the data commands above need none

    if args.command == "status":
        return asyncio.run(_status(settings, as_json=args.json))
    if args.command == "feeds":
        from bot.cli.opml import config_outlines, export_opml, import_opml

        if args.feeds_command == "import":
            return asyncio.run(import_opml(settings.database_url, Path(args.file)))
        listed = config_outlines(config_path, required=args.config is not None)
        return asyncio.run(export_opml(settings.database_url, listed))
    if args.command == "run":
        from bot.app import App
        from bot.config import load_config

        if not args.once:  # `--once` receives no commands
            require_web_server(settings)
        from bot.cli.lock import sole_run

        loaded = load_config(config_path)
        app = App(replace(settings, config_path=config_path), loaded)
        with sole_run(settings.database_url):  # a second process on one SQLite file is refused
            return run_event_loop(_run(app, once=args.once))
    raise AssertionError(f"unknown command {args.command!r}")  # argparse allows no other


def run_event_loop(main: Coroutine[Any, Any, int]) -> int:
    """Run the bot on uvloop where it is installed (not on Windows): asyncio's own loop took a
    fifth of a poll sweep's CPU (bench/poll.py), uvloop a fifth of that."""
    try:
        import uvloop
    except ImportError:
        import asyncio

        return asyncio.run(main)
    return uvloop.run(main)


def _operator_line(exc: Exception) -> str | None:
    """The one line for a failure that is the operator's to fix; None for anything else (a bug:
    its traceback is worth seeing). Imported only once something failed."""
    from bot.channels.base import SendError
    from bot.config import ConfigError
    from bot.store.problems import DatabaseUnavailable

    if isinstance(exc, ConfigError):
        return str(exc)  # `file:line: key: problem`, one line per problem
    if isinstance(exc, SettingsError | SendError):  # a chat platform refused us at start, ...
        return f"newsbot: {exc}"
    if isinstance(exc, DatabaseUnavailable):
        return f"newsbot: database: {exc}"
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsbot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="poll feeds and deliver alerts")
    run.add_argument("--config", help="subscriptions.yaml to use (default: $NEWSBOT_CONFIG)")
    run.add_argument("--once", action="store_true", help="poll every feed once, deliver, exit")
    check = sub.add_parser("check-config", help="validate a subscriptions.yaml")
    check.add_argument("path")
    classify = sub.add_parser("classify", help="show the tags of every item of a feed")
    classify.add_argument(
        "source",
        metavar="FILE_OR_URL",
        help="a feed file, an article with YAML front matter, a URL, or - for stdin",
    )
    classify.add_argument("--config", help="subscriptions.yaml with the topics")
    classify.add_argument("--json", action="store_true", help="one JSON object per item")
    classify.add_argument(
        "--explain",
        action="store_true",
        help="also show each topic's score, and the topics that scored below their threshold",
    )
    grouping = sub.add_parser("stories", help="group the items of several feeds into stories")
    grouping.add_argument("sources", metavar="FILE_OR_URL", nargs="+")
    grouping.add_argument("--config", help="subscriptions.yaml whose stories: window to use")
    grouping.add_argument("--json", action="store_true", help="one JSON object per item")
    status = sub.add_parser("status", help="feeds, outbox and chats, from the database")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    feeds = sub.add_parser("feeds", help="move feed lists in and out as OPML")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True)
    feeds_import = feeds_sub.add_parser("import", help="add the feeds of an OPML file")
    feeds_import.add_argument("file", metavar="FILE.opml")
    feeds_export = feeds_sub.add_parser("export", help="print every feed as OPML 2.0")
    feeds_export.add_argument("--config", help="subscriptions.yaml whose feeds to add")
    return parser


async def _status(settings: Settings, *, as_json: bool) -> int:
    from bot.status import collect_status, format_status, stranded_alerts
    from bot.store import connect

    store = await connect(settings.database_url, create=False)
    try:
        status = await collect_status(store)
    finally:
        await store.close()
    status["warnings"] = stranded_alerts(status, settings.platforms)
    print(json.dumps(status, ensure_ascii=False, indent=2) if as_json else format_status(status))
    return 0


async def _run(app: App, *, once: bool) -> int:
    try:
        await app.start()
        if once:
            await app.run_once()  # the poller has logged each feed that failed
            # a channel that cannot work (a refused token) has logged why; cron should know too
            if any(d.stopped_reason for d in app.dispatchers.values()):
                return 1
        else:
            await app.run_forever()
    finally:
        await app.close()
    return 0
