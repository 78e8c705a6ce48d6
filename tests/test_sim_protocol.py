"""Simulator wire behaviour: paths, login codes, ping/pong, idle close, request framing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from okx_ws_sim import Account, Simulator, sign
from okx_ws_sim.auth import LoginError, verify_login
from okx_ws_sim.clock import SimClock
from okx_ws_sim.testing import SAMPLE_ORDER, RawClient

ORDER: dict[str, Any] = dict(SAMPLE_ORDER)


@pytest.fixture
async def fsim() -> AsyncIterator[Simulator]:
    async with Simulator(idle_timeout=5.0, seed=1) as s:
        yield s


@pytest.fixture
async def priv(fsim: Simulator) -> AsyncIterator[RawClient]:
    async with await RawClient.open(fsim.url("private")) as c:
        assert (await c.login())["code"] == "0"
        yield c


async def test_base_url_and_paths(fsim: Simulator) -> None:
    assert fsim.base_url == f"ws://127.0.0.1:{fsim.port}"
    for kind in ("public", "private", "business"):
        async with await RawClient.open(fsim.url(kind)) as c:
            await c.send("ping")
            assert await c.recv_text() == "pong"
    assert fsim.stats.connections_opened == 3


async def test_query_string_ignored(fsim: Simulator) -> None:
    async with await RawClient.open(fsim.url("business") + "?brokerId=9999") as c:
        assert (await c.login())["event"] == "login"


async def test_unknown_path_rejected(fsim: Simulator) -> None:
    with pytest.raises(InvalidStatus):
        async with connect(fsim.base_url + "/ws/v5/nope"):
            pass
    assert fsim.stats.connections_rejected == 1


async def test_login_ok(fsim: Simulator) -> None:
    async with await RawClient.open(fsim.url("private")) as c:
        reply = await c.login()
        assert reply == {"event": "login", "code": "0", "msg": "", "connId": reply["connId"]}
        assert len(reply["connId"]) == 8
    assert fsim.stats.logins_ok == 1


# OKX's documented example inputs (v5 docs, "WebSocket / Login"): the example
# SecretKey and the timestamp of the example login frame.  The docs' example frame
# carries sign "7L+zFQ+CEgGu5rzCj4+BdV2/uUHGqddA9pI6ztsRRPs=", which is NOT made
# from that secret (so it cannot serve as a test vector); the expected sign below
# was computed once outside Python, from OKX's formula, and pasted as a literal:
#   printf '%s' '1538054050GET/users/self/verify' \
#     | openssl dgst -sha256 -hmac 22582BD0CFF14C41EDBF1AB98506286D -binary | base64
OKX_EXAMPLE_SECRET = "22582BD0CFF14C41EDBF1AB98506286D"
OKX_EXAMPLE_TS = 1538054050
OKX_EXAMPLE_SIGN = "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M="
OKX_DOCS_FRAME_SIGN = "7L+zFQ+CEgGu5rzCj4+BdV2/uUHGqddA9pI6ztsRRPs="
EXAMPLE = Account("okx-example-key", OKX_EXAMPLE_SECRET, "123456")


@pytest.fixture
async def example_sim() -> AsyncIterator[Simulator]:
    """A simulator whose clock stands at OKX's example timestamp, holding the example key."""
    clock = SimClock(wall_ns=lambda: OKX_EXAMPLE_TS * 1_000_000_000)
    async with Simulator(accounts=[EXAMPLE], clock=clock, idle_timeout=5.0) as s:
        yield s


def _args(**over: str) -> dict[str, str]:
    """The example login args, signed with the literal (never with the simulator's sign())."""
    base = {
        "apiKey": EXAMPLE.api_key,
        "passphrase": EXAMPLE.passphrase,
        "timestamp": str(OKX_EXAMPLE_TS),
        "sign": OKX_EXAMPLE_SIGN,
    }
    base.update(over)
    return base


def test_sign_matches_okx_example_literal() -> None:
    assert sign(OKX_EXAMPLE_SECRET, str(OKX_EXAMPLE_TS)) == OKX_EXAMPLE_SIGN


def test_verifier_accepts_only_the_example_literal() -> None:
    accounts = {EXAMPLE.api_key: EXAMPLE}
    now = float(OKX_EXAMPLE_TS)
    assert verify_login([_args()], accounts, now, 30.0) is EXAMPLE
    wrong = [OKX_DOCS_FRAME_SIGN, OKX_EXAMPLE_SIGN[:-2] + "Q=", OKX_EXAMPLE_SIGN.lower()]
    for bad in wrong:
        with pytest.raises(LoginError) as info:
            verify_login([_args(sign=bad)], accounts, now, 30.0)
        assert info.value.code == "60007"


async def test_login_with_okx_example_literal_on_the_wire(example_sim: Simulator) -> None:
    async with await RawClient.open(example_sim.url("private")) as c:
        await c.send({"op": "login", "args": [_args()]})
        assert (await c.recv())["code"] == "0"
    assert example_sim.stats.logins_ok == 1


@pytest.mark.parametrize(
    ("args", "code"),
    # Built when the test runs, not at collection: a timestamp taken at collection is
    # stale (60006) once the suite has run for longer than the 30 s login window.
    [
        (_args(timestamp=str(OKX_EXAMPLE_TS * 1000)), "60004"),  # milliseconds
        (_args(timestamp="yesterday"), "60004"),
        (_args(timestamp=str(OKX_EXAMPLE_TS - 120)), "60006"),
        (_args(timestamp=str(OKX_EXAMPLE_TS + 120)), "60006"),
        (_args(apiKey="unknown-key"), "60032"),
        (_args(apiKey=""), "60005"),
        (_args(passphrase="wrong"), "60024"),
        (_args(sign="AAAA"), "60007"),
    ],
)
async def test_login_failures(example_sim: Simulator, args: dict[str, str], code: str) -> None:
    async with await RawClient.open(example_sim.url("private")) as c:
        await c.send({"op": "login", "args": [args]})
        reply = await c.recv()
        assert reply["event"] == "error" and reply["code"] == code and reply["msg"]
        assert "connId" in reply
        # Still not logged in, connection still usable.
        r = await c.request("order", ORDER)
        assert r["code"] == "60011"
    assert example_sim.stats.logins_failed == 1
    assert example_sim.stats.login_failures_by_code[code] == 1


async def test_login_sign_with_expired_window_is_configurable() -> None:
    async with Simulator(timestamp_window=200) as s, await RawClient.open(s.url("private")) as c:
        assert (await c.login(timestamp=time.time() - 120))["code"] == "0"


async def test_login_malformed_args(fsim: Simulator) -> None:
    async with await RawClient.open(fsim.url("private")) as c:
        await c.send({"op": "login", "args": "nope"})
        assert (await c.recv())["code"] == "60009"


async def test_login_on_public_accepted(fsim: Simulator) -> None:
    """OKX requires a login on /ws/v5/public for books-l2-tbt / books50-l2-tbt."""
    async with await RawClient.open(fsim.url("public")) as c:
        reply = await c.login()
        assert reply["event"] == "login" and reply["code"] == "0"


async def test_second_account(fsim: Simulator) -> None:
    other = Account("k2", "s2", "p2", balances={"USDT": "5"})
    fsim.add_account(other)
    async with await RawClient.open(fsim.url("private")) as c:
        assert (await c.login(other))["code"] == "0"
        r = await c.request("order", ORDER)
        assert r["data"][0]["sCode"] == "51008"
    assert fsim.orders(api_key="k2") == []


async def test_request_before_login(fsim: Simulator) -> None:
    for kind in ("private", "business"):
        async with await RawClient.open(fsim.url(kind)) as c:
            op = "order" if kind == "private" else "sprd-order"
            r = await c.request(op, ORDER, rid="abc1")
            assert r["id"] == "abc1" and r["op"] == op
            assert r["code"] == "60011" and r["msg"] and r["data"] == []


async def test_ping_pong(fsim: Simulator) -> None:
    async with await RawClient.open(fsim.url("public")) as c:
        for _ in range(3):
            await c.send("ping")
            assert await c.recv_text() == "pong"
    assert fsim.stats.pings == 3 and fsim.stats.pongs_sent == 3


async def test_idle_connection_closed() -> None:
    async with Simulator(idle_timeout=0.3) as s:
        async with await RawClient.open(s.url("private")) as c:
            t0 = time.monotonic()
            with pytest.raises(ConnectionClosed):
                await c.recv(timeout=3)
            assert 0.25 < time.monotonic() - t0 < 2
            assert c.ws.close_code == 4004
        assert s.stats.idle_closes == 1


async def test_pings_keep_connection_alive() -> None:
    async with Simulator(idle_timeout=0.3) as s, await RawClient.open(s.url("public")) as c:
        for _ in range(6):
            await asyncio.sleep(0.1)
            await c.send("ping")
            assert await c.recv_text() == "pong"
        assert s.stats.idle_closes == 0


async def test_malformed_json(fsim: Simulator) -> None:
    async with await RawClient.open(fsim.url("private")) as c:
        await c.send("{not json")
        reply = await c.recv()
        assert reply["event"] == "error" and reply["code"] == "60012"
        assert reply["msg"].startswith("Invalid request: ")
        await c.send("[1, 2]")
        assert (await c.recv())["code"] == "60012"
        await c.send({"foo": "bar"})  # no op, no id
        assert (await c.recv())["code"] == "60012"
    assert fsim.stats.malformed_received == 2


@pytest.mark.parametrize("rid", ["", "x" * 33, "with space", "ünï", 12])
async def test_bad_request_id(priv: RawClient, rid: object) -> None:
    await priv.send({"id": rid, "op": "order", "args": [ORDER]})
    r = await priv.recv()
    assert r["code"] == "60013" and r["data"] == [] and r["id"] == rid


async def test_unknown_op(priv: RawClient) -> None:
    r = await priv.request("teleport", {"x": "1"}, rid="u1")
    assert (r["id"], r["op"], r["code"], r["msg"], r["data"]) == (
        "u1",
        "teleport",
        "60013",
        "Invalid args",
        [],
    )


async def test_op_on_wrong_connection(fsim: Simulator, priv: RawClient) -> None:
    r = await priv.request(
        "sprd-order",
        {
            "sprdId": "BTC-USDT_BTC-USDT-SWAP",
            "side": "buy",
            "ordType": "limit",
            "px": "20",
            "sz": "1",
        },
    )
    assert r["code"] == "60013"
    async with await RawClient.open(fsim.url("business")) as biz:
        await biz.login()
        assert (await biz.request("order", ORDER))["code"] == "60013"
    async with await RawClient.open(fsim.url("public")) as pub:
        assert (await pub.request("order", ORDER))["code"] == "60013"
    assert fsim.orders() == []


async def test_exp_time(fsim: Simulator, priv: RawClient) -> None:
    past = str(int(time.time() * 1000) - 1000)
    r = await priv.request("order", ORDER, expTime=past)
    # OKX (demo, 2026-09-17, observed): code 1, each item sCode 50036, nothing placed.
    assert r["code"] == "1" and [item["sCode"] for item in r["data"]] == ["50036"]
    assert r["data"][0]["sMsg"].startswith("The expTime can't be earlier than the current")
    assert fsim.orders() == []
    future = str(int(time.time() * 1000) + 10_000)
    r = await priv.request("order", ORDER, expTime=future)
    assert r["code"] == "0"
    r = await priv.request("order", ORDER, expTime="soon")
    assert r["code"] == "60013"


async def test_args_shape(priv: RawClient) -> None:
    assert (await priv.request("batch-orders", *([ORDER] * 21)))["code"] == "60013"
    assert (await priv.request("order", ORDER, ORDER))["code"] == "60013"  # single op, 2 items
    assert (await priv.request("order"))["code"] == "60013"  # no items
    await priv.send({"id": "n1", "op": "order", "args": ORDER})  # not a list
    assert (await priv.reply("n1"))["code"] == "60013"


async def test_reply_shape_and_times(priv: RawClient) -> None:
    r = await priv.request("order", ORDER, rid="Abc123")
    assert list(r) == ["id", "op", "code", "msg", "data", "inTime", "outTime"]
    assert r["id"] == "Abc123" and r["op"] == "order" and r["code"] == "0" and r["msg"] == ""
    assert len(r["inTime"]) == 16 and int(r["outTime"]) >= int(r["inTime"])
    assert abs(int(r["inTime"]) / 1e6 - time.time()) < 5
    item = r["data"][0]
    assert list(item) == ["clOrdId", "ordId", "tag", "ts", "sCode", "sMsg", "subCode"]


async def test_duplicate_request_ids_counted(fsim: Simulator, priv: RawClient) -> None:
    await priv.request("order", ORDER, rid="same1")
    await priv.request("order", ORDER, rid="same1")
    await priv.request("order", ORDER, rid="other2")
    assert fsim.stats.duplicate_request_ids == ["same1"]
    assert fsim.stats.requests_by_op["order"] == 3
    assert fsim.stats.to_dict()["request_ids"] == {"same1": 2, "other2": 1}


async def test_rate_limits_on_by_default_and_off_on_request() -> None:
    args = {"instType": "OPTION", "instFamily": "BTC-USD"}
    for limits, expected in ((True, ["0"] * 5 + ["50011"]), (False, ["0"] * 6)):
        async with Simulator(rate_limits=limits) as s, await RawClient.open(s.url()) as c:
            await c.login()
            assert [(await c.request("mass-cancel", args))["code"] for _ in range(6)] == expected
            assert s.stats.rate_limited == expected.count("50011")
    async with Simulator() as s, await RawClient.open(s.url()) as c:
        await c.login()
        assert [(await c.request("mass-cancel", args))["code"] for _ in range(6)][-1] == "50011"


async def test_stop_closes_clients() -> None:
    s = Simulator()
    await s.start()
    c = await RawClient.open(s.url("public"))
    await s.stop()
    with pytest.raises(ConnectionClosed):
        await c.recv(timeout=2)
    await c.close()


async def test_binary_frames_accepted(priv: RawClient) -> None:
    await priv.ws.send(json.dumps({"id": "b1", "op": "order", "args": [ORDER]}).encode())
    assert (await priv.reply("b1"))["code"] == "0"
