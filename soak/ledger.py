"""One record per request the user issued, closed exactly once.

A request is *opened* before the client call and *closed* with one outcome
when the call returns or raises.  A second close is kept as a double close
(a duplicate report); a record never closed is lost.

Closed records are *frozen* in batches (:class:`Frozen`: one compressed bytes
object per batch) and thawed when the run is judged: a 100,000-request ledger
of live objects took ~90 MB in the client process, plus as much again in
tracemalloc's tables for its 1.5 million blocks, and would hide a client leak
of 20 MB (``soak.rss``).  Frozen, it costs ~50 bytes per request in a few
hundred blocks.
"""

from __future__ import annotations

import marshal
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, fields
from typing import Any

# Outcomes.  "auth_error" = the login was refused, the request never left the
# client; "timeout_unsent" = RequestTimeout(sent=False), "rate_limited" =
# RateLimitExceeded and "unresolved" = InstrumentResolutionError (OKX's
# instrument list unreachable, e.g. during a restart), likewise never sent.
SUCCESS = "success"
API_ERROR = "api_error"
TIMEOUT_UNKNOWN = "timeout_unknown"
TIMEOUT_UNSENT = "timeout_unsent"
CONNECTION_LOST = "connection_lost"
AUTH_ERROR = "auth_error"
RATE_LIMITED = "rate_limited"  # RateLimitExceeded: the client's own pacing, never sent
UNRESOLVED = "unresolved"  # InstrumentResolutionError: instrument list unreachable, never sent
HUNG = "hung"  # the watchdog had to give up on the call
UNEXPECTED = "unexpected"  # any other exception: a bug somewhere
OUTCOMES = (
    SUCCESS,
    API_ERROR,
    TIMEOUT_UNKNOWN,
    TIMEOUT_UNSENT,
    CONNECTION_LOST,
    AUTH_ERROR,
    RATE_LIMITED,
    UNRESOLVED,
    HUNG,
    UNEXPECTED,
)
ANSWERED = frozenset({SUCCESS, API_ERROR})
UNKNOWN_FATE = frozenset({TIMEOUT_UNKNOWN, CONNECTION_LOST})
NEVER_SENT = frozenset({AUTH_ERROR, TIMEOUT_UNSENT, RATE_LIMITED, UNRESOLVED})

PLACE_OPS = frozenset({"order", "batch-orders", "sprd-order"})


def own(text: Any) -> str:
    """A private copy of a string taken from a reply, so the ledger keeps no
    object the client allocated alive (that would look like a client leak)."""
    s = str(text)
    return (s + "\0")[:-1]


@dataclass(slots=True)
class Record:
    index: int
    client: str  # "async" | "sync"
    api_key: str
    op: str
    kind: str  # workload kind: rest, fill, batch, bad, cancel, amend, probe
    cl_ord_ids: tuple[str, ...]  # placed ids (place ops) or target ids (cancel/amend)
    timeout: float
    started: float
    new_sz: str = ""  # amend target size
    inst_id: str = ""  # the instrument it names ("" for a spread order)
    expect_fail: frozenset[str] = frozenset()  # clOrdIds built to be rejected
    ended: float = 0.0
    outcome: str = ""
    request_id: str = ""
    sent: bool | None = None
    detail: str = ""
    # (clOrdId, ordId, sCode) of every item in the answer.  Tuples, not dicts: a
    # small dict's keys table comes from CPython's free list of keys tables and,
    # not being an object, keeps the allocation site of whoever malloc'ed it first
    # (contextlib.py:105 in the client's hot path): ten thousand retained dicts
    # looked like a client leak.  A tuple is an object, charged to where it is made.
    items: tuple[tuple[str, str, str], ...] = ()
    closes: int = 0

    @property
    def accepted(self) -> dict[str, str]:
        """clOrdId -> ordId of the items OKX accepted."""
        return {cl: oid for cl, oid, code in self.items if code == "0"}

    @property
    def rejected(self) -> dict[str, str]:
        """clOrdId -> sCode of the items OKX rejected."""
        return {cl: code for cl, oid, code in self.items if code != "0"}

    @property
    def duration(self) -> float:
        return self.ended - self.started

    @property
    def tag(self) -> str:
        return f"#{self.index} {self.client} {self.op} {self.outcome or 'OPEN'} id={self.request_id or '-'}"


FIELDS = tuple(f.name for f in fields(Record))  # Record(*values) takes them in this order
FREEZE_EVERY = 2000  # closed records per frozen batch


class Frozen:
    """Values in compressed batches: a few large blocks instead of many small objects."""

    def __init__(self) -> None:
        self.batches: list[bytes] = []
        self.count = 0

    def add(self, values: list[Any]) -> None:
        if values:
            self.batches.append(zlib.compress(marshal.dumps(values), 1))
            self.count += len(values)

    def thaw(self) -> list[Any]:
        out: list[Any] = []
        for batch in self.batches:
            out.extend(marshal.loads(zlib.decompress(batch)))
        self.batches.clear()
        self.count = 0
        return out

    @property
    def nbytes(self) -> int:
        return sum(len(b) for b in self.batches)


class Ledger:
    """Thread-safe: the async workers and the blocking client's threads share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: list[Record] = []  # open, or closed since the last freeze
        self._closed_live = 0
        self._frozen = Frozen()
        self.double_closes: list[str] = []
        self.issued = 0  # workload requests opened (probes excluded)

    @property
    def records(self) -> list[Record]:
        """Every record, in the order opened (thaws the frozen ones: for judging)."""
        with self._lock:
            if self._frozen.count:
                thawed = [Record(*values) for values in self._frozen.thaw()]
                self._live = sorted(thawed + self._live, key=lambda r: (r.started, r.index))
            return self._live

    def freeze(self) -> None:
        """Freeze every closed record (at a quiet moment, or every FREEZE_EVERY closes)."""
        with self._lock:
            self._freeze()

    def _freeze(self) -> None:
        closed = [r for r in self._live if r.closes]
        self._frozen.add([tuple(getattr(r, name) for name in FIELDS) for r in closed])
        self._live = [r for r in self._live if not r.closes]
        self._closed_live = 0

    @property
    def frozen_bytes(self) -> int:
        return self._frozen.nbytes

    def open(self, record: Record) -> Record:
        with self._lock:
            self._live.append(record)
            if record.kind != "probe":
                self.issued += 1
        return record

    def close(self, record: Record, outcome: str, **values: Any) -> None:
        now = time.monotonic()
        with self._lock:
            record.closes += 1
            if record.closes > 1:
                self.double_closes.append(
                    f"#{record.index} closed again as {outcome} (was {record.outcome})"
                )
                return
            record.ended = now
            record.outcome = outcome
            for name, value in values.items():
                setattr(record, name, value)
            self._closed_live += 1
            if self._closed_live >= FREEZE_EVERY:
                self._freeze()

    def open_records(self) -> list[Record]:
        return [r for r in self.records if r.closes == 0]

    def outcomes(self) -> Counter[str]:
        return Counter(r.outcome or "OPEN" for r in self.records)
