"""``make bench``: the library's figures against baselines measured in the same run.

Run with ``python benchmarks/run.py`` (``--quick`` for a smoke run). See
``docs/performance.md`` for what each figure and baseline does.
"""
