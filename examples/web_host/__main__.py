"""Serve the example web host on 127.0.0.1 with a sample order.

Run it from the repository root with ``python -m examples.web_host [PORT]``. The storage
URL is ``$ORDER_LIFECYCLE_DB`` (default ``memory://``). This is Flask's development
server, for trying the routes out; a real host runs the app under a WSGI server, behind
its own authentication.
"""

from __future__ import annotations

import os
import sys

import pendulum

from order_lifecycle import BuyerRequest, Listing, Money, OrderDesk, SystemClock

from .app import create_app


def main(argv: list[str] | None = None) -> int:
    """Place a sample order, print the URLs to try, and serve until Ctrl-C."""
    args = sys.argv[1:] if argv is None else argv
    port = int(args[0]) if args else 5000
    # A live server runs on the system clock; tests and examples use a ManualClock.
    desk = OrderDesk.open(os.environ.get("ORDER_LIFECYCLE_DB", "memory://"), clock=SystemClock())
    question = "Which handle should be tagged?"
    listing = Listing(
        "Instagram post",
        Money("150.00", "USD"),
        pendulum.duration(days=7),
        2,
        requests=(BuyerRequest(question, required=True),),
    )
    order = desk.place(buyer="alice", seller="bob", listing=listing, answers={question: "@alice"})
    desk.say(order.id, by="alice", text="Hi Bob! Looking forward to it.")
    base = f"http://127.0.0.1:{port}"
    print(f"sign in:       {base}/  (as bob, alice, or cx:carol for a CX agent)")
    print(f"order page:    {base}/orders/{order.id}")
    print(f"JSON:          {base}/api/orders/{order.id}?as=bob")
    print(
        f"accept:        curl -X POST -H 'Content-Type: application/json' "
        f"""-d '{{"as": "bob"}}' {base}/api/orders/{order.id}/accept"""
    )
    try:
        create_app(desk).run(host="127.0.0.1", port=port)
    finally:
        desk.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
