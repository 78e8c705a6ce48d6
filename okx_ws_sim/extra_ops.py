"""Teach a running simulator an op it does not know yet, without editing its tables.

The simulator knows an op through three tables: where it is served and what
its reply echoes (``protocol.OPS``), what its items may hold (``rules.RULES``)
and what it does (``Engine.HANDLERS``).  An op missing from them is answered
``60013 Invalid args``, as OKX answers an op it does not know.  Adding an
operation for good means a row in each (see docs/guide/adding-an-operation.md);
:func:`extra_operation` adds all three for the duration of a ``with`` block, so
a test or a spike can try a new op end to end before the simulator models it.

The tables are process-wide: every simulator in the process sees the op while
the block runs.  Rate limits do not apply to it (``limits.py`` lists none).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from . import rules, validation
from .engine import Engine, Handler
from .protocol import OPS, PATHS, OpSpec


@contextmanager
def extra_operation(
    op: str,
    *,
    connection: str,
    fields: Mapping[str, rules.Field],
    handler: Handler,
    required: tuple[str, ...] = (),
    one_of: tuple[str, ...] = (),
    max_items: int = 1,
    echo: tuple[str, ...] = (),
) -> Iterator[None]:
    """Serve ``op`` on ``connection`` while the block runs.

    ``fields`` / ``required`` / ``one_of`` are its item rule (``rules.OpRule``;
    an unknown field is refused like any other op's); ``handler(engine, acct,
    item, now_ms, changed)`` returns the reply item's fields (raise
    ``engine.ItemError`` for an item-level failure); ``echo`` names request
    fields copied into each reply item.  An op the simulator already knows is
    refused: its own rules win.
    """
    if op in OPS or op in rules.RULES or op in Engine.HANDLERS:
        raise ValueError(f"the simulator already serves op {op!r}")
    if connection not in PATHS.values():
        raise ValueError(f"connection must be one of {sorted(PATHS.values())}, got {connection!r}")
    OPS[op] = OpSpec(connection, max_items, echo)
    rules.RULES[op] = rules.OpRule(dict(fields), required, one_of)
    Engine.HANDLERS[op] = handler
    try:
        yield
    finally:
        OPS.pop(op, None)
        rules.RULES.pop(op, None)
        Engine.HANDLERS.pop(op, None)
        validation.forget(op)


__all__ = ["extra_operation"]
