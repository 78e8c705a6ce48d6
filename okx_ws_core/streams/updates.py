"""``UpdateStream``: every channel push as an async iterator, one bounded buffer per stream.

The client keeps its streams in a :class:`weakref.WeakSet`, so a stream the
caller drops (a ``break`` out of ``async for``, a task that ended) stops
receiving at once instead of holding up to ``buffer`` pushes for the
client's lifetime.  Each stream is a :class:`~.stream_buffer.StreamBuffer`:
bounded (oldest dropped, one warning then every 1000th), one reader at a
time, and once ended (``aclose()`` or the client's ``close()``) every
iteration ends at once.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Sequence
from typing import Any

from ..protocol.frames import arg_matches
from .buffer import StreamBuffer
from .events import Event

UPDATE_QUEUE_SIZE = 10_000

Registry = weakref.WeakSet["UpdateStream"]


class UpdateStream:
    """An async iterator of ``update`` events; it ends when it or the client closes.

    It buffers up to ``buffer`` pushes (default ``UPDATE_QUEUE_SIZE``); past
    that the oldest is dropped (see :attr:`dropped`) so a slow consumer never
    grows memory without bound.  Close it early with :meth:`aclose`.
    """

    def __init__(
        self,
        registry: Registry,
        logger: logging.Logger,
        buffer: int,
        *,
        only: tuple[str, Sequence[dict[str, Any]]] | None = None,
    ) -> None:
        """``only``: (connection, args): keep just the pushes of those subscriptions."""
        self._registry = registry
        self._buffer: StreamBuffer[Event] = StreamBuffer(buffer, logger, "updates() stream")
        self._only = only
        registry.add(self)

    @property
    def dropped(self) -> int:
        """Pushes dropped because the buffer was full."""
        return self._buffer.dropped

    @property
    def closed(self) -> bool:
        return self._buffer.ended

    def put(self, event: Event) -> None:
        """One push (the client calls it on its loop)."""
        if self._only is not None:
            connection, args = self._only
            arg = (event.message or {}).get("arg")
            if event.connection != connection or not isinstance(arg, dict):
                return
            if not any(arg_matches(sent, arg) for sent in args):
                return
        self._buffer.put(event)

    def end(self) -> None:
        """No more pushes: the reader drains what is buffered, then the iteration ends."""
        self._registry.discard(self)
        self._buffer.end()

    def __aiter__(self) -> UpdateStream:
        return self

    async def __anext__(self) -> Event:
        event = await self._buffer.get()
        if event is None:
            raise StopAsyncIteration
        return event

    async def aclose(self) -> None:
        """Stop receiving; a reader waiting on the stream ends."""
        self.end()


__all__ = ["UPDATE_QUEUE_SIZE", "UpdateStream"]
