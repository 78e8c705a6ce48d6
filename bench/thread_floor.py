"""``python -m bench.thread_floor [--rounds N]``: the floor of a blocking client whose
caller's thread sends and whose reply crosses threads once (issue #20).

Why.  The blocking client's target is p50 ≤ 1.35× the (asyncio) floor.  Today
each call crosses threads twice (caller -> loop thread -> caller).  The issue
names the design that crosses once: the caller's thread writes the frame, a
reader thread hands the reply over.  Before building it on the sans-I/O
session, this measures what such a client costs *at best*: a raw
``websockets.sync`` connection (its ``send`` is thread-safe and writes from
the caller's thread; its own reader thread parses frames) whose reader
resolves the caller's waiter directly, with hand-built frames, no validation
and no typed reply, exactly like the asyncio floor.  Paired in one process
with the floor, the async default and today's blocking client
(:mod:`bench.paired`).

A second row does, over the same crossing, the protocol work the default client
does per order with okx-ws's own code (params fast path, instIdCode, frames,
typed reply); what it still leaves out (pacing, the tracker's stamp,
deadlines) is what separates it from a real client on this design.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import threading
from collections.abc import Callable
from typing import Any

from websockets.frames import Frame, Opcode
from websockets.sync.client import ClientConnection, connect

from .drivers import CLIENTS, ClientSpec
from .drivers.floor import _CODES, dumps, loads, login_frame
from .paired import FULL_PLAN, render, run_process
from .workload import (
    INST_ID,
    coded_cancel_args,
    coded_order_args,
    fetch_inst_id_code,
    order_args,
)

KEY = "thread floor (raw websockets.sync, one crossing)"
TYPED_KEY = "thread floor + typed layer (okx-ws protocol code, one crossing)"
REPLY_TIMEOUT_S = 30.0


class _Waiter:
    __slots__ = ("lock", "reply")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()
        self.reply: dict[str, Any] | None = None


class _Connection(ClientConnection):
    """websockets' reader thread resolves the waiter of each reply it parses."""

    pending: dict[str, _Waiter]
    parse: Any = staticmethod(loads)  # text -> reply dict, or None for other frames

    def process_event(self, event: Any) -> None:
        if isinstance(event, Frame) and event.opcode is Opcode.TEXT and event.fin:
            msg = self.parse(bytes(event.data).decode())
            waiter = self.pending.pop(msg.get("id"), None) if msg and "id" in msg else None
            if waiter is not None:
                waiter.reply = msg
                waiter.lock.release()  # the one crossing: reader thread -> caller
                return
        super().process_event(event)  # the handshake, and the login reply for recv()


Encode = Callable[[str, str, list[dict[str, Any]]], str]  # (id, op, args) -> frame text


def _floor_frame(rid: str, op: str, args: list[dict[str, Any]]) -> str:
    return dumps({"id": rid, "op": op, "args": args})


class ThreadFloorDriver:
    name = KEY

    def __init__(self) -> None:
        self._ws: _Connection | None = None
        self._ids = itertools.count(1)
        self._code = 0

    def open(self, base_url: str) -> None:
        if base_url not in _CODES:
            _CODES[base_url] = fetch_inst_id_code(base_url)
        self._code = _CODES[base_url]
        ws = connect(
            base_url + "/ws/v5/private",
            create_connection=_Connection,
            compression=None,
        )
        assert isinstance(ws, _Connection)
        ws.pending = {}
        ws.send(login_frame())
        reply = loads(ws.recv())
        if reply.get("event") != "login" or reply.get("code") != "0":
            raise RuntimeError(f"thread floor login failed: {reply}")
        self._ws = ws

    def _request(
        self, op: str, args: list[dict[str, Any]], encode: Encode = _floor_frame
    ) -> dict[str, Any]:
        """Send ``encode``'s frame under a fresh id; the reply, handed over once."""
        assert self._ws is not None
        rid = str(next(self._ids))
        waiter = _Waiter()
        self._ws.pending[rid] = waiter
        self._ws.send(encode(rid, op, args))  # on the caller's thread
        if not waiter.lock.acquire(timeout=REPLY_TIMEOUT_S):
            raise TimeoutError(rid)
        assert waiter.reply is not None
        return waiter.reply

    def order(self, cl_ord_id: str) -> tuple[str, str]:
        item = self._request("order", [coded_order_args(cl_ord_id, self._code)])["data"][0]
        return item["clOrdId"], item["ordId"]

    def cancel(self, ord_id: str) -> str:
        reply = self._request("cancel-order", [coded_cancel_args(ord_id, self._code)])
        return str(reply["data"][0]["ordId"])

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()


def _reply_message(text: str) -> dict[str, Any] | None:
    from okx_ws_core.protocol.frames import Reply, parse_frame

    event = parse_frame(text)
    return event.message if type(event) is Reply else None


class ThreadTypedDriver(ThreadFloorDriver):
    """The same crossing, doing what the default client's protocol layer does per order:
    params through the fast path, instIdCode filled in, the frame encoded and the reply
    classified by okx-ws's sans-I/O code, the reply typed by its pydantic model.  Not
    done: pacing, the order tracker's stamp, deadlines, reconnects (the real client's)."""

    name = TYPED_KEY

    def open(self, base_url: str) -> None:
        from okx_ws import operations

        super().open(base_url)
        assert self._ws is not None
        self._ws.parse = _reply_message
        self._ops = {"order": operations.SUBMIT_NEW_ORDER, "cancel": operations.CANCEL_ORDER}

    def _typed(self, key: str, params: dict[str, Any]) -> Any:
        from okx_ws_core.protocol.frames import encode_request

        operation = self._ops[key]
        args, _, cold = operation.prepare_with_codes(params, None, {INST_ID: self._code})
        assert not cold
        reply = self._request(operation.op, args, encode_request)
        return operation.response_model.__pydantic_validator__.validate_python(reply)

    def order(self, cl_ord_id: str) -> tuple[str, str]:
        item = self._typed("order", order_args(cl_ord_id)).data[0]
        return item.cl_ord_id, item.ord_id

    def cancel(self, ord_id: str) -> str:
        return str(self._typed("cancel", {"instId": INST_ID, "ordId": ord_id}).data[0].ord_id)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.thread_floor", description=__doc__)
    parser.add_argument("--rounds", type=int, default=FULL_PLAN.rounds)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    CLIENTS[KEY] = ClientSpec(KEY, True, ThreadFloorDriver, "websockets.sync.client")
    CLIENTS[TYPED_KEY] = ClientSpec(TYPED_KEY, True, ThreadTypedDriver, "okx_ws")
    keys = ["okx-ws-default", "okx-ws-core-websockets", "okx-ws-blocking-websockets", KEY]
    keys.append(TYPED_KEY)
    plan = dataclasses.replace(FULL_PLAN, rounds=args.rounds, processes=args.processes)
    results = [run_process(keys, plan) for _ in range(plan.processes)]
    print(render({"plan": dataclasses.asdict(plan), "keys": keys, "processes": results}))


if __name__ == "__main__":
    main()
