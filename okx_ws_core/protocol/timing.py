"""Pure timing policies: heartbeat deadlines and reconnect backoff.

Both take the current (monotonic) time as an argument instead of reading a
clock, so they are deterministic in tests and cannot drift under load: every
deadline is recomputed from the last frame actually seen.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

HeartbeatAction = Literal["ping", "dead", "wait"]


@dataclass(slots=True)
class Heartbeat:
    """OKX keep-alive: send text ``ping`` when the link was idle ``interval`` s.

    OKX closes a connection that *received* nothing for 30 s, and a link that
    *sent* nothing for a while may be half-dead, so idle means either direction.
    After a ping, **any** inbound frame proves the link alive (okx-api #81:
    only counting ``pong`` causes false "pong timeout" reconnects under load).
    """

    interval: float
    pong_timeout: float
    last_recv: float = 0.0
    last_send: float = 0.0
    ping_sent_at: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.interval < 30:
            raise ValueError(f"ping_interval must be in (0, 30) seconds, got {self.interval}")
        if self.pong_timeout <= 0:
            raise ValueError(f"pong_timeout must be > 0, got {self.pong_timeout}")

    def start(self, now: float) -> None:
        self.last_recv = self.last_send = now
        self.ping_sent_at = None

    def received(self, now: float) -> None:
        self.last_recv = now
        self.ping_sent_at = None

    def sent(self, now: float) -> None:
        self.last_send = now

    def poll(self, now: float) -> tuple[HeartbeatAction, float]:
        """What to do now, and when to poll next."""
        if self.ping_sent_at is not None:
            deadline = self.ping_sent_at + self.pong_timeout
            return ("dead", now) if now >= deadline else ("wait", deadline)
        due = min(self.last_recv, self.last_send) + self.interval
        if now >= due:
            self.ping_sent_at = now
            self.last_send = now
            return "ping", now + self.pong_timeout
        return "wait", due


@dataclass(slots=True)
class Backoff:
    """Exponential backoff with full jitter between ``delay/2`` and ``delay``.

    Unlike a fixed 500 ms delay (okx-api), a flapping network or an outage does
    not turn every client into a synchronized reconnect storm.
    """

    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def __post_init__(self) -> None:
        if self.initial < 0 or self.maximum < self.initial or self.factor < 1:
            raise ValueError("need 0 <= reconnect_delay <= reconnect_max_delay")

    def next_delay(self) -> float:
        # The exponent is capped: after ~1000 failed attempts factor**attempt overflows.
        ceiling = min(self.maximum, self.initial * self.factor ** min(self.attempt, 64))
        self.attempt += 1
        return ceiling * (0.5 + 0.5 * self.rng.random())

    def reset(self) -> None:
        self.attempt = 0
