"""Starts the real WebSub hub (`websub_hub_server.py`, Flask-WebSub) for a test, on loopback.

The hub's packages (`websub_hub.requirements.txt`) are installed once into a virtualenv under
`$NEWSBOT_TEST_CACHE` (default `~/.cache/newsbot-tests`), with pip from the package index this
machine is set up for; a test that needs the hub skips, saying why, when that install fails.
`HubProcess` runs the hub in a process of its own on a free port of 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

from tests.helpers import free_port

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "websub_hub.requirements.txt"
SERVER = HERE / "websub_hub_server.py"
HOST = "127.0.0.1"


def cache_dir() -> Path:
    return Path(os.environ.get("NEWSBOT_TEST_CACHE") or Path.home() / ".cache" / "newsbot-tests")


@functools.cache
def hub_python() -> str:
    """The python of the hub's virtualenv, installed on first use (skips when it cannot be)."""
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:16]
    venv = cache_dir() / f"websub-hub-{wanted}"
    python = venv / "bin" / "python"
    stamp = venv / "installed"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / f"websub-hub-{wanted}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install at a time, across test processes
        if stamp.exists():
            return str(python)
        steps = [
            [sys.executable, "-m", "venv", "--clear", str(venv)],
            [str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
        ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=600, check=False)
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                pytest.skip(f"the WebSub hub could not be installed into {venv}: {last}")
        stamp.write_text(wanted)
    return str(python)


class HubProcess:
    """``async with HubProcess(tmp_path) as hub:`` runs the hub; `hub.url` is its endpoint."""

    def __init__(
        self,
        workdir: Path,
        *,
        lease: int = 864000,
        algorithm: str = "sha512",
        port: int | None = None,
    ) -> None:
        self.python = hub_python()
        self.workdir = workdir
        self.lease = lease
        self.algorithm = algorithm
        self.port = port or free_port()
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/hub"

    @property
    def database(self) -> Path:
        return self.workdir / f"hub-{self.port}.sqlite"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"hub-{self.port}.log"

    async def __aenter__(self) -> Self:
        with self.log_path.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                self.python,
                str(SERVER),
                str(self.port),
                str(self.database),
                str(self.lease),
                self.algorithm,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection(HOST, self.port)
                writer.close()
                return self
            if self._process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the WebSub hub did not start:\n{self.log()}")
            await asyncio.sleep(0.1)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=10)
            except TimeoutError:
                process.kill()
                await process.wait()

    def log(self) -> str:
        """The end of the hub's log (for failure messages)."""
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""
