"""The host's test suite of ``examples/host_tests`` runs, as a host runs it.

The folder is copied to a fresh directory (a host's project: its own ``pytest.ini``,
nothing of this repository's settings) and run by pytest in a subprocess, with the
plugin found through its entry point. Its output must hold the edge table, at 100 %,
and a partial run must fail ``--lifecycle-coverage-fail-under``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from order_lifecycle.testing.coverage import edges

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "host_tests"


@pytest.fixture
def host_project(tmp_path: Path) -> Path:
    """A copy of the example host suite, alone in a directory."""
    project = tmp_path / "host"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    return project


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest ARGS`` in ``project``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=project,
        env={**env, "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=600,
        check=False,
    )


def test_the_host_suite_passes_and_takes_every_edge(host_project: Path) -> None:
    """Every test passes; the edge table lists each edge of the library's table, each
    taken at least once (``paths.transitions()`` on SQLite alone takes them all)."""
    done = run_pytest(host_project, "--lifecycle-coverage")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "lifecycle coverage: edges of the transition table" in out
    table = edges()
    for edge in table:
        found = re.search(rf"^{re.escape(str(edge))} +(\d+)$", out, re.M)
        assert found is not None, edge
        assert int(found.group(1)) >= 1, edge
    assert f"lifecycle coverage: {len(table)}/{len(table)} edges, 100.0%" in out
    assert "never taken" not in out
    assert re.search(r"\b\d+ passed\b", out)
    assert "failed" not in out


def test_a_partial_run_fails_the_required_coverage(host_project: Path) -> None:
    """The example tests of ``order_in`` alone take a few edges: below 100 % the run
    fails, though each test passed, and lists what was never taken."""
    done = run_pytest(host_project, "test_host_orders.py", "--lifecycle-coverage-fail-under=100")
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "4 passed" in out
    assert "never taken (" in out
    assert "FAIL Required lifecycle coverage of 100% not reached" in out
