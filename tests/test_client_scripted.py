"""The runtime client against a scripted peer, on virtual time: requests and replies.

No socket and no wall clock: every test drives an
:class:`~okx_ws_core.testing.ScriptedServer` and runs on
:func:`~okx_ws_core.testing.run`, whose clock jumps to the next timer, so a
10 s timeout costs no real time and its exact moment can be asserted.  Only
the public API is used.  Lifecycle (heartbeat, backoff, 64008, subscriptions)
is in ``test_client_lifecycle.py``; the error contract of every public method
in ``test_client_errors.py``; instIdCode in ``test_client_instidcode.py``.
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest

from okx_ws_core import (
    AsyncWebsocketClient,
    AuthenticationError,
    ClientClosed,
    ConfigurationError,
    ConnectionLost,
    Event,
    OkxApiError,
    RequestTimeout,
)
from okx_ws_core.protocol import signing
from okx_ws_core.testing import ScriptedServer, ok_reply, run, until

SECRET = "SECRETs3cr3t"
PASSPHRASE = "PASSphr4se"


def make_client(server: ScriptedServer, **overrides: Any) -> AsyncWebsocketClient:
    options: dict[str, Any] = {"attach_event_listeners": False, "id_prefix": "t", **overrides}
    return AsyncWebsocketClient("key1", SECRET, PASSPHRASE, transport=server, **options)


def now() -> float:
    return asyncio.get_running_loop().time()


def order(cl_ord_id: str) -> dict[str, Any]:
    return {"instIdCode": 7, "tdMode": "cash", "side": "buy", "ordType": "market", "sz": "1",
            "clOrdId": cl_ord_id}  # fmt: skip


def reply_to(frame: dict[str, Any], marker: str, code: str = "0") -> dict[str, Any]:
    data = [{"clOrdId": a.get("clOrdId", ""), "ordId": marker, "sCode": code, "sMsg": ""}
            for a in frame["args"]]  # fmt: skip
    return {"id": frame["id"], "op": frame["op"], "code": code, "msg": "", "data": data,
            "inTime": "1", "outTime": "2"}  # fmt: skip


def sent_ids(server: ScriptedServer) -> list[str]:
    """Ids of every request frame the server saw, across all links."""
    return [r["id"] for link in server.links for r in link.requests]


# -- reply matching ---------------------------------------------------------------


def test_reply_is_matched_by_id_and_typed() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with make_client(server) as client:
            reply = await client.send_ws_api_request("private", "order", [order("m1")])
        (frame,) = server.links[0].requests
        assert reply["id"] == frame["id"] == "t1"
        assert reply["data"][0]["clOrdId"] == "m1"

    run(main())


def test_concurrent_requests_answered_out_of_order_each_get_their_own_reply() -> None:
    async def main() -> None:
        server = ScriptedServer(answer=None)
        async with make_client(server) as client:
            calls = [
                asyncio.create_task(
                    client.send_ws_api_request("private", "order", [order(f"c{i}")])
                )
                for i in range(4)
            ]
            link = await server.next_link()
            frames = [await link.next_request() for _ in calls]
            for frame in reversed(frames):  # newest first
                link.push(reply_to(frame, marker=f"ord-{frame['args'][0]['clOrdId']}"))
            replies = await asyncio.gather(*calls)
        for i, reply in enumerate(replies):
            assert reply["data"][0]["ordId"] == f"ord-c{i}"
            assert reply["id"] == frames[i]["id"]
        assert len({f["id"] for f in frames}) == 4  # ids are unique

    run(main())


def test_reply_with_unknown_id_is_ignored_and_the_real_one_still_matches() -> None:
    async def main() -> None:
        server = ScriptedServer(answer=None)
        async with make_client(server) as client:
            call = asyncio.create_task(
                client.send_ws_api_request("private", "order", [order("u1")])
            )
            link = await server.next_link()
            frame = await link.next_request()
            link.push(reply_to({**frame, "id": "nobody"}, marker="wrong"))
            await asyncio.sleep(1)
            assert not call.done()
            link.push(reply_to(frame, marker="right"))
            assert (await call)["data"][0]["ordId"] == "right"

    run(main())


def test_non_zero_code_raises_okx_api_error_with_every_item() -> None:
    async def main() -> None:
        def partial(frame: dict[str, Any]) -> dict[str, Any]:
            reply = reply_to(frame, marker="9", code="2")
            reply["data"][0]["sCode"] = "0"
            reply["data"][1]["sCode"] = "51008"
            return reply

        server = ScriptedServer(answer=partial)
        async with make_client(server) as client:
            with pytest.raises(OkxApiError) as caught:
                await client.send_ws_api_request(
                    "private", "batch-orders", [order("p1"), order("p2")]
                )
        assert caught.value.code == "2"
        assert [i["clOrdId"] for i in caught.value.succeeded] == ["p1"]
        assert [i["sCode"] for i in caught.value.failed] == ["51008"]

    run(main())


# -- timeouts ----------------------------------------------------------------------


def test_request_timeout_fires_at_exactly_the_timeout_with_id_op_and_cl_ord_ids() -> None:
    async def main() -> None:
        server = ScriptedServer(answer=None)
        async with make_client(server) as client:
            await client.connect("private")
            started = now()
            with pytest.raises(RequestTimeout) as caught:
                await client.send_ws_api_request(
                    "private", "batch-orders", [order("to1"), order("to2")], timeout=3.5
                )
            assert now() - started == pytest.approx(3.5, abs=1e-9)
        error = caught.value
        (frame,) = server.links[0].requests
        assert error.sent is True
        assert (error.id, error.op, error.cl_ord_ids) == (
            frame["id"],
            "batch-orders",
            ("to1", "to2"),
        )
        assert error.timeout == 3.5
        assert "UNKNOWN" in str(error)

    run(main())


def test_default_timeout_is_request_timeout_and_covers_connecting() -> None:
    async def main() -> None:
        server = ScriptedServer(answer=None)
        server.refuse_connects = 2  # the 0.5 s + 1 s of backoff are part of the budget
        async with make_client(server, request_timeout=4.0) as client:
            started = now()
            with pytest.raises(RequestTimeout) as caught:
                await client.send_ws_api_request("private", "order", [order("d1")])
            assert now() - started == pytest.approx(4.0, abs=1e-9)
        assert caught.value.sent is True
        assert len(sent_ids(server)) == 1

    run(main())


def test_request_timeout_not_sent_when_no_connection_opens_in_time() -> None:
    async def main() -> None:
        server = ScriptedServer()
        server.refuse_connects = 10**6
        async with make_client(server) as client:
            started = now()
            with pytest.raises(RequestTimeout) as caught:
                await client.send_ws_api_request("private", "order", [order("ns1")], timeout=2)
            # it gives up min_send_time (0.1 s) before the deadline: no reply could come in time
            assert now() - started == pytest.approx(2.0 - 0.1, abs=1e-9)
        error = caught.value
        assert error.sent is False
        assert (error.op, error.cl_ord_ids) == ("order", ("ns1",))
        assert "never sent" in str(error)
        assert server.connect_attempts >= 2  # it kept trying meanwhile
        assert server.links == []  # so the server saw no request at all

    run(main())


def test_late_reply_after_timeout_is_dropped_and_the_link_keeps_working() -> None:
    async def main() -> None:
        server = ScriptedServer(answer=None)
        async with make_client(server) as client:
            late = asyncio.create_task(
                client.send_ws_api_request("private", "order", [order("l1")], timeout=1)
            )
            link = await server.next_link()
            frame = await link.next_request()
            with pytest.raises(RequestTimeout):
                await late
            link.push(reply_to(frame, marker="late"))
            server.answer = ok_reply
            reply = await client.send_ws_api_request("private", "order", [order("l2")])
        assert reply["data"][0]["clOrdId"] == "l2"
        assert len(server.links) == 1

    run(main())


# -- connection lost ----------------------------------------------------------------


def test_connection_lost_in_flight_is_reported_never_resent_and_next_call_reconnects() -> None:
    async def main() -> None:
        server = ScriptedServer(answer=None)
        async with make_client(server) as client:
            call = asyncio.create_task(
                client.send_ws_api_request("private", "batch-orders", [order("x1"), order("x2")])
            )
            first = await server.next_link()
            frame = await first.next_request()
            started = now()
            first.close("network down")
            with pytest.raises(ConnectionLost) as caught:
                await call
            assert now() == started  # at once, not at the timeout
            error = caught.value
            assert (error.id, error.op, error.cl_ord_ids) == (
                frame["id"],
                "batch-orders",
                ("x1", "x2"),
            )
            assert "network down" in error.reason

            await asyncio.sleep(30)  # reconnects, pings, time passes: nothing is re-sent
            server.answer = ok_reply
            reply = await client.send_ws_api_request("private", "order", [order("x3")])
        assert reply["data"][0]["clOrdId"] == "x3"
        assert sent_ids(server).count(frame["id"]) == 1
        assert len(server.links) == 2
        assert [len(link.ops("login")) for link in server.links] == [1, 1]
        assert server.links[1].requests[0]["args"][0]["clOrdId"] == "x3"

    run(main())


def test_failing_send_fails_the_request_at_once_and_the_link_is_replaced() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with make_client(server, request_timeout=10.0) as client:
            await client.connect("private")
            first = server.links[0]
            first.break_writes("broken pipe")
            started = now()
            with pytest.raises(ConnectionLost) as caught:
                await client.send_ws_api_request("private", "order", [order("s1")])
            assert now() - started < 0.1  # not the 10 s timeout
            assert caught.value.cl_ord_ids == ("s1",)
            assert first.requests == []
            reply = await client.send_ws_api_request("private", "order", [order("s2")])
        assert reply["data"][0]["clOrdId"] == "s2"
        assert len(server.links) == 2
        assert [r["args"][0]["clOrdId"] for r in server.links[1].requests] == ["s2"]

    run(main())


# -- connect and login are shared -----------------------------------------------------


def test_concurrent_first_requests_share_one_connect_and_one_login() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with make_client(server) as client:
            requests = [
                client.send_ws_api_request("private", "order", [order(f"f{i}")]) for i in range(5)
            ]
            replies, _ = await asyncio.gather(asyncio.gather(*requests), client.connect("private"))
        assert server.connect_attempts == 1
        assert server.logins == 1
        assert len(server.links[0].requests) == 5
        assert sorted(r["data"][0]["clOrdId"] for r in replies) == [f"f{i}" for i in range(5)]

    run(main())


def test_login_frame_is_signed_and_sent_before_any_request() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with make_client(server) as client:
            await client.send_ws_api_request("private", "order", [order("g1")])
        frames = [json.loads(f) for f in server.links[0].frames]
        assert [f["op"] for f in frames] == ["login", "order"]
        (login,) = frames[0]["args"]
        assert login["apiKey"] == "key1" and login["passphrase"] == PASSPHRASE
        assert login["timestamp"].isdigit() and login["sign"]
        assert SECRET not in server.links[0].frames[0]

    run(main())


# OKX's documented example SecretKey and login timestamp (v5 docs, "WebSocket /
# Login").  The docs' example frame's sign is not made from that secret, so the
# expected value was computed once outside Python and pasted as a literal:
#   printf '%s' '1538054050GET/users/self/verify' \
#     | openssl dgst -sha256 -hmac 22582BD0CFF14C41EDBF1AB98506286D -binary | base64
# tests/test_sim_protocol.py pins the simulator's verifier to the same literal.
OKX_EXAMPLE_SECRET = "22582BD0CFF14C41EDBF1AB98506286D"
OKX_EXAMPLE_TS = 1538054050
OKX_EXAMPLE_SIGN = "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M="


def test_login_frame_signs_okx_example_as_the_literal(monkeypatch: pytest.MonkeyPatch) -> None:
    # The login clock reads time.time() through okx_ws_core.protocol.signing: stand it at the
    # example timestamp (plus a fraction: OKX wants whole seconds).
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: OKX_EXAMPLE_TS + 0.75))

    async def main() -> None:
        server = ScriptedServer()
        client = AsyncWebsocketClient(
            "key1", OKX_EXAMPLE_SECRET, "123456", transport=server, attach_event_listeners=False
        )
        async with client:
            await client.connect("private")
        (login,) = server.links[0].ops("login")
        assert login["args"] == [
            {
                "apiKey": "key1",
                "passphrase": "123456",
                "timestamp": "1538054050",
                "sign": OKX_EXAMPLE_SIGN,
            }
        ]

    run(main())


@pytest.mark.parametrize(
    ("code", "hint"),
    [("60032", "market"), ("60024", "market")],  # 60004/60006 (clock): test_pacing_clock.py
)
def test_refused_login_fails_every_waiter_without_a_login_loop(code: str, hint: str) -> None:
    async def main() -> None:
        server = ScriptedServer()
        server.login_errors = [(code, "refused"), (code, "refused again")]
        async with make_client(server) as client:
            results = await asyncio.gather(
                *(
                    client.send_ws_api_request("private", "order", [order(f"r{i}")])
                    for i in range(3)
                ),
                client.connect("private"),
                return_exceptions=True,
            )
            for error in results:
                assert isinstance(error, AuthenticationError), error
                assert (error.code, error.connection) == (code, "private")
                assert hint in str(error)
                assert SECRET not in str(error) and PASSPHRASE not in str(error)
            assert (server.connect_attempts, server.logins) == (1, 1)

            await asyncio.sleep(300)  # no retry loop with the same credentials
            assert (server.connect_attempts, server.logins) == (1, 1)

            with pytest.raises(AuthenticationError):  # the next call: exactly one fresh attempt
                await client.send_ws_api_request("private", "order", [order("r8")])
            await asyncio.sleep(300)
            assert (server.connect_attempts, server.logins) == (2, 2)

            reply = await client.send_ws_api_request("private", "order", [order("r9")])
            assert reply["data"][0]["clOrdId"] == "r9"
            assert (server.connect_attempts, server.logins) == (3, 3)
        assert sent_ids(server) == [reply["id"]]  # nothing was sent before a login succeeded

    run(main())


# -- events and malformed frames ---------------------------------------------------


def record_events(client: AsyncWebsocketClient, names: tuple[str, ...]) -> list[Event]:
    seen: list[Event] = []
    for name in names:
        client.on(name, seen.append)
    return seen


def test_lifecycle_events_in_order_on_connect_drop_and_reconnect() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with make_client(server) as client:
            names = ("open", "authenticated", "close", "reconnect", "reconnected")
            events = record_events(client, names)
            await client.connect("private")
            server.links[0].close("dropped by test")
            await asyncio.sleep(1)
            assert [(e.name, e.connection) for e in events] == [
                ("authenticated", "private"),
                ("open", "private"),
                ("close", "private"),
                ("reconnect", "private"),
                ("authenticated", "private"),
                ("open", "private"),
                ("reconnected", "private"),
            ]
        assert "dropped by test" in events[2].detail
        assert "dropped by test" in events[3].detail
        assert len(server.links) == 2 and server.logins == 2

    run(main())


@pytest.mark.parametrize(
    "garbage",
    ["not json", "[1, 2]", '{"foo": 1}', '"text"', "{", '{"id": 5}'],
)
def test_malformed_frame_emits_exception_and_the_reader_survives(garbage: str) -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with make_client(server) as client:
            events = record_events(client, ("exception", "close", "reconnect"))
            await client.connect("private")
            server.links[0].push(garbage)
            await asyncio.sleep(0.5)
            reply = await client.send_ws_api_request("private", "order", [order("ok1")])
            assert [e.name for e in events] == ["exception"]  # no close, no reconnect
        assert reply["data"][0]["clOrdId"] == "ok1"
        assert events[0].connection == "private" and "unexpected frame" in events[0].detail
        assert len(server.links) == 1  # same link, the reader survived

    run(main())


def test_failing_and_async_event_handlers_never_break_the_reader() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with make_client(server) as client:
            seen: list[str] = []

            def broken(event: Event) -> None:
                raise RuntimeError("handler bug")

            async def slow(event: Event) -> None:
                await asyncio.sleep(1)
                seen.append(event.name)

            client.on("response", broken)
            client.on("response", slow)
            reply = await client.send_ws_api_request("private", "order", [order("h1")])
            assert reply["data"][0]["clOrdId"] == "h1"
        assert seen == ["response"]  # close() waited for the async handler

    run(main())


def test_unknown_event_name_is_a_configuration_error() -> None:
    client = make_client(ScriptedServer())
    with pytest.raises(ConfigurationError, match="unknown event"):
        client.on("opened", lambda event: None)


# -- close --------------------------------------------------------------------------


def test_close_fails_in_flight_requests_and_leaves_no_task_behind() -> None:
    async def main() -> None:
        server = ScriptedServer(answer=None)
        client = make_client(server, request_timeout=60.0)
        await client.subscribe({"channel": "tickers", "instId": "BTC-USDT"})
        calls = [
            asyncio.create_task(client.send_ws_api_request(key, op, [order(f"{key[0]}1")]))
            for key, op in (("private", "order"), ("business", "sprd-order"))
        ]
        await until(lambda: len(sent_ids(server)) == 2, "both requests sent")
        await asyncio.sleep(25)  # heartbeats running on three links
        await client.close()
        errors = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(e, ConnectionLost) for e in errors), errors
        assert [e.cl_ord_ids for e in errors if isinstance(e, ConnectionLost)] == [("p1",), ("b1",)]
        assert asyncio.all_tasks() == {asyncio.current_task()}
        assert server.open_links() == []
        with pytest.raises(ClientClosed):
            await client.send_ws_api_request("private", "order", [order("z1")])
        await client.close()  # idempotent

    run(main())


def test_close_while_connecting_fails_the_waiter_with_client_closed() -> None:
    async def main() -> None:
        server = ScriptedServer()
        server.refuse_connects = 10**6
        client = make_client(server)
        call = asyncio.create_task(client.send_ws_api_request("private", "order", [order("w1")]))
        await asyncio.sleep(3)
        await client.close()
        with pytest.raises(ClientClosed):
            await call
        attempts = server.connect_attempts
        await asyncio.sleep(60)
        assert server.connect_attempts == attempts  # the connect loop stopped
        assert asyncio.all_tasks() == {asyncio.current_task()}

    run(main())
