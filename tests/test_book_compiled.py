"""The compiled order book (mypyc, ``hatch_build.py``) and the pure-Python one agree.

The other book tests run against whatever ``okx_ws_core.book`` imports: the
compiled modules after ``make install`` (CI), else the ``.py``.  Here the
pure-Python modules are loaded a second time under another name
(``okx_ws_core.book.compiled.pure_modules``) and random streams go through
both: every action, read and error must be the same.  That comparison is
skipped only when no compiled build is loaded.  The stale-build guard is
tested on copies of the package, so it runs with or without a compiler.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from bisect import bisect_left
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hatch_build
import okx_ws_core.book as book_pkg
from okx_ws_core.book import compiled, levels, orderbook
from okx_ws_core.book.compiled import COMPILED, is_compiled, pure_modules, stale_reason

BOOK_DIR = Path(compiled.__file__).parent  # compiled.py itself is never compiled
INST = "BTC-USDT"
NOT_COMPILED = (
    "no compiled build of the order book is loaded (okx_ws_core.book.COMPILED is False: "
    "no C compiler, OKX_WS_COMPILE=0, or not built yet; `make install` builds it)"
)


def test_compiled_flag_says_which_modules_run() -> None:
    assert COMPILED is book_pkg.COMPILED
    assert COMPILED == (is_compiled(levels) and is_compiled(orderbook))
    assert not is_compiled(pure_modules().levels)
    assert pure_modules().orderbook.OrderBook is not orderbook.OrderBook or not COMPILED


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-50, 50).map(float)), st.integers(-60, 60).map(float))
def test_bisect_is_bisect_left(keys: list[float], key: float) -> None:
    keys.sort()
    assert levels._bisect(keys, key) == bisect_left(keys, key)


# -- compiled == pure on random streams --------------------------------------------

# Few prices, several spellings of one value ("100" / "100.0"), sizes with the
# spellings of zero; bids below asks so the streams only cross when asked to.
BID_PX = ["98", "98.5", "99", "99.0", "99.5", "99.50", "97", "96.5", "95", "94.0"]
ASK_PX = ["101", "101.0", "101.5", "102", "102.00", "103", "103.5", "104", "105", "106.0"]
SIZES = ["0", "0", "0.0", "0.00", "1", "2.5", "10", "0.25", "3"]

op = st.one_of(
    st.tuples(
        st.just("update"),
        st.lists(st.tuples(st.sampled_from(BID_PX), st.sampled_from(SIZES)), max_size=4),
        st.lists(st.tuples(st.sampled_from(ASK_PX), st.sampled_from(SIZES)), max_size=4),
        st.booleans(),  # rows as tuples: the compiled hot path's typed casts fail over
    ),
    st.tuples(st.just("cross"), st.sampled_from(ASK_PX[:3])),  # a bid at or above an ask
    st.sampled_from(
        [("gap",), ("repeat",), ("heartbeat",), ("maintenance",), ("snapshot",), ("reset",)]
    ),
    st.tuples(st.just("rest"), st.booleans()),  # answer a pending fetch (or a too-old one)
    st.tuples(st.just("read"), st.integers(1, 12)),
)


class Driver:
    """Builds the frames of one stream, the same for both books."""

    def __init__(self) -> None:
        self.seq = 100
        self.last: dict[str, Any] | None = None

    def frame(
        self, action: str, prev: int, seq: int, bids: Any, asks: Any, tuples: bool = False
    ) -> dict[str, Any]:
        make = tuple if tuples else list
        data = {
            "bids": make(make([px, sz, "0", "1"]) for px, sz in bids),
            "asks": make(make([px, sz, "0", "1"]) for px, sz in asks),
            "ts": str(1_700_000_000_000 + seq),
            "prevSeqId": prev,
            "seqId": seq,
        }
        msg = {"arg": {"channel": "books", "instId": INST}, "action": action, "data": [data]}
        self.last = msg
        return msg

    def next(self, bids: Any, asks: Any, tuples: bool = False) -> dict[str, Any]:
        prev, self.seq = self.seq, self.seq + 1
        return self.frame("update", prev, self.seq, bids, asks, tuples)


def outcome(call: Any) -> Any:
    """A call's result or its error, comparable across the two builds' classes."""
    try:
        result = call()
    except Exception as exc:  # the same error type name and message from both
        return ("raised", type(exc).__name__, str(exc))
    if isinstance(result, (list, tuple)) and result and dataclasses.is_dataclass(result[0]):
        return [(type(a).__name__, dataclasses.astuple(a)) for a in result]
    return result


def state(book: Any) -> Any:
    bids, asks = book.levels(stale_ok=True)
    return (
        book.valid,
        book.seq_id,
        book.ts,
        len(book),
        bids,
        asks,
        outcome(lambda: book.best_bid(stale_ok=True)),
        outcome(lambda: book.best_ask(stale_ok=True)),
        outcome(lambda: tuple(book.depth(5, stale_ok=True))),
        book.invalidations,
        book.snapshot_requests,
        tuple(book.last_change or ()),
    )


@pytest.mark.skipif(not COMPILED, reason=NOT_COMPILED)
@settings(max_examples=300, deadline=None)
@given(
    snap_bids=st.lists(st.tuples(st.sampled_from(BID_PX), st.sampled_from(SIZES[4:]))),
    snap_asks=st.lists(st.tuples(st.sampled_from(ASK_PX), st.sampled_from(SIZES[4:]))),
    ops=st.lists(op, max_size=40),
    depth=st.sampled_from([3, 6, 400]),
)
def test_compiled_and_pure_books_agree(
    snap_bids: Any, snap_asks: Any, ops: list[Any], depth: int
) -> None:
    books = [
        orderbook.OrderBook(INST, "books", depth=depth),
        pure_modules().orderbook.OrderBook(INST, "books", depth=depth),
    ]
    assert is_compiled(orderbook)
    drv = Driver()
    fetches: list[Any] = [None, None]  # each book's last FetchSnapshot (its own class)

    def same(results: list[Any]) -> None:
        assert results[0] == results[1]
        assert state(books[0]) == state(books[1])

    def feed(msg: dict[str, Any]) -> None:
        results = []
        for i, b in enumerate(books):
            try:
                actions = b.apply(msg, float(drv.seq))
            except Exception as exc:
                results.append(("raised", type(exc).__name__, str(exc)))
                continue
            for a in actions:
                if type(a).__name__ == "FetchSnapshot":
                    fetches[i] = a
            results.append([(type(a).__name__, dataclasses.astuple(a)) for a in actions])
        same(results)

    feed(drv.frame("snapshot", -1, drv.seq, snap_bids, snap_asks))
    for item in ops:
        kind = item[0]
        if kind == "update":
            feed(drv.next(item[1], item[2], tuples=item[3]))
        elif kind == "cross":
            feed(drv.next([(item[1], "1")], []))
        elif kind == "gap":
            drv.seq += 5
            feed(drv.next([(BID_PX[0], "7")], []))
        elif kind == "repeat" and drv.last is not None:
            feed(drv.last)
        elif kind == "heartbeat":
            feed(drv.frame("update", drv.seq, drv.seq, [], []))
        elif kind == "maintenance":
            prev, drv.seq = drv.seq, drv.seq // 2
            feed(drv.frame("update", prev, drv.seq, [(ASK_PX[-1], "4")], []))
        elif kind == "snapshot":
            drv.seq += 1
            feed(drv.frame("snapshot", -1, drv.seq, snap_bids, snap_asks))
        elif kind == "reset":
            same([outcome(lambda b=b: b.reset("test")) for b in books])
        elif kind == "rest" and fetches[0] is not None:
            seq = drv.seq - (3 if item[1] else 0)
            reply = {"bids": [[p, s, "0", "1"] for p, s in snap_bids], "asks": [], "seqId": seq}
            same(
                [
                    outcome(lambda b=b, f=f, r=reply: b.apply_rest_snapshot(r, 1.0, request=f))
                    for b, f in zip(books, fetches, strict=True)
                ]
            )
        elif kind == "read":
            n = item[1]
            same(
                [outcome(lambda b=b, n=n: (b.best_bid(), b.best_ask(), b.depth(n))) for b in books]
            )
            same([outcome(lambda b=b: b.spread) for b in books])


# -- the stale-build guard --------------------------------------------------------------


def _fake_build(directory: Path) -> None:
    """Sources, a manifest and empty files named like compiled modules (stale_reason only stats)."""
    for source in ("levels.py", "orderbook.py"):
        shutil.copy(BOOK_DIR / source, directory / source)
    for module in ("levels", "orderbook"):
        (directory / f"{module}{EXTENSION_SUFFIXES[0]}").write_bytes(b"")
    (directory / compiled.MANIFEST).write_text(hatch_build.manifest_text(directory))


def test_a_build_from_the_current_sources_is_used(tmp_path: Path) -> None:
    _fake_build(tmp_path)
    assert stale_reason(tmp_path) is None


def test_a_build_from_older_sources_is_refused(tmp_path: Path) -> None:
    _fake_build(tmp_path)
    with (tmp_path / "levels.py").open("a") as f:
        f.write("# edited after the build\n")
    assert stale_reason(tmp_path) == "levels.py changed since it was compiled"


def test_a_build_without_its_manifest_or_half_built_is_refused(tmp_path: Path) -> None:
    _fake_build(tmp_path)
    (tmp_path / compiled.MANIFEST).unlink()
    assert "missing" in (stale_reason(tmp_path) or "")
    _fake_build(tmp_path)
    (tmp_path / f"orderbook{EXTENSION_SUFFIXES[0]}").unlink()
    assert stale_reason(tmp_path) == "only some of its modules are compiled"


def test_no_build_is_no_reason(tmp_path: Path) -> None:
    shutil.copy(BOOK_DIR / "levels.py", tmp_path / "levels.py")
    assert stale_reason(tmp_path) is None


@pytest.mark.skipif(not COMPILED, reason=NOT_COMPILED)
def test_a_stale_compiled_book_is_not_imported(tmp_path: Path) -> None:
    """A copy of the package whose levels.py changed after the build runs the .py, and warns."""
    package = Path(book_pkg.__file__).parents[1]
    shutil.copytree(package, tmp_path / "okx_ws_core", ignore=shutil.ignore_patterns("__pycache__"))
    with (tmp_path / "okx_ws_core" / "book" / "levels.py").open("a") as f:
        f.write("# edited after the build\n")
    code = (
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    import okx_ws_core.book as b, okx_ws_core.book.levels as l\n"
        "print(b.COMPILED, l.__file__.endswith('.py'), [str(x.message) for x in w])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.startswith("False True ["), out
    assert "levels.py changed since it was compiled" in out


def test_the_manifest_hatch_build_writes_is_the_one_the_guard_reads(tmp_path: Path) -> None:
    _fake_build(tmp_path)
    recorded = dict(
        line.split() for line in (tmp_path / compiled.MANIFEST).read_text().splitlines()
    )
    assert set(recorded) == {f"{m}.py" for m in compiled.COMPILED_MODULES}
    assert hatch_build.MODULES == compiled.COMPILED_MODULES
    assert all(len(digest) == 64 for digest in recorded.values())
