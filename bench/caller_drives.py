"""``python -m bench.caller_drives [--rounds N]``: what the blocking client would cost
if the caller's thread drove the event loop itself (a design not adopted; issue #20).

Today a blocking call crosses threads twice: the caller wakes the loop thread
(``call_soon_threadsafe``), the loop thread wakes the caller when the reply is
in.  The alternative measured here: the caller's own thread runs the loop
(``loop.run_until_complete``) for the length of its call, so no thread is woken
at all.  A stand-in driver does exactly that with the async client, beside the
real blocking client, the async default and the floor, paired in one process
(:mod:`bench.paired`).

What the design would change for users, and why it is not adopted yet: event
handlers (``on(...)``) and background work would run on whichever thread is
inside a blocking call, so a handler that blocks would block that caller, and
``close()`` could no longer release a caller stuck behind such a handler
(``tests/test_hardening_threads.py`` guards today's guarantee).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from typing import Any

from .drivers import CLIENTS, ClientSpec
from .drivers.okx_ws_clients import OkxWsAsyncDriver, default_transport
from .paired import FULL_PLAN, render, run_process

KEY = "okx-ws-caller-drives (stand-in)"


class CallerDrivesDriver:
    """The async default client, each call run to completion on the caller's thread."""

    name = KEY

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = OkxWsAsyncDriver(default_transport(), True)

    def open(self, base_url: str) -> None:
        self.loop.run_until_complete(self.client.open(base_url))

    def order(self, cl_ord_id: str) -> tuple[str, str]:
        return self.loop.run_until_complete(self.client.order(cl_ord_id))

    def cancel(self, ord_id: str) -> str:
        return self.loop.run_until_complete(self.client.cancel(ord_id))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.caller_drives", description=__doc__)
    parser.add_argument("--rounds", type=int, default=FULL_PLAN.rounds)
    rounds = parser.parse_args().rounds
    CLIENTS[KEY] = ClientSpec(KEY, True, CallerDrivesDriver, "okx_ws")
    keys = ["okx-ws-default", "okx-ws-blocking-websockets", KEY]
    plan = dataclasses.replace(FULL_PLAN, rounds=rounds, processes=1)
    result: dict[str, Any] = run_process(keys, plan)
    print(render({"plan": dataclasses.asdict(plan), "keys": keys, "processes": [result]}))


if __name__ == "__main__":
    main()
