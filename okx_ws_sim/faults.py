"""Fault injection plan: what the simulator should break next.

Knobs are methods that arm faults; the simulator's policy consumes them
through the ``take_*`` methods, and only while ``active`` is true, so an idle
plan costs one attribute read per frame.  Methods are meant to be called on
the simulator's event loop (``SimulatorThread.faults`` forwards calls to it).

What was *armed* is tallied here (``armed()``, ``pending()``, ``discarded()``);
what *fired* is ``Simulator.stats.faults_injected``, counted by the policy
when a fault takes effect.  Both use the same kind names, so a soak can
explain "armed 12, fired 9": for one-shot kinds (drop_request, drop_reply,
refuse_login, close_after_frames, rest_fail, rest_hang) ``armed == fired +
pending + discarded``, ``reset()`` discarding what was still pending (also
book_gap, book_duplicate, book_reset and rest_delay, the order-book faults).  Modes
(swallow_pong, delay_reply) are armed once per switch-on and fire per frame
they touch; broadcasts (notice, malformed) are armed per connection (per
frame for malformed) they are aimed at and fire per frame actually sent.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

# Called with (action, params); returns how many connections it was applied to.
ActionHook = Callable[[str, dict[str, Any]], int]


class DropKind(enum.Enum):
    """Where a dropped request is lost; the value is its kind in the fault tallies."""

    BEFORE_EXECUTE = "drop_request"  # lost on its way in: not executed, no reply
    AFTER_EXECUTE = "drop_reply"  # executed, then the reply is lost


@dataclass(frozen=True, slots=True)
class _Drop:
    op: str | None  # None: any op
    kind: DropKind


class RestFault(NamedTuple):
    # "fail" (answer HTTP `value`), "hang" (hold `value` seconds, then drop) or "delay"
    # (take the answer now, send it `value` seconds later)
    kind: str
    value: float


# Order-book faults (FaultPlan.skip_book_update & co.): their kinds in the tallies.
BOOK_GAP = "book_gap"
BOOK_DUPLICATE = "book_duplicate"
BOOK_RESET = "book_reset"
BOOKS_PATH = "/api/v5/market/books"


@dataclass(slots=True)
class FrameCounter:
    """Per-connection count-down for ``close_after_frames``; ``epoch`` says which arming
    it counts for, so a re-armed fault restarts every connection's count."""

    epoch: int = -1
    left: int = 0


class FaultPlan:
    def __init__(self, on_action: ActionHook | None = None) -> None:
        self._on_action = on_action
        self._armed: Counter[str] = Counter()
        self._discarded: Counter[str] = Counter()
        self.close_epoch = 0
        self._clear()

    def reset(self, *, counts: bool = False) -> None:
        """Disarm every pending fault (connections already closing stay closing).
        What was pending is tallied as discarded; ``counts=True`` also zeroes the
        armed / discarded tallies (``Simulator.reset()``, which zeroes ``stats`` too)."""
        if counts:
            self._armed.clear()
            self._discarded.clear()
        else:
            self._discarded.update(self.pending())
        self._clear()

    def _clear(self) -> None:
        self.close_after_n: int | None = None
        self.close_each = False
        self.drops: list[_Drop] = []
        self.pongs_swallowed = False
        self.delay = 0.0
        self.jitter = 0.0
        self.refuse_left = 0
        self.refuse_code = "60009"
        self.rest_faults: list[tuple[str, str | None, float]] = []  # (kind, path or None, value)
        # (kind, instId or None, channel or None), oldest first
        self.book_faults: list[tuple[str, str | None, str | None]] = []
        self._refresh()

    def _refresh(self) -> None:
        self.active = bool(
            self.close_after_n is not None
            or self.drops
            or self.pongs_swallowed
            or self.delay
            or self.jitter
            or self.refuse_left
            or self.rest_faults
            or self.book_faults
        )

    # -- tallies ----------------------------------------------------------------------
    def armed(self) -> Counter[str]:
        """Faults armed since creation or ``Simulator.reset()``, per kind: one per shot
        for one-shot kinds, one per switch-on for modes (swallow_pong, delay_reply), one
        per connection reached for broadcasts (notice, malformed: one per frame)."""
        return +self._armed

    def pending(self) -> Counter[str]:
        """Shots of one-shot kinds armed and not fired yet.  Modes are not shots: whether
        one is on is ``pongs_swallowed`` / ``delay`` / ``jitter``."""
        out: Counter[str] = Counter(d.kind.value for d in self.drops)
        if self.close_after_n is not None:
            out["close_after_frames"] += 1
        out["refuse_login"] += self.refuse_left
        for kind, _, _ in self.rest_faults:
            out[f"rest_{kind}"] += 1
        for kind, _, _ in self.book_faults:
            out[kind] += 1
        return +out

    def discarded(self) -> Counter[str]:
        """One-shot faults disarmed by ``reset()`` (or replaced by a new arming) unfired."""
        return +self._discarded

    def note_armed(self, kind: str, n: int = 1) -> None:
        """Tally a fault the simulator performs itself (``Simulator.restart``)."""
        self._armed[kind] += n

    # -- knobs --------------------------------------------------------------------
    def close_after_frames(self, n: int, *, each: bool = False) -> None:
        """Close (abort, no close frame) a connection once it has received ``n`` more frames.

        Counting starts now for open connections and at open for new ones.  The
        ``n``-th frame is received but not processed.  With ``each=False`` only
        the first connection to get there is closed and the fault disarms; with
        ``each=True`` every connection is closed after ``n`` frames until reset.
        """
        if n < 1:
            raise ValueError("n must be >= 1")
        if self.close_after_n is not None:
            self._discarded["close_after_frames"] += 1
        self._armed["close_after_frames"] += 1
        self.close_after_n = n
        self.close_each = each
        self.close_epoch += 1
        self._refresh()

    def drop_next_request(self, op: str | None = None, count: int = 1) -> None:
        """Abort the connection when the next WS API request (of ``op``, or any) arrives,
        without replying and without executing it: the request is lost in flight."""
        self._drop(op, count, DropKind.BEFORE_EXECUTE)

    def drop_after_execute(self, op: str | None = None, count: int = 1) -> None:
        """Like drop_next_request, but the request IS executed (orders placed) before the
        connection is aborted, and no reply is sent: the reply is lost in flight."""
        self._drop(op, count, DropKind.AFTER_EXECUTE)

    def _drop(self, op: str | None, count: int, kind: DropKind) -> None:
        self.drops.extend([_Drop(op, kind)] * count)
        self._armed[kind.value] += count
        self._refresh()

    def swallow_pongs(self, on: bool = True) -> None:
        """Answer no text ``ping`` with ``pong`` while on."""
        if on and not self.pongs_swallowed:
            self._armed["swallow_pong"] += 1
        self.pongs_swallowed = on
        self._refresh()

    def delay_replies(self, seconds: float, jitter: float = 0.0) -> None:
        """Delay every WS API reply by ``seconds`` + uniform(0, jitter); with jitter
        replies may be reordered.  ``delay_replies(0)`` turns it off."""
        if seconds < 0 or jitter < 0:
            raise ValueError("delay and jitter must be >= 0")
        if (seconds or jitter) and not (self.delay or self.jitter):
            self._armed["delay_reply"] += 1
        self.delay = seconds
        self.jitter = jitter
        self._refresh()

    def refuse_logins(self, count: int = 1, code: str = "60009") -> None:
        """The next ``count`` logins fail with ``code`` even with good credentials
        (replacing any refusals still pending)."""
        self._discarded["refuse_login"] += self.refuse_left
        self._armed["refuse_login"] += count
        self.refuse_left = count
        self.refuse_code = code
        self._refresh()

    def fail_rest(self, count: int = 1, status: int = 503, path: str | None = None) -> None:
        """The next ``count`` REST requests (to ``path``, or any REST path) get HTTP
        ``status`` with OKX's ``50001`` "Service temporarily unavailable" body, and are
        not counted as answered by ``Simulator.rest_calls``."""
        if count < 1 or not 100 <= status <= 599:
            raise ValueError("count must be >= 1 and status an HTTP status")
        self._rest("fail", count, path, float(status))

    def hang_rest(self, count: int = 1, seconds: float = 5.0, path: str | None = None) -> None:
        """The next ``count`` REST requests get no answer: the connection is held
        ``seconds`` (or until the simulator stops / restarts), then dropped without
        a response, like a host that does not answer.  The server's handshake
        timeout (10 s) caps ``seconds``."""
        if count < 1 or seconds < 0:
            raise ValueError("count must be >= 1 and seconds >= 0")
        self._rest("hang", count, path, seconds)

    def delay_book_snapshot(self, seconds: float, count: int = 1) -> None:
        """The next ``count`` answers of ``GET /api/v5/market/books`` are taken when the
        request arrives and sent ``seconds`` later (or when the simulator stops): a
        snapshot older than the stream by then, as a slow REST call gives.  Kind
        ``rest_delay``."""
        if count < 1 or seconds < 0:
            raise ValueError("count must be >= 1 and seconds >= 0")
        self._rest("delay", count, BOOKS_PATH, seconds)

    def _rest(self, kind: str, count: int, path: str | None, value: float) -> None:
        self.rest_faults.extend([(kind, path, value)] * count)
        self._armed[f"rest_{kind}"] += count
        self._refresh()

    # -- order books (the market channels) ---------------------------------------------
    def skip_book_update(
        self, inst_id: str | None = None, channel: str | None = None, count: int = 1
    ) -> None:
        """The next ``count`` updates of an incremental book channel (books,
        books-l2-tbt, books50-l2-tbt; of ``channel`` / ``inst_id`` if given) are not
        sent: the next one's prevSeqId names a seqId the client never saw (a gap).
        Kind ``book_gap``."""
        self._book(BOOK_GAP, inst_id, channel, count)

    def duplicate_book_update(
        self, inst_id: str | None = None, channel: str | None = None, count: int = 1
    ) -> None:
        """The next ``count`` updates of an incremental book channel are sent twice in a
        row (the second's prevSeqId is its own seqId's predecessor again).  Kind
        ``book_duplicate``."""
        self._book(BOOK_DUPLICATE, inst_id, channel, count)

    def reset_book_sequence(self, inst_id: str | None = None, count: int = 1) -> None:
        """OKX's maintenance: at the next market step of a subscribed instrument (of
        ``inst_id`` if given) its seqId drops below the last one sent; the chain goes
        on from there (the next update has seqId < prevSeqId).  Kind ``book_reset``."""
        self._book(BOOK_RESET, inst_id, None, count)

    def _book(self, kind: str, inst_id: str | None, channel: str | None, count: int) -> None:
        if count < 1:
            raise ValueError("count must be >= 1")
        self.book_faults.extend([(kind, inst_id, channel)] * count)
        self._armed[kind] += count
        self._refresh()

    # -- one-shot actions (need the server) ---------------------------------------
    def send_notice(
        self, close_after: float = 0.2, kinds: tuple[str, ...] = ("private", "business")
    ) -> None:
        """Send the 64008 notice on every open connection of ``kinds`` and close
        them (code 1012, service restart) ``close_after`` seconds later."""
        self._armed["notice"] += self._act("notice", {"close_after": close_after, "kinds": kinds})

    def send_malformed(
        self, n: int = 1, kinds: tuple[str, ...] = ("public", "private", "business")
    ) -> None:
        """Push ``n`` malformed frames to every open connection, alternating
        ``{not json`` and ``{"unexpected": true}``."""
        self._armed["malformed"] += n * self._act("malformed", {"n": n, "kinds": kinds})

    def _act(self, kind: str, params: dict[str, Any]) -> int:
        if self._on_action is None:
            raise RuntimeError("FaultPlan is not attached to a running Simulator")
        return self._on_action(kind, params)

    # -- consumed by the simulator's policy ----------------------------------------
    def take_close(self, counter: FrameCounter) -> bool:
        """Count one frame on the connection owning ``counter``; True when
        ``close_after_frames`` says this frame closes it (the fault then disarms,
        unless armed with ``each=True``)."""
        if self.close_after_n is None:
            return False
        if counter.epoch != self.close_epoch:
            counter.epoch = self.close_epoch
            counter.left = self.close_after_n
        counter.left -= 1
        if counter.left > 0:
            return False
        if not self.close_each:
            self.close_after_n = None
            self._refresh()
        return True

    def take_drop(self, op: str) -> DropKind | None:
        """Where this request must be dropped, or None."""
        for i, drop in enumerate(self.drops):
            if drop.op is None or drop.op == op:
                del self.drops[i]
                self._refresh()
                return drop.kind
        return None

    def take_refusal(self) -> str | None:
        """The code this login must fail with, or None."""
        if self.refuse_left <= 0:
            return None
        self.refuse_left -= 1
        self._refresh()
        return self.refuse_code

    def take_book_fault(self, kind: str, inst_id: str, channel: str | None) -> bool:
        """Consume one armed ``kind`` fault matching this instrument (and channel);
        True when one was armed (the caller fires it)."""
        for i, (want_kind, want_inst, want_channel) in enumerate(self.book_faults):
            if (
                want_kind == kind
                and (want_inst is None or want_inst == inst_id)
                and (want_channel is None or channel is None or want_channel == channel)
            ):
                del self.book_faults[i]
                self._refresh()
                return True
        return False

    def take_rest_fault(self, path: str) -> RestFault | None:
        """How this REST request must fail, or None."""
        for i, (kind, want, value) in enumerate(self.rest_faults):
            if want is None or want == path:
                del self.rest_faults[i]
                self._refresh()
                return RestFault(kind, value)
        return None


__all__ = [
    "BOOKS_PATH",
    "BOOK_DUPLICATE",
    "BOOK_GAP",
    "BOOK_RESET",
    "DropKind",
    "FaultPlan",
    "FrameCounter",
    "RestFault",
]
