"""Fuzz the client's inbound path: whatever arrives, the reader survives and no
request is settled by a frame that is not its reply.

Hostile frames are OKX's own frames with wrong types in their fields, keys
dropped or added, text truncated, random JSON and random text, JSON nested past
the recursion limit, replies for unknown ids or with our id and another ``op``,
and pushes for channels never subscribed.  They reach a real client (the
generated API client, tracking orders, with a typed stream open) through the
socket-free :class:`~okx_ws_core.testing.ScriptedServer`, on virtual time.

Settings are fixed for CI: a few seconds in all, ``derandomize`` so every run
tries the same examples, no deadline (the machine is shared).
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import tracemalloc
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from okx_ws import AsyncWebsocketAPIClient, OkxWsError, channels

from okx_ws_core.protocol.frames import Malformed, parse_frame
from okx_ws_core.streams.events import Event
from okx_ws_core.testing import ScriptedServer, ServerLink, VirtualTimeLoop, run, until

RID, OP = "t1", "order"  # the first request of a fresh client with id_prefix "t"
CL_ORD_ID = "fz1"
MARKER = {"arg": {"channel": "fuzz-marker"}, "data": []}
FRAME_EXAMPLES = 300
CLIENT_EXAMPLES = 120
MEMORY_EXAMPLES = 100
MEMORY_REPLAYS = 4


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- OKX's frames, and ways to break them ---------------------------------------------

ORDER_ITEM: dict[str, Any] = {
    "instType": "SPOT", "instId": "BTC-USDT", "ordId": "9", "clOrdId": CL_ORD_ID, "px": "100",
    "sz": "1", "side": "buy", "ordType": "limit", "tdMode": "cash", "state": "live",
    "accFillSz": "0", "fillSz": "0", "fillPx": "", "avgPx": "", "tradeId": "", "cTime": "1",
    "uTime": "2",
}  # fmt: skip


def okx_frames(rid: str = RID, op: str = OP) -> list[dict[str, Any]]:
    """One of each frame OKX sends (the reply is to ``rid`` / ``op``)."""
    return [
        {"id": rid, "op": op, "code": "0", "msg": "", "inTime": "1", "outTime": "2",
         "data": [{"clOrdId": CL_ORD_ID, "ordId": "9", "tag": "", "ts": "1", "sCode": "0",
                   "sMsg": "", "subCode": ""}]},
        {"id": rid, "op": op, "code": "1", "msg": "", "data": [{"sCode": "51008", "sMsg": "x"}]},
        {"event": "login", "code": "0", "msg": "", "connId": "c1"},
        {"event": "error", "code": "60012", "msg": "Invalid request", "connId": "c1"},
        {"event": "subscribe", "arg": {"channel": "orders", "instType": "ANY"}, "connId": "c1"},
        {"event": "unsubscribe", "arg": {"channel": "orders", "instType": "ANY"}, "connId": "c1"},
        {"event": "channel-conn-count", "channel": "orders", "connCount": "2", "connId": "c1"},
        {"event": "notice", "code": "64009", "msg": "something", "connId": "c1"},
        {"arg": {"channel": "orders", "instType": "ANY", "uid": "1"}, "data": [dict(ORDER_ITEM)]},
        # never subscribed:
        {"arg": {"channel": "books5", "instId": "BTC-USDT"},
         "data": [{"asks": [["1", "2", "0", "1"]], "bids": [], "ts": "1", "seqId": 3}]},
        {"arg": {"channel": "account", "uid": "1"}, "eventType": "snapshot",
         "data": [{"uTime": "1", "details": [{"ccy": "USDT", "cashBal": "1"}]}]},
        {"arg": {"channel": "sprd-orders", "uid": "1"}, "data": [dict(ORDER_ITEM, sprdId="S")]},
    ]  # fmt: skip


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from([RID, OP, "0", "64008", CL_ORD_ID, "orders", "ANY"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def mutated(draw: st.DrawFn, frame: dict[str, Any]) -> dict[str, Any]:
    """``frame`` with wrong types in some fields, some dropped, some added, at any depth."""
    out = dict(frame)
    for key in list(out):
        action = draw(st.sampled_from(["keep", "keep", "wrong", "drop", "deeper"]))
        if action == "wrong":
            out[key] = draw(json_values)
        elif action == "drop":
            del out[key]
        elif action == "deeper" and isinstance(out[key], dict):
            out[key] = draw(mutated(out[key]))
        elif action == "deeper" and isinstance(out[key], list) and out[key]:
            items = out[key]
            first = items[0]
            out[key] = [draw(mutated(first)) if isinstance(first, dict) else draw(json_values)]
    for key, value in draw(st.dictionaries(st.text(max_size=6), json_values, max_size=2)).items():
        out[key] = value
    return out


@st.composite
def hostile_text(draw: st.DrawFn) -> str:
    """One inbound text frame of any kind, most of them broken."""
    template = draw(st.sampled_from(okx_frames()))
    kind = draw(
        st.sampled_from(
            ["okx", "mutated", "truncated", "text", "json", "nested", "foreign", "own-id"]
        )
    )
    if kind == "okx":
        return json.dumps(template)
    if kind == "mutated":
        return json.dumps(draw(mutated(template)))
    if kind == "truncated":
        text = json.dumps(draw(mutated(template)) if draw(st.booleans()) else template)
        return text[: draw(st.integers(0, max(0, len(text) - 1)))]
    if kind == "text":
        return draw(st.text(max_size=80) | st.sampled_from(["pong", "ping", "", "null", "[]"]))
    if kind == "json":
        return json.dumps(draw(json_values))
    if kind == "nested":  # past the recursion limit of json.loads, or not
        depth = draw(st.sampled_from([10, 2_000, 5_000]))  # limit: 1,000 by default
        head = draw(st.sampled_from(["", '{"a":', '{"id":"t1","op":"order","data":']))
        return head * min(depth, 2) + "[" * depth
    if kind == "foreign":  # a reply, to some other id
        rid = draw(st.sampled_from(["t2", "t0", "T1", "t1 ", "1", "t11", ""]) | st.text(max_size=8))
        return json.dumps(okx_frames(rid, draw(st.sampled_from([OP, "cancel-order"])))[0])
    # our id, another op: not our reply
    other = draw(
        st.sampled_from(["cancel-order", "batch-orders", "ORDER", "order ", "", "sprd-order"])
        | json_values
    )
    return json.dumps(okx_frames(RID, other)[draw(st.integers(0, 1))])


def is_its_reply(text: str) -> bool:
    """Does ``text`` answer request RID (OKX: a reply is known by its id and op)?"""
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(message, dict) and message.get("id") == RID and message.get("op") == OP


def is_reconnect_notice(text: str) -> bool:
    """64008 asks the client to reconnect: legitimate, and not what this fuzz is about."""
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return (
        isinstance(message, dict)
        and message.get("event") == "notice"
        and str(message.get("code")) == "64008"
    )


hostile = hostile_text().filter(lambda t: not is_its_reply(t) and not is_reconnect_notice(t))


# -- the client under attack ------------------------------------------------------------


def make_client(server: ScriptedServer) -> AsyncWebsocketAPIClient:
    return AsyncWebsocketAPIClient(
        api_key="k",
        api_secret="s",
        api_passphrase="p",
        transport=server,
        instruments={"BTC-USDT": 7},
        attach_event_listeners=False,
        id_prefix="t",
        request_timeout=30.0,
    )


def order() -> dict[str, Any]:
    return {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit",
            "px": "100", "sz": "1", "clOrdId": CL_ORD_ID}  # fmt: skip


class Attack:
    """A client tracking orders with an ``orders`` stream open (never read), one
    request in flight."""

    def __init__(self) -> None:
        self.server = ScriptedServer(answer=None)
        self.client = make_client(self.server)
        self.updates: list[dict[str, Any]] = []
        self.link: ServerLink
        self.connects = 0

    async def start(self) -> asyncio.Task[Any]:
        await self.client.__aenter__()
        await self.client.track_orders()
        # A small buffer, never read: it fills during the memory test's warm-up.
        ws = self.client.get_ws_client()
        await ws.subscribe_channel(channels.ORDERS, {"instType": "ANY"}, buffer=8)
        self.client.get_ws_client().on("update", self._on_update)
        task = asyncio.ensure_future(self.client.submit_new_order(order()))
        [self.link] = [lk for lk in self.server.open_links() if lk.url.endswith("/private")]
        request = await self.link.next_request()
        assert (request["id"], request["op"]) == (RID, OP)
        self.connects = self.server.connect_attempts
        return task

    def _on_update(self, event: Event) -> None:
        if event.message is not None:
            self.updates.append(event.message)

    async def deliver(self, frames: list[str]) -> None:
        """Push ``frames`` and wait until the reader has handled every one of them."""
        self.updates.clear()
        for text in frames:
            self.link.push(text)
        self.link.push(MARKER)
        await until(lambda: MARKER in self.updates, "the reader reached the marker", steps=1000)

    def assert_alive(self) -> None:
        """The reader never raised: a raise kills the link and the client reconnects."""
        assert self.link.closed_reason is None
        assert self.server.connect_attempts == self.connects

    async def settle(self, task: asyncio.Task[Any]) -> None:
        """Answer the request with its genuine reply (twice: the copy is ignored)."""
        reply = json.dumps(okx_frames()[0])
        await self.deliver([reply, reply])
        result = await task
        assert [item.cl_ord_id for item in result.data] == [CL_ORD_ID]


# -- frame level ------------------------------------------------------------------------


@fuzz_settings(FRAME_EXAMPLES)
@given(text=hostile_text())
def test_parse_frame_never_raises(text: str) -> None:
    parse_frame(text)


def test_parse_frame_survives_nesting_past_the_recursion_limit() -> None:
    for text in ("[" * 100_000, '{"a":' * 100_000, '{"id":"t1","op":"order","data":[' * 100_000):
        assert isinstance(parse_frame(text), Malformed)


# -- through the client -----------------------------------------------------------------


@fuzz_settings(CLIENT_EXAMPLES)
@given(frames=st.lists(hostile, max_size=8))
def test_hostile_frames_never_kill_the_reader_nor_settle_a_request(frames: list[str]) -> None:
    async def main() -> None:
        attack = Attack()
        try:
            task = await attack.start()
            await attack.deliver(frames)
            attack.assert_alive()
            assert not task.done(), "a frame that is not its reply settled the request"
            await attack.settle(task)
            attack.assert_alive()
        finally:
            await attack.client.close()

    run(main())


def test_a_reply_with_our_id_and_another_op_does_not_settle_the_request() -> None:
    async def main() -> None:
        attack = Attack()
        try:
            task = await attack.start()
            other_ops = [okx_frames(RID, op)[1] for op in ("cancel-order", "", "ORDER")]
            no_op = {k: v for k, v in okx_frames()[1].items() if k != "op"}
            await attack.deliver([json.dumps(f) for f in [*other_ops, no_op]])
            assert not task.done()
            await attack.settle(task)
            attack.assert_alive()
        finally:
            await attack.client.close()

    run(main())


own_reply = st.builds(
    lambda frame: json.dumps({**frame, "id": RID, "op": OP}),
    st.sampled_from(okx_frames()[:2]).flatmap(mutated),
)


@fuzz_settings(CLIENT_EXAMPLES)
@given(reply=own_reply)
def test_garbage_in_its_own_reply_ends_the_call_with_okx_ws_error(reply: str) -> None:
    """Its reply (right id and op) with anything else broken: the caller gets a
    result or an :class:`OkxWsError`, never a stray exception, and the reader lives."""

    async def main() -> None:
        attack = Attack()
        try:
            task = await attack.start()
            await attack.deliver([reply])
            attack.assert_alive()
            await until(task.done, "its reply settled the request")
            error = task.exception()
            assert error is None or isinstance(error, OkxWsError), repr(error)
        finally:
            await attack.client.close()

    run(main())


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        # code 0, but items that are not OKX's: OKX accepted, the shape is unknown
        ({"code": "0", "msg": "", "data": [None]}, "UnexpectedReply"),
        ({"code": "0", "msg": ""}, "UnexpectedReply"),
        # refused, with items that are not objects
        ({"code": "1", "msg": "", "data": [None, 3, {"sCode": "51008"}]}, "OkxApiError"),
    ],
)
def test_its_own_reply_with_broken_items(reply: dict[str, Any], expected: str) -> None:
    async def main() -> None:
        attack = Attack()
        try:
            task = await attack.start()
            await attack.deliver([json.dumps({"id": RID, "op": OP, **reply})])
            await until(task.done, "its reply settled the request")
            error = task.exception()
            assert isinstance(error, OkxWsError) and type(error).__name__ == expected, repr(error)
            assert getattr(error, "reply", None) == {"id": RID, "op": OP, **reply}
            attack.assert_alive()
        finally:
            await attack.client.close()

    run(main())


# Where what okx-ws keeps is allocated: its own code, and the decoder and models it
# calls (the tests' own json.loads results are dropped at once).
_OKX_FILES = ("*okx_ws*", "*json/decoder.py", "*pydantic*")


def _okx_bytes() -> int:
    """Bytes allocated since tracing started, still alive, where okx-ws allocates."""
    gc.collect()  # cycles waiting for the collector are not kept
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(True, pattern) for pattern in _OKX_FILES]
    )
    return sum(stat.size for stat in snapshot.statistics("filename"))


def test_memory_stays_flat_under_hostile_frames(caplog: pytest.LogCaptureFixture) -> None:
    """One client takes every hostile example hypothesis makes, then the same frames
    again and again: what okx-ws keeps alive does not grow with the frames it sees
    (its bounded buffers fill during the first pass and stay full)."""
    caplog.set_level(logging.CRITICAL, logger="okx_ws")  # pytest would keep every warning
    loop = VirtualTimeLoop()
    attack = Attack()
    pool: list[str] = []

    @fuzz_settings(MEMORY_EXAMPLES)
    @given(frames=st.lists(hostile, max_size=8))
    def feed(frames: list[str]) -> None:
        pool.extend(frames)
        loop.run_until_complete(attack.deliver(frames))
        attack.assert_alive()

    try:
        task = loop.run_until_complete(attack.start())
        feed()
        tracemalloc.start()
        loop.run_until_complete(attack.deliver(pool))
        before = _okx_bytes()
        for _ in range(MEMORY_REPLAYS):
            loop.run_until_complete(attack.deliver(pool))
        growth = _okx_bytes() - before
        tracemalloc.stop()
        attack.assert_alive()
        frames = len(pool) * MEMORY_REPLAYS
        assert len(pool) > MEMORY_EXAMPLES
        # Measured: +4 to +18 KiB whatever the number of replays (one-off); a client
        # keeping each parsed frame: +1.4 MiB over 1,900 frames.
        assert growth < 64 * 1024, f"{growth} bytes kept after {frames} frames"
        assert not task.done()
        loop.run_until_complete(attack.settle(task))
    finally:
        tracemalloc.stop()
        loop.run_until_complete(attack.client.close())
        loop.close()


def test_oversized_frames_neither_kill_the_reader_nor_settle_a_request() -> None:
    """Frames past the transports' 4 MiB limit (which close the socket on a real link)
    reach the reader intact here: a huge push, the same cut short, huge non-JSON."""
    big = {**okx_frames()[8], "data": [dict(ORDER_ITEM, tag="x" * (5 << 20))]}
    text = json.dumps(big)
    frames = [text, text[: len(text) // 2], "x" * (5 << 20), json.dumps({"id": RID, "pad": text})]

    async def main() -> None:
        attack = Attack()
        try:
            task = await attack.start()
            await attack.deliver(frames)
            attack.assert_alive()
            assert not task.done()
            await attack.settle(task)
        finally:
            await attack.client.close()

    run(main())
