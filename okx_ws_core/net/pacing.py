"""``Pacer``: applies OKX's rate limits on the client's event loop.

The counting is :class:`~okx_ws_core.protocol.ratelimit.RateLimiter`'s (sans-I/O);
this module only reads the loop's clock, sleeps in ``"wait"`` mode and raises
:class:`RateLimitExceeded` in ``"raise"`` mode or when a wait would pass the
request's deadline.  Under the limits a one-item request pays two dict
look-ups and a deque append per bucket (:meth:`RateLimiter.try_one`).

Request limits are OKX's per user (per client), but connects are counted per
IP: :func:`shared_connect_gate` gives every client of the process connecting
to one host the same :class:`~okx_ws_core.protocol.ratelimit.ConnectGate`, on the one
clock all their loops share (``time.monotonic``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from ..errors import RateLimitExceeded
from ..options import RateLimitMode
from ..protocol.frames import Operation, cl_ord_ids
from ..protocol.ratelimit import BucketKey, ConnectGate, ConnectionLimits, RateLimit, RateLimiter

Demands = list[tuple[RateLimit, BucketKey, int]]
# Reply codes saying OKX counted more than we did: the bucket the code names waits a
# full window (okx-protocol.md, "Rate limits").  50061 is the sub-account ceiling
# (spec/limits.yaml's ``sub_account``, shared by every new and amended order); 50011
# and 60014 are the operation's own limit (per instrument, or per user), which must
# not hold the sub-account bucket: that would refuse orders on every instrument.
SUB_ACCOUNT_CODE = "50061"
SUB_ACCOUNT_LIMIT = "sub_account"
RATE_LIMITED_CODES = frozenset({"50011", "60014", SUB_ACCOUNT_CODE})
# Seconds added to OKX's windows: a request is counted here when admitted and by
# OKX when it arrives; one queued behind a burst arrives a little later than it was
# counted (measured against the simulator: ~5 ms at 60 orders).  Costs 2.5% of a
# 2 s window, well inside the 10% a burst may take over the minimum.
SAFETY_MARGIN_S = 0.05
# OKX's connect limit: 3 connection requests per second per IP (okx-protocol.md).
CONNECT_WINDOW_S = 1.0
# Seconds added to the connect window.  OKX counts a connect when its upgrade request
# arrives, after DNS, TCP and TLS; its turn here is when it starts.  Turns a full window
# apart stay a window apart at OKX only if no connect arrives later after its turn than
# the margin: ~50 ms at start-up on an idle machine, but under load a batch queues
# behind its own handshakes and a busy loop (the at-limits soak at load 6 saw 0.25 s
# exceeded: six HTTP 429).  Half of OKX's window covers a stall up to the soak's hang
# margin (0.5 s, beyond which the run fails anyway); it lets 3 connects per 1.5 s, two a
# second, and connects are rare outside reconnect storms.
CONNECT_MARGIN_S = CONNECT_WINDOW_S / 2
# A loop whose time() is within this of time.monotonic() runs on the shared clock; one
# that is not (virtual time in tests starts at 0) cannot use the process-wide gate.
_SAME_CLOCK_S = 1.0

_gates: dict[str, ConnectGate] = {}  # by host: a few entries, each a few floats
_gates_lock = threading.Lock()


def shared_connect_gate(url: str) -> ConnectGate:
    """The process-wide gate for connects to ``url``'s host and port, made on first use.

    Keyed by host: OKX's three connections of one host count together; whether
    its live and demo hosts share one count is *uncertain*, they get a gate each.
    """
    host = urlsplit(url).netloc
    with _gates_lock:
        gate = _gates.get(host)
        if gate is None:
            gate = _gates[host] = ConnectGate(margin=CONNECT_MARGIN_S)
        return gate


class Pacer:
    """One client's pacing: its request buckets, and its turns at connecting.

    ``connect_gate`` is the process-wide gate of the client's host (see
    :func:`shared_connect_gate`); without one, or on a loop whose clock is not
    ``time.monotonic`` (virtual time), the client takes turns on a gate of its own.
    """

    def __init__(
        self,
        mode: RateLimitMode,
        connection_limits: ConnectionLimits | None,
        connect_gate: ConnectGate | None = None,
    ) -> None:
        self.mode = mode
        self.connection_limits = connection_limits or ConnectionLimits()
        self._limiter = RateLimiter(margin=SAFETY_MARGIN_S)
        self._shared_gate = connect_gate
        self._own_gate = ConnectGate(margin=CONNECT_MARGIN_S)

    def admit_now(
        self, operation: Operation[Any, Any], args: list[dict[str, Any]], now: float
    ) -> Demands | None:
        """The fast path, no coroutine: count the request if it fits at ``now`` (loop time)
        and return what it was counted in; ``None`` (nothing counted): ask :meth:`admit`."""
        if self.mode == "off" or not operation.limits:
            return []
        if len(args) == 1:  # an order's path: buckets looked up once per instrument
            limits = operation.batch_of_one_limits or operation.limits
            return self._limiter.try_one(operation.name, limits, args[0], now)
        return None

    async def admit(
        self, operation: Operation[Any, Any], args: list[dict[str, Any]], deadline: float
    ) -> Demands:
        """Count the request, waiting for room if the mode says so; raises before sending."""
        loop = asyncio.get_running_loop()
        counted = self.admit_now(operation, args, loop.time())
        if counted is not None:
            return counted
        wanted = operation.rate_demands(args)
        while True:
            now = loop.time()
            wait, blocking = self._limiter.acquire(wanted, now)
            if blocking is None:
                break
            if self.mode == "raise" or now + wait > deadline:
                raise _exceeded(operation.op, blocking, wait, args)
            await asyncio.sleep(wait)
        return wanted

    def rejected(self, wanted: Demands, code: str) -> None:
        """OKX answered a rate-limit code: hold the buckets it names for a window."""
        if wanted and code in RATE_LIMITED_CODES:
            shared = code == SUB_ACCOUNT_CODE
            named = [demand for demand in wanted if _is_sub_account(demand[0]) == shared]
            self._limiter.penalize(named, asyncio.get_running_loop().time())

    async def connect_turn(self) -> None:
        """Wait for this connection attempt's turn under the per-IP connect limit."""
        limit = self.connection_limits.connect
        if limit is None or self.mode == "off":
            return
        loop = asyncio.get_running_loop()
        shared, now = self._shared_gate, time.monotonic()
        if shared is not None and abs(loop.time() - now) < _SAME_CLOCK_S:
            gate, clock = shared, time.monotonic
        else:
            gate, clock = self._own_gate, loop.time
            now = clock()
        turn = gate.turn(limit, now)
        while turn > now:  # a caller that wakes late (a stalled loop) is queued again
            await asyncio.sleep(turn - now)
            now = clock()
            turn = gate.claim(limit, turn, now)

    def session_op(self, counter: RateLimiter, op: str) -> None:
        """Count one login/subscribe/unsubscribe on a connection; raise beyond its hourly limit."""
        limit = self.connection_limits.session_ops
        if limit is None or self.mode == "off":
            return
        wanted = [(limit, (limit.name, ""), 1)]
        wait, blocking = counter.acquire(wanted, asyncio.get_running_loop().time())
        if blocking is not None:
            raise _exceeded(op, blocking, wait, [])


def _is_sub_account(limit: RateLimit) -> bool:
    return limit.name == SUB_ACCOUNT_LIMIT


def _exceeded(
    op: str, bucket: BucketKey, wait: float, args: list[dict[str, Any]]
) -> RateLimitExceeded:
    name, key = bucket
    return RateLimitExceeded(
        op=op, limit=name, key=key, retry_after=wait, cl_ord_ids=cl_ord_ids(args)
    )
