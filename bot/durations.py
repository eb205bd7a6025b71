"""Parse and print the short durations people write in config and commands: `90s`, `5m`, `1h30m`."""

from __future__ import annotations

import math
import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)([smhdw])")
_DECIMAL = re.compile(r"\d{1,16}\.\d{1,16}")
LONGEST = 3650 * 86400.0
"""Ten years: longer is a typo (`/mute 1000000000000d`), and overflows the dates it is added to."""


def parse_duration(value: int | float | str) -> float:
    """Seconds in `value`: a number of seconds, or digits with units (`90s`, `5m`, `1h30m`, `1d`).

    Raises ValueError with a message fit to show a user.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("expected seconds or a duration like 90s, 5m, 1h")
    if isinstance(value, int | float):
        seconds = _capped(value)
    else:
        text = value.strip().lower().replace(" ", "")
        if text.isascii() and text.isdigit():
            seconds = _capped(_whole(text))
        elif _DECIMAL.fullmatch(text):  # `"0.5"`, plain seconds as a number 0.5 reads
            seconds = _capped(float(text))
        else:
            parts = _PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise ValueError(f"{value!r} is not a duration like 90s, 5m, 1h, 1d")
            seconds = _capped(sum(_whole(n) * _UNITS[u] for n, u in parts))
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    if seconds > LONGEST:
        raise ValueError(f"a duration must be at most {format_duration(LONGEST)}")
    return seconds


def _whole(digits: str) -> int:
    """The number `digits` spell, its significant digits cut at 16: over LONGEST either way, and
    a thousand digits are not converted (Python refuses more than 4,300)."""
    return int(digits.lstrip("0")[:16] or "0")


def _capped(value: float) -> float:
    """`value` as a float, or infinity when it is longer than LONGEST (or not a number)."""
    return float(value) if abs(value) <= LONGEST else math.inf


def format_duration(seconds: float) -> str:
    """The shortest exact spelling of `seconds` in the units `parse_duration` reads."""
    remaining = round(seconds)
    if remaining <= 0:
        return "0s"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)
