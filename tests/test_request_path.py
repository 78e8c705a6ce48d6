"""The path of one warm request, measured: the modules a ``submit_new_order`` runs.

A profiler (``sys.setprofile``) records every Python function call on the loop
thread while one warm ``submit_new_order`` (default options, connection open,
instIdCode cached) goes down to the transport and its reply comes back up.  The
modules it ran, in order, must be exactly those the architecture page lists in
its request-path section (docs/guide/architecture.md, linked from the README),
so a module that joins the path, or leaves it, shows up here and on that page.

The scripted server stands in for the transport (``okx_ws_core.testing``): it is
the test's, not the path's, and is left out.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from okx_ws import AsyncWebsocketAPIClient

from okx_ws_core.testing import ScriptedServer, run

DOC = Path(__file__).resolve().parent.parent / "docs" / "guide" / "architecture.md"
SECTION = "## The path of one request"
OURS = ("okx_ws_core", "okx_ws")
LEFT_OUT = ("okx_ws_core.testing",)
LINK = "okx_ws_core.net.link"
# The zig-zags left on the path, each listed with its reason on the architecture page
# (12 when call() conducted every step, 9 with the params validators in turn; see the page).
MAX_ZIGZAGS = 8
BUY = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "1"}
CREDENTIALS = {"api_key": "k", "api_secret": "s", "api_passphrase": "p"}


def _instruments(request: httpx.Request) -> httpx.Response:
    item = {"instId": "BTC-USDT", "instIdCode": 1001, "instType": "SPOT"}
    return httpx.Response(200, json={"code": "0", "msg": "", "data": [item]})


@dataclass(frozen=True)
class ZigZag:
    """A module the request returned to and then left again for another: ``A>B>A>C``.

    Nested calls unwinding (``A>B>C>B>A``) are one descent and one ascent; a
    zig-zag is a module conducting the steps in turn.  ``phase`` is ``down``
    until the frame reaches the transport, ``up`` after.
    """

    module: str
    returned_from: str
    went_to: str
    phase: str

    def __str__(self) -> str:
        names = (_short(self.module), _short(self.returned_from), _short(self.went_to))
        return f"{self.phase}: {names[0]}: {names[1]} -> {names[2]}"


def _short(module: str) -> str:
    return module.removeprefix("okx_ws_core.")


@dataclass
class Trace:
    """What the profiler saw: the stays (depth, module) in order, and the zig-zags."""

    stays: list[tuple[int, str]] = field(default_factory=list)
    zigzags: list[ZigZag] = field(default_factory=list)


def _ours(frame: FrameType | None) -> str | None:
    module = "" if frame is None else str(frame.f_globals.get("__name__", ""))
    return module if module.split(".")[0] in OURS and module not in LEFT_OUT else None


def _blocks(frame: FrameType | None) -> list[tuple[str, FrameType]]:
    """The stack as module stays, outermost first: (module, the stay's first frame).

    Frames of other code (pydantic, asyncio, the scripted server) are skipped."""
    blocks: list[tuple[str, FrameType]] = []
    while frame is not None:
        module = _ours(frame)
        if module is not None:
            if blocks and blocks[-1][0] == module:
                blocks[-1] = (module, frame)
            else:
                blocks.append((module, frame))
        frame = frame.f_back
    blocks.reverse()
    return blocks


class _Profiler:
    """Follows ``call`` and ``return`` events: a call of a module's first frame from
    another module is a descent (a coroutine resumed is not), a return from it an
    ascent, and a descent from a stay that a callee had already returned to is a zig-zag."""

    def __init__(self) -> None:
        self.trace = Trace()
        self.written = False  # the frame reached the transport: the reply's way up begins
        self._seen: dict[int, FrameType] = {}  # frames already run (resumed is not called)
        self._returned: dict[int, str] = {}  # stay (its first frame) -> the callee that returned

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            self._call(frame)
        elif event == "return" and _ours(frame) is not None:
            self._return(frame)

    def _stay(self, blocks: list[tuple[str, FrameType]]) -> None:
        stay = (len(blocks) - 1, blocks[-1][0])
        if not self.trace.stays or self.trace.stays[-1] != stay:
            self.trace.stays.append(stay)

    def _call(self, frame: FrameType) -> None:
        fresh = id(frame) not in self._seen
        self._seen[id(frame)] = frame
        module = _ours(frame)
        if module is None:
            caller = _blocks(frame.f_back)
            if caller and caller[-1][0] == LINK and frame.f_globals.get("__name__") in LEFT_OUT:
                self.written = True  # the link called the (scripted) transport
            return
        blocks = _blocks(frame)
        self._stay(blocks)
        if not fresh or len(blocks) < 2 or blocks[-1][1] is not frame:
            return
        caller, first = blocks[-2][0], id(blocks[-2][1])
        if first in self._returned:
            phase = "up" if self.written else "down"
            self.trace.zigzags.append(ZigZag(caller, self._returned[first], module, phase))

    def _return(self, frame: FrameType) -> None:
        blocks = _blocks(frame)
        if len(blocks) >= 2 and blocks[-1][1] is frame:  # leaves its module: an ascent
            self._returned[id(blocks[-2][1])] = blocks[-1][0]
            self._stay(blocks[:-1])


def traced_path() -> Trace:
    """One warm submit_new_order as the profiler saw it."""
    profiler = _Profiler()

    async def main() -> None:
        server = ScriptedServer()
        rest = httpx.MockTransport(_instruments)
        async with AsyncWebsocketAPIClient(
            **CREDENTIALS, transport=server, rest_transport=rest, attach_event_listeners=False
        ) as api:
            for warm_up in ("w1", "w2"):  # connect, log in, load the code: the cold path
                await api.submit_new_order({**BUY, "px": "1", "clOrdId": warm_up})
            sys.setprofile(profiler)
            try:
                await api.submit_new_order({**BUY, "px": "1", "clOrdId": "traced"})
            finally:
                sys.setprofile(None)

    run(main())
    return profiler.trace


def _section() -> str:
    text = DOC.read_text()
    section = text[text.index(SECTION) :]
    following = section.find("\n## ", len(SECTION))
    return section if following < 0 else section[:following]


def documented_path() -> list[str]:
    names = re.findall(r"^\| `((?:okx_ws_core|okx_ws)(?:\.\w+)+)` \|", _section(), re.MULTILINE)
    return [n for n in dict.fromkeys(names) if n not in LEFT_OUT]


def documented_zigzags() -> list[str]:
    """The page's zig-zag rows: ``| `down` `A`: `B` -> `C` | why |``."""
    rows = re.findall(
        r"^\| `(down|up)` `([\w.]+)`: `([\w.]+)` -> `([\w.]+)` \|", _section(), re.MULTILINE
    )
    return [f"{phase}: {a}: {b} -> {c}" for phase, a, b, c in rows]


def _show(trace: Trace) -> None:
    print(f"\nwarm submit_new_order: {len(trace.stays)} stays (indented by depth)")
    for number, (depth, module) in enumerate(trace.stays, 1):
        print(f"  {number:2d}. {'  ' * depth}{_short(module)}")
    print("  in one line: " + " > ".join(_short(module) for _, module in trace.stays))
    print(f"zig-zags (returned to a module, then left it again): {len(trace.zigzags)}")
    for zigzag in trace.zigzags:
        print(f"  {zigzag}")


def test_the_documented_request_path_is_the_measured_one() -> None:
    trace = traced_path()
    _show(trace)
    ran, listed = list(dict.fromkeys(m for _, m in trace.stays)), documented_path()
    unlisted = [m for m in ran if m not in listed]
    stale = [m for m in listed if m not in ran]
    assert not unlisted, f"on the request path but not in {DOC.name}'s '{SECTION}': {unlisted}"
    assert not stale, f"listed in {DOC.name}'s '{SECTION}' but not on the path: {stale}"
    assert ran == listed, f"list them in the order the request first runs them: {ran}"


def test_the_request_goes_down_once_but_for_the_documented_zigzags() -> None:
    measured = [str(zigzag) for zigzag in traced_path().zigzags]
    assert len(measured) <= MAX_ZIGZAGS, f"{len(measured)} zig-zags: {measured}"
    undocumented = Counter(measured) - Counter(documented_zigzags())
    stale = Counter(documented_zigzags()) - Counter(measured)
    assert not undocumented, f"zig-zags {DOC.name} does not list: {list(undocumented)}"
    assert not stale, f"zig-zags {DOC.name} lists but the path no longer makes: {list(stale)}"
