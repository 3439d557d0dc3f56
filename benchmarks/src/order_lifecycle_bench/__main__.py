"""``python -m order_lifecycle_bench``: the runner (:func:`order_lifecycle_bench.run.main`)."""

from order_lifecycle_bench.run import main

raise SystemExit(main())
