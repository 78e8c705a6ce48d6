"""What one soak run does: sizes, client options, limits."""

from __future__ import annotations

from dataclasses import dataclass

CLIENT_KINDS = ("async", "sync")


@dataclass
class SoakConfig:
    requests: int = 10_000
    faults: int = 300
    seed: int = 1
    clients: tuple[str, ...] = CLIENT_KINDS
    transport: str = "httpx-ws"
    api: str = "generated"  # generated: AsyncWebsocketAPIClient / WebsocketAPIClient; core: runtime
    async_workers: int = 8
    sync_workers: int = 4
    request_timeout: float = 1.0
    ping_interval: float = 0.2
    pong_timeout: float = 0.2
    reconnect_delay: float = 0.01
    reconnect_max_delay: float = 0.1
    # The client's own pacing to OKX's limits ("wait"/"raise"/"off"): off, as the
    # simulator's limits are — the soak's load is far above them by design.
    rate_limit: str = "off"
    hang_margin: float = 0.5  # a call may overrun its timeout by this much before it "hung"
    watchdog: float = 10.0  # past timeout + watchdog an async call is abandoned (hung)
    warmup: int | None = None  # requests before the first resource checkpoint (default 1000)
    checkpoints: int | None = None  # resource checkpoints, the first after the warm-up
    memory_limit_kib: float = 128.0  # traced growth in the client stack's own files
    total_memory_limit_kib: float = 512.0  # traced growth anywhere in the client process
    object_tolerance: int = 20  # live client-stack objects of one type may differ by this
    plant: str | None = None  # a planted defect (soak.defects), to prove a check can fail
    verbose: bool = False

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
