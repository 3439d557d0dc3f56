"""RabbitMQ for tests: the broker URL, a reachability check, and names unique to a test.

On a machine without a broker the tests skip with the reason; under ``CI=true`` they
fail instead, so CI never counts a skipped broker test as passing.
"""

from __future__ import annotations

import os
import uuid

import pytest

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def amqp_url() -> str:
    """The test broker's URL (``ORDER_LIFECYCLE_TEST_AMQP``)."""
    return os.environ.get("ORDER_LIFECYCLE_TEST_AMQP", DEFAULT_URL)


def require_amqp() -> None:
    """Skip (or, under CI, fail) when the test broker cannot be reached."""
    try:
        import pika

        parameters = pika.URLParameters(amqp_url())
        parameters.socket_timeout = parameters.stack_timeout = 3
        pika.BlockingConnection(parameters).close()
    except Exception as error:  # any failure to connect means "no broker"
        detail = str(error) or "; ".join(repr(arg) for arg in error.args)
        reason = f"RabbitMQ at {amqp_url()} is not reachable: {type(error).__name__} {detail}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: RabbitMQ tests must run)")
        pytest.skip(reason)


def unique_name(what: str) -> str:
    """An exchange or queue name unique to this test run."""
    return f"olt-test-{what}-{uuid.uuid4().hex[:12]}"
