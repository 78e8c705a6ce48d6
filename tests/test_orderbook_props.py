"""Property tests: ``OrderBook`` equals a naive dict model; a gap always leaves it invalid.

The model is the obvious book: a dict per side, size ``"0"`` deletes, the
worst levels beyond the depth dropped after each frame.  Bids stay below 50
and asks above, so the generated books never cross.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from okx_ws_core.book.orderbook import OrderBook, StaleBookError
from okx_ws_core.book.resync import FetchSnapshot

INST = "BTC-USDT"
Model = tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]


def spellings(half_ticks: int) -> st.SearchStrategy[str]:
    """A price as OKX spells it ("12.5", "30"), now and then with a trailing zero ("30.0")."""
    plain = str(Decimal(half_ticks) / 2)
    padded = plain + "0" if "." in plain else plain + ".0"
    return st.sampled_from([plain] * 4 + [padded])


# Prices in several spellings of one value, sizes including the delete "0".
bid_px = st.integers(1, 40).flatmap(spellings)
ask_px = st.integers(101, 140).flatmap(spellings)
size = st.sampled_from(["0", "0", "1", "2", "3.5", "10", "0.25"])
bid_rows = st.lists(st.tuples(bid_px, size), max_size=4)
ask_rows = st.lists(st.tuples(ask_px, size), max_size=4)
# An event: (bids, asks, kind) where kind may make it a heartbeat or a maintenance reset.
event = st.tuples(bid_rows, ask_rows, st.sampled_from(["update"] * 8 + ["heartbeat", "reset"]))


def rows(levels: list[tuple[str, str]]) -> list[list[str]]:
    return [[px, sz, "0", "1"] for px, sz in levels]


def frame(action: str, prev: int, seq: int, bids: Any, asks: Any) -> dict[str, Any]:
    data = {"bids": rows(bids), "asks": rows(asks), "ts": str(seq), "prevSeqId": prev, "seqId": seq}
    return {"arg": {"channel": "books", "instId": INST}, "action": action, "data": [data]}


def apply_model(model: Model, bids: Any, asks: Any, depth: int) -> None:
    for side, levels in ((model[0], bids), (model[1], asks)):
        for px, sz in levels:
            if Decimal(sz) == 0:
                side.pop(Decimal(px), None)
            else:
                side[Decimal(px)] = Decimal(sz)
    for side, best_is_max in ((model[0], True), (model[1], False)):
        for px in sorted(side, reverse=best_is_max)[depth:]:
            del side[px]


def as_rows(side: dict[Decimal, Decimal]) -> list[tuple[str, str]]:
    return [(str(px), str(sz)) for px, sz in side.items()]


def stream(events: list[Any], start: int) -> list[tuple[dict[str, Any], Any, Any]]:
    """OKX's chaining for ``events``: (frame, bids, asks) with seqIds from ``start``."""
    out: list[tuple[dict[str, Any], Any, Any]] = []
    seq = start
    for bids, asks, kind in events:
        if kind == "heartbeat":
            out.append((frame("update", seq, seq, [], []), [], []))
            continue
        nxt = seq - 7 if kind == "reset" and seq > 10 else seq + 1
        out.append((frame("update", seq, nxt, bids, asks), bids, asks))
        seq = nxt
    return out


@settings(max_examples=150, deadline=None)
@given(
    snap_bids=bid_rows,
    snap_asks=ask_rows,
    events=st.lists(event, max_size=60),
    depth=st.sampled_from([3, 8, 400]),
)
def test_random_streams_equal_the_naive_model(
    snap_bids: Any, snap_asks: Any, events: Any, depth: int
) -> None:
    book = OrderBook(INST, "books", depth=depth)
    model: Model = ({}, {})
    apply_model(model, snap_bids, snap_asks, depth)
    book.apply(frame("snapshot", -1, 100, snap_bids, snap_asks), now=0.0)
    assert book.valid and book.levels() == model
    for i, (f, bids, asks) in enumerate(stream(events, 100)):
        assert not book.apply(f, now=float(i))
        apply_model(model, bids, asks, depth)
        assert book.valid and book.levels() == model
        best_bid = max(model[0]) if model[0] else None
        assert (book.best_bid() or (None,))[0] == best_bid


@settings(max_examples=150, deadline=None)
@given(
    events=st.lists(event, min_size=2, max_size=40),
    data=st.data(),
)
def test_a_gap_leaves_the_book_invalid_until_resync(events: Any, data: st.DataObject) -> None:
    frames = stream(events, 100)
    skipped = data.draw(st.integers(0, len(frames) - 2), label="skipped")
    # A skipped heartbeat loses nothing; skip an event that moved the sequence.
    f0 = frames[skipped][0]["data"][0]
    if f0["prevSeqId"] == f0["seqId"]:
        return
    book = OrderBook(INST, "books")
    book.apply(frame("snapshot", -1, 100, [], []), now=0.0)
    fetches = []
    for i, (f, _, _) in enumerate(frames):
        if i == skipped:
            continue
        actions = book.apply(f, now=float(i))
        fetches += [a for a in actions if isinstance(a, FetchSnapshot)]
        if i > skipped:
            assert not book.valid
            try:
                book.best_bid()
            except StaleBookError:
                pass
            else:
                raise AssertionError("a book past a gap was readable")
    # One request per episode however many frames followed; only a maintenance
    # reset seen while waiting starts another.
    assert fetches and all("maintenance reset" in a.reason for a in fetches[1:])
    # A subscribe snapshot (the resubscribe path) always restores it.
    book.apply(frame("snapshot", -1, 9999, [("1", "1")], [("99", "1")]), now=99.0)
    assert book.valid and book.levels() == ({Decimal(1): Decimal(1)}, {Decimal(99): Decimal(1)})


@settings(max_examples=150, deadline=None)
@given(
    snap_bids=bid_rows,
    snap_asks=ask_rows,
    events=st.lists(event.filter(lambda e: e[2] != "reset"), min_size=2, max_size=40),
    data=st.data(),
)
def test_rest_resync_rejoins_the_stream_at_any_snapshot_point(
    snap_bids: Any, snap_asks: Any, events: Any, data: st.DataObject
) -> None:
    """Gap at g, a REST snapshot of OKX's book at any later point k: the result equals the model."""
    frames = stream(events, 100)
    models: list[Model] = []
    model: Model = ({}, {})
    apply_model(model, snap_bids, snap_asks, 400)
    models.append(({**model[0]}, {**model[1]}))
    for _, bids, asks in frames:
        apply_model(model, bids, asks, 400)
        models.append(({**model[0]}, {**model[1]}))
    gap = data.draw(st.integers(0, len(frames) - 1), label="gap")
    snap_at = data.draw(st.integers(gap, len(frames)), label="snapshot after frame")
    seqs = [100] + [f["data"][0]["seqId"] for f, _, _ in frames]

    book = OrderBook(INST, "books")
    book.apply(frame("snapshot", -1, 100, snap_bids, snap_asks), now=0.0)
    fetch = None
    for i, (f, _, _) in enumerate(frames):
        if i == gap:
            fetch = next(a for a in book.invalidate("test gap") if isinstance(a, FetchSnapshot))
        if i == snap_at:
            assert fetch is not None
            reply = {
                "data": [
                    {
                        "bids": rows(as_rows(models[i][0])),
                        "asks": rows(as_rows(models[i][1])),
                        "ts": "1",
                        "seqId": seqs[i],
                    }
                ]
            }
            book.apply_rest_snapshot(reply, float(i), request=fetch)
        book.apply(f, now=float(i))
    if snap_at == len(frames):
        assert fetch is not None
        last = models[-1]
        reply = {
            "data": [
                {
                    "bids": rows(as_rows(last[0])),
                    "asks": rows(as_rows(last[1])),
                    "ts": "1",
                    "seqId": seqs[-1],
                }
            ]
        }
        book.apply_rest_snapshot(reply, 0.0, request=fetch)
        if not book.valid:  # nothing after the snapshot to join it yet: a heartbeat does
            book.apply(frame("update", seqs[-1], seqs[-1], [], []), now=0.0)
    assert book.valid
    assert book.levels() == models[-1]
