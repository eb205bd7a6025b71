"""Reading the files people name (a config, a feed, an OPML list), never past a cap: `/dev/zero`,
or a wrong file of gigabytes, is refused in one line instead of filling the memory."""

from __future__ import annotations

import sys
from pathlib import Path


class TooLarge(ValueError):
    """The file holds more than the cap; the message says how much may be read."""


def read_at_most(path: str | Path, cap: int) -> bytes:
    """The bytes of the file at `path` (`-`: standard input); TooLarge past `cap` bytes. Raises
    OSError as `open` does."""
    if str(path) == "-":
        body = sys.stdin.buffer.read(cap + 1)
    else:
        with open(path, "rb") as file:
            body = file.read(cap + 1)
    if len(body) > cap:
        raise TooLarge(f"larger than the {cap:,} bytes it may hold")
    return body
