"""A repeat of the update a REST snapshot was taken at is a no-op, not a gap.

OKX's procedure joins a REST snapshot at seqId S to the stream; the update that
produced S (seqId == S) is then already in the book.  When that update arrives
twice (a duplicated frame), the second copy is the last applied update again,
which the book ignores -- it used to take it for a gap and resync (seen in the
soak's market phase with a gap and a duplicate together).
"""

from __future__ import annotations

from typing import Any

from okx_ws_core.book.orderbook import OrderBook
from okx_ws_core.book.resync import FetchSnapshot, Synced


def update(seq: int, prev: int, bid_sz: str) -> dict[str, Any]:
    item = {"bids": [["100", bid_sz, "0", "1"]], "asks": [], "ts": "2"}
    return {"action": "update", "data": [{**item, "seqId": seq, "prevSeqId": prev}]}


def test_a_repeat_of_the_update_at_the_rest_snapshot_is_ignored() -> None:
    book = OrderBook("BTC-USDT", "books-l2-tbt", resync="rest")
    (fetch,) = book.apply(update(11, 10, "1"), 0.0)  # no subscribe snapshot: from REST
    assert isinstance(fetch, FetchSnapshot)
    book.apply(update(13, 11, "2"), 0.0)  # buffered while the snapshot is fetched
    snapshot = {"seqId": 13, "bids": [["100", "2", "0", "1"]], "asks": [["101", "1", "0", "1"]]}
    actions = book.apply_rest_snapshot([snapshot], 0.0, request=fetch)
    assert [type(a) for a in actions] == [Synced] and book.valid and book.seq_id == 13
    assert not book.apply(update(13, 11, "2"), 0.0)  # the update at the snapshot, again
    assert book.valid and book.invalidations == 0
    assert not book.apply(update(15, 13, "3"), 0.0) and book.seq_id == 15
    book.apply(update(18, 16, "4"), 0.0)  # a real gap still is one
    assert not book.valid
