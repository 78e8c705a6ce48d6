"""The simulator's notion of now.

OKX's clock is not the client's: a bot whose machine runs 45 s off fails
login (timestamps more than 30 s from the server's clock) until it reads
``GET /api/v5/public/time`` and signs with the offset.  ``SimClock`` lets the
simulator be that server: every time it shows or checks (login timestamps,
``expTime``, ``inTime``/``outTime``, order ``ts``/``cTime``/``uTime``, ticker
``ts``, ``/public/time``) is the wall clock plus ``offset_s``.

Rate-limit windows and idle timeouts use a monotonic clock instead, never
shifted: a skew is about what the server *says* the time is, not about how
fast its time passes.  Both clocks are injectable so tests can step through an
hour-long window without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class SimClock:
    def __init__(
        self,
        offset_s: float = 0.0,
        *,
        wall_ns: Callable[[], int] = time.time_ns,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._wall_ns = wall_ns
        self.monotonic = monotonic
        self._offset_ns = 0
        self.offset_s = offset_s

    @property
    def offset_s(self) -> float:
        """Seconds the simulator's clock runs ahead of the wall clock (negative: behind)."""
        return self._offset_ns / 1e9

    @offset_s.setter
    def offset_s(self, seconds: float) -> None:
        self._offset_ns = round(seconds * 1e9)

    def now_ns(self) -> int:
        return self._wall_ns() + self._offset_ns

    def now_s(self) -> float:
        return self.now_ns() / 1e9

    def now_ms(self) -> int:
        return self.now_ns() // 1_000_000

    def now_us(self) -> int:
        return self.now_ns() // 1000


__all__ = ["SimClock"]
