"""What an :class:`~okx_ws_core.book.orderbook.OrderBook` asks its driver to do, and OKX's resync rule.

The book is sans-I/O (like h11 or wsproto): it never sends, fetches or sleeps.
Feeding it a frame returns a sequence of these objects; the driver (the client)
performs the I/O ones and may log or count the others:

* :class:`Invalidated` -- the book just stopped being trustworthy (a gap, a
  crossed book, a lost connection).  Informational; reads raise from now on.
* :class:`FetchSnapshot` -- perform ``GET /api/v5/market/books?instId=&sz=depth``
  and hand the reply to ``OrderBook.apply_rest_snapshot(reply, now, request=action)``.
* :class:`Resubscribe` -- unsubscribe and subscribe the channel again; OKX's
  subscribe reply brings a fresh ``action: "snapshot"``.
* :class:`Synced` -- the book is valid again (informational).

**Resync choice: REST by default** (``resync="rest"``).  The subscription stays
live and the stream is buffered, so no frame is lost while resyncing; it costs
one REST call (public, 40 requests / 2 s) instead of an unsubscribe and a
subscribe counted against 480 subscribe+login per hour per connection; and it
works even if OKX stops sending subscribe snapshots.  ``resync="resubscribe"``
is offered for drivers without REST.  Either way one action is emitted per
episode and frames are buffered or ignored until it completes, never a
resubscribe per frame (the storm found in gocryptotrader #2337, 2026-08-18).

The bridging rule below is OKX's "How to manage a local order book correctly"
(changelog entry of 2026-02-12, see the ``orderbook`` module docstring), kept
as pure functions so it can be tested on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, TypeAlias

from .levels import BookFrameError

SyncSource = Literal["snapshot", "rest", "push"]


@dataclass(frozen=True, slots=True)
class Invalidated:
    """The book became invalid; ``reason`` says why (for logs and metrics)."""

    channel: str
    inst_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class FetchSnapshot:
    """Fetch ``GET /api/v5/market/books?instId=inst_id&sz=depth`` and pass the reply back.

    ``generation`` identifies the resync episode: a reply to a request of an
    older episode (the stream reset under it) is ignored by the book, so the
    driver never has to cancel an in-flight request.
    """

    channel: str
    inst_id: str
    depth: int
    reason: str
    generation: int


@dataclass(frozen=True, slots=True)
class Resubscribe:
    """Unsubscribe then subscribe ``channel``/``inst_id``; the next WS snapshot resyncs."""

    channel: str
    inst_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Synced:
    """The book is valid at ``seq_id``; ``source`` is how it got there."""

    channel: str
    inst_id: str
    seq_id: int
    source: SyncSource


BookAction: TypeAlias = Invalidated | FetchSnapshot | Resubscribe | Synced


class Bridge(Enum):
    """What to do with one stream event against a REST snapshot taken at ``snap``."""

    DROP = "drop"  # already contained in the snapshot (seqId < snap)
    AT_SNAPSHOT = "at-snapshot"  # the event that produced the snapshot (seqId == snap)
    APPLY = "apply"  # prevSeqId <= snap < seqId: the first event to apply
    TOO_OLD = "too-old"  # prevSeqId > snap: events are missing between them, fetch again
    RESET = "reset"  # seqId < prevSeqId: maintenance reset, sequence numbers not comparable


def bridge(prev_seq_id: int, seq_id: int, snap: int) -> Bridge:
    """Classify a stream event against a snapshot's ``seqId`` (OKX's procedure, steps 4-6).

    A maintenance reset is checked first: across it the two numbers belong to
    different sequences, and treating the low chain as "older than the
    snapshot" would drop it forever (gocryptotrader #2255's "missed reset").
    """
    if seq_id < prev_seq_id:
        return Bridge.RESET
    if seq_id < snap:
        return Bridge.DROP
    if seq_id == snap:
        return Bridge.AT_SNAPSHOT
    if prev_seq_id <= snap:
        return Bridge.APPLY
    return Bridge.TOO_OLD


def snapshot_too_old(snap: int, first_buffered_prev: int | None) -> bool:
    """OKX step 4: a snapshot older than the first buffered event's ``prevSeqId`` is refetched."""
    return first_buffered_prev is not None and snap < first_buffered_prev


def rest_snapshot_item(
    reply: Mapping[str, Any] | Sequence[Mapping[str, Any]],
) -> Mapping[str, Any]:
    """The one book of a ``GET /api/v5/market/books`` reply: the reply, its ``data``, or that item."""
    items: Sequence[Mapping[str, Any]]
    if isinstance(reply, Mapping):
        if "data" not in reply:
            return reply
        items = reply["data"]
    else:
        items = reply
    if len(items) != 1:
        raise BookFrameError(f"a REST order book snapshot has one item, got {len(items)}")
    return items[0]
