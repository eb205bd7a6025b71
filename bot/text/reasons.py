"""Why the system refused a connection or a port, in its own words (`Connection refused`, `Name
or service not known`, `Address already in use`), whichever library raised it."""

from __future__ import annotations

import os


def os_reason(exc: BaseException) -> str:
    """The system's words for the OS error behind `exc` (found through the libraries' wrappers
    and causes); the library's message when there is none."""
    seen: BaseException | None = exc
    while seen is not None:
        error = getattr(seen, "os_error", seen)  # aiohttp keeps it aside
        if isinstance(error, OSError) and error.errno:
            return os.strerror(error.errno) if error.errno > 0 else str(error.strerror)
        seen = seen.__cause__ or seen.__context__
    return f"{type(exc).__name__}: {exc}"
