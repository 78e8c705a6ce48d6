"""``Pacer``: applies OKX's rate limits on the client's event loop.

The counting is :class:`~okx_ws_core.ratelimit.RateLimiter`'s (sans-I/O);
this module only reads the loop's clock, sleeps in ``"wait"`` mode and raises
:class:`RateLimitExceeded` in ``"raise"`` mode or when a wait would pass the
request's deadline.  Under the limits a request pays one dict look-up and a
deque append per bucket.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .errors import RateLimitExceeded
from .options import RateLimitMode
from .protocol import Operation, cl_ord_ids
from .ratelimit import BucketKey, ConnectionLimits, RateLimit, RateLimiter

Demands = list[tuple[RateLimit, BucketKey, int]]
# Reply codes saying OKX counted more than we did: the buckets wait a full window.
RATE_LIMITED_CODES = frozenset({"50011", "60014", "50061"})
# Seconds added to OKX's windows: a request is counted here when admitted and by
# OKX when it arrives; one queued behind a burst arrives a little later than it was
# counted (measured against the simulator: ~5 ms at 60 orders).  Costs 2.5% of a
# 2 s window, well inside the 10% a burst may take over the minimum.
SAFETY_MARGIN_S = 0.05
_PRUNE_EVERY = 4096


class Pacer:
    def __init__(self, mode: RateLimitMode, connection_limits: ConnectionLimits | None) -> None:
        self.mode = mode
        self.connection_limits = connection_limits or ConnectionLimits()
        self._limiter = RateLimiter(margin=SAFETY_MARGIN_S)
        self._admitted = 0

    async def admit(
        self, operation: Operation[Any, Any], args: list[dict[str, Any]], deadline: float
    ) -> Demands:
        """Count the request, waiting for room if the mode says so; raises before sending."""
        if self.mode == "off" or not operation.limits:
            return []
        wanted = operation.rate_demands(args)
        loop = asyncio.get_running_loop()
        limiter = self._limiter
        while True:
            now = loop.time()
            wait, blocking = limiter.acquire(wanted, now)
            if blocking is None:
                break
            if self.mode == "raise" or now + wait > deadline:
                raise _exceeded(operation.op, blocking, wait, args)
            await asyncio.sleep(wait)
        self._admitted += 1
        if self._admitted % _PRUNE_EVERY == 0:
            limiter.prune(loop.time(), max(limit.window for limit, _, _ in wanted))
        return wanted

    def rejected(self, wanted: Demands, code: str) -> None:
        """OKX answered a rate-limit code: hold those buckets for a window."""
        if wanted and code in RATE_LIMITED_CODES:
            self._limiter.penalize(wanted, asyncio.get_running_loop().time())

    async def connect_turn(self) -> None:
        """Wait until one more connection attempt fits the per-second connect limit."""
        limit = self.connection_limits.connect
        if limit is None or self.mode == "off":
            return
        wanted = [(limit, (limit.name, ""), 1)]
        loop = asyncio.get_running_loop()
        while (wait := self._limiter.acquire(wanted, loop.time())[0]) > 0.0:
            await asyncio.sleep(wait)

    def session_op(self, counter: RateLimiter, op: str) -> None:
        """Count one login/subscribe/unsubscribe on a connection; raise beyond its hourly limit."""
        limit = self.connection_limits.session_ops
        if limit is None or self.mode == "off":
            return
        wanted = [(limit, (limit.name, ""), 1)]
        wait, blocking = counter.acquire(wanted, asyncio.get_running_loop().time())
        if blocking is not None:
            raise _exceeded(op, blocking, wait, [])


def _exceeded(
    op: str, bucket: BucketKey, wait: float, args: list[dict[str, Any]]
) -> RateLimitExceeded:
    name, key = bucket
    return RateLimitExceeded(
        op=op, limit=name, key=key, retry_after=wait, cl_ord_ids=cl_ord_ids(args)
    )
