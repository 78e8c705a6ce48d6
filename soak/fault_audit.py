"""Armed versus fired: every fault the soak armed, matched with what the simulator fired.

The simulator counts what it *fired* (``sim.stats.faults_injected``); the soak
records what it *armed*, each arming with the simulator's counters just
before and just after it (one atomic call on the simulator's loop, see
``soak.simproc``).  At the end of each segment, before the faults still armed
are cleared, :func:`reconcile` decides for every armed fault whether it fired,
and for every one that did not, whether it *could* have: a fault that needed
a request, a frame, a ping or a login that never reached the simulator is
excused, with the reason; anything else is a problem that fails the run, as
is any firing the soak did not arm.

How a kind fires decides how its firings are matched to armings:

* ``slot``: armed until it fires, re-arming replaces it (close after n
  frames, refused logins): it owns the firings until the next arming of its
  counter (or the segment's end).
* ``broadcast``: a notice or malformed frames sent to every open connection;
  each frame counts when it is actually sent, by a task the simulator spawns
  for each connection aimed at, so mostly just after the arming: it owns the
  firings until the next arming of its counter, up to the frames it was aimed
  at (the simulator's tally); a frame beyond that was aimed by an earlier
  arming and sent late (a slow link), and only frames beyond what every
  arming so far aimed at are a problem.  (refuse_login also sends a notice:
  it arms the ``notice`` counter too.)
* ``window``: on until turned off (swallowed pongs, delayed replies): it owns
  the firings while it was on; a firing while none was on is a problem.
* ``fifo``: queued drops (request or reply): each request that reaches the
  simulator takes the oldest queued drop, whichever its kind.
* ``now``: a restart fires inside its own call.

When the simulator also tallies what it was asked to arm (``faults.armed()``,
``pending()``), the soak's armings are checked against that tally too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .faults import Fault

Counters = dict[str, int]

# soak kind -> (how it fires, the simulator counter that says it fired)
FIRES: dict[str, tuple[str, str]] = {
    "close_mid_request": ("slot", "close_after_frames"),
    "drop_request": ("fifo", "drop_request"),
    "drop_reply": ("fifo", "drop_reply"),
    "swallow_pongs": ("window", "swallow_pong"),
    "delay_jitter": ("window", "delay_reply"),
    "notice": ("broadcast", "notice"),
    "malformed": ("broadcast", "malformed"),
    "refuse_login": ("slot", "refuse_login"),
    "restart": ("now", "restart"),
}
ALSO_ARMS = {"refuse_login": ("notice",)}  # counters a kind arms besides its own
ALSO_BROADCASTS = ("notice",)  # ...of which these are broadcasts
WINDOWED = (
    "close_after_frames",
    "refuse_login",
    "swallow_pong",
    "delay_reply",
    "notice",
    "malformed",
)
# Kinds whose simulator tally of armings the soak can predict (broadcasts count the
# connections reached, which only the simulator knows).
PREDICTABLE = (
    "close_after_frames",
    "drop_request",
    "drop_reply",
    "swallow_pong",
    "delay_reply",
    "refuse_login",
    "restart",
)


def fired(counters: Counters, counter: str) -> int:
    return counters.get(f"fired:{counter}", 0)


def tallied(counters: Counters, counter: str) -> int:
    return counters.get(f"armed:{counter}", 0)


@dataclass
class Armed:
    """One fault as the soak armed it."""

    fault: Fault
    segment: int
    before: Counters  # the simulator's counters just before arming
    after: Counters  # ... and just after
    units: int = 1  # refuse_login: the number of logins to refuse
    end: Counters | None = None  # window kinds: counters when it was turned off / re-armed
    ended_by: str = ""
    fired: int = 0  # units the simulator fired for it
    sent: int = 0  # broadcast: frames that went out
    excuse: str = ""  # why the units that did not fire could not
    problem: str = ""

    @property
    def how(self) -> str:
        return FIRES[self.fault.kind][0]

    @property
    def counter(self) -> str:
        return FIRES[self.fault.kind][1]

    @property
    def counters(self) -> tuple[str, ...]:
        return (self.counter, *ALSO_ARMS.get(self.fault.kind, ()))

    @property
    def label(self) -> str:
        return f"{self.fault.kind}@{self.fault.trigger}"

    @property
    def reach(self) -> int | None:
        """Broadcast: connections (notice) / frames (malformed) the simulator aimed it at."""
        if f"armed:{self.counter}" not in self.after:
            return None
        return tallied(self.after, self.counter) - tallied(self.before, self.counter)


def delta(name: str, start: Counters, end: Counters) -> int:
    return end.get(name, 0) - start.get(name, 0)


def reconcile(
    armed: list[Armed], start: Counters, end: Counters, pending: dict[str, Any] | None = None
) -> list[str]:
    """Match one segment's armed faults with the simulator's counters; the problems.

    ``start``/``end``: the simulator's counters when the segment began (nothing
    armed) and just before the faults still armed were cleared; ``pending``: what
    the simulator said was still armed then (None if it cannot say).
    """
    problems: list[str] = []
    armed = sorted(armed, key=lambda a: a.before.get("seq", 0))
    for counter in WINDOWED:
        problems += _windows(counter, [a for a in armed if counter in a.counters], start, end)
    problems += _now([a for a in armed if a.how == "now"], start, end)
    problems += _fifo([a for a in armed if a.how == "fifo"], start, end)
    if end.get("tallies"):  # the simulator tallies armings (faults.armed())
        problems += _tally(armed, start, end)
    if pending is not None:
        problems += _pending(armed, pending)
    return problems + [f"{a.label}: {a.problem}" for a in armed if a.problem]


def _windows(counter: str, users: list[Armed], start: Counters, end: Counters) -> list[str]:
    """Each arming owns the firings of ``counter`` from its start until the next arming
    of the counter (or, for a window, until it was turned off)."""
    problems = []
    last = start
    owed = 0  # broadcasts: frames earlier armings aimed at and had not sent yet
    for i, a in enumerate(users):
        outside = fired(a.before, counter) - fired(last, counter)
        late = min(outside, owed)
        owed -= late
        if outside > late:
            problems.append(
                f"the simulator fired {counter} {outside - late} times with nothing armed"
            )
        following = users[i + 1].before if i + 1 < len(users) else end
        own = a.counter == counter
        stop = a.end if own and a.how == "window" and a.end is not None else following
        n = fired(stop, counter) - fired(a.before, counter)
        last = stop
        aimed = _aimed(a, counter)
        if aimed is not None:  # a broadcast: its own frames first, the rest sent late
            mine = min(n, aimed)
            late = min(n - mine, owed)
            owed += aimed - mine - late
            n -= late
        if own:
            _judge(a, n, stop)
    outside = fired(end, counter) - fired(last, counter)
    if outside > owed:
        problems.append(f"the simulator fired {counter} {outside - owed} times with nothing armed")
    return problems


def _aimed(a: Armed, counter: str) -> int | None:
    """Frames of ``counter`` the simulator aimed ``a`` at, if a broadcast counter it tallies."""
    if FIRES.get(a.fault.kind, ("", ""))[0] != "broadcast" and counter not in ALSO_BROADCASTS:
        return None
    if f"armed:{counter}" not in a.after:
        return None
    return tallied(a.after, counter) - tallied(a.before, counter)


def _judge(a: Armed, n: int, stop: Counters) -> None:
    """``n`` firings belong to ``a``: how many of its units fired, and why not the rest."""
    if a.how == "window":  # a unit is the window: fired when anything fired in it
        a.fired = min(n, 1)
    elif a.how == "broadcast":
        a.sent, a.fired = n, min(n, 1)
        reach = a.reach
        if reach is not None and n > reach:
            a.problem = f"{n} frames sent, the simulator aimed it at {reach}"
    else:
        a.fired = n
        if n > a.units:
            a.problem = f"fired {n} times, armed for {a.units}"
    if a.fired < a.units and not a.problem:
        _unfired(a, stop)


def _unfired(a: Armed, stop: Counters) -> None:
    """Could ``a`` have fired (more) between its arming and ``stop``?  Excuse or problem."""
    kind, after, left = a.fault.kind, a.after, a.units - a.fired
    ended = a.ended_by or "cleared at the segment's end"
    if kind == "close_mid_request":
        n = int(a.fault.params["n"])
        frames = delta("frames", after, stop)
        conns = after.get("open", 0) + delta("opened", after, stop)
        if frames > (n - 1) * conns:  # then some connection received n frames
            a.problem = f"never fired though {frames} frames reached {conns} connections (n={n})"
        else:
            a.excuse = f"only {frames} frames on {conns} connections (n={n}) before it was {ended}"
    elif kind == "refuse_login":
        logins = delta("logins", after, stop)
        if a.fired < min(a.units, logins):
            a.problem = f"refused {a.fired} of {logins} logins, armed for {a.units}"
        else:
            a.excuse = f"{left} refusal(s) unused: only {logins} logins before it was {ended}"
    elif kind == "swallow_pongs":
        pings = delta("pings", after, stop)
        if pings:
            a.problem = f"{pings} pings arrived while on, none swallowed"
        else:
            a.excuse = f"no ping reached the simulator before it was {ended}"
    elif kind == "delay_jitter":
        drops = delta("fired:drop_request", after, stop) + delta("fired:drop_reply", after, stop)
        answered = delta("requests", after, stop) - drops
        if answered > 0:
            a.problem = f"{answered} requests answered while on, none delayed"
        else:
            a.excuse = f"no request was answered before it was {ended}"
    elif a.how == "broadcast":
        reach = a.reach
        if reach == 0 or (reach is None and not a.before.get("open", 0)):
            a.excuse = "no connection was open to take it (server restarting, or all closing)"
        else:
            a.excuse = (
                f"the {reach or a.before.get('open')} connection(s) it was aimed at closed first"
            )


def _now(restarts: list[Armed], start: Counters, end: Counters) -> list[str]:
    for a in restarts:
        a.fired = fired(a.after, a.counter) - fired(a.before, a.counter)
        if a.fired != 1:
            a.problem = f"the simulator counted {a.fired} restarts for one"
    inside = sum(a.fired for a in restarts)
    total = fired(end, "restart") - fired(start, "restart")
    if total != inside:
        return [f"the simulator restarted {total} times, the soak restarted it {inside} times"]
    return []


def _fifo(drops: list[Armed], start: Counters, end: Counters) -> list[str]:
    """Replay the drop queue: every request reaching the simulator takes the oldest drop."""
    queue: list[Armed] = []
    seen = start.get("requests", 0)
    for a in drops:
        arrived = a.before.get("requests", 0)
        _consume(queue, arrived - seen)
        seen = arrived
        queue.append(a)
    _consume(queue, end.get("requests", 0) - seen)
    problems = []
    for counter in ("drop_request", "drop_reply"):
        mine = [a for a in drops if a.counter == counter]
        expected = sum(a.fired for a in mine)
        total = fired(end, counter) - fired(start, counter)
        if total > expected:
            problems.append(
                f"the simulator fired {counter} {total} times; the soak armed {len(mine)},"
                f" of which {expected} had a request to take them"
            )
        for a in [a for a in mine if a.fired][max(total, 0) :]:  # which ones: unknowable
            a.fired = 0
            a.problem = (
                f"a request reached the simulator after it, yet it did not fire"
                f" (the simulator fired {counter} {total} of {expected} times)"
            )
    for a in queue:  # never taken
        after = end.get("requests", 0) - a.after.get("requests", 0)
        a.excuse = f"armed at request {a.fault.trigger}, cleared at the segment's end: " + (
            f"the {after} request(s) after it took older drops"
            if after
            else "no request reached the simulator after it"
        )
    return problems


def _consume(queue: list[Armed], requests: int) -> None:
    while requests > 0 and queue:
        queue.pop(0).fired = 1
        requests -= 1


def _tally(armed: list[Armed], start: Counters, end: Counters) -> list[str]:
    """The simulator's own tally of armings agrees with the soak's."""
    problems = []
    for counter in PREDICTABLE:
        mine = [a for a in armed if a.counter == counter]
        expected = sum(a.units for a in mine if a.how != "window")
        # A window counts as armed when switched on, not when re-armed while on.
        expected += sum(
            1 for i, a in enumerate(mine) if a.how == "window" and _was_off(mine[:i], a)
        )
        got = tallied(end, counter) - tallied(start, counter)
        if got != expected:
            problems.append(
                f"the simulator tallied {got} {counter} armings, the soak armed {expected}"
            )
    return problems


def _was_off(earlier: list[Armed], a: Armed) -> bool:
    if not earlier:
        return True
    end = earlier[-1].end
    return end is not None and end.get("seq", 0) < a.before.get("seq", 0)


def _pending(armed: list[Armed], pending: dict[str, Any]) -> list[str]:
    """What the simulator still had armed at the segment's end = what the soak found unfired."""
    expected: dict[str, int] = {}
    for a in armed:
        if a.how in ("slot", "fifo") and a.end is None and a.fired < a.units and not a.problem:
            expected[a.counter] = expected.get(a.counter, 0) + a.units - a.fired
    got = {k: int(v) for k, v in pending.items() if v and k in PREDICTABLE}
    if got != expected:
        return [
            f"at the segment's end the simulator still had {got} armed, the soak expected {expected}"
        ]
    return []
