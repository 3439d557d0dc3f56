"""The figures of ``make bench``, one module per group."""
