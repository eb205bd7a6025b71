"""Start-up benchmark: wall-clock seconds of `newsbot` commands that answer at once.

Each command runs as a user would run it (`python -m bot ...` in a fresh process, in a scratch
folder, the shipped subscriptions.yaml as its config) `--runs` times (default 5); the table gives
the fastest and the median run. `classify` reads a feed of the seed article from standard input
when ../shared (or $NEWSBOT_SHARED) has it, else an empty feed. Nothing touches the network.

    .venv/bin/python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
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


def timed(args: list[str], stdin: bytes, cwd: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    stdin = feed()
    print(f"{'command':<18} {'fastest':>8} {'median':>8}")
    with tempfile.TemporaryDirectory() as scratch:
        for name, args in COMMANDS.items():
            times = [timed(args, stdin, scratch) for _ in range(runs)]
            print(f"{name:<18} {min(times):>7.2f}s {statistics.median(times):>7.2f}s")


if __name__ == "__main__":
    main()
