"""``examples/quickstart.py`` runs (it is what ``make demo`` shows until the CLI lands)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"


def test_quickstart_plays_the_story_on_sqlite(tmp_path: Path) -> None:
    """The story reaches complete through the review-window timer; the file is SQLite."""
    db = tmp_path / "orders.db"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), str(db)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "tick fired ['order_auto_completed']" in done.stdout
    assert "-> complete" in done.stdout
    assert "order_auto_completed" in done.stdout
    assert db.read_bytes()[:16] == b"SQLite format 3\x00"
