"""Resource readings of the client process at a quiet moment (the simulator reads its own)."""

from __future__ import annotations

import asyncio
from typing import Any

from .clients import on_side
from .drivers import ClientSide
from .probes import SOAK_FRAMES, count_fds, thread_names

# Files whose allocations are the client stack's own (one traced frame: the innermost
# Python frame).  Shared stdlib files (contextlib, asyncio...) are reported, not judged.
CLIENT_FILES = (
    "*/okx_ws_core/*",
    "*/okx_ws/*",
    "*/httpx/*",
    "*/httpcore/*",
    "*/httpx_ws/*",
    "*/anyio/*",
    "*/wsproto/*",
    "*/h11/*",
    "*/websockets/*",
    "*/json/*",
    "*/pydantic/*",
    "*/pydantic_core/*",
)
# soak.rss's groups in the client process: the soak's bookkeeping, the client stack.
CLIENT_GROUPS: dict[str, tuple[str, ...]] = {"soak": SOAK_FRAMES, "client": CLIENT_FILES}
# Modules whose live objects are counted at each checkpoint.
CENSUS_MODULES = (
    "okx_ws_core",
    "okx_ws",
    "httpx",
    "httpcore",
    "httpx_ws",
    "anyio",
    "wsproto",
    "h11",
    "asyncio",
    "concurrent",
    "_asyncio",
    "websockets",
    "pydantic",
    "ssl",
    "socket",
    "_socket",
    "selectors",
    "threading",
)


async def count_tasks(sides: list[ClientSide]) -> dict[str, int]:
    """asyncio tasks per event loop of the client process (this one's minus the caller)."""

    async def count() -> int:
        return len(asyncio.all_tasks())

    out = {"main": len(asyncio.all_tasks()) - 1}
    for side in sides:
        if side.loop is not None:
            out[f"{side.name}-loop"] = await on_side(side, count())
    return out


async def steady_reading(sides: list[ClientSide], limit: float = 5.0) -> tuple[Any, ...]:
    """(tasks, threads, fds), once two readings in a row agree (or after ``limit``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    previous: tuple[Any, ...] | None = None
    while True:
        await asyncio.sleep(0.05)
        reading = (await count_tasks(sides), thread_names(), count_fds())
        if reading == previous or loop.time() > deadline:
            return reading
        previous = reading
