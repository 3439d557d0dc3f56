"""``make bench``: the library's figures against baselines measured in the same run.

A project of its own (``benchmarks/pyproject.toml``), off the library's import and test
paths: ``make bench`` installs it beside the library and runs ``python -m
order_lifecycle_bench`` (``make bench ARGS=--quick`` for a smoke run); ``make
bench-check`` lints, type-checks and tests it. See ``docs/performance.md`` for what each
figure and baseline does.
"""
