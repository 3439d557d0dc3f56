"""Timing, statistics, figures, the table and ``results.json``.

Every figure is a list of per-round values (after warm-up rounds that are thrown away);
its median, min and max are reported. A baseline is measured in the same run, and where
it matters interleaved round by round with the figure (ABBA order, so neither side
always runs first), so that the noise of a shared machine falls on both alike.
"""

from __future__ import annotations

import gc
import importlib.metadata
import json
import os
import platform
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

__all__ = [
    "PROJECT",
    "REPO",
    "Config",
    "Figure",
    "Results",
    "fmt_number",
    "interleaved",
    "machine_info",
    "percentile",
    "print_table",
    "skipped",
    "source_tree",
    "timed_ns",
    "versions",
]

#: The benchmarks' project folder (``benchmarks/``, where ``results.json`` is written) and
#: the repository whose library they measure. ``make bench`` installs this package
#: editable, so these are the checkout's folders.
PROJECT: Final = Path(__file__).resolve().parents[2]
REPO: Final = PROJECT.parent

#: The packages whose versions every result records.
PACKAGES: Final = (
    "order-lifecycle",
    "transitions",
    "attrs",
    "cattrs",
    "pendulum",
    "psycopg",
    "python-statemachine",
)


@dataclass(frozen=True)
class Config:
    """How much work each figure does: the full run, or ``--quick``."""

    quick: bool
    #: Rounds kept (after ``warmup`` rounds thrown away) for micro-benchmarks.
    rounds: int
    warmup: int
    #: Story sets per round for ``decide`` (each set is every story once: 32 commands).
    story_sets: int
    #: Orders per round for ``options``.
    option_samples: int
    #: Moves on the shared machine, in blocks.
    moves: int
    move_blocks: int
    #: Orders held by the memory store, and transitions models for its baseline.
    memory_orders: int
    #: Of which the last ones are built under tracemalloc (see ``figures/memory.py``).
    memory_traced: int
    memory_baseline_orders: int
    #: Orders per round for durable commands (6 commands each), and rounds.
    durable_orders: int
    durable_rounds: int
    #: The same for PostgreSQL, where a round runs at 1 and at 4 connections.
    pg_durable_orders: int
    #: Dataset sizes for ``tick`` and ``inbox``, and their rounds.
    sizes: tuple[int, ...]
    tick_rounds: int
    inbox_conversations: int
    inbox_rounds: int
    #: Fresh processes for the import time.
    import_rounds: int

    @classmethod
    def full(cls) -> Config:
        return cls(
            quick=False,
            rounds=7,
            warmup=1,
            story_sets=10,
            option_samples=96,
            moves=1_000_000,
            move_blocks=10,
            memory_orders=100_000,
            memory_traced=10_000,
            memory_baseline_orders=5_000,
            durable_orders=30,
            durable_rounds=5,
            pg_durable_orders=15,
            sizes=(10_000, 100_000, 1_000_000),
            tick_rounds=5,
            inbox_conversations=1_000,
            inbox_rounds=5,
            import_rounds=7,
        )

    @classmethod
    def smoke(cls) -> Config:
        return cls(
            quick=True,
            rounds=5,
            warmup=1,
            story_sets=4,
            option_samples=48,
            moves=200_000,
            move_blocks=4,
            memory_orders=10_000,
            memory_traced=2_000,
            memory_baseline_orders=500,
            durable_orders=15,
            durable_rounds=3,
            pg_durable_orders=8,
            sizes=(10_000, 30_000),
            tick_rounds=3,
            inbox_conversations=1_000,
            inbox_rounds=3,
            import_rounds=4,
        )


@dataclass
class Figure:
    """One line of the table and one entry of ``results.json``."""

    name: str
    unit: str
    values: list[float] | None
    baseline: str | None = None
    baseline_values: list[float] | None = None
    #: The target in words, e.g. ``ratio <= 2.0``.
    target: str | None = None
    #: Decides ``met`` from (median, baseline median, ratio); ``None``: informative.
    check: Callable[[float, float | None, float | None], bool] | None = None
    #: Why the figure was skipped, or anything the reader must know about it.
    note: str | None = None
    #: Extra conditions the target needs beyond the numbers (e.g. "no full scan").
    conditions: dict[str, bool] = field(default_factory=dict)

    @property
    def skipped(self) -> bool:
        return self.values is None or not self.values

    @property
    def median(self) -> float | None:
        return None if not self.values else statistics.median(self.values)

    @property
    def baseline_median(self) -> float | None:
        return None if not self.baseline_values else statistics.median(self.baseline_values)

    @property
    def ratio(self) -> float | None:
        mine, theirs = self.median, self.baseline_median
        if mine is None or theirs is None or theirs == 0:
            return None
        return mine / theirs

    @property
    def met(self) -> bool | None:
        if self.skipped or self.check is None:
            return None
        median = self.median
        assert median is not None
        return bool(
            self.check(median, self.baseline_median, self.ratio) and all(self.conditions.values())
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "median": _round(self.median),
            "min": _round(min(self.values)) if self.values else None,
            "max": _round(max(self.values)) if self.values else None,
            "unit": self.unit,
            "baseline": self.baseline,
            "baseline_median": _round(self.baseline_median),
            "ratio": _round(self.ratio, 4),
            "target": self.target,
            "met": self.met,
        }


def skipped(name: str, unit: str, target: str | None, reason: str) -> Figure:
    """A figure that could not be measured: ``met`` is ``None``, the reason is kept."""
    return Figure(name, unit, None, target=target, note=f"skipped: {reason}")


def _round(value: float | None, digits: int = 3) -> float | None:
    if value is None:
        return None
    return float(f"{value:.{digits + 3}g}") if abs(value) < 1 else round(value, digits)


def timed_ns(fn: Callable[[], object]) -> int:
    """Wall time of one call of ``fn`` in nanoseconds (a collection first, GC left on)."""
    gc.collect()
    start = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - start


def interleaved(
    runs: Mapping[str, Callable[[], float]], *, rounds: int, warmup: int
) -> dict[str, list[float]]:
    """Call each run once per round, alternating their order (ABBA); keep the values of
    the rounds after the warm-up. Each run returns its own value for the round."""
    names = list(runs)
    kept: dict[str, list[float]] = {name: [] for name in names}
    for index in range(warmup + rounds):
        order = names if index % 2 == 0 else list(reversed(names))
        for name in order:
            gc.collect()
            value = runs[name]()
            if index >= warmup:
                kept[name].append(value)
    return kept


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpu_count": os.cpu_count(),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
    }


def source_tree(root: Path) -> dict[str, Any]:
    """The commit measured, and whether the work tree had changes (read-only git)."""
    import subprocess

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout.strip()

    return {"commit": git("rev-parse", "HEAD") or None, "dirty": bool(git("status", "--porcelain"))}


def versions(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The versions of the library, its peers and SQLite."""
    found: dict[str, str] = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    found["sqlite"] = sqlite3.sqlite_version
    if extra:
        found.update(extra)
    return found


def fmt_number(value: float | None) -> str:
    """A figure as the tables show it: three significant digits or so."""
    if value is None:
        return "-"
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _met(figure: Figure) -> str:
    met = figure.met
    if figure.skipped:
        return "skipped"
    return "-" if met is None else ("yes" if met else "NO")


def table_rows(figures: Sequence[Figure]) -> list[list[str]]:
    """The table as text cells (shared by stdout and the docs)."""
    rows = []
    for f in figures:
        rows.append(
            [
                f.name,
                fmt_number(f.median),
                f"{fmt_number(min(f.values))}..{fmt_number(max(f.values))}" if f.values else "-",
                f.unit,
                f.baseline or "-",
                fmt_number(f.baseline_median),
                fmt_number(f.ratio),
                f.target or "-",
                _met(f),
            ]
        )
    return rows


HEADER: Final = ["figure", "median", "min..max", "unit", "baseline", "baseline", "ratio"]
HEADER_TAIL: Final = ["target", "met"]


def print_table(figures: Sequence[Figure], out: Any = sys.stdout) -> None:
    """A readable table on ``out``; notes (skips, checks) below it."""
    header = [*HEADER, *HEADER_TAIL]
    rows = table_rows(figures)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    widths = [min(w, 48) for w in widths]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c[:w].ljust(w) for c, w in zip(cells, widths, strict=True))

    print(line(header), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in rows:
        print(line(row), file=out)
    notes = [f for f in figures if f.note or f.conditions]
    if notes:
        print(file=out)
    for f in notes:
        bits = [f.note] if f.note else []
        bits += [f"{k}: {'yes' if v else 'NO'}" for k, v in f.conditions.items()]
        print(f"- {f.name}: {'; '.join(bits)}", file=out)


@dataclass
class Results:
    """Everything ``results.json`` holds."""

    machine: dict[str, Any]
    versions: dict[str, str]
    figures: list[Figure]
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        notes = {
            f.name: "; ".join(
                [*([f.note] if f.note else [])]
                + [f"{k}: {'yes' if v else 'no'}" for k, v in f.conditions.items()]
            )
            for f in self.figures
            if f.note or f.conditions
        }
        return {
            "machine": self.machine,
            "versions": self.versions,
            "figures": [f.as_json() for f in self.figures],
            **self.extra,
            "notes": notes,
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_json(), indent=2, ensure_ascii=False) + "\n")
