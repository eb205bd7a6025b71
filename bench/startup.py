"""Start-up benchmark: wall-clock seconds of `newsbot` commands that answer at once.

Each command runs as a user would run it (`python -m bot ...` in a fresh process, in a scratch
folder, the shipped subscriptions.yaml as its config) `--runs` times (default 5); the table gives
the fastest and the median run in wall-clock seconds, and the fastest in CPU seconds of the child
(user + system: the figure that compares across runs on a busy machine, where wall-clock time
includes waiting for a core). `classify` reads a feed of the seed article from standard input
when ../shared (or $NEWSBOT_SHARED) has it, else an empty feed. Nothing touches the network.

As a user runs it also means with compiled bytecode, as every run after the first has: one
untimed run of each command first writes it, into the scratch folder
(`PYTHONPYCACHEPREFIX`), even where `PYTHONDONTWRITEBYTECODE` is set in the environment (which
would otherwise recompile the package's sources at every start: `--no-bytecode` measures that).

    .venv/bin/python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.feed_server import rss  # noqa: E402
from tests.shared import SEED_DIR  # noqa: E402

CONFIG = str(ROOT / "subscriptions.yaml")
COMMANDS = {
    "--help": ["--help"],
    "check-config": ["check-config", CONFIG],
    "classify (seed)": ["classify", "--config", CONFIG, "-"],
}


def feed() -> bytes:
    if SEED_DIR.is_dir() and any(SEED_DIR.glob("*.txt")):
        from tests.helpers import seed_items

        return rss(seed_items()).encode()
    return rss([]).encode()


def child_env(scratch: str, *, bytecode: bool) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = os.path.join(scratch, "pycache")
    return env


def timed(args: list[str], stdin: bytes, cwd: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=env,
        check=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--no-bytecode", action="store_true", help="compile the sources at every start"
    )
    options = parser.parse_args()
    runs = options.runs
    stdin = feed()
    print(f"{'command':<18} {'fastest':>8} {'median':>8} {'cpu':>8}")
    with tempfile.TemporaryDirectory() as scratch:
        env = child_env(scratch, bytecode=not options.no_bytecode)
        for name, args in COMMANDS.items():
            timed(args, stdin, scratch, env)  # writes the bytecode
            walls, cpus = zip(*(timed(args, stdin, scratch, env) for _ in range(runs)), strict=True)
            print(
                f"{name:<18} {min(walls):>7.2f}s {statistics.median(walls):>7.2f}s"
                f" {min(cpus):>7.2f}s"
            )


if __name__ == "__main__":
    main()
