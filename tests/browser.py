"""A real browser for tests: the system's Chromium driven by Playwright, and the example
web host served on 127.0.0.1 in a thread.

Playwright's own browser download is not used: the browser is Debian's ``chromium``
package at ``/usr/bin/chromium`` (``ORDER_LIFECYCLE_CHROMIUM`` names another). Without
it (or without Playwright) the browser tests skip with the reason; under ``CI=true`` they
fail instead, so CI never counts a skipped browser test as passing (``.ci/run`` installs
Chromium when it is missing).
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from werkzeug.serving import make_server

from order_lifecycle import OrderDesk

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path(os.environ.get("ORDER_LIFECYCLE_CHROMIUM", "/usr/bin/chromium"))
#: Headless, and nothing that needs a display, a GPU, a sandbox or the network.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)")
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Browser]:
    """The system Chromium, headless, under Playwright; skip (fail under CI) without it."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def serve(desk: OrderDesk) -> Iterator[str]:
    """The example web host on ``desk``, on a free port of 127.0.0.1; yields its base URL."""
    # Imported by name: mypy checks ``examples`` as files of its own, not as a package.
    web_host = importlib.import_module("examples.web_host.app")
    server = make_server("127.0.0.1", 0, web_host.create_app(desk), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="web-host", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
