"""Parsing in worker processes: feedparser is pure Python and holds the interpreter while it runs,
so parsing in a thread stalls the event loop, and its allocations stay in the bot's heap. A pool
of worker processes parses on another core; a worker is replaced after a number of documents, so
the memory a large document took goes back to the system.

A worker that dies (killed, out of memory) fails only the documents it held: the pool is built
anew and the poll of that feed reports a parse error. A worker whose bot process is gone exits.
A document that takes longer than its deadline is given up (a timer signal in the worker stops
the parse): one hostile document cannot hold a worker, and every feed behind it, for minutes.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot.feeds.parse import ParsedFeed, ParseError, parse_feed

log = logging.getLogger(__name__)

Parser = Callable[[bytes, Mapping[str, str], str, str], Awaitable[ParsedFeed]]
"""(body, response headers, source name, base URL) -> the parsed feed, off the event loop."""


async def parse_in_thread(
    body: bytes, headers: Mapping[str, str], source: str, base_url: str
) -> ParsedFeed:
    """The parser for a single feed now and then (`newsbot classify`, tests): a worker thread."""
    return await asyncio.to_thread(
        parse_feed, body, headers=headers, source=source, base_url=base_url
    )


PARSE_SECONDS = 30.0
"""A document's deadline in a worker: a 10 MB feed parses in a few seconds; longer is a document
built to be slow (feedparser reads one tag of a million attributes in quadratic time)."""


def parse_within(
    seconds: float, body: bytes, headers: Mapping[str, str], source: str, base_url: str
) -> ParsedFeed:
    """In a worker (its main thread): `parse_feed`, or ParseError once `seconds` have passed."""

    def expired(_signal: int, _frame: object) -> None:
        raise _Deadline

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        try:
            return parse_feed(body, headers=headers, source=source, base_url=base_url)
        finally:  # inside the `except`: a signal that comes just before the timer stops is caught
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Deadline:
        raise ParseError(f"parsing took longer than {seconds:g}s") from None
    finally:
        signal.signal(signal.SIGALRM, previous)


class _Deadline(BaseException):
    """Raised into a parse whose time is up: no Exception, so that no `except Exception` on
    the way (feedparser falls back to its loose parser on any) takes it for a broken document."""


def _warm_up() -> None:
    """A worker's first job: nothing, once its imports (this module's, the parser's) are done."""


def _leave_with_parent(parent: int) -> None:
    """In a worker: exit when the bot's process is gone (even by `kill -9`), not linger."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class ParsePool:
    """``pool = ParsePool()``, ``await pool(body, headers, source, base_url)``, ``pool.close()``."""

    def __init__(
        self,
        workers: int | None = None,
        *,
        documents_per_worker: int = 500,
        deadline: float = PARSE_SECONDS,
    ) -> None:
        self.workers = workers or max(1, (os.cpu_count() or 2) - 1)
        self.documents_per_worker = documents_per_worker
        self.deadline = deadline
        self._executor: ProcessPoolExecutor | None = None
        self._taken = 0
        """Documents given to the current workers."""
        self._successor: tuple[ProcessPoolExecutor, Future[None]] | None = None
        """The workers that take over once warm, and their warm-up."""

    def warm(self) -> None:
        """Start the workers now, so the first document does not wait for their imports."""
        if self._executor is None:
            self._executor, self._taken = self._start()[0], 0

    def _start(self) -> tuple[ProcessPoolExecutor, Future[None]]:
        executor = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_leave_with_parent,
            initargs=(os.getpid(),),
        )
        return executor, executor.submit(_warm_up)

    def _pool(self) -> ProcessPoolExecutor:
        """The current workers. After `documents_per_worker` documents each, new ones start and
        warm up (a spawned worker takes a third of a second to import the parser) while the
        current ones go on; once warm they take over, and the old finish what they hold, then
        exit. `max_tasks_per_child` would replace workers too, but cold, and it can hang the
        pool on Python 3.11."""
        self.warm()
        executor = self._executor
        assert executor is not None
        if self._successor is None and self._taken >= self.documents_per_worker * self.workers:
            self._successor = self._start()
        if self._successor is not None and self._successor[1].done():
            executor.shutdown(wait=False)
            executor, self._successor = self._successor[0], None
            self._executor, self._taken = executor, 0
        self._taken += 1
        return executor

    async def __call__(
        self, body: bytes, headers: Mapping[str, str], source: str, base_url: str
    ) -> ParsedFeed:
        job = functools.partial(parse_within, self.deadline, body, dict(headers), source, base_url)
        executor = self._pool()
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, job)
        except BrokenProcessPool:
            if self._executor is executor:
                log.warning("parse pool: a worker died; starting new ones")
                self._executor = None
                executor.shutdown(wait=False, cancel_futures=True)
            raise ParseError("the parser process died while parsing this document") from None

    def close(self) -> None:
        """Stop the workers (documents queued and not started are dropped)."""
        if self._successor is not None:
            self._successor[0].shutdown(wait=True, cancel_futures=True)
            self._successor = None
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
