"""``python -m bench.book [--quick] [--frames N] [--passes P]``: order books side by side.

One deterministic stream per shape (seeded random walk around a mid price,
400 levels a side, mostly one-level updates, some multi-level, inserts and
deletes), replayed in the same process through:

* **okx-ws** -- :class:`okx_ws_core.book.orderbook.OrderBook` (``apply(frame, now)``)
  as imported: compiled with mypyc when the package was built with a C compiler
  (``okx_ws_core.book.COMPILED``; what a wheel's users get), else pure Python;
* **okx-ws-pure** -- when the compiled one runs, the same ``OrderBook`` from its
  pure-Python modules loaded under another name
  (``okx_ws_core.book.compiled.pure_modules``): the fallback, side by side;
* **ccxt** -- ccxt pro's okx ``handle_order_book(client, frame)`` with a real
  ccxt ``Client`` and markets set, i.e. what ``watch_order_book`` users get
  (ccxt's ``OrderBook``, floats; the reads go through ``limit()`` as
  ``watch_order_book`` returns it);
* **ccxt-core** -- only ccxt's ``handle_deltas`` into the same ``OrderBook``
  sides plus the seqId check: ccxt's data structure without its handler;
* **floor** -- a plain dict per side keyed by the price string, sizes as
  strings, the same seqId check; sorted on read (``key=float``, its cheapest).

The read pattern is identical for all: after every ``READ_EVERY`` frames, the
best bid, the best ask and the top ``READ_DEPTH`` levels of each side.  Rates
are frames ("updates") per CPU second of this single-threaded process (so per
core), best of the passes (passes interleave the implementations, so a noisy
neighbour hurts all alike).  Latency is from the parsed frame to the book
updated, per frame, timer overhead included and reported.  Memory is
tracemalloc's growth per book built from a 400-level-a-side snapshot parsed
from JSON, the frame then dropped.  At the end the books are compared.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
import tracemalloc
from bisect import bisect_left, insort
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from okx_ws_core.book import COMPILED
from okx_ws_core.book.compiled import pure_modules
from okx_ws_core.book.orderbook import OrderBook

INST = "BTC-USDT-SWAP"
SYMBOL = "BTC/USDT:USDT"
LEVELS = 400
READ_EVERY = 100
READ_DEPTH = 10
Frame = dict[str, Any]
Top = tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]

# Shape: (channel, probability of exactly one level, max levels otherwise,
# share of ops that only change a known level's size).  "size-change" isolates
# the cheapest update: one known level, a new size.
SHAPES: dict[str, tuple[str, float, int, float]] = {
    "books": ("books", 0.50, 12, 0.6),
    "books-l2-tbt": ("books-l2-tbt", 0.85, 4, 0.6),
    "one-level": ("books-l2-tbt", 1.0, 1, 0.6),
    "size-change": ("books-l2-tbt", 1.0, 1, 1.0),
}


# -- the stream --------------------------------------------------------------------


def _px(tick: int) -> str:
    """Tenths, spelled as OKX does: "60000.1", "60000"."""
    return f"{tick // 10}.{tick % 10}" if tick % 10 else str(tick // 10)


def _sz(rnd: random.Random) -> str:
    """Log-uniform 0.01 .. 2000 in hundredths, trailing zeros stripped (~40 % below 1)."""
    v = int(10 ** rnd.uniform(0, 5.3))
    return f"{v // 100}.{v % 100:02d}".rstrip("0").rstrip(".") if v % 100 else str(v // 100)


class _TrueBook:
    """The generator's own book: ticks per side, sorted, and their sizes."""

    def __init__(self, rnd: random.Random, mid: int) -> None:
        self.rnd = rnd
        self.bids: list[int] = []  # ascending; best last
        self.asks: list[int] = []  # ascending; best first
        self.size: dict[int, str] = {}
        t = mid - 1
        for _ in range(LEVELS):
            self.bids.insert(0, t)
            self.size[t] = _sz(rnd)
            t -= rnd.randint(1, 3)
        t = mid + 1
        for _ in range(LEVELS):
            self.asks.append(t)
            self.size[t] = _sz(rnd)
            t += rnd.randint(1, 3)

    def rows(self, ticks: Sequence[int]) -> list[list[str]]:
        return [[_px(t), self.size[t], "0", str(self.rnd.randint(1, 30))] for t in ticks]

    def op(self, bid: bool, p_change: float) -> list[tuple[int, str]]:
        """One random change on a side; returns (tick, size) rows, size "0" deleting."""
        rnd = self.rnd
        side = self.bids if bid else self.asks
        rank = min(int(rnd.expovariate(1 / 8)), len(side) - 1)  # mostly near the top
        at = side[-1 - rank] if bid else side[rank]
        r = rnd.random() * 0.6 / p_change  # p_change of the ops below 0.6
        out: list[tuple[int, str]] = []
        if r < 0.6:
            self.size[at] = _sz(rnd)
            return [(at, self.size[at])]
        if r < 0.8 or len(side) < LEVELS - 20:
            lo, hi = (
                (self.bids[-1] - 20, self.asks[0] - 1)
                if bid
                else (self.bids[-1] + 1, self.asks[0] + 20)
            )
            t = rnd.randint(lo, hi)
            if t in self.size:
                self.size[t] = _sz(rnd)
                return [(t, self.size[t])]
            insort(side, t)
            self.size[t] = _sz(rnd)
            out.append((t, self.size[t]))
            if len(side) > LEVELS:  # the worst leaves the 400-level window: delete it
                worst = side.pop(0) if bid else side.pop()
                del self.size[worst]
                out.append((worst, "0"))
            return out
        side.pop(bisect_left(side, at))
        del self.size[at]
        out.append((at, "0"))
        if len(side) < LEVELS:  # a level enters the window at the far end
            t = (side[0] - rnd.randint(1, 3)) if bid else (side[-1] + rnd.randint(1, 3))
            if bid:
                side.insert(0, t)
            else:
                side.append(t)
            self.size[t] = _sz(rnd)
            out.append((t, self.size[t]))
        return out


def make_stream(shape: str, frames: int, seed: int = 18) -> tuple[Frame, list[Frame]]:
    """A snapshot and ``frames`` updates of ``shape``, the same for a given seed."""
    channel, p_one, most, p_change = SHAPES[shape]
    rnd = random.Random(f"{seed}-{shape}")
    book = _TrueBook(rnd, 600_000)
    arg = {"channel": channel, "instId": INST}
    seq = 10_000_000_000
    snap = {
        "arg": arg,
        "action": "snapshot",
        "data": [
            {
                "asks": book.rows(book.asks),
                "bids": book.rows(list(reversed(book.bids))),
                "ts": "1766000000000",
                "checksum": 0,
                "prevSeqId": -1,
                "seqId": seq,
            }
        ],
    }
    out: list[Frame] = []
    ts = 1766000000000
    while len(out) < frames:
        n = 1 if rnd.random() < p_one else rnd.randint(2, most)
        rows: list[tuple[bool, int, str]] = []
        while len(rows) < n:
            bid = rnd.random() < 0.5
            rows += [(bid, tick, size) for tick, size in book.op(bid, p_change)]
        # one-level: an op that moved two levels (insert + the level leaving the
        # window) becomes two frames
        groups = [[r] for r in rows] if most == 1 else [rows]
        for group in groups:
            nxt = seq + rnd.randint(1, 3)
            ts += rnd.randint(0, 2)
            data = {
                "asks": [[_px(t), s, "0", "1"] for bid, t, s in group if not bid],
                "bids": [[_px(t), s, "0", "1"] for bid, t, s in group if bid],
                "ts": str(ts),
                "checksum": 0,
                "prevSeqId": seq,
                "seqId": nxt,
            }
            out.append({"arg": arg, "action": "update", "data": [data]})
            seq = nxt
    del out[frames:]
    return snap, out


# -- the implementations -----------------------------------------------------------------


class Impl:
    """One book under test: ``start(snapshot)``, then ``apply(frame)`` and ``read()``."""

    name = ""

    def start(self, snap: Frame) -> None:
        raise NotImplementedError

    def apply(self, frame: Frame, now: float) -> object:
        raise NotImplementedError

    def read(self) -> Top:
        raise NotImplementedError


class OkxWs(Impl):
    name = "okx-ws"
    book_cls: type[OrderBook] = OrderBook

    def start(self, snap: Frame) -> None:
        self.book = self.book_cls(INST, snap["arg"]["channel"])
        self.book.apply(snap, 0.0)
        self.apply = self.book.apply  # type: ignore[method-assign,assignment]

    def read(self) -> Top:
        b = self.book
        b.best_bid()
        b.best_ask()
        top = b.depth(READ_DEPTH)
        return top.bids, top.asks


def _ccxt_exchange() -> tuple[Any, Any]:
    import ccxt.pro
    from ccxt.async_support.base.ws.client import Client

    ex = ccxt.pro.okx()
    ex.set_markets(
        [
            {
                "id": INST,
                "symbol": SYMBOL,
                "base": "BTC",
                "quote": "USDT",
                "settle": "USDT",
                "baseId": "BTC",
                "quoteId": "USDT",
                "settleId": "USDT",
                "type": "swap",
                "spot": False,
                "margin": False,
                "swap": True,
                "future": False,
                "option": False,
                "contract": True,
                "linear": True,
                "inverse": False,
                "active": True,
                "precision": {"amount": 0.01, "price": 0.1},
                "limits": {},
                "info": {},
            }
        ]
    )
    noop: Callable[..., None] = lambda *a: None  # noqa: E731
    client = Client("wss://ws.okx.com/ws/v5/public", noop, noop, noop, noop, {})
    return ex, client


class Ccxt(Impl):
    name = "ccxt"

    def start(self, snap: Frame) -> None:
        self.ex, self.client = _ccxt_exchange()
        self.client.subscriptions[snap["arg"]["channel"] + ":" + SYMBOL] = True
        self.ex.handle_order_book(self.client, snap)
        handle, client = self.ex.handle_order_book, self.client
        # The one wrapper in the bench (~60 ns of ccxt's ~16 us): ccxt takes no time.
        self.apply = lambda frame, now: handle(client, frame)  # type: ignore[method-assign]

    def read(self) -> Top:
        ob = self.ex.orderbooks[SYMBOL].limit()  # what watch_order_book returns
        ob["bids"][0]
        ob["asks"][0]
        return _dec(ob["bids"][:READ_DEPTH]), _dec(ob["asks"][:READ_DEPTH])


class CcxtCore(Impl):
    name = "ccxt-core"

    def start(self, snap: Frame) -> None:
        self.ex, _ = _ccxt_exchange()
        self.ob = self.ex.order_book({}, LEVELS)
        d = snap["data"][0]
        self.ex.handle_deltas(self.ob["bids"], d["bids"])
        self.ex.handle_deltas(self.ob["asks"], d["asks"])
        self.ob["nonce"] = d["seqId"]

    def apply(self, frame: Frame, now: float) -> object:
        d = frame["data"][0]
        ob = self.ob
        if d["prevSeqId"] != ob["nonce"]:
            raise RuntimeError("gap in a gap-free stream")
        self.ex.handle_deltas(ob["asks"], d["asks"])
        self.ex.handle_deltas(ob["bids"], d["bids"])
        ob["nonce"] = d["seqId"]
        return None

    def read(self) -> Top:
        ob = self.ob.limit()
        ob["bids"][0]
        ob["asks"][0]
        return _dec(ob["bids"][:READ_DEPTH]), _dec(ob["asks"][:READ_DEPTH])


class Floor(Impl):
    name = "floor"

    def start(self, snap: Frame) -> None:
        d = snap["data"][0]
        self.bids = {r[0]: r[1] for r in d["bids"]}
        self.asks = {r[0]: r[1] for r in d["asks"]}
        self.seq = d["seqId"]
        self.ts = d["ts"]

    def apply(self, frame: Frame, now: float) -> object:
        for d in frame["data"]:
            if d["prevSeqId"] != self.seq:
                raise RuntimeError("gap in a gap-free stream")
            bids = self.bids
            for row in d["bids"]:
                if row[1] == "0":
                    bids.pop(row[0], None)
                else:
                    bids[row[0]] = row[1]
            asks = self.asks
            for row in d["asks"]:
                if row[1] == "0":
                    asks.pop(row[0], None)
                else:
                    asks[row[0]] = row[1]
            self.seq = d["seqId"]
            self.ts = d["ts"]
        return None

    def read(self) -> Top:
        bids = sorted(self.bids, key=float, reverse=True)
        asks = sorted(self.asks, key=float)
        top_b = [(Decimal(p), Decimal(self.bids[p])) for p in bids[:READ_DEPTH]]
        top_a = [(Decimal(p), Decimal(self.asks[p])) for p in asks[:READ_DEPTH]]
        return top_b, top_a


class OkxWsPure(OkxWs):
    """The pure-Python book beside the compiled one (only measured when that one runs)."""

    name = "okx-ws-pure"
    book_cls = pure_modules().orderbook.OrderBook if COMPILED else OrderBook


BUILD = "compiled (mypyc)" if COMPILED else "pure Python"
IMPLS: list[type[Impl]] = [OkxWs, *([OkxWsPure] if COMPILED else []), Ccxt, CcxtCore, Floor]
OKX_IMPLS: list[type[OkxWs]] = [c for c in (OkxWs, OkxWsPure) if c in IMPLS]


def _dec(levels: Sequence[Sequence[float]]) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(repr(p)), Decimal(repr(s))) for p, s, *_ in levels]


# -- measuring ----------------------------------------------------------------------------


def _replay(impl: Impl, snap: Frame, frames: list[Frame], reads: bool) -> float:
    """CPU seconds to apply every frame (and the read pattern, if ``reads``)."""
    impl.start(snap)
    apply = impl.apply
    gc.collect()
    t0 = time.process_time()
    if reads:
        read = impl.read
        for i, frame in enumerate(frames, 1):
            apply(frame, 0.0)
            if i % READ_EVERY == 0:
                read()
    else:
        for frame in frames:
            apply(frame, 0.0)
    return time.process_time() - t0


def _latency(impl: Impl, snap: Frame, frames: list[Frame]) -> tuple[float, float]:
    impl.start(snap)
    apply = impl.apply
    clock = time.perf_counter_ns
    samples = []
    for frame in frames:
        t0 = clock()
        apply(frame, 0.0)
        samples.append(clock() - t0)
    samples.sort()
    return samples[len(samples) // 2] / 1000, samples[int(len(samples) * 0.99)] / 1000


def _timer_overhead_us() -> float:
    clock = time.perf_counter_ns
    samples = []
    for _ in range(100_000):
        t0 = clock()
        samples.append(clock() - t0)
    samples.sort()
    return samples[len(samples) // 2] / 1000


def _memory_per_book(name: str, snap: Frame, books: int = 20) -> float:
    """Bytes retained per book built from a fresh 400-a-side JSON snapshot."""
    text = json.dumps(snap)
    ex = client = None
    if name.startswith("ccxt"):
        ex, client = _ccxt_exchange()
        market = ex.safe_market(INST)
    kept: list[Any] = []
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(books):
        frame = json.loads(text)
        book: Any
        if name.startswith("okx-ws"):
            book = (OkxWsPure if name == "okx-ws-pure" else OkxWs).book_cls(
                INST, frame["arg"]["channel"]
            )
            book.apply(frame, 0.0)
        elif name.startswith("ccxt"):
            assert ex is not None
            book = ex.order_book({}, LEVELS)
            ex.handle_order_book_message(client, frame["data"][0], book, "m", market)
        else:
            book = Floor()
            book.start(frame)
        kept.append(book)
        del frame
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return used / books


def _by_kind(snap: Frame, frames: list[Frame]) -> str:
    """Mean ns per update (timer included) by what it does to the book: where the time goes."""
    ref = Floor()
    ref.start(snap)
    kinds: list[str] = []
    for f in frames:
        d = f["data"][0]
        kind = "multi"
        if len(d["bids"]) + len(d["asks"]) == 1:
            side, row = (ref.bids, d["bids"][0]) if d["bids"] else (ref.asks, d["asks"][0])
            known = row[0] in side
            kind = (
                ("delete" if known else "delete-absent")
                if row[1] == "0"
                else ("size" if known else "new-level")
            )
        kinds.append(kind)
        ref.apply(f, 0.0)
    out = []
    clock = time.perf_counter_ns
    for cls in (*OKX_IMPLS, Floor):
        impl = cls()
        impl.start(snap)
        apply = impl.apply
        sums: dict[str, list[int]] = {}
        for f, kind in zip(frames, kinds, strict=True):
            t0 = clock()
            apply(f, 0.0)
            sums.setdefault(kind, []).append(clock() - t0)
        out.append(
            f"{impl.name}: "
            + ", ".join(
                f"{k} {sum(v) / len(v):.0f} ({len(v) / len(frames):.0%})"
                for k, v in sorted(sums.items())
            )
        )
    return "mean ns by kind (share of updates) -- " + "; ".join(out)


def _agree(snap: Frame, frames: list[Frame]) -> str:
    tops = {}
    for cls in IMPLS:
        impl = cls()
        impl.start(snap)
        for frame in frames:
            impl.apply(frame, 0.0)
        bids, asks = impl.read()
        tops[impl.name] = (
            [(p.normalize(), s.normalize()) for p, s in bids],
            [(p.normalize(), s.normalize()) for p, s in asks],
        )
    first = tops["okx-ws"]
    bad = [name for name, top in tops.items() if top != first]
    return "all books agree on the top 10" if not bad else f"MISMATCH: {bad} differ from okx-ws"


def _shape_stats(frames: list[Frame]) -> dict[str, float]:
    rows = [len(f["data"][0]["bids"]) + len(f["data"][0]["asks"]) for f in frames]
    deletes = sum(
        1 for f in frames for side in ("bids", "asks") for r in f["data"][0][side] if r[1] == "0"
    )
    return {
        "levels_per_update": sum(rows) / len(frames),
        "one_level_share": rows.count(1) / len(frames),
        "delete_share": deletes / sum(rows),
    }


def measure(frames_n: int, passes: int, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Every shape through every implementation; plain data (``render`` prints it, ``make bench`` keeps it)."""
    result: dict[str, Any] = {
        "python": sys.version.split()[0],
        "okx_ws_build": BUILD,
        "frames": frames_n,
        "passes": passes,
        "read_every": READ_EVERY,
        "read_depth": READ_DEPTH,
        "levels": LEVELS,
        "timer_overhead_us": _timer_overhead_us(),
        "shapes": {},
    }
    for shape in SHAPES:
        if log:
            log(f"bench.book: {shape} ...")
        snap, frames = make_stream(shape, frames_n)
        # The replayed stream sits in memory; a live process holds no such
        # backlog, so keep the collector from walking it on every full pass.
        gc.collect()
        gc.freeze()
        times: dict[str, list[float]] = {c.name: [] for c in IMPLS}
        times_r: dict[str, list[float]] = {c.name: [] for c in IMPLS}
        for p in range(passes):
            order = IMPLS[p % len(IMPLS) :] + IMPLS[: p % len(IMPLS)]
            for cls in order:
                times[cls.name].append(_replay(cls(), snap, frames, reads=False))
                times_r[cls.name].append(_replay(cls(), snap, frames, reads=True))
        impls: dict[str, dict[str, float]] = {}
        for cls in IMPLS:
            t, tr = min(times[cls.name]), min(times_r[cls.name])
            p50, p99 = _latency(cls(), snap, frames)
            impls[cls.name] = {
                "updates_per_s": len(frames) / t,
                "ns_per_update": t / len(frames) * 1e9,
                "median_ns_per_update": statistics.median(times[cls.name]) / len(frames) * 1e9,
                "with_reads_per_s": len(frames) / tr,
                "p50_us": p50,
                "p99_us": p99,
            }
        t_okx, tr_okx = min(times["okx-ws"]), min(times_r["okx-ws"])
        pure = (
            {
                "okx_ws_pure_vs_floor": min(times["okx-ws-pure"]) / min(times["floor"]),
                "with_reads_okx_ws_pure_vs_floor": min(times_r["okx-ws-pure"])
                / min(times_r["floor"]),
            }
            if COMPILED
            else {}
        )
        result["shapes"][shape] = {
            "channel": SHAPES[shape][0],
            **_shape_stats(frames),
            "impls": impls,
            **pure,
            "okx_ws_vs_floor": t_okx / min(times["floor"]),
            "ccxt_vs_okx_ws": min(times["ccxt"]) / t_okx,
            "ccxt_core_vs_okx_ws": min(times["ccxt-core"]) / t_okx,
            "with_reads_okx_ws_vs_floor": tr_okx / min(times_r["floor"]),
            "with_reads_ccxt_vs_okx_ws": min(times_r["ccxt"]) / tr_okx,
            "agree": _agree(snap, frames),
            "by_kind": _by_kind(snap, frames) if shape == "one-level" else None,
        }
        del snap, frames
        gc.unfreeze()
    snap, _ = make_stream("books", 0)
    result["memory_kib"] = {
        name: _memory_per_book(name, snap) / 1024
        for name in ("okx-ws", *(["okx-ws-pure"] if COMPILED else []), "ccxt", "floor")
    }
    return result


def render(result: dict[str, Any]) -> str:
    """The tables ``python -m bench.book`` prints."""
    out = [
        f"okx-ws book: {result.get('okx_ws_build', 'pure Python')}"
        + (
            " (okx-ws-pure: the same book's pure-Python fallback)"
            if "compiled" in result.get("okx_ws_build", "")
            else ""
        ),
        f"python {result['python']}, {result['frames']:,} updates per stream, best of "
        f"{result['passes']} passes, read pattern: best bid+ask and top {result['read_depth']} "
        f"per side every {result['read_every']} updates",
    ]
    for shape, s in result["shapes"].items():
        out += [
            "",
            f"== {shape} ({s['channel']} frames): {s['levels_per_update']:.2f} levels/update, "
            f"{s['one_level_share']:.0%} one-level, {s['delete_share']:.0%} of rows delete",
            f"{'':11} {'updates/s':>11} {'ns/update':>10} {'median ns':>10} {'+reads /s':>11} "
            f"{'vs okx-ws':>9} {'p50 us':>7} {'p99 us':>7}",
        ]
        ours = s["impls"]["okx-ws"]["ns_per_update"]
        for name, r in s["impls"].items():
            out.append(
                f"{name:11} {r['updates_per_s']:11,.0f} {r['ns_per_update']:10.0f} "
                f"{r['median_ns_per_update']:10.0f} {r['with_reads_per_s']:11,.0f} "
                f"{r['ns_per_update'] / ours:8.2f}x {r['p50_us']:7.2f} {r['p99_us']:7.2f}"
            )
        floor, ccxt = s["okx_ws_vs_floor"], s["ccxt_vs_okx_ws"]
        pure = s.get("okx_ws_pure_vs_floor")
        beside = f" [pure Python: {pure:.2f}x]" if pure is not None else ""
        reads_pure = s.get("with_reads_okx_ws_pure_vs_floor")
        reads_beside = f" [pure Python: {reads_pure:.2f}x]" if reads_pure is not None else ""
        out += [
            f"okx-ws / floor = {floor:.2f}x (target <= 1.5x: {'met' if floor <= 1.5 else 'MISSED'})"
            f"{beside}; "
            f"ccxt / okx-ws = {ccxt:.2f}x (target >= 3x: {'met' if ccxt >= 3 else 'MISSED'}); "
            f"ccxt-core / okx-ws = {s['ccxt_core_vs_okx_ws']:.2f}x",
            f"with reads: okx-ws / floor = {s['with_reads_okx_ws_vs_floor']:.2f}x{reads_beside}, "
            f"ccxt / okx-ws = {s['with_reads_ccxt_vs_okx_ws']:.2f}x",
            s["agree"],
        ]
        if s["by_kind"]:
            out.append(s["by_kind"])
    out += [
        "",
        "latency: frame (parsed dict) -> book updated, per update; timer overhead "
        f"{result['timer_overhead_us']:.2f} us included",
        f"memory per book of {result['levels']} levels a side (tracemalloc, after the frame is dropped):",
        *(f"  {name:11} {kib:8.1f} KiB" for name, kib in result["memory_kib"].items()),
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.book", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="20,000 updates, 2 passes")
    parser.add_argument("--frames", type=int, default=120_000)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument(
        "--json", action="store_true", help="print one RESULT <json> line (for make bench)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.frames, args.passes = 20_000, 2
    if args.json:
        log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
        print("RESULT " + json.dumps(measure(args.frames, args.passes, log)))
    else:
        print(render(measure(args.frames, args.passes)))


if __name__ == "__main__":
    main()
