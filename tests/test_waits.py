"""``okx_ws_core.waits``: blocking waits in slices (why: the module's docstring; the
Ctrl-C cases themselves are in ``test_hardening_threads``)."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from okx_ws_core import waits


def test_a_release_ends_a_wait_longer_than_a_slice_at_once() -> None:
    lock = threading.Lock()
    lock.acquire()
    releaser = threading.Timer(waits.SLICE_S * 1.5, lock.release)  # in the second slice
    releaser.start()
    started = time.monotonic()
    assert waits.acquire(lock, None) is True
    assert time.monotonic() - started < waits.SLICE_S * 1.5 + 1.0
    releaser.join()


class _NeverFree:
    """A lock never released, on a clock that each wait advances by its timeout."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 100.0
        self.asked: list[float] = []
        monkeypatch.setattr(waits.time, "monotonic", lambda: self.now)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        self.asked.append(timeout if blocking else 0.0)
        self.now += timeout if blocking else 0.0
        return False


def test_a_timeout_spanning_slices_ends_the_wait_at_its_end_not_a_slice_later(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lock = _NeverFree(monkeypatch)
    assert waits.acquire(lock, waits.SLICE_S * 2.5) is False  # type: ignore[arg-type]
    assert lock.asked == pytest.approx([waits.SLICE_S, waits.SLICE_S, waits.SLICE_S / 2, 0.0])
    assert lock.now == pytest.approx(100.0 + waits.SLICE_S * 2.5)


def test_a_queue_read_times_out_with_empty_and_returns_what_arrives() -> None:
    source: queue.Queue[int] = queue.Queue()
    with pytest.raises(queue.Empty):
        waits.get(source, 0)
    feeder = threading.Timer(waits.SLICE_S * 1.5, source.put, (7,))
    feeder.start()
    assert waits.get(source, None) == 7
    feeder.join()


@pytest.mark.parametrize("timeout", [-1.0, float("nan")])
def test_a_negative_or_nan_timeout_is_refused_by_name(timeout: float) -> None:
    lock = threading.Lock()
    with pytest.raises(ValueError, match="timeout must be a number of seconds >= 0"):
        waits.acquire(lock, timeout)
    with pytest.raises(ValueError, match="timeout must be"):
        waits.get(queue.Queue(), timeout)
    assert lock.acquire(blocking=False)  # never taken by the refused call
