"""Repro: when sending the login frame fails, _login() leaves link.login_waiter set;
_open_link() aborts the link, on_link_closed() then fails that waiter with LinkFailed
and nobody ever awaits it -> asyncio logs "Future exception was never retrieved"."""

import asyncio
import gc
import sys

sys.path[:0] = [str(__import__("pathlib").Path(__file__).resolve().parent.parent)]
from okx_ws_core import AsyncWebsocketClient  # noqa: E402
from okx_ws_core.link import Link  # noqa: E402
from okx_ws_core.transport import TransportClosed  # noqa: E402
from okx_ws_sim import DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_PASSPHRASE, Simulator  # noqa: E402

original_send = Link.send


async def send(self, text):
    if '"op":"login"' in text:
        raise TransportClosed(
            "send failed: socket broke while writing the login"
        )  # as a real write error does
    await original_send(self, text)


Link.send = send


async def main():
    problems = []
    asyncio.get_running_loop().set_exception_handler(
        lambda loop, ctx: problems.append(ctx["message"] + ": " + repr(ctx.get("exception")))
    )
    async with Simulator() as sim:
        client = AsyncWebsocketClient(
            DEFAULT_API_KEY,
            DEFAULT_API_SECRET,
            DEFAULT_PASSPHRASE,
            base_url=sim.base_url,
            reconnect_delay=0.01,
            reconnect_max_delay=0.02,
            attach_event_listeners=False,
        )
        try:
            await client.connect("private", timeout=0.3)
        except Exception as exc:
            print("connect:", type(exc).__name__)
        await client.close()
    gc.collect()
    await asyncio.sleep(0)
    print(problems[:2] or "no problem")


asyncio.run(main())
