"""What one soak run does: sizes, client options, limits."""

from __future__ import annotations

from dataclasses import dataclass

CLIENT_KINDS = ("async", "sync")
TRANSPORTS = ("websockets", "httpx-ws")
# From this many requests on, ``transport="auto"`` puts the blocking client on the other
# transport: a long run then takes each transport through every fault kind at scale.
LONG_RUN = 50_000
# The simulator pushes an order's state just after its reply; an order answered less
# than this before its link died may have lost its push (soak.analysis.restoration).
PUSH_GRACE_S = 0.25


@dataclass
class SoakConfig:
    requests: int = 10_000
    faults: int = 300
    seed: int = 1
    clients: tuple[str, ...] = CLIENT_KINDS
    # "auto": the user's default (websockets) for every client, but in a long run the
    # blocking client on httpx-ws; a transport name: every client on it; or per client,
    # "async=websockets,sync=httpx-ws".
    transport: str = "auto"
    api: str = "generated"  # generated: AsyncWebsocketAPIClient / WebsocketAPIClient; core: runtime
    async_workers: int = 8
    sync_workers: int = 4
    request_timeout: float = 1.0
    ping_interval: float = 0.2
    pong_timeout: float = 0.2
    reconnect_delay: float = 0.01
    reconnect_max_delay: float = 0.1
    # The client's own pacing to OKX's limits: the user's default ("wait").  The workload
    # is spread over enough instruments that it rarely has to wait (``soak.workload``).
    rate_limit: str = "wait"
    # Connects per second per IP the clients pace themselves to: None is OKX's (3).  The
    # planted-defect runs raise it: they prove checks fail, and at 3/s their first
    # connects and each fault's reconnects queued for seconds (not at the limits, where
    # the simulator enforces OKX's and the client must keep to it).
    connects_per_s: int | None = None
    # At OKX's limits: the simulator enforces them, the load presses on them (hot
    # instruments, more workers), orders carry expTime; see ``soak.limits_audit``.
    at_limits: bool = False
    hang_margin: float = 0.5  # a call may overrun its timeout by this much before it "hung"
    watchdog: float = 10.0  # past timeout + watchdog an async call is abandoned (hung)
    warmup: int | None = None  # requests before the first resource checkpoint (default 1000)
    checkpoints: int | None = None  # resource checkpoints, the first after the warm-up
    memory_limit_kib: float = 128.0  # traced growth in the client stack's own files
    total_memory_limit_kib: float = 512.0  # traced growth anywhere in the client process
    # RSS growth after the warm-up that the soak's own bookkeeping does not explain
    # (``soak.rss``): the client's (and the simulator's, its book aside) own.
    rss_limit_mib: float = 20.0
    # tracemalloc in the client process: "on", "off", or "auto" (on below LONG_RUN).  It
    # costs RSS beyond its tables that no reading can subtract (soak.rss), so a long
    # run judges the client's RSS untraced, and its traced growth is not judged.
    trace_client: str = "auto"
    object_tolerance: int = 20  # live client-stack objects of one type may differ by this
    plant: str | None = None  # a planted defect (soak.defects), to prove a check can fail
    market_rounds: int | None = None  # order-book fault rounds (soak.market; None: scaled)
    verbose: bool = False

    @property
    def stamp_exp_time(self) -> bool:
        """Orders carry expTime = the call's deadline (at the limits only: the late
        arrivals the simulator then refuses are what that mode audits)."""
        return self.at_limits

    @property
    def sim_rate_limits(self) -> bool:
        """The simulator enforces OKX's limits only at the limits: elsewhere the soak's
        faults (a restart, a notice to every link) would make reconnect storms a matter
        of the fault plan's timing, not of the client."""
        return self.at_limits

    @property
    def traces_client(self) -> bool:
        if self.trace_client not in ("auto", "on", "off"):
            raise ValueError(f"--trace-client {self.trace_client!r}: expected auto, on or off")
        return self.trace_client == "on" or (
            self.trace_client == "auto" and self.requests < LONG_RUN
        )

    @property
    def transports(self) -> dict[str, str]:
        """The transport of each client."""
        spec = self.transport
        if spec == "auto":
            out = {name: "websockets" for name in self.clients}
            if self.requests >= LONG_RUN and "sync" in out and len(out) > 1:
                out["sync"] = "httpx-ws"
            return out
        if spec in TRANSPORTS:
            return {name: spec for name in self.clients}
        out = {}
        for part in spec.split(","):
            name, _, value = part.partition("=")
            name, value = name.strip(), value.strip()
            if name not in self.clients or value not in TRANSPORTS:
                raise ValueError(
                    f"--transport {spec!r}: expected auto, {' or '.join(TRANSPORTS)},"
                    " or client=transport pairs such as async=websockets,sync=httpx-ws"
                )
            out[name] = value
        missing = [n for n in self.clients if n not in out]
        if missing:
            raise ValueError(f"--transport {spec!r} names no transport for {missing}")
        return out

    @property
    def transport_label(self) -> str:
        ts = self.transports
        if len(set(ts.values())) == 1:
            return next(iter(ts.values()))
        return ",".join(f"{name}:{t}" for name, t in ts.items())

    @property
    def warmup_requests(self) -> int:
        if self.warmup is not None:
            return self.warmup
        return min(1000, max(1, self.requests // 5))

    @property
    def checkpoint_bounds(self) -> list[int]:
        """Where segments end (a quiet checkpoint each): the warm-up, then evenly spaced.
        Default: 3 checkpoints (e.g. 1000, 5000, 10000) from 5000 requests on, else 2."""
        n = self.checkpoints or (3 if self.requests >= 5000 else 2)
        warm = min(self.warmup_requests, self.requests)
        mids = [self.requests * k // (n - 1) for k in range(1, n - 1)]
        return [0, warm, *sorted({m for m in mids if warm < m < self.requests}), self.requests]

    @property
    def call_limit(self) -> float:
        """Past this a call is abandoned (async) or reported stuck (blocking)."""
        return self.request_timeout + self.watchdog
