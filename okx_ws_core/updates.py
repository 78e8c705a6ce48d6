"""``UpdateStream``: channel pushes as an async iterator, one bounded queue per stream."""

from __future__ import annotations

import asyncio

from .events import Event

UPDATE_QUEUE_SIZE = 10_000


class UpdateStream:
    """An async iterator of ``update`` events; it ends when the client closes.

    Each stream buffers up to ``UPDATE_QUEUE_SIZE`` pushes; past that the
    oldest is dropped (and logged by the client) so a slow consumer never
    grows memory without bound.  Close it early with :meth:`aclose`.
    """

    def __init__(self, registry: set[asyncio.Queue[Event]]) -> None:
        self._registry = registry
        self._queue: asyncio.Queue[Event] = asyncio.Queue(UPDATE_QUEUE_SIZE)
        registry.add(self._queue)

    def __aiter__(self) -> UpdateStream:
        return self

    async def __anext__(self) -> Event:
        event = await self._queue.get()
        if event.name == "close":
            self._registry.discard(self._queue)
            raise StopAsyncIteration
        return event

    async def aclose(self) -> None:
        self._registry.discard(self._queue)
