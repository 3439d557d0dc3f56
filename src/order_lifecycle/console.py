"""What the command line prints: JSON for programs, rich text for people."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from order_lifecycle.jsonview import order_json

if TYPE_CHECKING:
    from order_lifecycle.core.model import Order
    from order_lifecycle.views import ChatEntry

__all__ = ["Out", "print_chat", "when"]


def when(at: Any) -> str:
    """An instant as the tables show it (``—`` for none)."""
    from order_lifecycle.core.values import human_instant

    return "—" if at is None else human_instant(at)


class Out:
    """Where results go: JSON on stdout, or rich text for people (colour on a terminal)."""

    def __init__(self, as_json: bool, stream: IO[str]) -> None:
        self.as_json = as_json
        self.stream = stream
        self._console: Any = None

    @property
    def console(self) -> Any:
        """The rich console on the stream (made on first use: rich loads only then)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self.stream, highlight=False, soft_wrap=True)
        return self._console

    def json(self, document: object) -> None:
        """Print one JSON document."""
        self.stream.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")

    def order(self, order: Order) -> None:
        """The order: as JSON, or as a table of its fields."""
        if self.as_json:
            self.json(order_json(order))
            return
        from order_lifecycle.termtable import Column, fit_table

        contract = order.contract
        rows = [
            ("state", order.state.value),
            ("listing", order.listing.title),
            ("buyer", order.buyer),
            ("seller", order.seller),
            ("price", str(contract.price)),
            ("revisions", f"{order.revisions_used} of {contract.revisions} used"),
            ("due", when(contract.due_at)),
            ("review until", when(order.review_due_at)),
            ("version", str(order.version)),
        ]
        for question, answer in order.answers.items():
            rows.append((f"answer: {question}", answer))
        if order.proposal is not None:
            rows.append(("proposal", f"by {order.proposal.by} (open)"))
        self.console.print(order.id, style="bold", markup=False)
        table = fit_table(
            # Values as long as a date ("Mon 11 Jan 2027 15:50 UTC") stay on one line.
            [Column("", mode="wrap", style="bold"), Column("", mode="wrap", min_width=25)],
            rows,
            width=self.console.width,
            show_header=False,
            box=None,
            pad_edge=False,
        )
        self.console.print(table)


def print_chat(out: Out, entries: Sequence[ChatEntry], tz: str, states: Sequence[str] = ()) -> None:
    """Chat entries as lines; ``states`` (one per entry) shows where each event left the order."""
    from rich.markup import escape

    from order_lifecycle.core.values import human_instant

    for index, item in enumerate(entries):
        if item.kind == "next_step":
            out.console.print(f"  [bold cyan]» next:[/bold cyan] {escape(item.text)}")
            continue
        when = human_instant(item.at, tz)
        state = f" [magenta]→ {states[index]}[/magenta]" if index < len(states) else ""
        if item.kind == "message":
            files = f" [dim]📎 {', '.join(f.name for f in item.files)}[/dim]" if item.files else ""
            out.console.print(
                f"  [dim]{when}[/dim]  [bold]{escape(item.author or '')}[/bold]: "
                f"{escape(item.text)}{files}{state}"
            )
        else:
            out.console.print(f"  [dim]{when}  · {escape(item.text)}[/dim]{state}")
