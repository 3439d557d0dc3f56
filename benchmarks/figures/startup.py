"""Start-up: the import of the package, in fresh processes.

The CLI figure (one command end to end against ``python -c "import order_lifecycle"``)
comes with the CLI; until then the process figure below is its baseline.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from benchmarks.harness import Config, Figure, interleaved

__all__ = ["startup_figures"]

ROOT: Final = Path(__file__).resolve().parents[2]
_TIMED: Final = (
    "import time; t = time.perf_counter_ns(); {imports}; print(time.perf_counter_ns() - t)"
)


def _import_ms(imports: str) -> Callable[[], float]:
    def run() -> float:
        out = subprocess.run(
            [sys.executable, "-c", _TIMED.format(imports=imports)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        return int(out.stdout.strip()) / 1e6

    return run


def _process_ms(code: str) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter_ns()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
        return (time.perf_counter_ns() - start) / 1e6

    return run


def startup_figures(cfg: Config) -> list[Figure]:
    """``import order_lifecycle`` in a fresh process, against its dependencies alone."""
    got = interleaved(
        {
            "ours": _import_ms("import order_lifecycle"),
            "deps": _import_ms("import transitions, attrs, cattrs, pendulum"),
            "process": _process_ms("import order_lifecycle"),
            "bare": _process_ms("pass"),
        },
        rounds=cfg.import_rounds,
        warmup=1,
    )
    return [
        Figure(
            "import order_lifecycle (fresh process)",
            "ms",
            got["ours"],
            "import transitions, attrs, cattrs, pendulum",
            got["deps"],
            "≤ 150 ms",
            lambda m, b, r: m <= 150.0,
        ),
        Figure(
            'python -c "import order_lifecycle", start to exit',
            "ms",
            got["process"],
            'python -c "pass"',
            got["bare"],
            "informative (the CLI's baseline)",
            note="the CLI end-to-end figure (≤ 2 x this) comes with the CLI",
        ),
    ]
