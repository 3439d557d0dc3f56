"""An example web host: one order's conversation over HTTP, with Flask, on an ``OrderDesk``.

``create_app(desk)`` in :mod:`.app` builds the application; ``python -m examples.web_host``
serves it on 127.0.0.1 with a sample order.
"""
