"""The soak's market-data phase (issue #18): order books under the market's faults.

After the trading segments are judged, one more client (the generated asyncio
client, on the soak's loop and transport, logged in with the first client's
account) follows ``BOOKS``: four instruments, ``books`` and ``books-l2-tbt``
(which logs in on the public connection), each resynced by resubscribing or
from REST.  The simulator's market is sped up for the phase (``RATES``).  Each
book then goes through its fault rounds (``plan``), one fault at a time, the
books side by side:

* a skipped update (gap): the book must turn invalid before it applies a few
  more updates, become valid again, and equal the simulator's book;
* a delayed REST snapshot then a gap (REST books): the snapshot is older than
  the stream when it lands, and must be joined by OKX's procedure;
* a duplicated update and a maintenance reset: the book must chain through
  both (OKX's rules) without resyncing.

Truth is the simulator's book at the seqId the client's book reports
(``Market.book_at``, read over the soak's pipe, ``soak.market_child``),
compared level by level, all levels, whenever the book is valid: after every
resync and after every other round.  Every applied change the book reports
is checked to chain onto the one before (a snapshot starts a new chain): a book
only reports changes while valid, so a break is an invalid book reported
valid.  Findings: :class:`~soak.market_audit.MarketAudit`, the check
``market_books``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from okx_ws_core import OkxWsError

from .clients import client_options
from .config import SoakConfig
from .market_audit import Chain, MarketAudit, differences
from .market_child import DELAY, DUPLICATE, GAP, KINDS, RESET

if TYPE_CHECKING:
    from okx_ws import AsyncWebsocketAPIClient, BookStream

    from .defects import Defect
    from .simproc import SimProcess

MARKET_FROM: Final = 500  # requests: shorter runs test the soak itself (soak.defects)
PER_ROUND: Final = 100  # requests per fault round
MIN_ROUNDS: Final = 24  # every book through its whole cycle (CYCLES) once
# Each resubscribe costs 2 of the 480 subscribe / unsubscribe / login operations OKX
# allows a connection per hour (the client refuses beyond them); a quarter of the
# rounds resubscribe (the resubscribe books' gaps), on the one public connection.
MAX_ROUNDS: Final = 600
# The market, faster than OKX's pace so that a round takes a few pushes of 10-50 ms.
RATES: Final = {"walk": 0.01, "books": 0.02, "l2_tbt": 0.01}
FIRE_LIMIT: Final = 3.0  # s for an armed fault to fire (the next push of its book)
RESYNC_LIMIT: Final = 5.0  # s for a book to be valid again
PAST_GAP: Final = 5  # updates a book may apply after a gap fired before it must be invalid
CHAINED_AFTER: Final = 3  # updates to read after a duplicate or a reset
SAMPLE_AFTER: Final = 2  # each round ends with a comparison this many updates later
DELAY_S: Final = 0.1  # a delayed snapshot is answered this late: older than the stream
POLL: Final = 0.005
SETUP_TIMEOUT: Final = 10.0


@dataclass(frozen=True)
class BookSpec:
    inst_id: str
    channel: str
    resync: str  # "resubscribe" or "rest"

    @property
    def label(self) -> str:
        return f"{self.channel} {self.inst_id} ({self.resync})"


# One instrument per book: a maintenance reset hits every book of its instrument.
BOOKS: Final = (
    BookSpec("BTC-USDT-SWAP", "books", "resubscribe"),
    BookSpec("ETH-USDT", "books", "rest"),
    BookSpec("BTC-USDT", "books-l2-tbt", "resubscribe"),
    BookSpec("ETH-USDT-SWAP", "books-l2-tbt", "rest"),
)
# The rounds of each book, in turn: the faults armed together in each.  A gap first
# (what a book that skips the seq check must face); then each fault alone, and
# together across a resync: a duplicate of the update after a gap, a maintenance
# reset while a delayed REST snapshot is on its way.
Round = tuple[str, ...]
CYCLES: Final[dict[str, tuple[Round, ...]]] = {
    "resubscribe": ((GAP,), (DUPLICATE,), (RESET,), (GAP, DUPLICATE)),
    "rest": (
        (GAP,),
        (DUPLICATE,),
        (DELAY, GAP),
        (RESET,),
        (GAP, DUPLICATE),
        (DELAY, GAP, RESET),
    ),
}


def market_rounds(cfg: SoakConfig, defect: Defect) -> int:
    """Fault rounds of the phase: ``cfg.market_rounds``, else one per ``PER_ROUND``
    requests (at least ``MIN_ROUNDS``, at most ``MAX_ROUNDS``) from ``MARKET_FROM``
    requests on, or when a planted defect shows only there."""
    if cfg.market_rounds is not None:
        return max(0, cfg.market_rounds)
    if cfg.requests < MARKET_FROM and not defect.market:
        return 0
    return min(MAX_ROUNDS, max(MIN_ROUNDS, cfg.requests // PER_ROUND))


def plan(rounds: int) -> list[list[Round]]:
    """The rounds of each book in ``BOOKS``, ``rounds`` in all, dealt in turn."""
    out: list[list[Round]] = [[] for _ in BOOKS]
    for n in range(rounds):
        i = n % len(BOOKS)
        cycle = CYCLES[BOOKS[i].resync]
        out[i].append(cycle[len(out[i]) % len(cycle)])
    return out


async def run_market(
    cfg: SoakConfig, sim: SimProcess, defect: Defect, logger: logging.Logger
) -> MarketAudit:
    """The phase (see the module docstring); what it found."""
    audit = MarketAudit(rounds=market_rounds(cfg, defect))
    if not audit.rounds:
        return audit
    started = time.monotonic()
    before = await sim.call("market", "figures")
    rates = await sim.call("market", "rates", RATES)
    reasons = _Reasons(audit)
    book_logger = logger.getChild("market")
    book_logger.propagate = False
    book_logger.setLevel(logging.INFO)
    book_logger.addHandler(reasons)
    api = _client(cfg, sim.base_url, book_logger)
    try:
        # opened side by side: the public connection's login races the first subscribes
        streams = await asyncio.gather(*(_open(api, spec) for spec in BOOKS))
        runs = []
        for spec, stream, rounds in zip(BOOKS, streams, plan(audit.rounds), strict=True):
            defect.market_book(stream)
            audit.books.append(spec.label)
            runs.append(_BookRun(spec, stream, sim, audit, rounds))
        await asyncio.gather(*(run.run() for run in runs))
        for run in runs:
            await run.close()
        await _all_fired(sim, audit)
    except (OkxWsError, OSError, RuntimeError) as exc:
        audit.problems.append(f"the market phase stopped: {type(exc).__name__}: {exc}")
    finally:
        await api.close()
        book_logger.removeHandler(reasons)
        await sim.call("market", "rates", rates)
    after = await sim.call("market", "figures")
    audit.fired = {kind: after[kind] - before[kind] for kind in KINDS}
    audit.rest_snapshots = after["rest_snapshots"] - before["rest_snapshots"]
    audit.elapsed = time.monotonic() - started
    return audit


async def _open(api: AsyncWebsocketAPIClient, spec: BookSpec) -> BookStream:
    return await api.order_book(
        spec.inst_id,
        spec.channel,  # type: ignore[arg-type]
        resync=spec.resync,  # type: ignore[arg-type]
        timeout=SETUP_TIMEOUT,
    )


def _client(cfg: SoakConfig, base_url: str, logger: logging.Logger) -> AsyncWebsocketAPIClient:
    """The phase's client: the first client's account (``soak.clients``' naming), its
    transport, the soak's timings and limiter."""
    from okx_ws import AsyncWebsocketAPIClient

    options = client_options(cfg, cfg.clients[0], base_url, logger)
    return AsyncWebsocketAPIClient(**options)


class _Reasons(logging.Handler):
    """Why the books went invalid (their INFO line), and their warnings, by kind."""

    def __init__(self, audit: MarketAudit) -> None:
        super().__init__(logging.INFO)
        self.audit = audit

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if "book invalid:" in str(record.msg) and args:
            self.audit.invalid_reasons[_kind(str(args[-1]))] += 1
        elif record.levelno >= logging.WARNING:
            self.audit.warnings[_kind(record.getMessage())] += 1


def _kind(text: str) -> str:
    """A message without its numbers, shortened: one key per kind."""
    head = text.removeprefix("okx-ws: ").split(": ", 1)[0]
    return re.sub(r"\d+(\.\d+)?", "N", head)[:70]


async def _all_fired(sim: SimProcess, audit: MarketAudit) -> None:
    """Wait for the delayed snapshots still armed (any REST book's fetch takes one)."""
    deadline = time.monotonic() + FIRE_LIMIT
    while DELAY in await sim.call("market", "pending", ""):
        if time.monotonic() > deadline:
            audit.problems.append("a delayed REST snapshot was armed but no book fetched one")
            return
        await asyncio.sleep(0.02)


class _BookRun:
    """One book through its rounds; a reader checks every change it reports."""

    def __init__(
        self,
        spec: BookSpec,
        stream: BookStream,
        sim: SimProcess,
        audit: MarketAudit,
        rounds: list[Round],
    ) -> None:
        self.spec = spec
        self.stream = stream
        self.sim = sim
        self.audit = audit
        self.rounds = rounds
        self.chain = Chain()
        self.changes = 0
        self.dropped = 0
        self.reader = asyncio.ensure_future(self.read())

    # -- every applied change ----------------------------------------------------------
    async def read(self) -> None:
        """Each change the book reports chains onto the last (``Chain``)."""
        stream, audit, chain = self.stream, self.audit, self.chain
        async for change in stream:
            self.changes += 1
            audit.updates += 1
            if stream.dropped != self.dropped:  # changes were lost to a full buffer
                self.dropped = stream.dropped
                chain.lost()
            wrong = chain.see(change)
            if wrong is not None:
                audit.invalid_valid.append(f"{self.spec.label}: {wrong} (seqId {change.seq_id})")

    # -- the rounds --------------------------------------------------------------------
    async def run(self) -> None:
        await self.compare("after the first snapshot", resync=True)
        for n, faults in enumerate(self.rounds):
            name = f"round {n} ({'+'.join(faults)})"
            try:
                await self.round(name, faults)
                await self.after(SAMPLE_AFTER)
                await self.compare(f"{name}, {SAMPLE_AFTER} updates later", resync=False)
            except OkxWsError as exc:
                self.audit.problems.append(f"{self.spec.label} {name}: {exc!r}")
                return

    async def round(self, name: str, faults: Round) -> None:
        """Arm ``faults`` together; once fired, a gap must make the book invalid before
        it applies ``PAST_GAP`` more updates, then valid again and equal to the
        simulator's; without a gap the book chains through (no resync).  More
        invalidations than the gap (REST snapshots refused as inexact aside) are
        needless resyncs."""
        stream, spec, audit = self.stream, self.spec, self.audit
        invalidations, inexact = stream.invalidations, stream.inexact_bridges
        resets = self.chain.resets
        for kind in faults:
            await self.arm(kind)
        for kind in faults:
            if kind != DELAY and not await self.fired(kind, name):
                return
        gap = GAP in faults
        if gap:
            seen = self.changes
            await _until(
                lambda: stream.invalidations > invalidations or self.changes - seen >= PAST_GAP,
                RESYNC_LIMIT,
            )
            if stream.invalidations == invalidations:
                audit.invalid_valid.append(
                    f"{spec.label} {name}: {self.changes - seen} updates applied past a gap,"
                    " the book still valid"
                )
                await self.compare(f"{name}, past a gap", resync=False)
                return
        else:
            await self.after(CHAINED_AFTER)
            quiet = stream.invalidations == invalidations
            if RESET in faults and self.chain.resets == resets and quiet:
                audit.problems.append(
                    f"{spec.label} {name}: no update with seqId < prevSeqId reached the book"
                    " after the maintenance reset"
                )
        extra = stream.invalidations - invalidations - gap - (stream.inexact_bridges - inexact)
        if extra > 0:
            audit.problems.append(
                f"{spec.label} {name}: {extra} needless resync(s); OKX's rules chain a"
                " duplicate and a reset"
            )
        if stream.invalidations != invalidations:
            await stream.wait_valid(RESYNC_LIMIT)
            await self.compare(f"{name}, resynced", resync=True)
        else:
            await self.compare(name, resync=False)

    async def after(self, updates: int) -> None:
        """Until the book reported ``updates`` more changes (or RESYNC_LIMIT passed)."""
        seen = self.changes
        await _until(lambda: self.changes - seen >= updates, RESYNC_LIMIT)

    async def arm(self, kind: str) -> None:
        self.audit.armed[kind] += 1
        spec = self.spec
        await self.sim.call("market", "arm", kind, spec.inst_id, spec.channel, DELAY_S)

    async def fired(self, kind: str, name: str) -> bool:
        """Wait until the simulator no longer holds ``kind`` armed on this book."""
        deadline = time.monotonic() + FIRE_LIMIT
        while kind in await self.sim.call("market", "pending", self.spec.inst_id):
            if time.monotonic() > deadline:
                self.audit.problems.append(
                    f"{self.spec.label} {name}: the {kind} armed never fired"
                )
                return False
            await asyncio.sleep(POLL * 2)
        return True

    async def compare(self, why: str, *, resync: bool) -> None:
        """The book, if valid, against the simulator's at the same seqId, every level."""
        stream, audit = self.stream, self.audit
        if not stream.valid:
            await stream.wait_valid(RESYNC_LIMIT)
        seq = stream.seq_id
        ours = stream.levels()  # same loop turn as seq_id: one state of the book
        assert seq is not None
        depth = stream.book.max_depth
        theirs = await self.sim.call("market", "book_at", self.spec.inst_id, seq, depth)
        if theirs is None:
            audit.problems.append(
                f"{self.spec.label} {why}: seqId {seq} is older than the simulator's history"
            )
            return
        audit.compared += 1
        audit.compared_after_resync += resync
        audit.levels_compared += len(ours[0]) + len(ours[1])
        diff = differences(ours, theirs)
        if diff:
            text = f"{self.spec.label} {why} at seqId {seq}: {diff}"
            audit.mismatches.append(text)
            audit.invalid_valid.append(text)

    async def close(self) -> None:
        stream = self.stream
        audit = self.audit
        audit.invalidations += stream.invalidations
        audit.resyncs += stream.resyncs
        audit.inexact_bridges += stream.inexact_bridges
        audit.seq_drops += self.chain.resets
        await stream.aclose()
        await asyncio.gather(self.reader, return_exceptions=True)


async def _until(predicate: Callable[[], bool], limit: float) -> bool:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(POLL)
    return True


__all__ = ["BOOKS", "MarketAudit", "market_rounds", "plan", "run_market"]
