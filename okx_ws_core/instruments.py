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
* One registry serves one REST base URL and one demo flag: instrument codes
  are cached per registry, so live and demo codes (or two markets') never mix.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from . import endpoints
from .errors import ConfigurationError, InstrumentResolutionError, UnknownInstrumentError
from .tls import verify_for

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
INST_TYPES: Final[tuple[str, ...]] = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION")

# Uncertain: a spot pair (BTC-USDT) is listed under SPOT and, if marginable,
# under MARGIN with the same instId.  We assume both lists carry the same
# instIdCode, so every spot-shaped instId is looked up (and loaded) under this
# one type.  If OKX gives MARGIN its own codes, this is the place to change:
# set it to "MARGIN" to serve margin trading only, or key the cache by
# (instType, instId) and let callers say which type they trade.
SPOT_SHAPED_INST_TYPE: Final = "SPOT"

# For UnknownInstrumentError on an instId that has none of OKX's shapes.
_ANY_INST_TYPE: Final = "SPOT, SWAP, FUTURES or OPTION"
_SHAPES: Final = (
    "BASE-QUOTE (spot), BASE-QUOTE-SWAP, BASE-QUOTE-YYMMDD (futures)"
    " or BASE-QUOTE-YYMMDD-STRIKE-C|P (options)"
)
_PAIR: Final = r"([A-Z0-9_]+-[A-Z0-9_]+)"  # "_" for families such as BTC-USD_UM
_OPTION_RE: Final = re.compile(_PAIR + r"-\d{6}-\d+(?:\.\d+)?-[CP]")
_SWAP_RE: Final = re.compile(_PAIR + r"-SWAP")
_FUTURES_RE: Final = re.compile(_PAIR + r"-\d{6}")
_SPOT_RE: Final = re.compile(_PAIR)

_Key = tuple[str, "str | None"]  # (instType, instFamily or None): one REST list
_T = TypeVar("_T")


def inst_type_of(inst_id: str) -> tuple[str, str | None]:
    """Return the (instType, instFamily) whose REST list holds ``inst_id``.

    Read from the instId's shape, so a cold lookup loads one list, not five:
    ``BTC-USDT`` -> SPOT (see :data:`SPOT_SHAPED_INST_TYPE`), ``BTC-USDT-SWAP``
    -> SWAP, ``BTC-USD-251226`` -> FUTURES, ``BTC-USD-251226-60000-C`` ->
    (OPTION, ``BTC-USD``).  The family is given for OPTION only, the one type
    whose list OKX serves per family.  Raises UnknownInstrumentError otherwise.
    """
    if isinstance(inst_id, str):
        match = _OPTION_RE.fullmatch(inst_id)
        if match is not None:
            return "OPTION", match.group(1)
        if _SWAP_RE.fullmatch(inst_id):
            return "SWAP", None
        if _FUTURES_RE.fullmatch(inst_id):
            return "FUTURES", None
        if _SPOT_RE.fullmatch(inst_id):
            return SPOT_SHAPED_INST_TYPE, None
    hint = (
        " (OKX instIds are upper case)"
        if isinstance(inst_id, str) and inst_id != inst_id.upper()
        else ""
    )
    raise UnknownInstrumentError(
        str(inst_id),
        inst_type=_ANY_INST_TYPE,
        detail=f"{inst_id!r} is not shaped like an OKX instId{hint}: expected {_SHAPES}",
    )


def _as_code(value: object) -> int | None:
    """An instIdCode as OKX sends it (a JSON integer); a digit string is tolerated."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return int(value)
    return None


def _label(key: _Key) -> str:
    return key[0] if key[1] is None else f"{key[0]} {key[1]}"


class _LoadFailed(Exception):
    """A REST load failed; each waiter turns ``reason`` into its own error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(eq=False)
class _ListState:
    """What we know of one REST list (one (instType, family))."""

    loaded_at: float | None = None  # clock() at the last successful load
    ids: frozenset[str] = frozenset()  # instIds with a code in that load
    uncoded: frozenset[str] = frozenset()  # instIds listed without a code
    task: asyncio.Task[None] | None = None  # the load in flight, shared by all callers
    failed_at: float | None = None
    failures: int = 0  # consecutive failed loads
    failure: str = ""


class InstrumentRegistry:
    """instId -> instIdCode for one REST host and trading mode (live or demo).

    ``rest_url`` is the REST base (see :func:`okx_ws_core.endpoints.rest_url`);
    ``None`` means no network: only ``preset`` codes resolve.  ``preset``
    (``{instId: instIdCode}``) is the user's word: those ids never need REST,
    a REST list never overrides them and :meth:`invalidate` keeps them.
    ``transport`` (an ``httpx.AsyncBaseTransport``, e.g. ``httpx.MockTransport``)
    and ``clock`` are for tests.  Use the registry from one event loop.
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
    ) -> None:
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
        self._demo_trading = demo_trading
        self._transport = transport
        self._clock = clock
        self._refresh_interval = refresh_interval
        self._failure_backoff = failure_backoff
        self._timeout = timeout
        self._logger = logger or logging.getLogger("okx_ws")
        self._codes: dict[str, int] = {}
        for inst_id, value in (preset or {}).items():
            code = _as_code(value)
            if not isinstance(inst_id, str) or code is None:
                raise ConfigurationError(
                    f"instruments must map instId strings to integer instIdCodes,"
                    f" got {inst_id!r}: {value!r}"
                )
            self._codes[inst_id] = code
        self._pinned: frozenset[str] = frozenset(self._codes)
        self._lists: dict[_Key, _ListState] = {}
        self._rejected: dict[str, int] = {}  # invalidated codes, for error messages
        self._client: httpx.AsyncClient | None = None
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
        return self._codes

    def code(self, inst_id: str) -> int | None:
        """The cached instIdCode of ``inst_id``, or ``None``: the hot path, one dict lookup."""
        return self._codes.get(inst_id)

    async def resolve(self, inst_id: str, *, timeout: float | None = None) -> int:
        """The instIdCode of ``inst_id``, loading its instType's list if needed.

        ``timeout`` bounds this call's wait (the shared load goes on for the
        next caller).  Raises UnknownInstrumentError if OKX does not list it,
        InstrumentResolutionError if the list could not be loaded.
        """
        code = self._codes.get(inst_id)
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
                f"no {_label(key)} instrument list from {self._rest_url} within {timeout:g}s",
            ) from None

    async def load(self, inst_types: Iterable[str], *, inst_families: Iterable[str] = ()) -> None:
        """Fetch these instTypes' lists now (warming), e.g. before the first request.

        OPTION lists are per family, so ``load(["OPTION"], inst_families=["BTC-USD"])``;
        families apply to OPTION only.  Always fetches (joining a load already
        in flight), regardless of the refresh throttle.
        """
        families = tuple(inst_families)
        keys: dict[_Key, None] = {}
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
        tasks = []
        for key in keys:
            state = self._lists.setdefault(key, _ListState())
            tasks.append((_label(key), state.task or self._start_load(_label(key), key, state)))
        await _all([self._join(f"{label} instruments", task) for label, task in tasks])

    async def load_for(self, inst_ids: Iterable[str]) -> None:
        """Make sure each of ``inst_ids`` resolves: loads the lists they need, once each."""
        cold = [inst_id for inst_id in dict.fromkeys(inst_ids) if inst_id not in self._codes]
        await _all([self.resolve(inst_id) for inst_id in cold])

    def invalidate(self, inst_id: str) -> None:
        """Forget the code of ``inst_id`` (OKX rejected it): the next resolve refreshes.

        The refresh is still throttled to one per ``refresh_interval`` per list,
        so a venue that keeps rejecting a code it publishes cannot make us
        hammer REST.  Preset codes are the user's and are kept.
        """
        if inst_id in self._pinned:
            self._logger.warning(
                "okx-ws instruments: OKX rejected the preset instIdCode %s of %s;"
                " keeping it (it was given by the user)",
                self._codes.get(inst_id),
                inst_id,
            )
            return
        code = self._codes.pop(inst_id, None)
        if code is not None:
            self._rejected[inst_id] = code

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
        codes = self._codes
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
                        inst_type=_ANY_INST_TYPE,
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
        """Cancel loads in flight and close the HTTP client; cached codes stay usable."""
        self._closed = True
        tasks = [state.task for state in self._lists.values() if state.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    # -- cold path --------------------------------------------------------------

    async def _resolve_cold(self, inst_id: str, key: _Key) -> int:
        code = self._codes.get(inst_id)
        if code is not None:  # loaded since the caller looked (wait_for starts us a step later)
            return code
        state = self._lists.setdefault(key, _ListState())
        task = state.task
        if task is None:
            now = self._clock()
            if state.failed_at is not None:
                wait = self._backoff(state) - (now - state.failed_at)
                if wait > 0:
                    raise InstrumentResolutionError(
                        inst_id, f"{state.failure} (next attempt in {wait:.2f}s)"
                    )
            if state.loaded_at is not None and now - state.loaded_at < self._refresh_interval:
                raise self._miss(inst_id, key, state, now)
            task = self._start_load(inst_id, key, state)
        await self._join(inst_id, task)
        code = self._codes.get(inst_id)
        if code is None:
            raise self._miss(inst_id, key, state, None)
        return code

    def _miss(
        self, inst_id: str, key: _Key, state: _ListState, throttled_at: float | None
    ) -> Exception:
        """The error for an instId absent from a list that did load."""
        when = "just now"
        if throttled_at is not None and state.loaded_at is not None:
            age = throttled_at - state.loaded_at
            when = f"{age:.1f}s ago, next refresh in {self._refresh_interval - age:.1f}s"
        source = f"{_label(key)} list from {self._rest_url} (loaded {when})"
        if inst_id in state.uncoded:
            return InstrumentResolutionError(
                inst_id, f"the {source} lists it without an instIdCode"
            )
        if inst_id in self._rejected:
            return InstrumentResolutionError(
                inst_id,
                f"OKX rejected its instIdCode {self._rejected[inst_id]} and the {source}"
                " gave no new one",
            )
        return UnknownInstrumentError(
            inst_id, inst_type=key[0], detail=f"not in the {source}; nothing was sent"
        )

    def _backoff(self, state: _ListState) -> float:
        base = self._failure_backoff
        return float(min(base * 2 ** (state.failures - 1), base * 8))

    def _start_load(self, who: str, key: _Key, state: _ListState) -> asyncio.Task[None]:
        if self._closed:
            raise InstrumentResolutionError(who, "the instrument registry is closed")
        if self._rest_url is None:
            raise InstrumentResolutionError(
                who,
                "no REST URL to load OKX's instrument list from and no preset code;"
                " pass instIdCode, or instruments={instId: instIdCode}",
            )
        task = asyncio.get_running_loop().create_task(
            self._load(key, state), name=f"okx-ws instruments {_label(key)}"
        )
        task.add_done_callback(_retrieve)
        state.task = task
        return task

    async def _join(self, who: str, task: asyncio.Task[None]) -> None:
        """Wait for a shared load; a caller's cancellation never cancels it."""
        try:
            await asyncio.shield(task)
        except _LoadFailed as exc:
            raise InstrumentResolutionError(who, exc.reason) from exc.__cause__
        except asyncio.CancelledError:
            if self._closed and task.cancelled():
                raise InstrumentResolutionError(
                    who, "the instrument registry was closed during the load"
                ) from None
            raise

    async def _load(self, key: _Key, state: _ListState) -> None:
        started = self._clock()
        try:
            try:
                codes, uncoded = await self._fetch(key)
            except _LoadFailed as exc:
                state.failed_at = self._clock()
                state.failures += 1
                state.failure = exc.reason
                self._logger.warning("okx-ws instruments: %s", exc.reason)
                raise
            self._apply(key, state, codes, uncoded)
            self._logger.info(
                "okx-ws instruments: %d %s codes from %s in %.2fs",
                len(codes),
                _label(key),
                self._rest_url,
                self._clock() - started,
            )
        finally:
            state.task = None

    async def _fetch(self, key: _Key) -> tuple[dict[str, int], frozenset[str]]:
        """GET one list; every failure becomes _LoadFailed with a readable reason."""
        import httpx

        inst_type, family = key
        params = {"instType": inst_type}
        if family is not None:
            params["instFamily"] = family
        query = "&".join(f"{name}={value}" for name, value in params.items())
        what = f"GET {self._rest_url}{INSTRUMENTS_PATH}?{query}"
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self._rest_url or "",
                headers=endpoints.rest_headers(demo_trading=self._demo_trading),
                timeout=self._timeout,
                transport=self._transport,
                verify=verify_for(self._rest_url or ""),
            )
        try:
            response = await self._client.get(INSTRUMENTS_PATH, params=params)
        except httpx.TimeoutException as exc:
            raise _LoadFailed(f"{what} timed out after {self._timeout:g}s") from exc
        except httpx.ConnectError as exc:
            raise _LoadFailed(f"{what}: cannot connect ({exc or type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise _LoadFailed(f"{what} failed: {type(exc).__name__}: {exc}") from exc
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        okx = ""
        if isinstance(body, dict) and "code" in body:
            okx = f"OKX code={body.get('code')} msg={str(body.get('msg', ''))[:200]!r}"
        if response.status_code != 200:
            raise _LoadFailed(f"{what}: HTTP {response.status_code}" + (f", {okx}" if okx else ""))
        if not isinstance(body, dict):
            raise _LoadFailed(f"{what}: the response is not a JSON object")
        if str(body.get("code")) != "0":
            raise _LoadFailed(f"{what}: {okx or 'no OKX code in the response'}")
        data = body.get("data")
        if not isinstance(data, list):
            raise _LoadFailed(f"{what}: the response has no data list")
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

    def _apply(
        self, key: _Key, state: _ListState, fetched: dict[str, int], uncoded: frozenset[str]
    ) -> None:
        """Merge a fresh list: new and changed codes in, delisted ones out, presets kept."""
        codes = self._codes
        for inst_id, code in fetched.items():
            if inst_id in self._pinned:
                if codes[inst_id] != code:
                    self._logger.warning(
                        "okx-ws instruments: OKX lists %s as %s; keeping the preset %s",
                        inst_id,
                        code,
                        codes[inst_id],
                    )
                continue
            previous = codes.get(inst_id)
            if previous is not None and previous != code and inst_id not in state.ids:
                self._logger.warning(
                    "okx-ws instruments: %s is %s in the %s list but was %s in another",
                    inst_id,
                    code,
                    _label(key),
                    previous,
                )
            codes[inst_id] = code
            self._rejected.pop(inst_id, None)
        ids = frozenset(fetched)
        others = [other.ids for other in self._lists.values() if other is not state]
        for gone in state.ids - ids:
            if gone not in self._pinned and not any(gone in other for other in others):
                codes.pop(gone, None)
        state.ids = ids
        state.uncoded = uncoded
        state.loaded_at = self._clock()
        state.failed_at = None
        state.failures = 0
        state.failure = ""


async def _all(waits: Sequence[Awaitable[_T]]) -> list[_T]:
    """Await ``waits`` concurrently; raise the first failure in their order (deterministic)."""
    if len(waits) == 1:  # the common case: no task, no gather
        return [await waits[0]]
    results = await asyncio.gather(*waits, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return cast("list[_T]", results)  # no exception left


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark a load's failure as seen, even if every waiter was cancelled."""
    if not task.cancelled():
        task.exception()
