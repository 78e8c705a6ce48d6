"""The clients under test: built, connected and subscribed, reconnected, closed."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from okx_ws_core import AsyncWebsocketClient, ConnectionLimits, WebsocketClient

from .config import SoakConfig
from .drivers import ClientSide
from .probes import Hygiene
from .workload import SUBSCRIPTIONS

SETUP_TIMEOUT_S = 10.0  # first connect imports and warms up a lot: not a soak measurement


def client_options(
    cfg: SoakConfig, name: str, base_url: str, logger: logging.Logger
) -> dict[str, Any]:
    """The options every soak client of account ``name`` is built with: its account on
    the simulator, its transport, the soak's timings and limiter."""
    return {
        "api_key": f"soak-{name}-key",
        "api_secret": f"soak-{name}-secret",
        "api_passphrase": f"soak-{name}-pass",
        "base_url": base_url,
        "request_timeout": cfg.request_timeout,
        "ping_interval": cfg.ping_interval,
        "pong_timeout": cfg.pong_timeout,
        "reconnect_delay": cfg.reconnect_delay,
        "reconnect_max_delay": cfg.reconnect_max_delay,
        "transport": cfg.transports[name],
        "rate_limit": cfg.rate_limit,
        "attach_event_listeners": False,
        "logger": logger,
    }


def make_clients(
    cfg: SoakConfig, base_url: str, logger: logging.Logger, hygiene: Hygiene
) -> list[ClientSide]:
    """One client per ``cfg.clients`` entry, each on its own account of the simulator."""
    from okx_ws import AsyncWebsocketAPIClient, WebsocketAPIClient

    generated = cfg.api == "generated"
    limits = _connection_limits(cfg)
    sides = []
    for n, name in enumerate(cfg.clients):
        key = f"soak-{name}-key"
        options = client_options(cfg, name, base_url, logger)
        options["stamp_exp_time"] = cfg.stamp_exp_time
        options["instrument_types"] = ("SPOT",)  # codes from the simulator's REST list at connect
        letter = "abcdefgh"[n]
        if name == "async":
            api, owned = _build(AsyncWebsocketAPIClient, AsyncWebsocketClient, options, cfg, limits)
            ws = api.get_ws_client() if generated else api
            side = ClientSide(name, letter, key, api, ws, None, owned)
        else:
            api, owned = _build(WebsocketAPIClient, WebsocketClient, options, cfg, limits)
            blocking = api.get_ws_client() if generated else api
            assert isinstance(blocking, WebsocketClient)
            side = ClientSide(name, letter, key, api, blocking.async_client, blocking.loop, owned)
            hygiene.watch_loop(blocking.loop, f"{name}-client")
        side.listen()
        sides.append(side)
    return sides


def _build(
    typed: Any,
    runtime: Any,
    options: dict[str, Any],
    cfg: SoakConfig,
    limits: ConnectionLimits | None,
) -> tuple[Any, Any]:
    """The client under test, and the runtime client the soak made for it (or None).

    With ``limits`` the typed client wraps a runtime client built with them
    (``ws_client=``), which stays the soak's to close after it.
    """
    if cfg.api != "generated":
        return runtime(**options), None
    if limits is None:
        return typed(**options), None
    owned = runtime(**options, connection_limits=limits)
    return typed(ws_client=owned), owned


def _connection_limits(cfg: SoakConfig) -> ConnectionLimits | None:
    """OKX's connection limits with ``cfg.connects_per_s``; None: the generated client's own."""
    if cfg.connects_per_s is None or cfg.at_limits:
        return None
    from okx_ws import operations

    okx = operations.CONNECTION_LIMITS
    assert okx.connect is not None
    connect = dataclasses.replace(okx.connect, count=cfg.connects_per_s)
    return dataclasses.replace(okx, connect=connect)


async def on_side(side: ClientSide, coro: Awaitable[Any]) -> Any:
    """Await ``coro`` on the side's loop (the blocking client's own, or this one)."""
    if side.loop is None:
        return await coro
    future: Any = asyncio.run_coroutine_threadsafe(coro, side.loop)  # type: ignore[arg-type]
    return await asyncio.wrap_future(future)


async def connect_and_subscribe(sides: list[ClientSide]) -> None:
    for side in sides:
        await on_side(side, side.ws.connect_ws_api(timeout=SETUP_TIMEOUT_S))
        for connection, arg in SUBSCRIPTIONS:
            await on_side(side, side.ws.subscribe(arg, connection, timeout=SETUP_TIMEOUT_S))


async def remembered(side: ClientSide) -> dict[str, list[dict[str, Any]]]:
    """What the side's client will restore on each WS API connection (read on its loop)."""

    async def read() -> dict[str, list[dict[str, Any]]]:
        return {key: side.ws.subscriptions(key) for key in ("private", "business")}

    result: dict[str, list[dict[str, Any]]] = await on_side(side, read())
    return result


async def ensure_connected(side: ClientSide, limit: float = 10.0) -> BaseException | None:
    """Until the side's WS API links are up (a refusal may still be pending); the last
    error if they are not within ``limit`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    last: BaseException | None = None
    while loop.time() < deadline:
        try:
            await on_side(side, side.ws.connect_ws_api(timeout=2.0))
            return None
        except Exception as exc:  # refused login still pending, restart...
            last = exc
            await asyncio.sleep(0.05)
    return last or TimeoutError("not connected")


async def close_clients(
    sides: list[ClientSide], run_threads: Callable[[list[Callable[[], None]], str], Awaitable[bool]]
) -> None:
    targets: list[Callable[[], None]] = []
    for side in sides:  # a ws_client given to the typed client stays ours to close
        if side.loop is None:
            await side.api.close()
            if side.owned is not None:
                await side.owned.close()
        else:
            targets.append(partial(_close_blocking, side))
    await run_threads(targets, "soak-close")


def _close_blocking(side: ClientSide) -> None:
    side.api.close()
    if side.owned is not None:  # after the typed client: one close at a time
        side.owned.close()
