"""``order-lifecycle demo``: the seed stories on a fresh database, with time travel."""

from __future__ import annotations

from order_lifecycle.clock import ManualClock
from order_lifecycle.console import Out, print_chat
from order_lifecycle.desk import OrderDesk
from order_lifecycle.errors import ValidationError
from order_lifecycle.jsonview import order_json
from order_lifecycle.stories import START, STORIES

__all__ = ["run_demo"]


def run_demo(
    url: str,
    *,
    out: Out,
    tz: str = "UTC",
) -> None:
    """Play every seed story on ``url`` (which must hold no orders) and print their chats."""
    clock = ManualClock(START)
    with OrderDesk.open(url, clock=clock) as desk:
        if not desk.store.is_empty():
            raise ValidationError(
                "--db", f"{url} already holds orders; the demo needs a fresh database"
            )
        played: list[tuple[str, str]] = []
        for name, story in STORIES.items():
            order_id = story(desk, clock)
            played.append((name, order_id))
            if out.as_json:
                continue
            history = desk.history(order_id)
            seller = desk.get(order_id).seller
            entries = desk.chat(order_id, viewer=seller, tz=tz, next_step=True)
            out.console.rule(f"[bold]{name}[/bold]  [dim]{order_id}[/dim]")
            print_chat(out, entries, tz, [e.state.value for e in history])
        orders = [(name, desk.get(order_id)) for name, order_id in played]
    if out.as_json:
        out.json({"db": url, "orders": [{"story": n, **order_json(o)} for n, o in orders]})
        return
    from order_lifecycle.termtable import Column, fit_table

    table = fit_table(
        [
            Column("story", mode="wrap", min_width=10),
            Column("state"),
            Column("events", keep=1),
            Column("revisions"),
            Column("price"),
        ],
        [
            (
                name,
                order.state.value,
                str(order.version),
                f"{order.revisions_used}/{order.contract.revisions}",
                str(order.contract.price),
            )
            for name, order in orders
        ],
        width=out.console.width,
        title=f"demo: {len(orders)} orders on {url}",
    )
    out.console.print(table)
