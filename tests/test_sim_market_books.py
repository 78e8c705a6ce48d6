"""The simulator's order books as OKX chains them: seqId / prevSeqId, heartbeats,
maintenance resets, the REST snapshot, the faults, and the sim's own orders in them.

A local book is rebuilt from the stream here exactly as a client must (size "0"
deletes, prevSeqId must name the last seqId) and compared level by level with
``sim.market.book_at``: the simulator's book at that seqId.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from okx_ws_sim import Simulator
from okx_ws_sim.instruments import default_instruments
from okx_ws_sim.market_book import SyntheticBook
from okx_ws_sim.market_channels import MarketRates
from okx_ws_sim.testing import SAMPLE_ORDER, RawClient, http_get

FAST = MarketRates(walk=0.002, books=0.005, l2_tbt=0.002, heartbeat=30.0)
INST = "BTC-USDT"


@pytest.fixture
async def msim() -> AsyncIterator[Simulator]:
    async with Simulator(seed=11, market_rates=FAST, rate_limits=False) as sim:
        yield sim


class LocalBook:
    """A client's book: what the stream says, nothing else, within the channel's depth.

    Like a client (``OrderBook``), it drops the worst levels beyond ``depth`` after
    each update: a REST snapshot taken between two pushes can hold a far level that
    left the window by the next push, which no push deletes (OKX does not either).
    """

    def __init__(self, data: dict[str, Any], depth: int = 400) -> None:
        self.sides = {
            side: {Decimal(r[0]): (Decimal(r[1]), int(r[3])) for r in data[side]}
            for side in ("bids", "asks")
        }
        self.seq = int(data["seqId"])
        self.depth = depth

    def apply(self, data: dict[str, Any]) -> None:
        for side in ("bids", "asks"):
            levels = self.sides[side]
            for px, sz, _, n in data[side]:
                if Decimal(sz) == 0:
                    levels.pop(Decimal(px), None)
                else:
                    levels[Decimal(px)] = (Decimal(sz), int(n))
            for px in sorted(levels, reverse=side == "bids")[self.depth :]:
                del levels[px]
        self.seq = int(data["seqId"])

    def matches(self, sim: Simulator, depth: int = 400) -> bool:
        book = sim.market.book_at(INST, self.seq, depth)
        return all(
            self.sides[side] == {px: (sz, n) for px, sz, n in book[side]}
            for side in ("bids", "asks")
        )


async def subscribe(c: RawClient, channel: str, inst: str = INST) -> dict[str, Any]:
    """Subscribe and return the snapshot push."""
    await c.send({"op": "subscribe", "args": [{"channel": channel, "instId": inst}]})
    assert (await c.reply_event("subscribe"))["event"] == "subscribe"
    return await book_push(c, channel)


async def book_push(c: RawClient, channel: str, timeout: float = 2.0) -> dict[str, Any]:
    while True:
        frame = await c.next_push(timeout)
        if frame.get("arg", {}).get("channel") == channel:
            return frame


# -- chaining --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("channel", "depth"), [("books", 400), ("books-l2-tbt", 400), ("books50-l2-tbt", 50)]
)
async def test_every_update_chains_to_the_previous_one(
    msim: Simulator, channel: str, depth: int
) -> None:
    async with await RawClient.open(msim.url("public")) as c:
        await c.login()
        snapshot = await subscribe(c, channel)
        assert snapshot["action"] == "snapshot" and snapshot["data"][0]["prevSeqId"] == -1
        book = LocalBook(snapshot["data"][0])
        assert len(book.sides["bids"]) == depth and book.matches(msim, depth)
        for n in range(150):
            push = await book_push(c, channel)
            data = push["data"][0]
            assert push["action"] == "update"
            assert data["prevSeqId"] == book.seq < data["seqId"], (n, data["prevSeqId"], book.seq)
            assert data["bids"] or data["asks"]
            book.apply(data)
            if n % 25 == 0:
                assert book.matches(msim, depth)
        assert book.matches(msim, depth)


async def test_subscribers_of_one_book_share_its_chain(msim: Simulator) -> None:
    async with (
        await RawClient.open(msim.url("public")) as a,
        await RawClient.open(msim.url("public")) as b,
    ):
        first = LocalBook((await subscribe(a, "books"))["data"][0])
        for _ in range(5):
            first.apply((await book_push(a, "books"))["data"][0])
        second = LocalBook((await subscribe(b, "books"))["data"][0])
        for _ in range(20):
            for local, c in ((first, a), (second, b)):
                data = (await book_push(c, "books"))["data"][0]
                assert data["prevSeqId"] == local.seq
                local.apply(data)
        assert first.matches(msim) and second.matches(msim)


async def test_heartbeat_after_idle(msim: Simulator) -> None:
    msim.market.freeze()
    msim.market.set_rates(heartbeat=0.02)
    async with await RawClient.open(msim.url("public")) as c:
        snapshot = (await subscribe(c, "books"))["data"][0]
        beat = await book_push(c, "books")
        data = beat["data"][0]
        assert beat["action"] == "update"
        assert (data["bids"], data["asks"]) == ([], [])
        assert data["seqId"] == data["prevSeqId"] == snapshot["seqId"]
        again = (await book_push(c, "books"))["data"][0]
        assert again["seqId"] == again["prevSeqId"] == snapshot["seqId"]


async def test_maintenance_reset_drops_the_seq_id(msim: Simulator) -> None:
    async with await RawClient.open(msim.url("public")) as c:
        book = LocalBook((await subscribe(c, "books"))["data"][0])
        msim.faults.reset_book_sequence(INST)
        assert msim.faults.pending()["book_reset"] == 1
        reset_seen = False
        for _ in range(200):
            data = (await book_push(c, "books"))["data"][0]
            assert data["prevSeqId"] == book.seq  # the chain holds through the reset
            if data["seqId"] < data["prevSeqId"]:
                reset_seen = True
            book.apply(data)
            if reset_seen and data["seqId"] > data["prevSeqId"]:
                break
        assert reset_seen and book.matches(msim)
    assert msim.stats.faults_injected["book_reset"] == 1
    assert msim.faults.armed()["book_reset"] == 1 and not msim.faults.pending()


async def test_reset_on_demand_without_the_fault_plan(msim: Simulator) -> None:
    before = msim.market.seq_id(INST)
    assert msim.market.reset_sequence(INST) < before
    assert msim.market.seq_id(INST) < before


# -- faults ------------------------------------------------------------------------------------
async def test_a_skipped_update_is_a_gap(msim: Simulator) -> None:
    async with await RawClient.open(msim.url("public")) as c:
        book = LocalBook((await subscribe(c, "books"))["data"][0])
        msim.faults.skip_book_update(INST, "books")
        gaps = 0
        for _ in range(20):
            data = (await book_push(c, "books"))["data"][0]
            if data["prevSeqId"] != book.seq:
                gaps += 1
                assert data["prevSeqId"] > book.seq  # an update was never sent
            book.seq = int(data["seqId"])
        assert gaps == 1
    assert msim.stats.faults_injected["book_gap"] == 1
    assert msim.faults.armed()["book_gap"] == 1


async def test_a_duplicated_update_arrives_twice(msim: Simulator) -> None:
    async with await RawClient.open(msim.url("public")) as c:
        book = LocalBook((await subscribe(c, "books"))["data"][0])
        msim.faults.duplicate_book_update(channel="books")
        frames = [(await book_push(c, "books"))["data"][0] for _ in range(15)]
    twice = [i for i in range(1, len(frames)) if frames[i] == frames[i - 1]]
    assert len(twice) == 1
    dup = frames[twice[0]]
    assert dup["prevSeqId"] < dup["seqId"] and frames[twice[0] - 1]["seqId"] == dup["seqId"]
    for data in frames[: twice[0]]:
        book.apply(data)
    assert book.seq == dup["seqId"] != dup["prevSeqId"]  # a client must drop it
    assert msim.stats.faults_injected["book_duplicate"] == 1


async def test_book_faults_only_match_their_instrument(msim: Simulator) -> None:
    async with await RawClient.open(msim.url("public")) as c:
        book = LocalBook((await subscribe(c, "books", "ETH-USDT"))["data"][0])
        msim.faults.skip_book_update("BTC-USDT")
        for _ in range(10):
            data = (await book_push(c, "books"))["data"][0]
            assert data["prevSeqId"] == book.seq
            book.seq = int(data["seqId"])
    assert msim.faults.pending()["book_gap"] == 1 and not msim.stats.faults_injected["book_gap"]


# -- REST ----------------------------------------------------------------------------------------
async def rest_book(sim: Simulator, query: str) -> Any:
    return await http_get(f"{sim.rest_url}/api/v5/market/books?{query}")


async def resync(sim: Simulator, c: RawClient) -> LocalBook:
    """OKX's procedure: buffer the stream, fetch the snapshot, drop what it covers,
    apply the rest (log_en 2026-02-12, "How to manage a local order book correctly")."""
    reply = await rest_book(sim, f"instId={INST}&sz=400")
    assert reply.status == 200
    snap = reply.json()["data"][0]
    book = LocalBook(snap)
    applied = 0
    while applied < 5:
        data = (await book_push(c, "books"))["data"][0]
        if data["seqId"] <= book.seq:
            continue
        if applied == 0:
            assert data["prevSeqId"] <= book.seq < data["seqId"]
        else:
            assert data["prevSeqId"] == book.seq
        book.apply(data)
        applied += 1
    return book


async def test_rest_snapshot_then_stream_reproduces_the_book(msim: Simulator) -> None:
    async with await RawClient.open(msim.url("public")) as c:
        await subscribe(c, "books")  # the subscribe snapshot is ignored, as OKX suggests
        for _ in range(3):
            await book_push(c, "books")
        book = await resync(msim, c)
        assert book.matches(msim)
    assert msim.rest_calls("/api/v5/market/books") == 1


async def test_rest_snapshot_shape(msim: Simulator) -> None:
    reply = await rest_book(msim, f"instId={INST}&sz=5")
    body = reply.json()
    assert (reply.status, body["code"], body["msg"]) == (200, "0", "")
    item = body["data"][0]
    assert set(item) == {"asks", "bids", "ts", "seqId"}
    assert len(item["asks"]) == len(item["bids"]) == 5 and len(item["asks"][0]) == 4
    assert item["seqId"] == msim.market.seq_id(INST)
    one = (await rest_book(msim, f"instId={INST}")).json()["data"][0]
    assert len(one["bids"]) == len(one["asks"]) == 1  # OKX's default depth: 1


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("sz=5", 400, "50014"),
        (f"instId={INST}&sz=401", 400, "51000"),
        (f"instId={INST}&sz=0", 400, "51000"),
        ("instId=NOPE-USDT", 200, "51001"),
        ("instId=BTC-USDT_BTC-USDT-SWAP", 200, "51001"),
    ],
)
async def test_rest_snapshot_refusals(msim: Simulator, query: str, status: int, code: str) -> None:
    reply = await rest_book(msim, query)
    assert (reply.status, reply.json()["code"]) == (status, code)


async def test_a_delayed_snapshot_is_older_than_the_stream(msim: Simulator) -> None:
    async with await RawClient.open(msim.url("public")) as c:
        await subscribe(c, "books")
        msim.faults.delay_book_snapshot(0.05)
        loop = asyncio.get_running_loop()
        asked = loop.time()
        reply = await rest_book(msim, f"instId={INST}&sz=400")
        assert loop.time() - asked >= 0.05
        snap_seq = reply.json()["data"][0]["seqId"]
        assert snap_seq < msim.market.seq_id(INST)  # the book moved on meanwhile
        assert msim.stats.faults_injected["rest_delay"] == 1
        assert msim.rest_calls("/api/v5/market/books") == 1
        book = await resync(msim, c)  # the procedure copes: buffered events cover the gap
        assert book.matches(msim)


async def test_a_level_added_and_removed_between_pushes_is_deleted_for_a_rest_bridged_book(
    msim: Simulator,
) -> None:
    """A REST snapshot taken between two pushes holds a level that came and went
    meanwhile; the next push must delete it, or a book bridged from that snapshot by
    OKX's procedure keeps it for good (the once flaky delayed-snapshot test)."""
    msim.market.freeze()
    msim.market.set_rates(books=3600.0)  # no timed pushes: only a new subscriber's flush
    async with (
        await RawClient.open(msim.url("public")) as c,
        await RawClient.open(msim.url("public")) as other,
        await RawClient.open(msim.url("private")) as priv,
    ):
        await subscribe(c, "books")
        await priv.login()
        order = {**SAMPLE_ORDER, "side": "sell", "px": "50000.15", "sz": "0.5", "clOrdId": "b1"}
        assert (await priv.request("order", order))["data"][0]["sCode"] == "0"
        snap = (await rest_book(msim, f"instId={INST}&sz=400")).json()["data"][0]
        assert ["50000.15", "0.5", "0", "1"] in snap["asks"]
        cancel = {"instIdCode": SAMPLE_ORDER["instIdCode"], "clOrdId": "b1"}
        assert (await priv.request("cancel-order", cancel))["data"][0]["sCode"] == "0"
        order = {**order, "px": "50000.25", "clOrdId": "c1"}  # a change the feed shows
        assert (await priv.request("order", order))["data"][0]["sCode"] == "0"
        await subscribe(other, "books")  # brings c's feed up to date: one push
        data = (await book_push(c, "books"))["data"][0]
        book = LocalBook(snap)
        assert data["prevSeqId"] <= book.seq < data["seqId"]
        assert ["50000.15", "0", "0", "0"] in data["asks"]
        book.apply(data)
        assert book.matches(msim)


# -- the simulator's own orders ------------------------------------------------------------------
async def test_a_resting_order_appears_in_books_at_its_price(msim: Simulator) -> None:
    msim.market.freeze()  # only our order changes the book
    px = Decimal("49990")
    async with (
        await RawClient.open(msim.url("public")) as c,
        await RawClient.open(msim.url("private")) as priv,
    ):
        book = LocalBook((await subscribe(c, "books"))["data"][0])
        size, count = book.sides["bids"][px]
        await priv.login()
        order = {**SAMPLE_ORDER, "px": "49990", "sz": "0.25", "clOrdId": "rest1"}
        assert (await priv.request("order", order))["data"][0]["sCode"] == "0"
        data = (await book_push(c, "books"))["data"][0]
        assert data["bids"] == [["49990", str(size + Decimal("0.25")), "0", str(count + 1)]]
        book.apply(data)
        cancel = {"instIdCode": SAMPLE_ORDER["instIdCode"], "clOrdId": "rest1"}
        assert (await priv.request("cancel-order", cancel))["data"][0]["sCode"] == "0"
        data = (await book_push(c, "books"))["data"][0]
        book.apply(data)
        assert book.sides["bids"][px] == (size, count) and book.matches(msim)


async def test_an_order_off_the_ladder_adds_a_level_and_a_fill_shrinks_it(msim: Simulator) -> None:
    msim.market.freeze()
    async with (
        await RawClient.open(msim.url("public")) as c,
        await RawClient.open(msim.url("private")) as priv,
    ):
        book = LocalBook((await subscribe(c, "books"))["data"][0])
        await priv.login()
        order = {**SAMPLE_ORDER, "side": "sell", "px": "50000.15", "sz": "0.5", "clOrdId": "s1"}
        assert (await priv.request("order", order))["data"][0]["sCode"] == "0"
        data = (await book_push(c, "books"))["data"][0]
        assert ["50000.15", "0.5", "0", "1"] in data["asks"]
        assert ["50040", "0", "0", "0"] in data["asks"]  # 401st now: out of the 400 shown
        book.apply(data)
        msim.fill("s1", "0.2")
        data = (await book_push(c, "books"))["data"][0]
        assert data["asks"] == [["50000.15", "0.3", "0", "1"]]
        book.apply(data)
        msim.fill("s1")
        data = (await book_push(c, "books"))["data"][0]
        # size 0 deletes; the 400th ask, pushed out by our level, comes back
        assert ["50000.15", "0", "0", "0"] in data["asks"] and len(data["asks"]) == 2
        book.apply(data)
        assert book.matches(msim)


# -- the model -------------------------------------------------------------------------------------
def test_a_seed_gives_the_same_market() -> None:
    inst = default_instruments()[INST]

    def run(seed: int) -> tuple[int, Any]:
        book = SyntheticBook(inst, seed, levels=50)
        for n in range(300):
            book.advance({}, walk=True, now_ms=n)
        return book.seq_id, book.top(50)

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_history_rebuilds_earlier_books_and_forgets_old_ones() -> None:
    book = SyntheticBook(default_instruments()[INST], 1, levels=20, history=10)
    seen = []
    for n in range(30):
        if book.advance({}, walk=True, now_ms=n) is not None:
            seen.append((book.seq_id, book.top(20)))
    for seq_id, top in seen[-10:]:
        assert book.at(seq_id, 20) == top
    with pytest.raises(LookupError):
        book.at(seen[0][0], 20)
