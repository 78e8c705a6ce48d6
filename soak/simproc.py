"""The simulator in its own process, driven over a pipe.

The soak's client process holds only the clients under test; the simulator
(``okx_ws_sim.Simulator`` on its own event loop) runs in a child process
started as ``python -m soak.simchild`` (a fresh interpreter: nothing of the
client process is inherited).  So every resource figure
(threads, tasks, file descriptors, sockets, memory) and every unclosed-socket
warning belongs to exactly one side: each process measures and reports itself.

Control channel: a socket pair wrapped in ``multiprocessing.connection``
(length-prefixed pickles).  The parent sends
``(call_id, command, args)``; the child runs the command on the simulator's
loop (synchronous commands atomically, between two frames the simulator
handles) and answers ``(call_id, ok, value)``.  Commands: faults
(``soak.simchild.ACTIONS``, several in one atomic call), ``restart``, ``counters`` (the
simulator's fault-fired counters plus the events that let a fault fire),
``reset_faults``, ``find_orders``, ``order_ids``, ``stats``, ``connections``,
``subscriptions``, ``resources``, ``limits``, ``plant`` (test hook) and ``stop``.  On the parent side :class:`SimProcess` turns each
call into an awaitable on the client process's event loop (``add_reader`` on
the pipe: no thread, no executor).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import multiprocessing.connection
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .simchild import FINAL, READY, Accounts


class SimProcessError(RuntimeError):
    pass


class SimProcess:
    """The parent's handle on the simulator process."""

    def __init__(
        self, accounts: Accounts, seed: int, options: dict[str, Any] | None = None
    ) -> None:
        self._accounts = accounts
        self._seed = seed
        self._options = dict(options or {})
        self._conn: multiprocessing.connection.Connection | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self.port = 0
        self.final: dict[str, Any] = {}

    @property
    def base_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self._process.pid if self._process is not None else -1

    def start(self, timeout: float = 60.0) -> None:
        """Start ``python -m soak.simchild`` with one end of a socket pair; wait until it listens."""
        mine, theirs = socket.socketpair()
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
        config = json.dumps(
            {"accounts": self._accounts, "seed": self._seed, "options": self._options}
        )
        with theirs:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "soak.simchild", str(theirs.fileno()), config],
                pass_fds=(theirs.fileno(),),
                env=env,
                cwd=root,
            )
        self._conn = conn = multiprocessing.connection.Connection(mine.detach())
        if not conn.poll(timeout):
            self.kill()
            raise SimProcessError(f"the simulator process did not start within {timeout:g}s")
        try:
            call_id, ok, port = conn.recv()
        except EOFError:
            self.kill()
            raise SimProcessError("the simulator process exited while starting") from None
        if call_id != READY or not ok:
            self.kill()
            why = port.get("error") if isinstance(port, dict) else port
            raise SimProcessError(f"the simulator process failed to start:\n{why}")
        self.port = int(port)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Answers arrive on ``loop`` from now on; :meth:`call` runs there."""
        assert self._conn is not None
        self._loop = loop
        loop.add_reader(self._conn.fileno(), self._on_readable)

    def detach(self) -> None:
        if self._loop is not None and self._conn is not None:
            self._loop.remove_reader(self._conn.fileno())
        self._loop = None
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_exception(SimProcessError("detached from the simulator process"))
        self._waiting.clear()

    async def call(self, command: str, *args: Any, timeout: float = 60.0) -> Any:
        assert self._conn is not None and self._loop is not None, "attach() first"
        call_id = next(self._ids)
        fut: asyncio.Future[Any] = self._loop.create_future()
        self._waiting[call_id] = fut
        self._conn.send((call_id, command, args))
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._waiting.pop(call_id, None)

    def _on_readable(self) -> None:
        assert self._conn is not None
        while self._conn.poll():
            try:
                call_id, ok, value = self._conn.recv()
            except (EOFError, OSError):
                self.detach()
                return
            if call_id == FINAL:
                self.final = value
                continue
            fut = self._waiting.pop(call_id, None)
            if fut is None or fut.done():
                continue
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(SimProcessError(value))

    async def stop(self, timeout: float = 30.0) -> dict[str, Any]:
        """Stop the simulator and its process; its last report (own hygiene, threads, fds)."""
        try:
            await self.call("stop", timeout=timeout)
        finally:
            self.detach()
        assert self._conn is not None
        deadline = time.monotonic() + timeout
        while not self.final and time.monotonic() < deadline:
            if not self._conn.poll(0.05):
                continue
            try:
                call_id, _ok, value = self._conn.recv()
            except (EOFError, OSError):
                break
            if call_id == FINAL:
                self.final = value
        assert self._process is not None
        try:
            self._process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.kill()
            raise SimProcessError("the simulator process did not exit") from None
        self._conn.close()
        self._process = None
        if not self.final:
            raise SimProcessError("the simulator process sent no final report")
        return self.final

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(5)
        self._process = None
        if self._conn is not None:
            self._conn.close()
