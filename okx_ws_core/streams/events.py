"""Lifecycle and data events, delivered to handlers registered with ``on()``.

Handlers run on the client's event loop (for the blocking client: its loop
thread), must not block, and may be coroutine functions.  A failing handler is
logged and never breaks the reader.  ``close()`` gives async handlers still
running ``HANDLER_DRAIN_TIMEOUT`` seconds to finish, then cancels them: user
code can delay a close, never block it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

HANDLER_DRAIN_TIMEOUT: Final = 5.0  # seconds close() waits for async handlers to finish

EventName = Literal[
    "open",
    "reconnect",
    "reconnected",
    "authenticated",
    "response",
    "late_reply",
    "update",
    "exception",
    "close",
]
EVENT_NAMES: Final[frozenset[str]] = frozenset(get_args(EventName))


@dataclass(frozen=True, slots=True)
class Event:
    """One event.  ``message`` is OKX's frame where there is one."""

    name: EventName
    connection: str
    message: dict[str, Any] | None = None
    error: BaseException | None = None
    detail: str = ""
    # A repeat of a failure already reported: the logging listener logs it at DEBUG.
    quiet: bool = False


Handler = Callable[[Event], "None | Awaitable[None]"]


class EventEmitter:
    def __init__(self, logger: logging.Logger) -> None:
        self._handlers: dict[str, list[Handler]] = {name: [] for name in EVENT_NAMES}
        self._logger = logger
        self._tasks: set[asyncio.Task[None]] = set()

    def on(self, name: str, handler: Handler) -> Handler:
        if name not in self._handlers:
            raise ValueError(f"unknown event {name!r}; expected one of {sorted(EVENT_NAMES)}")
        self._handlers[name].append(handler)
        return handler

    def off(self, name: str, handler: Handler) -> None:
        handlers = self._handlers.get(name, [])
        if handler in handlers:
            handlers.remove(handler)

    def has(self, name: str) -> bool:
        return bool(self._handlers[name])

    def emit(self, event: Event) -> None:
        for handler in tuple(self._handlers[event.name]):
            try:
                result = handler(event)
            except Exception:
                self._logger.exception("okx-ws %r handler %r failed", event.name, handler)
                continue
            if result is not None and asyncio.iscoroutine(result):
                task = asyncio.get_running_loop().create_task(self._guard(event, result))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _guard(self, event: Event, coro: Awaitable[None]) -> None:
        try:
            await coro
        except Exception:
            self._logger.exception("okx-ws async %r handler failed", event.name)

    async def drain(self, timeout: float = HANDLER_DRAIN_TIMEOUT) -> None:
        """Wait up to ``timeout`` seconds for async handlers still running, then cancel
        the rest (used by ``close()``)."""
        tasks = tuple(self._tasks)
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        if not pending:
            return
        self._logger.warning(
            "okx-ws: %d async event handler(s) still running %gs after close(); cancelled",
            len(pending),
            timeout,
        )
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=timeout)  # bounded even if one ignores the cancel


def attach_logging_listeners(emitter: EventEmitter, logger: logging.Logger) -> None:
    """The default listeners: lifecycle events to ``logger`` (never secrets)."""

    def log_info(event: Event) -> None:
        logger.info("okx-ws %s: %s %s", event.connection, event.name, event.detail)

    def log_exception(event: Event) -> None:
        level = logging.DEBUG if event.quiet else logging.WARNING
        logger.log(level, "okx-ws %s: %s (%r)", event.connection, event.detail, event.error)

    for name in ("open", "reconnect", "reconnected", "authenticated", "close"):
        emitter.on(name, log_info)
    emitter.on("exception", log_exception)
