"""Requests whose caller stopped waiting, and OKX's replies to them that come late.

A request that timed out (``RequestTimeout(sent=True)``) or whose call was
cancelled after its frame left still reached OKX, and OKX still answers it:
that late reply is OKX's own word on a fate the client had to call unknown.
So a :class:`~.session.Session` keeps the ids of such requests for a while
(:class:`Recent`: bounded in number and in age, since a reply can only come
on the same link and OKX answers in milliseconds, not minutes) and hands a
reply to one of them on as a :class:`LateReply`, for the order tracker,
``reconcile()`` and the ``late_reply`` event.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Any, Final, Generic, NamedTuple, TypeVar

from .frames import Reply

# How long a link remembers a request it stopped waiting for.  OKX answers in
# milliseconds and drops requests past their expTime; a reply minutes late is
# not expected, and an id kept longer only costs memory.
LATE_REPLY_TTL_S: Final = 300.0
# Expired request ids remembered per link (the oldest are forgotten first): a
# burst of timeouts is a dead or stalled link, whose late replies stop anyway.
MAX_EXPIRED: Final = 1024

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """An insertion-ordered map that forgets entries beyond ``size`` or older than ``ttl``.

    Pruning happens on insert (amortised O(1)); a read also refuses an entry
    past its age, so nothing stale is ever returned.
    """

    __slots__ = ("size", "ttl", "_items")

    def __init__(self, size: int, ttl: float | None = None) -> None:
        self.size = size
        self.ttl = ttl
        self._items: collections.OrderedDict[K, tuple[float, V]] = collections.OrderedDict()

    def put(self, key: K, value: V, now: float) -> None:
        items = self._items
        items[key] = (now, value)
        items.move_to_end(key)
        while len(items) > self.size:
            items.popitem(last=False)
        self._expire(now)

    def get(self, key: K, now: float) -> V | None:
        found = self._items.get(key)
        if found is None or self._old(found[0], now):
            return None
        return found[1]

    def pop(self, key: K, now: float) -> V | None:
        found = self._items.pop(key, None)
        if found is None or self._old(found[0], now):
            return None
        return found[1]

    def values(self, now: float) -> list[V]:
        self._expire(now)
        return [value for _, value in self._items.values()]

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def _old(self, at: float, now: float) -> bool:
        return self.ttl is not None and now - at > self.ttl

    def _expire(self, now: float) -> None:
        items = self._items
        while items and self._old(next(iter(items.values()))[0], now):
            items.popitem(last=False)


class Retained(NamedTuple):
    """A bounded-by-design store: how many entries it holds now, and at most."""

    entries: int
    cap: int


@dataclass(frozen=True, slots=True)
class Orphan:
    """A request its caller stopped waiting for, kept to recognise its late reply."""

    op: str
    args: list[dict[str, Any]]
    why: str  # "timed out", "was cancelled"


@dataclass(slots=True)  # not frozen, as its base (see Reply)
class LateReply(Reply):
    """OKX's reply to an :class:`Orphan`: the request's ``op``, ``args`` and ``why``."""

    op: str
    args: list[dict[str, Any]]
    why: str


__all__ = ["LATE_REPLY_TTL_S", "MAX_EXPIRED", "LateReply", "Orphan", "Recent", "Retained"]
