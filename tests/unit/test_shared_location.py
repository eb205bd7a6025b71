"""`NEWSBOT_SHARED` points the tests at the shared data wherever it lives, so a clone without
`../shared` beside it runs the seed and corpus tests instead of skipping them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shared import REPO, SEED_DIR


def run_seed_tests(shared: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/unit/test_classify.py", "-k", "seed", "-q", "-rs"],
        cwd=REPO,
        env={**os.environ, "NEWSBOT_SHARED": str(shared)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.stdout + result.stderr


def test_newsbot_shared_names_where_the_seed_is(tmp_path: Path) -> None:
    if not SEED_DIR.is_dir():
        pytest.skip(f"seed article not found in {SEED_DIR}")
    shutil.copytree(SEED_DIR, tmp_path / "elsewhere" / "seed")

    found = run_seed_tests(tmp_path / "elsewhere")
    assert " passed" in found and "skipped" not in found, found

    missing = run_seed_tests(tmp_path / "nowhere")
    assert "skipped" in missing and "set NEWSBOT_SHARED" in missing, missing
    assert str(tmp_path / "nowhere" / "seed") in missing, missing
