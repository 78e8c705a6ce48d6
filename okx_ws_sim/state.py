"""What the simulator's parts share by reference and ``Simulator.reset()`` renews.

Sessions, WS API, policy and the REST front read the engine, the accounts and
the counters through one ``SimState``, so a reset swaps them in one place and
no part keeps a stale engine or counts into an old ``SimStats``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .auth import Account
from .engine import Engine
from .stats import SimStats


@dataclass(slots=True)
class SimState:
    engine: Engine
    accounts: dict[str, Account]  # api key -> the credentials a login is checked against
    stats: SimStats = field(default_factory=SimStats)
    # Headers (names lower-cased) of the last REST request answered by a route.
    rest_last_headers: dict[str, str] = field(default_factory=dict)


__all__ = ["SimState"]
