"""``order_book()`` end to end against the simulator's market (issue #18), both clients.

The book the client holds is compared level by level with the simulator's own
book at the same seqId (``sim.market.book_at``), after plain updates and after
every injected fault: a skipped update (a gap: invalid at once, resynced from
REST), a duplicated one (ignored), a maintenance reset (seqId < prevSeqId:
chained, OKX's rule), a delayed REST snapshot, a dropped connection.  A book is
never read as valid while it differs from the simulator's.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from okx_ws import AsyncWebsocketAPIClient, BookStream, WebsocketAPIClient

from okx_ws_sim import MarketRates, Simulator, SimulatorThread
from tests.conftest import CREDENTIALS, FAST, client_options

RATES = MarketRates(walk=0.005, books=0.02, l2_tbt=0.005, books5=0.02)
INST = "BTC-USDT-SWAP"
GAPS = 4
Sides = tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]


def simulator_book(sim: Simulator, inst_id: str, seq_id: int, depth: int = 400) -> Sides:
    at = sim.market.book_at(inst_id, seq_id, depth)
    return (
        {px: sz for px, sz, _ in at["bids"]},
        {px: sz for px, sz, _ in at["asks"]},
    )


def mismatch(sim: Simulator, book: BookStream, depth: int = 400) -> str | None:
    """None if the valid book equals the simulator's at its seqId, else the first difference."""
    assert book.valid and book.seq_id is not None
    ours = book.levels()
    theirs = simulator_book(sim, book.inst_id, book.seq_id, depth)
    for side, mine, expected in zip(("bids", "asks"), ours, theirs, strict=True):
        if mine != expected:
            wrong = sorted(set(mine.items()) ^ set(expected.items()))[:3]
            return f"{side} at seqId {book.seq_id}: {len(mine)} vs {len(expected)} levels, {wrong}"
    return None


async def follow(sim: Simulator, book: BookStream, changes: int, figures: Counter[str]) -> None:
    """Read ``changes`` applied changes, comparing the book after each one."""
    for _ in range(changes):
        await book.get(timeout=5)
        if book.valid:
            figures["compared"] += 1
            problem = mismatch(sim, book)
            if problem is not None:
                figures["mismatches"] += 1
                pytest.fail(problem)


async def until_invalid_then_valid(
    book: BookStream, figures: Counter[str], invalidations: int
) -> None:
    """Wait for the book to count one more invalidation than ``invalidations``, then to be
    valid again (the resync may finish between two polls: the count says it happened)."""
    for _ in range(5000):
        if book.invalidations > invalidations:
            break
        await asyncio.sleep(0.001)
    else:
        pytest.fail("the book never went invalid")
    figures["invalidated"] += 1
    await book.wait_valid(timeout=5)
    figures["resynced"] += 1


@pytest.mark.parametrize("resync", ["resubscribe", "rest"])
@pytest.mark.parametrize("channel", ["books", "books-l2-tbt"])
async def test_the_book_equals_the_simulators_through_gaps_resets_and_reconnects(
    channel: Any, resync: Any
) -> None:
    figures: Counter[str] = Counter()
    logins: list[str] = []
    async with Simulator(idle_timeout=5.0, market_rates=RATES) as sim:
        async with AsyncWebsocketAPIClient(base_url=sim.base_url, **CREDENTIALS, **FAST) as api:
            api.get_ws_client().on("authenticated", lambda e: logins.append(e.connection))
            book = await api.order_book(INST, channel, resync=resync)
            assert book.valid
            await follow(sim, book, 40, figures)
            # gaps: invalid at once, resynced, equal again
            for _ in range(GAPS):
                seen = book.invalidations
                if resync == "rest" and figures["gaps"] == 0:
                    sim.faults.delay_book_snapshot(0.1)  # a snapshot older than the stream
                sim.faults.skip_book_update(INST)
                figures["gaps"] += 1
                await until_invalid_then_valid(book, figures, seen)
                await follow(sim, book, 10, figures)
            # a duplicated update is ignored; a maintenance reset chains (OKX's rule)
            sim.faults.duplicate_book_update(INST)
            sim.faults.reset_book_sequence(INST)
            before = book.seq_id
            assert before is not None
            await follow(sim, book, 20, figures)
            assert book.valid and book.seq_id is not None and book.seq_id < before
            # a dropped connection: invalid until the restored subscription's snapshot
            seen = book.invalidations
            sim.faults.close_after_frames(1)
            await until_invalid_then_valid(book, figures, seen)
            await follow(sim, book, 10, figures)
            figures["inexact REST snapshots refused"] = book.inexact_bridges
            await book.aclose()
        injected = sim.stats.faults_injected
        assert injected["book_gap"] == GAPS and injected["book_reset"] == 1
        rest_calls = sim.rest_calls("/api/v5/market/books")
    assert figures["mismatches"] == 0 and figures["resynced"] == GAPS + 1
    if resync == "resubscribe":
        assert rest_calls == 0  # every resync from a subscribe snapshot
    else:
        assert rest_calls == GAPS + figures["inexact REST snapshots refused"]
    if channel == "books-l2-tbt":  # a login channel: the public connection logs in
        assert logins.count("public") == 2  # first, then again after the reconnect
    else:
        assert "public" not in logins
    print(f"{channel} resync={resync}: {dict(figures)}, REST snapshots {rest_calls}")


async def test_several_books_and_a_ticker_without_credentials() -> None:
    figures: Counter[str] = Counter()
    async with Simulator(idle_timeout=5.0, market_rates=RATES) as sim:
        async with AsyncWebsocketAPIClient(base_url=sim.base_url, **FAST) as api:
            books = [await api.order_book(inst, "books") for inst in ("BTC-USDT", "ETH-USDT")]
            top = await api.order_book("BTC-USDT", "books5")
            ticker = await api.subscribe_tickers("BTC-USDT")
            assert (await ticker.get(timeout=5)).data[0].inst_id == "BTC-USDT"
            seen = books[1].invalidations
            sim.faults.skip_book_update("ETH-USDT")
            await until_invalid_then_valid(books[1], figures, seen)
            for book in books:
                await follow(sim, book, 5, figures)
            await top.get(timeout=5)
            assert mismatch(sim, top, depth=5) is None
            bid, ask = top.best_bid(), top.best_ask()
            assert bid is not None and ask is not None and bid[0] < ask[0]
    assert figures["mismatches"] == 0


def test_the_blocking_client_holds_the_simulators_book() -> None:
    with SimulatorThread(idle_timeout=5.0, market_rates=RATES) as sim:
        with WebsocketAPIClient(**client_options(sim.base_url)) as api:
            book = api.order_book(INST, "books")
            for _ in range(10):
                book.get(timeout=5)
            sim.faults.skip_book_update(INST)
            for change in book.iter(timeout=5):
                if change.snapshot:  # the REST resync: the whole book changed
                    break
            assert book.valid
            # stop the walk so both books hold still, then compare them level by level
            sim.call(lambda: sim.simulator.market.freeze())
            seq = sim.call(lambda: sim.simulator.market.seq_id(INST))
            for _ in book.iter(timeout=0.3):
                pass  # what was pushed before the freeze
            assert book.seq_id == seq
            theirs = sim.call(lambda: simulator_book(sim.simulator, INST, seq))
            assert book.levels() == theirs
            book.close()
            assert not book.valid
