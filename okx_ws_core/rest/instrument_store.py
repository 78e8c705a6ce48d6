"""The process-wide side of :class:`~okx_ws_core.rest.instruments.InstrumentRegistry`.

OKX limits the instrument list to 20 requests / 2 s per IP, so registries of
one process for one REST base and demo flag share a :class:`Store`: the codes,
what is known of each list, and the load in flight.  Registries may run on
different event loops (each blocking client has its own loop thread), so
nothing here is an asyncio object shared across loops: the store is guarded by
a lock, and a :class:`Load` runs on its leader's loop while any loop awaits it
through a thread-safe ``concurrent.futures.Future``.  Stores are held by their
registries only (a weak-valued index finds them), so they never keep a client
alive; the last registry gone, the codes go too.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import weakref
from dataclasses import dataclass
from typing import Final

__all__ = [
    "ABANDONED",
    "Abandoned",
    "ListKey",
    "ListState",
    "Load",
    "LoadFailed",
    "Outcome",
    "Store",
    "label",
    "shared_store",
]

ListKey = tuple[str, "str | None"]  # (instType, instFamily or None): one REST list


def label(key: ListKey) -> str:
    """How a list is named in messages: ``SWAP``, ``OPTION BTC-USD``."""
    return key[0] if key[1] is None else f"{key[0]} {key[1]}"


class LoadFailed(Exception):
    """A REST load failed; each waiter turns ``reason`` into its own error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Abandoned:
    """A load's outcome when it never finished (its registry closed, its loop stalled)."""


ABANDONED: Final = Abandoned()
Outcome = LoadFailed | Abandoned | None  # None: loaded


class Load:
    """One REST load in flight, started on ``loop`` and awaited from any loop."""

    __slots__ = ("loop", "_done")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._done: concurrent.futures.Future[Outcome] = concurrent.futures.Future()

    def finish(self, outcome: Outcome) -> None:
        """Settle every waiter, once (a later call is ignored)."""
        try:
            self._done.set_result(outcome)
        except concurrent.futures.InvalidStateError:
            pass

    def waiter(self) -> asyncio.Future[Outcome]:
        """A future on the running loop with the outcome; cancelling it cancels only it."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Outcome] = loop.create_future()

        def settle(outcome: Outcome) -> None:
            if not waiter.done():
                waiter.set_result(outcome)

        def done(future: concurrent.futures.Future[Outcome]) -> None:
            try:
                loop.call_soon_threadsafe(settle, future.result())
            except RuntimeError:  # that loop is closed: nobody is waiting there any more
                pass

        self._done.add_done_callback(done)
        return waiter


@dataclass(eq=False)
class ListState:
    """What we know of one REST list (one (instType, family))."""

    loaded_at: float | None = None  # clock() at the last successful load
    ids: frozenset[str] = frozenset()  # instIds with a code in that load
    uncoded: frozenset[str] = frozenset()  # instIds listed without a code
    load: Load | None = None  # the load in flight, shared by all callers
    failed_at: float | None = None
    failures: int = 0  # consecutive failed loads
    failure: str = ""


class Store:
    """The REST side of one (base URL, demo flag): codes, lists, loads; any thread.

    Every field is read and written under ``lock`` (never held across an await);
    ``version`` moves whenever ``codes`` changes, so registries know to re-read.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.codes: dict[str, int] = {}
        self.lists: dict[ListKey, ListState] = {}
        self.rejected: dict[str, int] = {}  # invalidated codes, for error messages
        self.version = 0

    def apply(
        self,
        key: ListKey,
        state: ListState,
        fetched: dict[str, int],
        uncoded: frozenset[str],
        now: float,
        logger: logging.Logger,
    ) -> None:
        """Merge a fresh list (call under ``lock``): new and changed codes in, delisted out."""
        codes = self.codes
        for inst_id, code in fetched.items():
            previous = codes.get(inst_id)
            if previous is not None and previous != code and inst_id not in state.ids:
                logger.warning(
                    "okx-ws instruments: %s is %s in the %s list but was %s in another",
                    inst_id,
                    code,
                    label(key),
                    previous,
                )
            codes[inst_id] = code
            self.rejected.pop(inst_id, None)
        ids = frozenset(fetched)
        others = [other.ids for other in self.lists.values() if other is not state]
        for gone in state.ids - ids:
            if not any(gone in other for other in others):
                codes.pop(gone, None)
        state.ids = ids
        state.uncoded = uncoded
        state.loaded_at = now
        state.failed_at = None
        state.failures = 0
        state.failure = ""
        self.version += 1

    def merge(self, key: ListKey, listed: dict[str, int], delisted: set[str], now: float) -> bool:
        """Merge an ``instruments`` channel push (call under ``lock``): OKX pushes only
        what changed since 2026-09-30, so listed ones are added and delisted ones
        dropped, the rest kept.  True if any code changed."""
        state = self.lists.setdefault(key, ListState())
        changed = False
        for inst_id, code in listed.items():
            if self.codes.get(inst_id) != code:
                self.codes[inst_id] = code
                changed = True
            self.rejected.pop(inst_id, None)
        for inst_id in delisted:
            changed |= self.codes.pop(inst_id, None) is not None
        state.ids = (state.ids | frozenset(listed)) - frozenset(delisted)
        if state.loaded_at is None:
            state.loaded_at = now  # the subscribe push is the whole list
        if changed:
            self.version += 1
        return changed


# (REST base, demo flag, transport, clock) -> the store its shared registries use.
# Transport and clock are part of the key so a test's mocked venue or hand-moved clock
# never leaks into another registry's.
_stores: weakref.WeakValueDictionary[tuple[object, ...], Store] = weakref.WeakValueDictionary()
_stores_lock = threading.Lock()


def shared_store(key: tuple[object, ...]) -> Store:
    """The live store for ``key``, or a new one (kept only as long as a registry holds it)."""
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = Store()
        return store
