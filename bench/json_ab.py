"""JSON codecs for the client's frames, A/B in one process: stdlib ``json`` vs orjson.

Two measurements, side by side in one run so machine noise falls on both alike:

1. per message, hot: encoding an order frame (``encode_request``) and decoding
   its reply (``parse_frame``), best of several repeats;
2. the client's CPU per sequential order against the in-process scripted server,
   rounds alternating between the codecs (``okx_ws_core.protocol.frames``'s encoder and
   decoder are swapped between rounds; the scripted server's own JSON is the
   same in both).

msgspec is measured in (1) too when it is installed.
``python -m bench.json_ab [--rounds 8] [--orders 2000]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.limiter_ab import WARM_ORDERS, run_orders
from bench.workload import API_KEY, API_SECRET, INST_ID, PASSPHRASE

Codec = tuple[Callable[[Any], str], Callable[[str], Any]]
REPLY = (
    '{"id":"abcd1234","op":"order","code":"0","msg":"","data":[{"clOrdId":"c1",'
    '"ordId":"312269865356374016","tag":"","ts":"1695190491421","sCode":"0","sMsg":""}],'
    '"inTime":"1695190491421339","outTime":"1695190491423240"}'
)
ITEM = {
    "instId": "BTC-USDT",
    "instIdCode": 1,
    "tdMode": "cash",
    "side": "buy",
    "ordType": "limit",
    "px": "100",
    "sz": "0.001",
    "clOrdId": "c1",
}


def codecs() -> dict[str, Codec]:
    stdlib = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    found: dict[str, Codec] = {"stdlib json": (stdlib, json.loads)}
    try:
        import orjson

        found["orjson"] = (lambda obj: orjson.dumps(obj).decode(), orjson.loads)
    except ImportError:
        pass
    try:
        import msgspec  # type: ignore[import-not-found, unused-ignore]

        encoder, decoder = msgspec.json.Encoder(), msgspec.json.Decoder()
        found["msgspec"] = (lambda obj: encoder.encode(obj).decode(), decoder.decode)
    except ImportError:
        pass
    return found


def use(codec: Codec) -> None:
    """Make the runtime's frames use ``codec`` (a benchmark's switch, not an API)."""
    from okx_ws_core.protocol import frames as protocol

    protocol._dumps, protocol._loads = codec


def per_message_us(codec: Codec, n: int = 20000, repeats: int = 7) -> tuple[float, float]:
    from okx_ws_core.protocol.frames import encode_request, parse_frame

    use(codec)
    args = [ITEM]
    best_encode = best_decode = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(n):
            encode_request("abcd1234", "order", args)
        best_encode = min(best_encode, time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(n):
            parse_frame(REPLY)
        best_decode = min(best_decode, time.perf_counter() - started)
    return best_encode / n * 1e6, best_decode / n * 1e6


async def client_cpu_us(
    found: dict[str, Codec], rounds: int, orders: int
) -> dict[str, list[float]]:
    from okx_ws import AsyncWebsocketAPIClient, operations

    from okx_ws_core.testing import ScriptedServer

    client = AsyncWebsocketAPIClient(
        api_key=API_KEY,
        api_secret=API_SECRET,
        api_passphrase=PASSPHRASE,
        attach_event_listeners=False,
        transport=ScriptedServer(),
        instruments={INST_ID: 1},
        rate_limit="off",
        request_timeout=30.0,
    )
    await client.connect_ws_api()
    op = operations.SUBMIT_NEW_ORDER
    cpu: dict[str, list[float]] = {name: [] for name in found}
    for name, codec in found.items():
        use(codec)
        await run_orders(client, op, WARM_ORDERS, f"w{name[:2]}")
    for r in range(rounds):
        order = list(found.items())
        for name, codec in order if r % 2 == 0 else reversed(order):
            use(codec)
            started = time.process_time()
            await run_orders(client, op, orders, f"r{r}{name[:2]}")
            cpu[name].append((time.process_time() - started) / orders * 1e6)
    await client.close()
    return cpu


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.json_ab")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--orders", type=int, default=2000)
    args = parser.parse_args(argv)
    from okx_ws_core.protocol import frames as protocol

    shipped: Codec = (protocol._dumps, protocol._loads)
    found = codecs()
    print("JSON per message, hot (best of 7 x 20,000), µs: encode order frame / decode reply")
    for name, codec in found.items():
        encode, decode = per_message_us(codec)
        print(f"  {name:12} {encode:5.2f} / {decode:5.2f}   sum {encode + decode:5.2f}")
    cpu = asyncio.run(client_cpu_us(found, args.rounds, args.orders))
    use(shipped)
    print(
        f"client CPU per sequential order (scripted server, {args.rounds} alternating rounds"
        f" of {args.orders}), µs, median of rounds:"
    )
    base = statistics.median(cpu["stdlib json"])
    for name, values in cpu.items():
        median = statistics.median(values)
        print(f"  {name:12} {median:6.1f}  ({median - base:+.1f} vs stdlib)")


if __name__ == "__main__":
    main()
