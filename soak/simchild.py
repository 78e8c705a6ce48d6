"""The simulator process itself: ``python -m soak.simchild FD CONFIG`` (see ``soak.simproc``).

It runs ``okx_ws_sim.Simulator`` on its own event loop and answers the soak's
commands from the socket ``FD``; it measures its own resources and records
its own warnings (unclosed sockets included), so nothing of the client
process is ever charged to it, nor the other way round.
"""

from __future__ import annotations

import asyncio
import gc
import json
import multiprocessing.connection
import socket
import sys
import traceback
from collections.abc import Callable
from typing import Any

from .market_child import command as market_command
from .probes import (
    Hygiene,
    MemoryProbe,
    MemoryReading,
    count_fds,
    fd_kinds,
    native_leak,
    thread_names,
    top_growth,
)
from .rss import SIM_HARNESS
from .workload import SOAK_PAIRS, SOAK_REF_PX

Counters = dict[str, int]
Accounts = list[tuple[str, str, str, dict[str, str], str]]
PLANT_LEAK_MIB = 30
# FaultPlan methods the soak may call (sim.faults.<name>(**kwargs)).
ACTIONS = frozenset(
    {
        "close_after_frames",
        "drop_next_request",
        "drop_after_execute",
        "swallow_pongs",
        "delay_replies",
        "send_notice",
        "send_malformed",
        "refuse_logins",
    }
)
READY = "ready"
FINAL = 0  # call id of the child's last message: its own hygiene after shutdown


def serve(
    conn: multiprocessing.connection.Connection,
    accounts: Accounts,
    seed: int,
    options: dict[str, Any] | None = None,
) -> None:
    """Entry point of the simulator process.  ``options``: ``rate_limits`` (OKX's, on or
    off) and ``travel_s`` (how long before its expTime a request may have left its
    client: the client's request timeout)."""
    hygiene = Hygiene()
    hygiene.install()
    memory = MemoryProbe(excluded=SIM_HARNESS)
    error = ""
    try:
        asyncio.run(_Child(conn, accounts, seed, hygiene, memory, options or {}).run())
    except BaseException:
        error = traceback.format_exc(limit=8)
        raise
    finally:
        gc.collect()
        final = {
            "hygiene": list(hygiene.problems),
            "notes": dict(hygiene.notes),  # soak.probes.BENIGN (soakrt's hook)
            "threads": thread_names(),
            "fds": count_fds(),
            "error": error,
        }
        memory.stop()
        try:
            conn.send((FINAL, True, final))
        except OSError:  # the parent is gone
            pass
        conn.close()


class _Child:
    def __init__(
        self,
        conn: multiprocessing.connection.Connection,
        accounts: Accounts,
        seed: int,
        hygiene: Hygiene,
        memory: MemoryProbe,
        options: dict[str, Any],
    ) -> None:
        from okx_ws_sim import Account, Simulator

        from .late_audit import LateAudit

        self.conn = conn
        self.hygiene = hygiene
        self.memory = memory
        self.sim = Simulator(
            accounts=[Account(k, s, p, balances=dict(b), uid=u) for k, s, p, b, u in accounts],
            idle_timeout=5.0,
            seed=seed,
            instruments=instruments(),
            # OKX's limits at the limits only: elsewhere the load is far above them
            rate_limits=bool(options.get("rate_limits", False)),
        )
        self.travel_s = float(options.get("travel_s", 1.0))
        # Untraced unless asked (diagnosis only): tracemalloc's tables and snapshots
        # would be most of the RSS this process adds besides its book (soak.rss).
        self.trace = bool(options.get("trace_memory", False))
        self.late_audit = LateAudit(self.sim, self.travel_s)
        self.stopped = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()
        self.first_reading: MemoryReading | None = None
        self.seq = 0
        self.kept: list[socket.socket] = []  # planted leaks (soak.defects), closed at stop
        self.leaked: list[Any] = []  # planted native allocations
        self.commands: dict[str, Callable[..., Any]] = {
            "arm": self.arm,
            "counters": self.counters,
            "reset_faults": self.reset_faults,
            "find_orders": self.find_orders,
            "order_ids": self.order_ids,
            "stats": self.stats,
            "connections": self.connections,
            "subscriptions": self.subscriptions,
            "resources": self.resources,
            "limits": self.limits,
            "plant": self.plant,
            "market": lambda *args: market_command(self.sim, *args),  # soak.market
        }
        self.async_commands: dict[str, Callable[..., Any]] = {
            "restart": self.restart,
            "stop": self.stop,
        }

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self.hygiene.watch_loop(loop, "simulator")
        await self.sim.start()
        if self.trace:  # after the imports: growth is measured between checkpoints
            self.memory.start()
        self.conn.send((READY, True, self.sim.port))
        loop.add_reader(self.conn.fileno(), self.on_readable)
        try:
            await self.stopped.wait()
        finally:
            loop.remove_reader(self.conn.fileno())
            if self.sim.running:
                await self.sim.stop()

    def on_readable(self) -> None:
        while not self.stopped.is_set() and self.conn.poll():
            try:
                call_id, command, args = self.conn.recv()
            except (EOFError, OSError):  # the soak process is gone
                self.stopped.set()
                return
            if command in self.async_commands:
                task = asyncio.get_running_loop().create_task(
                    self.answer_later(call_id, self.async_commands[command](*args))
                )
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
                continue
            try:
                self.conn.send((call_id, True, self.commands[command](*args)))
            except Exception as exc:
                self.conn.send((call_id, False, f"{type(exc).__name__}: {exc}"))

    async def answer_later(self, call_id: int, coro: Any) -> None:
        try:
            value = await coro
        except Exception as exc:
            self.conn.send((call_id, False, f"{type(exc).__name__}: {exc}"))
        else:
            self.conn.send((call_id, True, value))

    # -- commands --------------------------------------------------------------------------
    def counters(self) -> Counters:
        """What the simulator says fired, and the events a fault needs to fire."""
        sim, st = self.sim, self.sim.stats
        out = {f"fired:{kind}": n for kind, n in st.faults_injected.items()}
        tally = getattr(sim.faults, "armed", None)  # newer simulators tally armings too
        if callable(tally):
            out["tallies"] = 1
            out.update({f"armed:{kind}": n for kind, n in tally().items()})
        self.seq += 1
        out.update(
            seq=self.seq,  # orders readings as the simulator's loop took them
            requests=st.requests_total,
            frames=st.frames_received,
            pings=st.pings,
            logins=st.logins_ok + st.logins_failed,
            opened=st.connections_opened,
            open=sim.connection_count(),
            open_ws_api=sim.connection_count("private") + sim.connection_count("business"),
        )
        return out

    def arm(self, actions: list[tuple[str, dict[str, Any]]]) -> tuple[Counters, Counters]:
        """Apply fault actions atomically; the counters just before and just after."""
        before = self.counters()
        for name, kwargs in actions:
            if name not in ACTIONS:
                raise ValueError(f"not a fault action: {name}")
            getattr(self.sim.faults, name)(**kwargs)
        return before, self.counters()

    async def restart(self, down_for: float) -> tuple[Counters, Counters]:
        before = self.counters()
        await self.sim.restart(down_for)
        return before, self.counters()

    def reset_faults(self) -> dict[str, Any]:
        """Clear every armed fault; what was still armed (if the simulator says) and the
        counters just before."""
        faults = self.sim.faults
        pending = faults.pending() if callable(getattr(faults, "pending", None)) else None
        before = self.counters()
        faults.reset()
        return {"counters": before, "pending": None if pending is None else dict(pending)}

    def find_orders(self, api_key: str, cl_ord_ids: list[str]) -> dict[str, Any]:
        """``find_order`` for each clOrdId: (ordId, state, sz), or None if the book has none."""
        out: dict[str, Any] = {}
        for cl in cl_ord_ids:
            order = self.sim.find_order(cl_ord_id=cl, api_key=api_key)
            out[cl] = None if order is None else (order["ordId"], order["state"], order["sz"])
        return out

    def order_ids(self, api_key: str) -> list[str]:
        """The clOrdId of every order the account holds (a duplicate appears twice)."""
        return [order["clOrdId"] for order in self.sim.orders(api_key)]

    def stats(self) -> dict[str, Any]:
        return self.sim.stats.to_dict()

    def connections(self) -> int:
        return self.sim.connection_count()

    def subscriptions(self) -> dict[str, list[tuple[str, list[dict[str, Any]]]]]:
        """api_key -> (kind, the args it subscribed) of each logged-in open connection."""
        out: dict[str, list[tuple[str, list[dict[str, Any]]]]] = {}
        for conn in self.sim.sessions.conns:
            if conn.acct is not None and not conn.closing:
                args = [{"channel": channel, **dict(items)} for channel, items in conn.subs]
                out.setdefault(conn.acct.account.api_key, []).append((conn.kind, args))
        return out

    def resources(self, label: str, last: bool = False) -> dict[str, Any]:
        """Tasks, threads, fds, connections, and memory (``soak.rss``); ``last``: then
        stop tracing, to measure what tracemalloc itself costs."""
        # counted, not rendered: sim.orders() would build a dict per order just before
        # the RSS is read
        orders = sum(len(acct.orders) for acct in self.sim.engine.accounts.values())
        reading = self.memory.reading(last)
        out: dict[str, Any] = {
            "label": label,
            "tasks": len(asyncio.all_tasks()) - len(self.tasks),
            "threads": thread_names(),
            "fds": count_fds(),
            "fd_kinds": fd_kinds(),
            "memory": reading.total(SIM_HARNESS),
            "rss_kib": reading.rss_kib,
            "mem": self.memory.summary(reading, {}),
            "connections": self.sim.connection_count(),
            "orders": orders,
            "request_ids": len(self.sim.stats.request_ids),
        }
        if self.first_reading is None:
            self.first_reading = reading
        else:
            out["memory_top"] = top_growth(self.first_reading, reading, excluded=SIM_HARNESS)
        return out

    def limits(self) -> dict[str, Any]:
        """Refusals for rate by code, the peak use of each limit, the late arrivals."""
        st = self.sim.stats
        return {
            "refusals": st.rate_limit_refusals,
            "peaks": self.sim.policy.peaks,
            "expired": st.expired_requests,
            "late": [tuple(late) for late in st.late_arrivals],
            "refused_connects": self.late_audit.refused_connects[:20],
        }

    def plant(self, what: str) -> None:
        """Test hooks (soak.defects): leak a socket in this process, kept or unclosed;
        forget every subscription but the first of each connection, as a client that
        restored only its first would have left them; refuse the next cancel with 50011;
        take the next order as arrived 5 s late; leak 30 MiB outside Python's heap."""
        if what == "refuse_next":
            self.late_audit.refuse_next = True
        elif what == "late_next":
            self.late_audit.late_next = True
        elif what == "leak_native":
            self.leaked.append(native_leak(PLANT_LEAK_MIB))
        elif what == "kept_socket":
            self.kept.append(socket.socket())
        elif what == "unclosed_socket":
            socket.socket()  # dropped unclosed: a ResourceWarning in this process
        elif what == "forget_subscriptions":
            for conn in self.sim.sessions.conns:
                for key in list(conn.subs)[1:]:
                    del conn.subs[key]
        else:
            raise ValueError(what)

    async def stop(self) -> dict[str, Any]:
        for sock in self.kept:
            sock.close()
        await self.sim.stop()
        self.stopped.set()
        return {"connections": self.sim.connection_count()}


def instruments() -> dict[str, Any]:
    """The simulator's own table and the soak's 20 spot pairs (``soak.workload``)."""
    from decimal import Decimal

    from okx_ws_sim.instruments import Instrument, default_instruments

    table = default_instruments()
    for pair in SOAK_PAIRS:
        base, quote = pair.split("-")
        table[pair] = Instrument(
            pair,
            "SPOT",
            Decimal(SOAK_REF_PX),
            Decimal("1000000"),
            base,
            quote,
            quote,
            tick_sz="0.01",
            lot_sz="0.0001",
            min_sz="0.0001",
        )
    return table


def main(argv: list[str]) -> None:
    """``python -m soak.simchild FD CONFIG``: serve the simulator over the socket ``FD``."""
    config = json.loads(argv[1])
    conn = multiprocessing.connection.Connection(int(argv[0]))
    accounts = [(k, s, p, dict(b), u) for k, s, p, b, u in config["accounts"]]
    serve(conn, accounts, int(config["seed"]), config.get("options"))


if __name__ == "__main__":
    main(sys.argv[1:])
