"""examples/pure_core.py runs as documented: a host on the pure core with its own store."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pure_core.py"


def test_pure_core_example_runs_to_completion() -> None:
    """The example exits 0, ends in ``complete`` and prints a reason sentence for a refusal."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "final state: complete" in out
    reasons = re.findall(r"^\s*reason: ([A-Z].*\.)$", out, re.MULTILINE)
    assert reasons, out
    for event in ("order_placed", "order_accepted", "revision_requested", "delivery_approved"):
        assert event in out
    assert "buyer's next step:" in out
