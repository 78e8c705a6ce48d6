"""``StreamBuffer``: the bounded, single-consumer queue behind every async stream.

``ChannelStream``, ``updates()`` and the runner of async channel callbacks all
need the same thing: pushes arrive on the event loop and must never block it
or grow memory without bound, one consumer reads them, and the end of the
stream must reach that consumer however often it asks.  Keeping that here,
once, is what makes each of them unable to hang:

* at most ``size`` items; beyond that the oldest is dropped, counted, and
  logged once then every 1000th drop (a stalled consumer must not flood the log);
* one consumer at a time: a second concurrent ``get()`` raises
  :class:`StreamInUse` at once instead of silently stealing the first one's
  wake-up (which left the first waiting forever);
* once ended, every ``get()`` on an empty buffer returns ``None`` at once.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Generic, TypeVar

from ..errors import ConfigurationError, StreamInUse, UpdateTimeout

T = TypeVar("T")


class Drops:
    """Counts items dropped from a full buffer; logs the first and every 1000th."""

    def __init__(self, size: int, logger: logging.Logger, what: str) -> None:
        if size < 1:
            raise ConfigurationError(f"buffer must be >= 1, got {size}")
        self.size = size
        self.count = 0
        self._logger = logger
        self._what = what

    def note(self) -> None:
        self.count += 1
        if self.count == 1 or self.count % 1000 == 0:
            self._logger.warning(
                "okx-ws: %s buffer full (%d), dropped the oldest update (%d so far)",
                self._what,
                self.size,
                self.count,
            )


class StreamBuffer(Generic[T]):
    """A bounded FIFO filled on the event loop and read by one task (see the module doc).

    ``what`` names the stream in log lines and errors (``"orders stream"``).
    """

    def __init__(self, size: int, logger: logging.Logger, what: str) -> None:
        self.what = what
        self._drops = Drops(size, logger, what)
        self._items: collections.deque[T] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self.ended = False

    @property
    def dropped(self) -> int:
        """Items dropped because the buffer was full."""
        return self._drops.count

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T) -> T | None:
        """Append ``item``; returns the oldest item if it had to be dropped for it."""
        dropped = None
        if len(self._items) >= self._drops.size:
            dropped = self._items.popleft()
            self._drops.note()
        self._items.append(item)
        self._wake()
        return dropped

    def end(self) -> None:
        """No more items: the consumer drains what is buffered, then gets ``None``."""
        self.ended = True
        self._wake()

    def take_all(self) -> list[T]:
        """Empty the buffer (what a closed callback runner never ran)."""
        items = list(self._items)
        self._items.clear()
        return items

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self, timeout: float | None = None) -> T | None:
        """The next item, ``None`` once ended and drained.

        Raises :class:`UpdateTimeout` after ``timeout`` seconds (``None``: no
        limit) and :class:`StreamInUse` if another task is already waiting.
        """
        if not self._items and not self.ended and self._waiter is not None:
            raise StreamInUse(
                f"the {self.what} has one consumer and another task is already waiting on it;"
                " open a second stream for a second consumer"
            )
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not self._items:
            if self.ended:
                return None
            waiter = self._waiter = loop.create_future()
            try:
                if deadline is None:
                    await waiter
                else:
                    await asyncio.wait_for(waiter, max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise UpdateTimeout(f"no update on the {self.what} within {timeout:g}s") from None
            finally:
                if self._waiter is waiter:
                    self._waiter = None
        return self._items.popleft()


__all__ = ["Drops", "StreamBuffer"]
