"""``python -m order_lifecycle``: the command line."""

from order_lifecycle.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
