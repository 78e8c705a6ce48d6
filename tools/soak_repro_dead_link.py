"""Repro: after a server restart the private link keeps being handed to requests
although its WebSocket is closed; every request fails at once with
ConnectionLost('send failed: ... send after close') until the link's task ends."""

import asyncio
import itertools
import sys
import time

sys.path[:0] = [str(__import__("pathlib").Path(__file__).resolve().parent.parent)]
from okx_ws_core import AsyncWebsocketClient, AuthenticationError, ConnectionLost, RequestTimeout  # noqa: E402
from okx_ws_sim import DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_PASSPHRASE, Simulator  # noqa: E402

ids = itertools.count()


async def main() -> None:
    async with Simulator(idle_timeout=5) as sim:
        client = AsyncWebsocketClient(
            DEFAULT_API_KEY,
            DEFAULT_API_SECRET,
            DEFAULT_PASSPHRASE,
            base_url=sim.base_url,
            request_timeout=1.0,
            ping_interval=0.2,
            pong_timeout=0.2,
            reconnect_delay=0.01,
            reconnect_max_delay=0.1,
            attach_event_listeners=False,
        )
        await client.connect_ws_api()
        stop = time.monotonic() + 6
        storm = []

        async def worker() -> None:
            while time.monotonic() < stop:
                item = {
                    "instId": "BTC-USDT",
                    "tdMode": "cash",
                    "side": "buy",
                    "ordType": "limit",
                    "px": "100",
                    "sz": "0.01",
                    "clOrdId": f"r{next(ids)}",
                }
                try:
                    await client.send_ws_api_request("private", "order", [item])
                except ConnectionLost as exc:
                    if "send after close" in exc.reason:
                        storm.append(time.monotonic())
                        if len(storm) == 200:
                            link = client._connections["private"].link
                            print(
                                f"link usable={link.usable} closed={link.closed}; its task is at:"
                            )
                            coro = link._task.get_coro()
                            while coro is not None:
                                frame = getattr(coro, "cr_frame", None) or getattr(
                                    coro, "gi_frame", None
                                )
                                if frame is not None:
                                    print(
                                        f"   {frame.f_code.co_filename.split('site-packages/')[-1]}:{frame.f_lineno} {frame.f_code.co_name}"
                                    )
                                coro = getattr(coro, "cr_await", None) or getattr(
                                    coro, "gi_yieldfrom", None
                                )
                            ws = link.transport._ws
                            print(
                                "   wsproto state:",
                                ws.state,
                                "pending events:",
                                list(link.transport._events),
                            )
                except (RequestTimeout, AuthenticationError):
                    pass

        workers = [asyncio.create_task(worker()) for _ in range(8)]
        for _ in range(15):
            await asyncio.sleep(0.3)
            await sim.restart(0.05)
        await asyncio.gather(*workers)
        if storm:
            print(
                f"{len(storm)} requests failed instantly with 'send after close' over {storm[-1] - storm[0]:.2f}s"
            )
        else:
            print("no storm this time")
        await client.close()


asyncio.run(main())
