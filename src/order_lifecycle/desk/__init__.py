"""The application service, :class:`OrderDesk`, and the steps it is made of.

- ``flows``: what every command and query does, once, as generators that yield the calls
  they need (storage, files, notifier) and never do I/O themselves.
- ``service``: ``OrderDesk``, which runs the flows' calls directly: ``execute`` (the one
  way to run a command), the named commands as sugar over it, the queries, ``relay``
  and ``tick``.
- ``aio``: ``AsyncOrderDesk``, which awaits them (psycopg's async pool; SQLite and memory
  in worker threads).
- ``writes``: what a decision writes (order, events, outbox rows, participants, next timer)
  and the fingerprint an idempotency key is held to.
- ``files``: file intake for the commands that carry files.
- ``inbox``: the inbox built from a store's conversation rows.
- ``relay``, ``timers``: the outbox relay and the timers ``tick`` fires.
- ``stores``: from a storage URL to a store.
"""

from order_lifecycle.core.recipients import CX_TEAM, notifications_for
from order_lifecycle.desk.aio import AsyncOrderDesk
from order_lifecycle.desk.inbox import conversations_of
from order_lifecycle.desk.relay import RELAY_LEASE
from order_lifecycle.desk.service import MAX_ATTEMPTS, OrderDesk
from order_lifecycle.desk.stores import open_store

__all__ = [
    "CX_TEAM",
    "MAX_ATTEMPTS",
    "RELAY_LEASE",
    "AsyncOrderDesk",
    "OrderDesk",
    "conversations_of",
    "notifications_for",
    "open_store",
]
