"""Tables for the terminal that stay readable at any width (the CLI's and the demo's).

Each :class:`Column` says how it may give way when the terminal is narrow:

- ``"whole"`` (the default): every value is shown whole, on one line; only the header
  may wrap between its words. Such a column is never dropped unless it says so.
- ``"wrap"``: long values wrap onto more lines (at least ``min_width`` wide).
- ``"clip"``: one line, cut with an ellipsis (a preview of something shown elsewhere).

A column with a ``keep`` rank may be left out: when the required columns and the
optional ones do not all fit, optional columns are added most useful first (lowest
``keep``) as long as they fit, and the caption names those left out. When even the
required columns do not fit side by side, each row becomes a small block of
``header value`` lines instead, every column included. Cells are plain text (never read
as markup: people's text may hold square brackets) or :class:`rich.text.Text` for
styled values.

>>> from rich.console import Console
>>> console = Console(width=30, file=None, color_system=None)
>>> table = fit_table(
...     [Column("id"), Column("note", keep=1, mode="clip")],
...     [["ord_1", "a note far too long for thirty columns"]],
...     width=30,
... )
>>> with console.capture() as captured:
...     console.print(table)
>>> print(captured.get().rstrip())
┏━━━━━━━┳━━━━━━━━━━━━━━━━━━━━┓
┃ id    ┃ note               ┃
┡━━━━━━━╇━━━━━━━━━━━━━━━━━━━━┩
│ ord_1 │ a note far too lo… │
└───────┴────────────────────┘
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import attrs
from rich import box as boxes
from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

__all__ = ["Cell", "Column", "fit_table"]

#: A cell's value: plain text (shown literally) or styled text.
Cell = str | Text

# A longer word (a URL, say) in a wrapping column is cut rather than widen the column.
_LONGEST_UNCUT_WORD = 24


@attrs.frozen
class Column:
    """One column of a :func:`fit_table`: its header, how it gives way, and whether
    (``keep`` set: lower is more useful) it may be left out."""

    header: str
    mode: Literal["whole", "wrap", "clip"] = "whole"
    keep: int | None = None
    min_width: int = 12
    style: str | None = None


def _text(cell: Cell) -> Text:
    return cell if isinstance(cell, Text) else Text(cell)


def _annotation(text: str | None) -> Text | None:
    """A title or caption: literal text, wrapped to the table's width even on a console
    that leaves long lines to the terminal (``soft_wrap``)."""
    return None if text is None else Text(text, no_wrap=False, overflow="fold")


@attrs.frozen
class _Plan:
    column: Column
    index: int
    least: int
    most: int


def _longest_word(text: str) -> int:
    return max((cell_len(word) for word in text.split()), default=0)


def _plan(index: int, column: Column, cells: Sequence[Text]) -> _Plan:
    values = max((cell.cell_len for cell in cells), default=0)
    header = cell_len(column.header)
    word = _longest_word(column.header)
    if column.mode == "whole":
        return _Plan(column, index, max(values, word), max(values, header))
    most = max(values, header, 1)
    least = max(min(most, column.min_width), word)
    if column.mode == "wrap":  # room for its longest word (within reason): no word is cut
        words = max((_longest_word(cell.plain) for cell in cells), default=0)
        least = max(least, min(words, _LONGEST_UNCUT_WORD))
    return _Plan(column, index, least, most)


def fit_table(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Cell]],
    *,
    width: int,
    title: str | None = None,
    show_header: bool = True,
    box: boxes.Box | None = boxes.HEAVY_HEAD,
    pad_edge: bool = True,
) -> Table:
    """A rich ``Table`` of ``rows`` that fits in ``width`` columns (see the module)."""
    body = [[_text(cell) for cell in row] for row in rows]
    plans = [_plan(n, column, [row[n] for row in body]) for n, column in enumerate(columns)]

    def overhead(count: int) -> int:
        # rich: 1 cell of padding each side of every column, minus the outer two without
        # pad_edge; a rule between columns and one at each edge with a box.
        padding = 2 * count - (0 if pad_edge else 2)
        return padding + ((count + 1) if box is not None else 0)

    shown = [plan for plan in plans if plan.column.keep is None]
    if sum(plan.least for plan in shown) + overhead(len(shown)) > width:
        return _records(columns, body, title)
    optional = sorted(
        (plan for plan in plans if plan.column.keep is not None),
        key=lambda plan: (plan.column.keep, plan.index),
    )
    for plan in optional:
        candidate = [*shown, plan]
        if sum(p.least for p in candidate) + overhead(len(candidate)) <= width:
            shown = candidate
    shown.sort(key=lambda plan: plan.index)
    widths = _widths(shown, width - overhead(len(shown)))
    left_out = [plan.column.header for plan in plans if plan not in shown]

    caption = f"not shown at {width} columns: {', '.join(left_out)}" if left_out else None
    table = Table(
        title=_annotation(title),
        show_header=show_header,
        box=box,
        pad_edge=pad_edge,
        caption=_annotation(caption),
    )
    for plan, size in zip(shown, widths, strict=True):
        mode = plan.column.mode
        table.add_column(
            plan.column.header,
            width=size,
            style=plan.column.style,
            no_wrap=mode == "clip",
            overflow="ellipsis" if mode == "clip" else "fold",
        )
    for row in body:
        table.add_row(*(row[plan.index] for plan in shown))
    return table


def _widths(shown: Sequence[_Plan], room: int) -> list[int]:
    """Each shown column's width: at least its least; spare room goes first to whole
    columns (their headers unwrap), then to the others in turn up to their natural width."""
    widths = [plan.least for plan in shown]
    spare = room - sum(widths)
    for n, plan in enumerate(shown):
        if plan.column.mode == "whole":
            grant = max(0, min(spare, plan.most - widths[n]))
            widths[n] += grant
            spare -= grant
    flexible = [n for n, plan in enumerate(shown) if plan.column.mode != "whole"]
    while spare > 0 and (hungry := [n for n in flexible if widths[n] < shown[n].most]):
        for n in hungry[:spare]:
            widths[n] += 1
        spare -= min(spare, len(hungry))
    return widths


def _records(columns: Sequence[Column], body: Sequence[Sequence[Text]], title: str | None) -> Table:
    """Each row as a block of ``header value`` lines, blocks apart by a blank line."""
    table = Table(title=_annotation(title), show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for number, row in enumerate(body):
        if number:
            table.add_row("", "")
        for column, cell in zip(columns, row, strict=True):
            table.add_row(column.header, cell)
    return table
