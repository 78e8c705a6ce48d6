"""The ``websockets`` backend: the fastest per message on loopback here (see README)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from .interface import CLOSE_TIMEOUT_S, MAX_MESSAGE_BYTES, TransportClosed


class _Websockets:
    __slots__ = ("_ws",)

    def __init__(self, ws: Any) -> None:
        self._ws = ws

    def write_interrupted(self) -> bool:
        """Never: websockets hands the whole frame to asyncio's transport at once (then
        only waits for it to drain), so a cancelled send wrote all of it or nothing."""
        return False

    async def send(self, text: str) -> None:
        try:
            await self._ws.send(text)
        except ConnectionClosed as exc:
            raise TransportClosed(f"send failed: {exc}") from exc

    async def recv(self) -> str:
        while True:
            try:
                message = await self._ws.recv()
            except ConnectionClosed as exc:
                raise TransportClosed(f"closed: {exc}") from exc
            if isinstance(message, str):
                return message

    async def close(self) -> None:
        await self._ws.close()


@contextlib.asynccontextmanager
async def open_websockets(url: str, connect_timeout: float) -> AsyncIterator[_Websockets]:
    """Open one connection; leaving it closes with 1000 (normal closure).

    The link drops a socket by cancelling its reader (a refused login, a dead
    heartbeat, a failed setup): that is the client's choice, not an internal
    error, so the peer must not see websockets' default 1011 for it.  Any
    other exception (a bug) still closes with 1011.
    """
    async with connect(
        url,
        open_timeout=connect_timeout,
        ping_interval=None,  # OKX uses text "ping", see Heartbeat
        max_size=MAX_MESSAGE_BYTES,
        compression=None,
        close_timeout=CLOSE_TIMEOUT_S,
    ) as ws:
        try:
            yield _Websockets(ws)
        except asyncio.CancelledError:
            await ws.close()  # 1000; returns once the handshake ends or close_timeout passed
            raise
