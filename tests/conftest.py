"""Shared test settings: Hypothesis profiles (``HYPOTHESIS_PROFILE=ci|dev|long``) and
fixtures: a PostgreSQL schema per test, and a desk on each storage backend."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
from hypothesis import HealthCheck, settings

from order_lifecycle import ManualClock, OrderDesk

from pg import drop_schema, new_schema, require_pg, schema_url

T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("long", max_examples=2000, deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") == "true" else "dev")
)


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL with a schema of its own, dropped after the test."""
    require_pg()
    name = new_schema()
    try:
        yield schema_url(name)
    finally:
        drop_schema(name)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A storage URL per backend (PostgreSQL: a schema of its own)."""
    if request.param == "memory":
        yield "memory://"
    elif request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'orders.db'}"
    else:
        yield request.getfixturevalue("pg_schema_url")


@pytest.fixture
def clock() -> ManualClock:
    """Time starts at T0 and moves only when a test says so."""
    return ManualClock(T0)


@pytest.fixture
def desk(url: str, clock: ManualClock) -> Iterator[OrderDesk]:
    """A desk on the backend under test."""
    with OrderDesk.open(url, clock=clock) as opened:
        yield opened


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def durable_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A storage URL per durable backend, shared by separate processes."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'orders.db'}"
    else:
        yield request.getfixturevalue("pg_schema_url")
