"""Where the shared data lives (the seed article, the real-world corpus): `$NEWSBOT_SHARED`, else
`../shared` beside the repository, as CI lays it out. Tests that need it skip, naming the path,
when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSBOT_SHARED") or REPO.parent / "shared")
CORPUS = SHARED / "corpus" / "feeds"
SEED_DIR = SHARED / "seed"
WHERE = "set NEWSBOT_SHARED, or put shared/ beside the repo"
"""How to make the skipped tests run, for skip messages."""
