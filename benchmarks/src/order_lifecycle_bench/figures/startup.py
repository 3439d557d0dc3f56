"""Start-up: the import of the package, and one CLI command end to end, in fresh processes.

The CLI figure runs ``python -m order_lifecycle --json show ID`` on a small SQLite file
(process start to exit) against ``python -c "import order_lifecycle"``.

The package's bytecode is compiled before the clock starts, as ``pip`` does when it
installs a wheel: the dependencies in the baseline are read from their ``.pyc`` files, so
ours are too (with ``PYTHONDONTWRITEBYTECODE`` set, as on some CI machines, an editable
checkout would otherwise compile every module from source in every process).
"""

from __future__ import annotations

import compileall
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from order_lifecycle_bench.harness import REPO, Config, Figure, interleaved

__all__ = ["startup_figures"]

_TIMED: Final = (
    "import time; t = time.perf_counter_ns(); {imports}; print(time.perf_counter_ns() - t)"
)


def _import_ms(imports: str) -> Callable[[], float]:
    def run() -> float:
        out = subprocess.run(
            [sys.executable, "-c", _TIMED.format(imports=imports)],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        )
        return int(out.stdout.strip()) / 1e6

    return run


def _process_ms(code: str) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter_ns()
        subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True)
        return (time.perf_counter_ns() - start) / 1e6

    return run


def _cli_ms(argv: list[str]) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter_ns()
        subprocess.run(
            [sys.executable, "-m", "order_lifecycle", *argv],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        return (time.perf_counter_ns() - start) / 1e6

    return run


def _cli_database(folder: Path) -> list[str]:
    """A SQLite file with one order; the arguments of ``show`` on it."""
    import pendulum
    from order_lifecycle import Listing, ManualClock, Money, OrderDesk

    url = f"sqlite:///{folder / 'cli.sqlite3'}"
    with OrderDesk.open(url, clock=ManualClock(pendulum.datetime(2026, 12, 1, 9))) as desk:
        listing = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)
        order = desk.place(buyer="alice", seller="bob", listing=listing)
        desk.accept(order.id, by="bob")
    return ["--db", url, "--json", "show", order.id]


def compiled() -> None:
    """Write the package's ``.pyc`` files (what installing a wheel does)."""
    import order_lifecycle

    package = Path(order_lifecycle.__file__).resolve().parent
    if not compileall.compile_dir(package, quiet=1):
        raise RuntimeError(f"could not compile the bytecode of {package}")


def startup_figures(cfg: Config) -> list[Figure]:
    """``import order_lifecycle`` in a fresh process, against its dependencies alone; one
    CLI command end to end against ``python -c "import order_lifecycle"``."""
    compiled()
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as folder:
        show = _cli_database(Path(folder))
        got = interleaved(
            {
                "ours": _import_ms("import order_lifecycle"),
                "deps": _import_ms("import transitions, attrs, cattrs, pendulum"),
                "process": _process_ms("import order_lifecycle"),
                "bare": _process_ms("pass"),
                "cli": _cli_ms(show),
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
        ),
        Figure(
            "CLI: one command end to end (show, SQLite)",
            "ms",
            got["cli"],
            'python -c "import order_lifecycle", start to exit',
            got["process"],
            "≤ 2.0 x baseline",
            lambda m, b, r: r is not None and r <= 2.0,
            note="python -m order_lifecycle --json show ID: open the store, read, print JSON",
        ),
    ]
