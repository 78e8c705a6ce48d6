"""The ``websockets`` backend: the fastest per message on loopback here (see README)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from .transport import CLOSE_TIMEOUT_S, MAX_MESSAGE_BYTES, TransportClosed


class _Websockets:
    __slots__ = ("_ws",)

    def __init__(self, ws: Any) -> None:
        self._ws = ws

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
    async with connect(
        url,
        open_timeout=connect_timeout,
        ping_interval=None,  # OKX uses text "ping", see Heartbeat
        max_size=MAX_MESSAGE_BYTES,
        compression=None,
        close_timeout=CLOSE_TIMEOUT_S,
    ) as ws:
        yield _Websockets(ws)
