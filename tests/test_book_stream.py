"""The order book driver (issue #18): ``client.order_book()`` over the scripted peer, on
virtual time, with OKX's REST snapshot served by an ``httpx.MockTransport``.

What the driver does with the book's actions: a subscribe snapshot makes it
valid; a gap invalidates it at once and a REST snapshot (retried while REST
fails) or a resubscribe makes it valid again; a dropped connection invalidates
it until the restored subscription's snapshot; OKX's combination rule and the
login channels are checked before anything is sent.
"""

from __future__ import annotations

import asyncio
import json
import threading
from decimal import Decimal
from typing import Any

import httpx
import pytest
from okx_ws import (
    AsyncWebsocketAPIClient,
    BookChange,
    BookStream,
    ClientClosed,
    ConfigurationError,
    StaleBookError,
    UpdateTimeout,
    WebsocketAPIClient,
)

from okx_ws_core.testing import ScriptedServer, ServerLink, run, until

CREDENTIALS = {"api_key": "k", "api_secret": "s", "api_passphrase": "p"}
INST = "BTC-USDT"


def rows(*levels: tuple[str, str]) -> list[list[str]]:
    return [[px, sz, "0", "1"] for px, sz in levels]


def frame(
    seq: int,
    prev: int,
    *,
    bids: list[list[str]] | None = None,
    asks: list[list[str]] | None = None,
    action: str = "update",
    channel: str = "books",
    inst_id: str = INST,
) -> dict[str, Any]:
    item = {"asks": asks or [], "bids": bids or [], "ts": str(1_700_000_000_000 + seq),
            "checksum": 0, "prevSeqId": prev, "seqId": seq}  # fmt: skip
    return {"arg": {"channel": channel, "instId": inst_id}, "action": action, "data": [item]}


def snapshot(seq: int, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("bids", rows(("100", "1"), ("99", "2")))
    kwargs.setdefault("asks", rows(("101", "1"), ("102", "3")))
    return frame(seq, -1, action="snapshot", **kwargs)


class RestBooks:
    """``GET /api/v5/market/books``: answers from ``replies`` in turn (an int: that HTTP
    status with no book; a dict: the snapshot item), and records each request."""

    def __init__(self, *replies: int | dict[str, Any]) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.url.path == "/api/v5/market/books"
        reply = self.replies.pop(0) if self.replies else 503
        if isinstance(reply, int):
            return httpx.Response(reply, json={"code": "50001", "msg": "busy", "data": []})
        return httpx.Response(200, json={"code": "0", "msg": "", "data": [reply]})


def rest_item(seq: int, bids: list[list[str]], asks: list[list[str]]) -> dict[str, Any]:
    return {"asks": asks, "bids": bids, "ts": "1700000000000", "seqId": seq}


def client(
    server: ScriptedServer, rest: RestBooks | None = None, *, credentials: bool = True
) -> AsyncWebsocketAPIClient:
    given = CREDENTIALS if credentials else {}
    transport = httpx.MockTransport((rest or RestBooks()).handler)
    return AsyncWebsocketAPIClient(
        **given,
        attach_event_listeners=False,
        transport=server,
        rest_transport=transport,
        reconnect_delay=0.05,
        reconnect_max_delay=0.2,
    )


def public_link(server: ScriptedServer) -> ServerLink:
    [link] = [lk for lk in server.open_links() if lk.url.endswith("/public")]
    return link


def subscribed(link: ServerLink, channel: str) -> int:
    return sum(1 for f in link.ops("subscribe") for arg in f["args"] if arg["channel"] == channel)


async def open_book(
    api: AsyncWebsocketAPIClient,
    server: ScriptedServer,
    *,
    channel: str = "books",
    first: dict[str, Any] | None = None,
    **kwargs: Any,
) -> tuple[BookStream, ServerLink]:
    """``order_book()``, answered by a subscribe snapshot (``first``) once subscribed."""
    opening = asyncio.ensure_future(api.order_book(INST, channel, **kwargs))  # type: ignore[arg-type]
    await until(lambda: server.open_links(), "connected")
    link = public_link(server)
    await until(lambda: subscribed(link, channel), "subscribed")
    link.push(first or snapshot(10, channel=channel))
    return await opening, link


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def test_a_subscribe_snapshot_then_updates_make_a_valid_book() -> None:
    async def main() -> None:
        server, rest = ScriptedServer(), RestBooks()
        async with client(server, rest) as api:
            book, link = await open_book(api, server)
            assert book.valid and book.seq_id == 10
            assert str(book.best_bid()) == "(Decimal('100'), Decimal('1'))"
            link.push(frame(12, 10, bids=rows(("100", "0"), ("100.5", "4"))))
            link.push(frame(12, 12))  # a heartbeat: accepted, nothing changed
            link.push(frame(15, 12, asks=rows(("101", "7"))))
            await settle()
            assert book.valid and book.seq_id == 15
            assert book.best_bid() == (Decimal("100.5"), 4)
            assert [lv[0] for lv in book.depth(5).bids] == [Decimal("100.5"), 99]
            assert book.best_ask() is not None and book.best_ask()[1] == 7  # type: ignore[index]
            assert book.ts == 1_700_000_000_015
            changes = [await book.get(timeout=1) for _ in range(4)]
            assert [c.seq_id for c in changes] == [10, 12, 12, 15]
            assert changes[0].snapshot and not changes[1].snapshot
            assert rest.requests == []  # a subscribe snapshot needs no REST

    run(main())


def test_a_gap_invalidates_at_once_and_a_rest_snapshot_resyncs() -> None:
    async def main() -> None:
        server = ScriptedServer()
        rest = RestBooks(rest_item(18, rows(("100", "5")), rows(("103", "1"))))
        async with client(server, rest) as api:
            book, link = await open_book(api, server, resync="rest")
            link.push(frame(21, 18, bids=rows(("100", "6"))))  # prevSeqId 18 != 10: a gap
            await until(lambda: not book.valid, "invalid")
            with pytest.raises(StaleBookError):
                book.best_bid()
            await until(lambda: rest.requests, "snapshot fetched")
            await until(lambda: book.valid, "resynced")
            [request] = rest.requests
            assert dict(request.url.params) == {"instId": INST, "sz": "400"}
            # the buffered update joined the REST snapshot at its seqId (prevSeqId 18 == 18)
            assert book.seq_id == 21 and book.best_bid() == (100, 6)
            assert book.levels() == ({100: 6}, {103: 1})
            changes = [await book.get(timeout=1) for _ in range(2)]
            assert changes[1].snapshot and changes[1].seq_id == 21  # the whole book changed
            assert book.inexact_bridges == 0

    run(main())


def test_a_rest_snapshot_inside_an_aggregated_push_is_refused_and_fetched_again() -> None:
    """A snapshot at 20 joined to the update 18 -> 21 would keep whatever that update
    (built against the book at 18) does not mention: the 101.5 ask that lived only
    between 18 and 21.  The bridge is refused, never readable as valid."""

    async def main() -> None:
        server = ScriptedServer()
        rest = RestBooks(
            rest_item(20, rows(("100", "5")), rows(("101.5", "1"), ("103", "1"))),
            rest_item(21, rows(("100", "6")), rows(("103", "1"))),
        )
        async with client(server, rest) as api:
            book, link = await open_book(api, server, resync="rest")
            link.push(frame(21, 18, bids=rows(("100", "6"))))
            await until(lambda: len(rest.requests) == 1, "first snapshot fetched")
            await until(lambda: book.inexact_bridges == 1, "first snapshot refused")
            assert not book.valid
            loop = asyncio.get_running_loop()
            refused_at = loop.time()
            while len(rest.requests) < 2:
                await asyncio.sleep(0.001)
            assert loop.time() - refused_at >= 0.025  # after a backoff (reconnect_delay / 2)
            await asyncio.sleep(0.5)
            assert len(rest.requests) == 2  # it waits for the stream to join it
            link.push(frame(23, 21, asks=rows(("103", "2"))))  # joins 21 exactly
            await book.wait_valid(timeout=1)
            assert book.seq_id == 23 and book.levels() == ({100: 6}, {103: 2})
            changes = [await book.get(timeout=1) for _ in range(2)]
            assert [c.seq_id for c in changes] == [10, 23]  # the refused bridge is not a change

    run(main())


def test_a_failing_rest_snapshot_is_retried_with_backoff_and_never_served_meanwhile() -> None:
    async def main() -> None:
        server = ScriptedServer()
        rest = RestBooks(503, 429, rest_item(29, rows(("99", "1")), rows(("101", "1"))))
        async with client(server, rest) as api:
            book, link = await open_book(api, server, resync="rest")
            link.push(frame(31, 29))
            await until(lambda: not book.valid, "invalid")
            loop = asyncio.get_running_loop()
            started = loop.time()
            await book.wait_valid(timeout=5)
            assert len(rest.requests) == 3 and loop.time() - started > 0.05  # two backoffs
            assert book.seq_id == 31 and book.levels() == ({99: 1}, {101: 1})

    run(main())


def test_resubscribe_mode_resubscribes_instead_of_fetching() -> None:
    async def main() -> None:
        server, rest = ScriptedServer(), RestBooks()
        async with client(server, rest) as api:
            book, link = await open_book(api, server)  # resync="resubscribe" by default
            link.push(frame(13, 11))  # a gap
            await until(lambda: link.ops("unsubscribe"), "unsubscribed")
            await until(lambda: subscribed(link, "books") == 2, "subscribed again")
            assert not book.valid
            link.push(frame(14, 13))  # ignored: the resubscribe snapshot replaces everything
            link.push(snapshot(40, bids=rows(("98", "1"))))
            await until(lambda: book.valid, "valid")
            assert book.seq_id == 40 and book.best_bid() == (98, 1) and rest.requests == []
            assert [a["channel"] for a in api.get_ws_client().subscriptions("public")] == ["books"]

    run(main())


def test_a_dropped_connection_invalidates_until_the_restored_snapshot() -> None:
    async def main() -> None:
        server, rest = ScriptedServer(), RestBooks()
        async with client(server, rest) as api:
            book, first = await open_book(api, server)
            first.close("scripted: dropped")
            await settle()
            assert not book.valid  # at once, before any frame of the new link
            await until(lambda: len(server.open_links()) == 1, "reconnected", steps=2000)
            second = public_link(server)
            assert second is not first
            await until(lambda: subscribed(second, "books"), "restored")
            # an update of the old chain is not applied to a book waiting for its snapshot
            second.push(snapshot(50, bids=rows(("97", "2"))))
            await book.wait_valid(timeout=1)
            assert book.seq_id == 50 and book.best_bid() == (97, 2) and rest.requests == []

    run(main())


def test_after_a_reconnect_without_a_snapshot_the_book_resyncs_from_rest() -> None:
    async def main() -> None:
        server = ScriptedServer()
        rest = RestBooks(rest_item(60, rows(("96", "1")), rows(("104", "1"))))
        async with client(server, rest) as api:
            book, first = await open_book(api, server, resync="rest")
            first.close("scripted: dropped")
            await until(lambda: len(server.open_links()) == 1, "reconnected", steps=2000)
            second = public_link(server)
            await until(lambda: subscribed(second, "books"), "restored")
            second.push(frame(61, 60, asks=rows(("104", "2"))))  # OKX sent no snapshot
            await book.wait_valid(timeout=1)
            assert book.seq_id == 61 and book.levels() == ({96: 1}, {104: 2})

    run(main())


def test_books_l2_tbt_beside_books_is_refused_before_anything_is_sent() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with client(server) as api:
            book, link = await open_book(api, server)
            with pytest.raises(ConfigurationError, match="'books-l2-tbt'.*'books' is already"):
                await api.order_book(INST, "books-l2-tbt")
            assert subscribed(link, "books-l2-tbt") == 0 and server.logins == 0
            await book.aclose()
            tbt, _ = await open_book(api, server, channel="books-l2-tbt")
            assert ops(link)[-2:] == ["login", "subscribe"]  # a login channel: logged in first
            with pytest.raises(ConfigurationError, match="'books50-l2-tbt'.*'books-l2-tbt'"):
                await api.order_book(INST, "books50-l2-tbt")
            assert subscribed(link, "books50-l2-tbt") == 0
            assert tbt.valid

    run(main())


def ops(link: ServerLink) -> list[str]:
    return [f["op"] for f in map(json.loads, (t for t in link.frames if t != "ping"))]


def test_login_decisions_for_book_channels() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with client(server, credentials=False) as api:
            with pytest.raises(ConfigurationError, match="needs a login"):
                await api.order_book(INST, "books-l2-tbt")
            assert server.links == []  # nothing sent, not even a connect
            book, link = await open_book(api, server)  # books needs no login
            assert book.valid and link.ops("login") == []

    run(main())


def test_a_book_not_valid_in_time_times_out_and_unsubscribes() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with client(server) as api:
            with pytest.raises(
                UpdateTimeout, match="books BTC-USDT book was not valid within 0.5s"
            ):
                await api.order_book(INST, "books", timeout=0.5)
            link = public_link(server)
            assert len(link.ops("unsubscribe")) == 1

    run(main())


def test_closing_the_book_unsubscribes_and_ends_it() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with client(server) as api:
            book, link = await open_book(api, server)
            stream = await api.subscribe_books(INST)  # a typed stream of the same argument
            await book.aclose()
            assert not book.valid and book.closed
            assert link.ops("unsubscribe") == []  # the typed stream still uses it
            assert [c.seq_id async for c in book] == [10]  # what was buffered, then the end
            assert await _ended(book)
            with pytest.raises(StaleBookError):
                book.depth(1)
            link.push(frame(11, 10))
            assert (await stream.get(timeout=1)).data[0].seq_id == 11
            await stream.aclose()
            assert len(link.ops("unsubscribe")) == 1

    run(main())


async def _ended(book: BookStream) -> bool:
    with pytest.raises(ClientClosed):
        await book.get(timeout=0)
    return True


def test_frames_of_another_instrument_never_reach_the_book() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with client(server) as api:
            book, link = await open_book(api, server)
            link.push(frame(99, 1, inst_id="ETH-USDT"))  # an argument nobody subscribed
            await settle()
            assert book.valid and book.seq_id == 10

    run(main())


def test_books5_replaces_the_book_on_every_push() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with client(server) as api:
            first = frame(7, -1, channel="books5", bids=rows(("10", "1")), asks=rows(("11", "1")))
            del first["action"]
            book, link = await open_book(api, server, channel="books5", first=first)
            second = frame(
                9, -1, channel="books5", bids=rows(("10.5", "2")), asks=rows(("11", "1"))
            )
            del second["action"]
            link.push(second)
            await settle()
            assert book.levels() == ({Decimal("10.5"): 2}, {11: 1}) and book.seq_id == 9
            changes: list[BookChange] = [await book.get(timeout=1) for _ in range(2)]
            assert all(c.snapshot for c in changes)

    run(main())


def test_the_blocking_client_follows_a_book_from_another_thread() -> None:
    server = ScriptedServer()
    rest = RestBooks(rest_item(18, rows(("100", "5")), rows(("103", "1"))))
    with WebsocketAPIClient(
        **CREDENTIALS,
        attach_event_listeners=False,
        transport=server,
        rest_transport=httpx.MockTransport(rest.handler),
    ) as api:
        loop = api.get_ws_client().loop
        book = api.order_book(INST, "books", resync="rest", wait=False)
        assert not book.valid
        link = public_link(server)
        loop.call_soon_threadsafe(link.push, snapshot(10))
        book.wait_valid(timeout=5)
        assert book.best_bid() == (100, 1) and book.seq_id == 10
        loop.call_soon_threadsafe(link.push, frame(21, 18))  # a gap: REST resync
        seen: list[int] = []
        done = threading.Event()

        def read() -> None:
            for change in book.iter(timeout=5):
                seen.append(change.seq_id)
                if change.snapshot and change.seq_id == 21:
                    done.set()
                    return

        reader = threading.Thread(target=read)
        reader.start()
        assert done.wait(5)
        reader.join(5)
        assert book.valid and book.levels() == ({100: 5}, {103: 1})
        book.close()
        assert book.closed and not book.valid
    assert seen[-1] == 21


def test_a_link_lost_during_a_resubscribe_still_ends_in_a_valid_book() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with client(server) as api:
            book, first = await open_book(api, server)
            server.drop_on.add("unsubscribe")  # the resubscribe's unsubscribe kills the link
            first.push(frame(13, 11))  # a gap
            await until(lambda: first.closed_reason is not None, "dropped")
            server.drop_on.clear()
            while len(server.open_links()) != 1 or not subscribed(public_link(server), "books"):
                await asyncio.sleep(0.01)
            second = public_link(server)
            second.push(snapshot(70))
            await book.wait_valid(timeout=1)
            assert book.seq_id == 70 and subscribed(second, "books") == 1
            ws = api.get_ws_client()
            assert [a["channel"] for a in ws.subscriptions("public")] == ["books"]

    run(main())
