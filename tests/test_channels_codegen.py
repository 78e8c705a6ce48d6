"""Adding a channel needs only a spec edit; a broken channel spec is reported, not generated.

A made-up channel is appended to a copy of spec/channels.yaml, generated into
a temporary directory, imported in a fresh interpreter (so it cannot mix with
the real generated package) and subscribed on both clients against a tiny
local OKX-like WebSocket server through the real runtime.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from codegen.spec_loader import SpecError, load_spec
from tests.conftest import generate, run_against, spec_copy

ROOT = Path(__file__).resolve().parent.parent

NEW_CHANNEL: dict[str, Any] = {
    "channel": "account-greeks",
    "connection": "private",
    "doc": "Greeks of the account per currency (a channel added by a spec edit only).",
    "args": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "ccy": {"type": "string", "minLength": 1, "default": "BTC", "description": "Currency."}
        },
    },
    "push_item": {
        "type": "object",
        "required": ["ccy", "ts"],
        "properties": {
            "ccy": {"type": "string"},
            "deltaBS": {"type": "string", "pattern": "^(-?[0-9]+(\\.[0-9]+)?)?$"},
            "ts": {"type": "string"},
        },
    },
    "examples": {
        "subscribe": [{"name": "one currency", "args": {"ccy": "ETH"}}],
        "push": [
            {
                "name": "one currency",
                "message": {
                    "arg": {"channel": "account-greeks", "ccy": "BTC"},
                    "data": [{"ccy": "BTC", "deltaBS": "-1.5", "ts": "1"}],
                },
            }
        ],
    },
}

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys, threading
    from websockets.asyncio.server import serve

    sys.path[:0] = [sys.argv[1], sys.argv[2]]
    import okx_ws
    assert okx_ws.__file__.startswith(sys.argv[1]), okx_ws.__file__

    subscribed = []

    async def handler(ws):
        async for message in ws:
            if message == "ping":
                await ws.send("pong")
                continue
            frame = json.loads(message)
            if frame.get("op") == "login":
                await ws.send(json.dumps({"event": "login", "code": "0", "msg": "", "connId": "x"}))
            elif frame.get("op") == "subscribe":
                arg = frame["args"][0]
                subscribed.append((ws.request.path, arg))
                await ws.send(json.dumps({"event": "subscribe", "arg": arg, "connId": "x"}))
                item = {"ccy": arg["ccy"], "deltaBS": "0.25", "ts": "7", "newField": "kept"}
                await ws.send(json.dumps({"arg": {**arg, "uid": "9"}, "data": [item]}))

    port = []
    ready = threading.Event()

    async def run_server():
        async with serve(handler, "127.0.0.1", 0) as server:
            port.append(server.sockets[0].getsockname()[1])
            ready.set()
            await asyncio.Future()

    threading.Thread(target=lambda: asyncio.run(run_server()), daemon=True).start()
    ready.wait(5)
    options = dict(api_key="k", api_secret="s", api_passphrase="p",
                   base_url=f"ws://127.0.0.1:{port[0]}", attach_event_listeners=False,
                   request_timeout=5.0)

    def describe(update):
        item = update.data[0]
        return [type(item).__name__, item.ccy, item.delta_bs, item.model_extra]

    async def use_async():
        async with okx_ws.AsyncWebsocketAPIClient(**options) as client:
            stream = await client.subscribe_account_greeks()
            return describe(await stream.get(timeout=5))

    with okx_ws.WebsocketAPIClient(**options) as client:
        sync = describe(client.subscribe_account_greeks(ccy="ETH").get(timeout=5))
    rejected = ""
    with okx_ws.WebsocketAPIClient(**options) as client:
        try:
            client.subscribe_account_greeks(ccy="")
        except okx_ws.ParamsValidationError as exc:
            rejected = str(exc)
    print(json.dumps({
        "async": asyncio.run(use_async()),
        "sync": sync,
        "channel": okx_ws.CHANNELS["account_greeks"].channel,
        "rejected": rejected,
        "subscribed": subscribed,
    }))
    """
)


def test_a_new_channel_needs_only_a_spec_edit(tmp_path: Path) -> None:
    spec_dir = spec_copy(
        tmp_path,
        {"channels.yaml": lambda doc: doc["channels"].update(account_greeks=NEW_CHANNEL)},
    )
    out_dir = tmp_path / "out"
    generated = generate(spec_dir, out_dir)
    assert generated.returncode == 0, generated.stderr

    run = run_against(SCRIPT, out_dir, tmp_path)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    typed = ["AccountGreeksPushItem"]
    assert result["async"] == [*typed, "BTC", "0.25", {"newField": "kept"}]  # the spec default
    assert result["sync"] == [*typed, "ETH", "0.25", {"newField": "kept"}]
    assert result["channel"] == "account-greeks"
    assert "ccy" in result["rejected"]
    assert sorted(arg["ccy"] for _, arg in result["subscribed"]) == ["BTC", "ETH"]
    assert all(path == "/ws/v5/private" for path, _ in result["subscribed"])


def _bad_push_example(doc: dict[str, Any]) -> None:
    doc["channels"]["fills"]["examples"]["push"][0]["message"]["data"][0]["fillSz"] = 5


def _channel_arg(doc: dict[str, Any]) -> None:
    doc["channels"]["fills"]["args"]["properties"]["channel"] = {"type": "string"}


def _second_order_role(doc: dict[str, Any]) -> None:
    doc["channels"]["fills"]["role"] = "orders"


def _bad_default(doc: dict[str, Any]) -> None:
    doc["channels"]["orders"]["args"]["properties"]["instType"]["default"] = "EVERY"


def _wrong_arg_channel(doc: dict[str, Any]) -> None:
    doc["channels"]["account"]["examples"]["push"][0]["message"]["arg"]["channel"] = "acount"


BROKEN = [
    (_bad_push_example, "channels.fills.examples.push[0].message.data[0]: fillSz: expected string"),
    (_channel_arg, "channels.fills.args.properties.channel: 'channel' is added by the client"),
    (_second_order_role, "channels.fills.role: orders has role 'orders'"),
    (_bad_default, "channels.orders.args.properties.instType.default: 'EVERY' is not one of"),
    (_wrong_arg_channel, "channels.account.examples.push[0].message.arg: must be an object with"),
]


@pytest.mark.parametrize(("edit", "expected"), BROKEN, ids=[b[0].__name__ for b in BROKEN])
def test_a_broken_channel_spec_is_reported_with_its_path(
    tmp_path: Path, edit: Any, expected: str
) -> None:
    spec_dir = spec_copy(tmp_path, {"channels.yaml": edit})
    with pytest.raises(SpecError) as caught:
        load_spec(spec_dir)
    assert any(expected in line for line in caught.value.problems), caught.value.problems


def test_the_tracking_table_must_name_operations(tmp_path: Path) -> None:
    spec_dir = spec_copy(tmp_path)
    path = spec_dir / "tracking.yaml"
    document = yaml.safe_load(path.read_text())
    document["order_tracking"]["submit_new_ordr"] = {
        "effect": "place", "exp_time": True, "lookup": "order",
    }  # fmt: skip
    document["order_tracking"]["submit_spread_order"]["lookup"] = "order"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(SpecError) as caught:
        load_spec(spec_dir)
    text = "\n".join(caught.value.problems)
    assert "order_tracking.submit_new_ordr: 'submit_new_ordr' is not an operation" in text
    assert "order_tracking.submit_spread_order.lookup: order lookups are for private" in text
