"""instIdCode resolution: OKX's integer code for an ``instId``, without asking the user.

Since 2026 OKX's WebSocket trading operations read an integer ``instIdCode``
and reject items that carry only ``instId`` (sCode 50014).  Users think in
instIds, so the client fills the code in *before* sending, from OKX's public
REST list ``GET /api/v5/public/instruments?instType=...``; it never learns a
code by re-sending a rejected request.  This module knows instIds, instTypes
and that REST list, and nothing about which operations need a code.

How it behaves, and why:

* Warm path: :meth:`InstrumentRegistry.code` is one dict lookup, because it
  runs for every outgoing item.  A warm request adds no round trip.
* Cold path: :meth:`InstrumentRegistry.resolve` loads the list of the instId's
  instType (its ``instFamily`` too for OPTION, which OKX requires: 50015
  otherwise).  Concurrent callers for one (instType, family) share one request:
  100 concurrent cold lookups make one REST call per instType.
* A miss in a list loaded successfully (a new listing, or a typo) refreshes
  that list at most once per ``refresh_interval`` (5 s), then raises
  :class:`~okx_ws_core.errors.UnknownInstrumentError`.
* A failed load (network, timeout, HTTP status, OKX ``code``, bad JSON) raises
  :class:`~okx_ws_core.errors.InstrumentResolutionError` and caches nothing.
  The next attempt is allowed ``failure_backoff`` (0.25 s) later, doubling per
  consecutive failure up to 8x (2 s); calls in between fail at once with the
  last reason rather than wait, so a trading loop never stalls silently.
* Rate: OKX allows 20 requests / 2 s per IP and instType.  Per (instType,
  family) this module has at most one request in flight, refreshes on misses
  at most once per ``refresh_interval`` and retries failures at most once per
  backoff (at most 4 in the first 2 s of an outage, then 1 per 2 s), so
  misses and outages stay within a few requests per 2 s.  Only explicit
  :meth:`~InstrumentRegistry.load` calls bypass the throttle (still coalesced).
* One registry serves one REST base URL and one demo flag, so live and demo
  codes (or two markets') never mix.  With ``shared=True`` (the clients'
  default) every registry of the process for that base URL and flag shares
  one store: the codes, the lists' state and the loads in flight, so twenty
  clients load each list once, as OKX's per-IP limit wants.  Event loops do not
  matter: the store is guarded by a lock, a load runs on the loop of the
  registry that started it and is awaited from any other loop through a
  thread-safe future, and each registry reads the codes from its own dict,
  refreshed from the store when it changed (the warm path stays one lookup).
  Stores are held by their registries only, so they never keep a client alive.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar, cast, overload

from ..errors import (
    ConfigurationError,
    InstrumentResolutionError,
    RestUnavailable,
    UnknownInstrumentError,
)
from ..protocol import endpoints
from ..protocol.inst_ids import ANY_INST_TYPE, INST_TYPES, SPOT_SHAPED_INST_TYPE, inst_type_of
from ..transports.connect_errors import causes, is_loopback, refused
from .http import RestHttp, request_path
from .instrument_store import (
    ABANDONED,
    ListKey,
    ListState,
    Load,
    LoadFailed,
    Outcome,
    Store,
    label,
    shared_store,
)

if TYPE_CHECKING:  # httpx is imported lazily: a preset-only registry never touches it
    import httpx

__all__ = [
    "INSTRUMENTS_PATH",
    "INST_TYPES",
    "SPOT_SHAPED_INST_TYPE",
    "InstrumentRegistry",
    "inst_type_of",
]

INSTRUMENTS_PATH: Final = "/api/v5/public/instruments"
_T = TypeVar("_T")
# Times a waiter takes over a load abandoned under it before giving up.
_TAKEOVERS: Final = 3
# Seconds beyond its HTTP timeout a load started on another loop may take before a
# waiter assumes that loop is gone (e.g. stopped with the load pending) and loads itself.
_STALL_GRACE_S: Final = 1.0


def _as_code(value: object) -> int | None:
    """An instIdCode as OKX sends it (a JSON integer); a digit string is tolerated."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return int(value)
    return None


# An instruments push with one of these states delists the instrument (*uncertain*: the
# simulator uses "expired"; OKX documents live, suspend, preopen, test, rebase, post_only).
DELISTED_STATES: Final = frozenset({"expired", "delisted"})


class InstrumentRegistry:
    """instId -> instIdCode for one REST host and trading mode (live or demo).

    ``rest_url`` is the REST base (see :func:`okx_ws_core.protocol.endpoints.rest_url`);
    ``None`` means no network: only ``preset`` codes resolve.  ``preset``
    (``{instId: instIdCode}``) is the user's word: those ids never need REST,
    a REST list never overrides them and :meth:`invalidate` keeps them; they
    stay this registry's, even when its store is shared.  ``shared=True`` uses
    the process-wide store of this base URL and demo flag (see the module's
    notes); ``False`` keeps one of its own.  ``transport`` (an
    ``httpx.AsyncBaseTransport``, e.g. ``httpx.MockTransport``) and ``clock``
    are for tests.  Use one registry from one event loop; shared registries
    may live on different loops and threads.
    """

    def __init__(
        self,
        rest_url: str | None,
        *,
        demo_trading: bool = False,
        preset: Mapping[str, int] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        refresh_interval: float = 5.0,
        failure_backoff: float = 0.25,
        timeout: float = 5.0,
        logger: logging.Logger | None = None,
        shared: bool = False,
        origin: str = "",
    ) -> None:
        """``origin`` says where ``rest_url`` came from ("derived from base_url ..."),
        for error messages that point at the setting to fix."""
        if refresh_interval < 0 or failure_backoff < 0:
            raise ConfigurationError("refresh_interval and failure_backoff must be >= 0")
        if timeout <= 0:
            raise ConfigurationError(f"timeout must be > 0, got {timeout!r}")
        if rest_url is not None:
            try:
                rest_url = endpoints.rest_url(rest_url=rest_url)
            except ValueError as exc:
                raise ConfigurationError(str(exc)) from None
        self._rest_url = rest_url
        self._origin = origin
        self._demo_trading = demo_trading
        self._transport = transport
        self._clock = clock
        self._refresh_interval = refresh_interval
        self._failure_backoff = failure_backoff
        self._timeout = timeout
        self._logger = logger or logging.getLogger("okx_ws")
        self._preset: dict[str, int] = {}
        for inst_id, value in (preset or {}).items():
            code = _as_code(value)
            if not isinstance(inst_id, str) or code is None:
                raise ConfigurationError(
                    f"instruments must map instId strings to integer instIdCodes,"
                    f" got {inst_id!r}: {value!r}"
                )
            self._preset[inst_id] = code
        self._pinned: frozenset[str] = frozenset(self._preset)
        self._overridden: set[str] = set()  # preset ids already warned about
        share = shared and rest_url is not None
        self._store = shared_store((rest_url, demo_trading, transport, clock)) if share else Store()
        # This registry's view: the store's codes under the preset.  Only this registry's
        # loop touches it, so the warm path is one plain dict lookup, never a lock.
        self._codes: dict[str, int] = dict(self._preset)
        self._seen = -1  # the store version the view reflects
        self._tasks: set[asyncio.Task[LoadFailed | None]] = set()  # loads this registry leads
        self._http: RestHttp | None = None  # made on the first load
        self._closed = False

    @property
    def rest_url(self) -> str | None:
        """The REST base this registry's codes come from (``None``: preset only)."""
        return self._rest_url

    @property
    def demo_trading(self) -> bool:
        """Whether the codes are demo trading's (requests carry ``x-simulated-trading: 1``)."""
        return self._demo_trading

    @property
    def codes(self) -> Mapping[str, int]:
        """Every cached instIdCode by instId (a live read-only view; warm look-ups read it)."""
        if self._seen != self._store.version:
            self._refresh_view()
        return self._codes

    def code(self, inst_id: str) -> int | None:
        """The cached instIdCode of ``inst_id``, or ``None``: the hot path, one dict lookup."""
        if self._seen != self._store.version:
            self._refresh_view()
        return self._codes.get(inst_id)

    async def resolve(self, inst_id: str, *, timeout: float | None = None) -> int:
        """The instIdCode of ``inst_id``, loading its instType's list if needed.

        ``timeout`` bounds this call's wait (the shared load goes on for the
        next caller).  Raises UnknownInstrumentError if OKX does not list it,
        InstrumentResolutionError if the list could not be loaded.
        """
        code = self.code(inst_id)
        if code is not None:
            return code
        key = inst_type_of(inst_id)
        if timeout is None:
            return await self._resolve_cold(inst_id, key)
        try:
            return await asyncio.wait_for(self._resolve_cold(inst_id, key), timeout)
        except asyncio.TimeoutError:
            raise InstrumentResolutionError(
                inst_id,
                f"no {label(key)} instrument list from {self._rest_url} within {timeout:g}s",
            ) from None

    async def load(self, inst_types: Iterable[str], *, inst_families: Iterable[str] = ()) -> None:
        """Fetch these instTypes' lists now (warming), e.g. before the first request.

        OPTION lists are per family, so ``load(["OPTION"], inst_families=["BTC-USD"])``;
        families apply to OPTION only.  Fetches unless a load is in flight (it
        joins it, whichever registry sharing the store started it) or one ended
        within ``refresh_interval``: twenty clients warming at once, or one after
        another, load each list once.  Misses and failures do not throttle it.
        """
        families = tuple(inst_families)
        keys: dict[ListKey, None] = {}
        for inst_type in inst_types:
            if inst_type not in INST_TYPES:
                raise ConfigurationError(f"instType must be one of {INST_TYPES}, got {inst_type!r}")
            if inst_type != "OPTION":
                keys[(inst_type, None)] = None
            elif not families:
                raise ConfigurationError(
                    "OKX lists OPTION per family: pass inst_families=['BTC-USD', ...]"
                )
            else:
                keys.update(((inst_type, family), None) for family in families)
        if not self._closed and any(self._would_fetch(key) for key in keys):
            # The HTTP client now, before this call's first suspension, not in the load
            # task: connect_ws_api starts this beside its connects, and importing httpx
            # (~0.1 s; seconds on a loaded machine) there would stall the loop after their
            # connect turns were taken, so their upgrades would reach OKX bunched with a
            # next client's (HTTP 429).  Only if this load may fetch: a client (an SSL
            # context) per registry that never fetches costs memory for nothing.
            self._rest().client()
        await _all([self._load_now(f"{label(key)} instruments", key) for key in keys])

    async def load_for(self, inst_ids: Iterable[str]) -> None:
        """Make sure each of ``inst_ids`` resolves: loads the lists they need, once each."""
        codes = self.codes
        cold = [inst_id for inst_id in dict.fromkeys(inst_ids) if inst_id not in codes]
        await _all([self.resolve(inst_id) for inst_id in cold])

    def merge_push(self, inst_type: str, items: Iterable[Mapping[str, Any]]) -> None:
        """Merge an ``instruments`` channel push for ``inst_type``: a listed instrument's
        code is usable at once (no REST call); a delisted one (state ``expired``) is
        dropped, so an order on it fails with UnknownInstrumentError before sending.
        Items without an integer ``instIdCode`` are skipped (whether OKX's channel
        carries it is *uncertain*; the REST list stays the source then)."""
        listed: dict[str, int] = {}
        delisted: set[str] = set()
        for item in items:
            inst_id, code = item.get("instId"), _as_code(item.get("instIdCode"))
            if not isinstance(inst_id, str):
                continue
            if str(item.get("state")) in DELISTED_STATES:
                delisted.add(inst_id)
            elif code is not None:
                listed[inst_id] = code
        store = self._store
        with store.lock:
            store.merge((inst_type, None), listed, delisted, self._clock())
        for inst_id in delisted - self._pinned:
            self._codes.pop(inst_id, None)

    def invalidate(self, inst_id: str) -> None:
        """Forget the code of ``inst_id`` (OKX rejected it): the next resolve refreshes.

        The refresh is still throttled to one per ``refresh_interval`` per list,
        so a venue that keeps rejecting a code it publishes cannot make us
        hammer REST.  The code is dropped for every registry sharing the store
        (it is that host's code); preset codes are the user's and are kept.
        """
        if inst_id in self._pinned:
            self._logger.warning(
                "okx-ws instruments: OKX rejected the preset instIdCode %s of %s;"
                " keeping it (it was given by the user)",
                self._preset[inst_id],
                inst_id,
            )
            return
        store = self._store
        with store.lock:
            code = store.codes.pop(inst_id, None)
            if code is not None:
                store.rejected[inst_id] = code
                store.version += 1
        self._codes.pop(inst_id, None)

    async def resolve_items(
        self,
        items: list[dict[str, Any]],
        fields: Sequence[tuple[str, str]],
        *,
        timeout: float | None = None,
    ) -> None:
        """Fill ``item[target]`` from ``item[source]`` for each ``(target, source)``.

        E.g. ``fields=[("instIdCode", "instId")]``.  A target already set (not
        ``None``) is left alone, as is an item without the source.  Warm items
        cost one dict lookup and no await; cold ones resolve concurrently.  All
        or nothing: if any id fails, it raises and no item is changed.
        """
        codes = self.codes
        fills: list[tuple[dict[str, Any], str, str, int | None]] = []
        cold: dict[str, int] = {}
        for item in items:
            for target, source in fields:
                if item.get(target) is not None:
                    continue
                inst_id = item.get(source)
                if inst_id is None:
                    continue
                if not isinstance(inst_id, str):
                    raise UnknownInstrumentError(
                        repr(inst_id),
                        inst_type=ANY_INST_TYPE,
                        detail=f"{source} must be a string, got {type(inst_id).__name__}",
                    )
                code = codes.get(inst_id)
                if code is None:
                    cold[inst_id] = 0
                fills.append((item, target, inst_id, code))
        if cold:
            found = await _all([self.resolve(inst_id, timeout=timeout) for inst_id in cold])
            cold = dict(zip(cold, found, strict=True))
        for item, target, inst_id, code in fills:
            item[target] = cold[inst_id] if code is None else code

    async def aclose(self) -> None:
        """Cancel the loads this registry leads and close its HTTP client; codes stay usable.

        Registries of other clients waiting for one of those loads take it over.
        """
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()

    # -- the view -----------------------------------------------------------------

    def _refresh_view(self) -> None:
        """Re-read the store's codes into this registry's dict, in place, preset on top."""
        store = self._store
        with store.lock:
            version, fresh = store.version, dict(store.codes)
        for inst_id, code in self._preset.items():
            listed = fresh.get(inst_id)
            if listed is not None and listed != code and inst_id not in self._overridden:
                self._overridden.add(inst_id)
                self._logger.warning(
                    "okx-ws instruments: OKX lists %s as %s; keeping the preset %s",
                    inst_id,
                    listed,
                    code,
                )
            fresh[inst_id] = code
        view = self._codes
        for gone in view.keys() - fresh.keys():
            del view[gone]
        view.update(fresh)
        self._seen = version

    # -- cold path --------------------------------------------------------------

    async def _resolve_cold(self, inst_id: str, key: ListKey) -> int:
        for _ in range(_TAKEOVERS):
            code = self.code(inst_id)
            if code is not None:  # loaded since the caller looked
                return code
            if await self._join(inst_id, key, self._claim(inst_id, key, throttled=True)):
                code = self.code(inst_id)
                if code is None:
                    raise self._miss(inst_id, key, None)
                return code
        raise self._abandoned(inst_id, key)

    def _would_fetch(self, key: ListKey) -> bool:
        """Whether a warming load of ``key`` started now would fetch: no load in flight
        (it would join it) and none within ``refresh_interval`` (see :meth:`_claim`)."""
        store = self._store
        with store.lock:
            state = store.lists.get(key)
            if state is None:
                return True
            return state.load is None and not self._fresh(state, self._clock())

    def _fresh(self, state: ListState, now: float) -> bool:
        """Loaded within ``refresh_interval``: a warming load does not fetch it again."""
        return state.loaded_at is not None and now - state.loaded_at < self._refresh_interval

    async def _load_now(self, who: str, key: ListKey) -> None:
        for _ in range(_TAKEOVERS):
            load = self._claim(who, key, throttled=False)
            if load is None or await self._join(who, key, load):
                return
        raise self._abandoned(who, key)

    @overload
    def _claim(self, who: str, key: ListKey, *, throttled: Literal[True]) -> Load: ...
    @overload
    def _claim(self, who: str, key: ListKey, *, throttled: Literal[False]) -> Load | None: ...

    def _claim(self, who: str, key: ListKey, *, throttled: bool) -> Load | None:
        """The key's load in flight, or a new one this registry leads.

        ``throttled`` (a cold look-up): within the failure backoff fail at once;
        within ``refresh_interval`` of a load, the id is missing.  Otherwise (a
        warming load) ``None`` when the list was loaded within ``refresh_interval``.
        """
        store = self._store
        loop = asyncio.get_running_loop()
        with store.lock:
            state = store.lists.setdefault(key, ListState())
            load = state.load
            if load is not None:
                return load
            now = self._clock()
            fresh = self._fresh(state, now)
            if not throttled and fresh:
                return None
            if throttled:
                if state.failed_at is not None:
                    wait = self._backoff(state) - (now - state.failed_at)
                    if wait > 0:
                        raise InstrumentResolutionError(
                            who, f"{state.failure} (next attempt in {wait:.2f}s)"
                        )
                if fresh:
                    raise self._miss(who, key, now)
            if self._closed:
                raise InstrumentResolutionError(who, "the instrument registry is closed")
            if self._rest_url is None:
                raise InstrumentResolutionError(
                    who,
                    "no REST URL to load OKX's instrument list from and no preset code;"
                    " pass instIdCode, or instruments={instId: instIdCode}",
                )
            state.load = load = Load(loop)
        task = loop.create_task(self._lead(key, state), name=f"okx-ws instruments {label(key)}")
        self._tasks.add(task)
        task.add_done_callback(functools.partial(self._led, key, state, load))
        return load

    async def _join(self, who: str, key: ListKey, load: Load) -> bool:
        """Wait for a shared load; False: it was abandoned, the caller may take it over.

        A caller's cancellation never cancels the load.  A load led from another
        loop is waited for at most the HTTP timeout and a grace: past that its
        loop is presumed gone and the load abandoned.
        """
        waiter = load.waiter()
        if load.loop is asyncio.get_running_loop():
            outcome = await waiter
        else:
            try:
                outcome = await asyncio.wait_for(waiter, self._timeout + _STALL_GRACE_S)
            except asyncio.TimeoutError:
                self._abandon(key, load)
                return False
        if outcome is None:
            return True
        if isinstance(outcome, LoadFailed):
            raise InstrumentResolutionError(who, outcome.reason) from outcome.__cause__
        if self._closed:
            raise InstrumentResolutionError(
                who, "the instrument registry was closed during the load"
            )
        return False

    def _abandon(self, key: ListKey, load: Load) -> None:
        store = self._store
        with store.lock:
            state = store.lists.get(key)
            if state is not None and state.load is load:
                state.load = None
        load.finish(ABANDONED)

    def _abandoned(self, who: str, key: ListKey) -> InstrumentResolutionError:
        return InstrumentResolutionError(
            who, f"the {label(key)} list load was abandoned {_TAKEOVERS} times in a row"
        )

    def _miss(self, inst_id: str, key: ListKey, throttled_at: float | None) -> Exception:
        """The error for an instId absent from a list that did load."""
        store = self._store
        state = store.lists.get(key) or ListState()
        when = "just now"
        if throttled_at is not None and state.loaded_at is not None:
            age = throttled_at - state.loaded_at
            when = f"{age:.1f}s ago, next refresh in {self._refresh_interval - age:.1f}s"
        source = f"{label(key)} list from {self._rest_url} (loaded {when})"
        if inst_id in state.uncoded:
            return InstrumentResolutionError(
                inst_id, f"the {source} lists it without an instIdCode"
            )
        rejected = store.rejected.get(inst_id)
        if rejected is not None:
            return InstrumentResolutionError(
                inst_id,
                f"OKX rejected its instIdCode {rejected} and the {source} gave no new one",
            )
        return UnknownInstrumentError(
            inst_id, inst_type=key[0], detail=f"not in the {source}; nothing was sent"
        )

    def _backoff(self, state: ListState) -> float:
        base = self._failure_backoff
        return float(min(base * 2 ** (state.failures - 1), base * 8))

    async def _lead(self, key: ListKey, state: ListState) -> LoadFailed | None:
        """Run one load for every waiter, on this registry's loop and HTTP client."""
        store = self._store
        started = self._clock()
        try:
            codes, uncoded = await self._fetch(key)
        except LoadFailed as exc:
            with store.lock:
                state.failed_at = self._clock()
                state.failures += 1
                state.failure = exc.reason
            self._logger.warning("okx-ws instruments: %s", exc.reason)
            return exc
        with store.lock:
            store.apply(key, state, codes, uncoded, self._clock(), self._logger)
        self._logger.info(
            "okx-ws instruments: %d %s codes from %s in %.2fs",
            len(codes),
            label(key),
            self._rest_url,
            self._clock() - started,
        )
        return None

    def _led(
        self, key: ListKey, state: ListState, load: Load, task: asyncio.Task[LoadFailed | None]
    ) -> None:
        """A load this registry led ended: free the list for the next load, settle the waiters.

        A done-callback, not a ``finally``: a task cancelled before it ever ran
        (``aclose()`` right after the claim) runs no code of its own.
        """
        self._tasks.discard(task)
        outcome: Outcome = ABANDONED  # cancelled: a waiter may take it over
        if not task.cancelled():
            error = task.exception()
            if error is None:
                outcome = task.result()
            else:  # a defect, not OKX's or the network's: report it, never retry it
                self._logger.error("okx-ws instruments: load failed", exc_info=error)
                outcome = LoadFailed(f"{label(key)} load failed: {error!r}")
        store = self._store
        with store.lock:
            if state.load is load:
                state.load = None
        load.finish(outcome)

    def _cannot_connect(self, what: str, exc: BaseException) -> str:
        """Name the REST URL and the setting it came from, so the fix is obvious."""
        origin = f" ({self._origin})" if self._origin else ""
        if refused(exc) and is_loopback(self._rest_url or ""):
            return f"{what}: nothing listens on {self._rest_url}{origin}: is the simulator running?"
        cause = causes(exc)[-1]
        return (
            f"{what}: cannot connect ({cause or type(cause).__name__}); {self._rest_url} is"
            f"{origin or ' the REST host'}: pass rest_url=... if OKX's REST API is elsewhere"
        )

    def _rest(self) -> RestHttp:
        """The REST host's client, made on first use."""
        if self._http is None:
            self._http = RestHttp(
                self._rest_url or "",
                demo_trading=self._demo_trading,
                transport=self._transport,
                timeout=self._timeout,
                explain_connect=self._cannot_connect,
            )
        return self._http

    async def _fetch(self, key: ListKey) -> tuple[dict[str, int], frozenset[str]]:
        """GET one list; every failure becomes LoadFailed with a readable reason."""
        inst_type, family = key
        params = {"instType": inst_type}
        if family is not None:
            params["instFamily"] = family
        http = self._rest()
        try:
            reply = await http.get(INSTRUMENTS_PATH, params)
        except RestUnavailable as exc:
            raise LoadFailed(exc.reason) from exc.__cause__
        what = f"GET {http.base_url}{request_path(INSTRUMENTS_PATH, params)}"
        body, okx = reply.body, reply.okx_code()
        if reply.status != 200:
            raise LoadFailed(f"{what}: HTTP {reply.status}" + (f", {okx}" if okx else ""))
        if not isinstance(body, dict):
            raise LoadFailed(f"{what}: the response is not a JSON object")
        if str(body.get("code")) != "0":
            raise LoadFailed(f"{what}: {okx or 'no OKX code in the response'}")
        data = body.get("data")
        if not isinstance(data, list):
            raise LoadFailed(f"{what}: the response has no data list")
        codes: dict[str, int] = {}
        uncoded: set[str] = set()
        for item in data:
            if not isinstance(item, dict):
                continue
            inst_id = item.get("instId")
            if not isinstance(inst_id, str) or not inst_id:
                continue  # e.g. preopen FUTURES listed with an empty instId
            code = _as_code(item.get("instIdCode"))
            if code is None:
                uncoded.add(inst_id)
            else:
                codes[inst_id] = code
        return codes, frozenset(uncoded)


async def _all(waits: Sequence[Awaitable[_T]]) -> list[_T]:
    """Await ``waits`` concurrently; raise the first failure in their order (deterministic)."""
    if len(waits) == 1:  # the common case: no task, no gather
        return [await waits[0]]
    results = await asyncio.gather(*waits, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return cast("list[_T]", results)  # no exception left
