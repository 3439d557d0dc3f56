"""Put the figures of a ``results.json`` into ``docs/performance.md`` (between markers).

Usage: ``python -m order_lifecycle_bench.report [benchmarks/results.json]
[docs/performance.md]``.
Rewrites the part of the page between ``<!-- bench:results:start -->`` and
``<!-- bench:results:end -->``: machine, versions, date, run time and the table.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Final

from order_lifecycle_bench.harness import PROJECT, REPO, fmt_number

START: Final = "<!-- bench:results:start -->"
END: Final = "<!-- bench:results:end -->"


def _num(value: object) -> str:
    return fmt_number(float(value)) if isinstance(value, (int, float)) else "-"


def _met(value: object) -> str:
    if value is None:
        return "-"
    return "yes" if value else "**no**"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|")


def markdown(results: dict[str, Any]) -> str:
    """The results as Markdown: where and when, then the table, then the notes."""
    machine = results["machine"]
    versions = results["versions"]
    source = results.get("source", {})
    lines = [
        f"Measured {results.get('date', '?')} with `{results.get('command', 'make bench')}` "
        f"in {results.get('seconds', '?')} s "
        f"({', '.join(f'{k} {v} s' for k, v in results.get('group_seconds', {}).items())}).",
        "",
        f"- Machine: {machine.get('cpu_count')} x {machine.get('cpu')}; "
        f"{machine.get('platform')}; {machine.get('implementation', 'CPython')} "
        f"{machine.get('python')}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        f"- Source: commit {str(source.get('commit'))[:12]}"
        + (" with uncommitted changes" if source.get("dirty") else ""),
        "",
        "| figure | median | min … max | unit | baseline | baseline median | ratio | target "
        "| met |",
        "|---|--:|--:|---|---|--:|--:|---|---|",
    ]
    for f in results["figures"]:
        lines.append(
            "| "
            + " | ".join(
                [
                    _cell(f["name"]),
                    _num(f["median"]),
                    f"{_num(f['min'])} … {_num(f['max'])}" if f["min"] is not None else "-",
                    _cell(f["unit"]),
                    _cell(f["baseline"] or "-"),
                    _num(f["baseline_median"]),
                    _num(f["ratio"]),
                    _cell(f["target"] or "-"),
                    _met(f["met"]) if f["median"] is not None else "skipped",
                ]
            )
            + " |"
        )
    notes = results.get("notes", {})
    if notes:
        lines += ["", "Notes from the run:", ""]
        lines += [f"- {_cell(name)}: {_cell(text)}" for name, text in notes.items()]
    loads = results.get("load_seconds", {})
    if loads:
        lines += [
            "",
            "Bulk loads (untimed): " + ", ".join(f"{k} {v} s" for k, v in loads.items()) + ".",
        ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else PROJECT / "results.json"
    page = Path(argv[1]) if len(argv) > 1 else REPO / "docs" / "performance.md"
    results = json.loads(source.read_text())
    text = page.read_text()
    if START not in text or END not in text:
        print(f"{page} has no {START} … {END} markers", file=sys.stderr)
        return 1
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    page.write_text(f"{head}{START}\n{markdown(results)}\n{END}{tail}")
    print(f"updated {page} from {source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
