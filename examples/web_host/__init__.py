"""An example web host: order pages people use, and a JSON API, with Flask, on an ``OrderDesk``.

``create_app(desk)`` in :mod:`.app` builds the application (its templates are in
``templates/``; :mod:`.forms` makes each action's form from its command class);
``python -m examples.web_host`` serves it on 127.0.0.1 with a sample order.
"""
