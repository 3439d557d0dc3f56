"""Test kit for host applications: the adapter contract suites."""
