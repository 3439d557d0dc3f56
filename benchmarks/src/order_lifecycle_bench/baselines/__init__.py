"""Baselines that do the same work as the library, measured in the same run.

- :mod:`.table`: the lifecycle as a hand-written table and guards, shared by the
  baselines below (written from the spec, not from the library's code).
- :mod:`.dict_machine`: a hand-written dict state machine (the floor).
- :mod:`.transitions_machines`: ``transitions`` used the obvious way (one ``Machine``
  per order) and with one shared machine and a bare trigger.
- :mod:`.statemachine_psm`: ``python-statemachine``.
- :mod:`.sql_floor`: hand-written SQL transactions (storage floors).
"""
