"""The fault audit of broadcasts (notice, malformed) on made-up counters.

A broadcast's frames are sent by tasks the simulator spawns, so a frame aimed
by one arming can go out after the next arming of the same counter: the 100k
soak saw ``notice@70497: 2 frames sent, the simulator aimed it at 1`` because
a refuse_login's notice (aimed at 2 links) sent its second frame late.  Per
the simulator's truth, a frame is a problem only when more went out than all
armings so far aimed.
"""

from __future__ import annotations

from soak.fault_audit import Armed, reconcile
from soak.faults import Fault


def counters(**values: int) -> dict[str, int]:
    out = {"tallies": 1}
    for name, n in values.items():
        out[name.replace("__", ":")] = n
    return out


def armed(kind: str, before: dict[str, int], after: dict[str, int], **params: object) -> Armed:
    return Armed(Fault(trigger=before["seq"], kind=kind, params=dict(params)), 0, before, after)


def scenario(late_frames: int) -> tuple[list[str], Armed, Armed]:
    """refuse_login aims its notice at 2 links and sends 1 before a notice aimed at 1 is
    armed; ``late_frames`` notice frames go out after that."""
    start = counters(seq=0, logins=0)
    refuse = armed(
        "refuse_login",
        counters(seq=1, logins=0),
        counters(seq=2, logins=0, armed__refuse_login=1, armed__notice=2),
        count=1,
    )
    refuse.units = 1
    notice = armed(
        "notice",
        counters(seq=3, logins=1, fired__refuse_login=1, fired__notice=1,
                 armed__refuse_login=1, armed__notice=2),
        counters(seq=4, logins=1, fired__refuse_login=1, fired__notice=1,
                 armed__refuse_login=1, armed__notice=3),
        close_after=0.1,
    )  # fmt: skip
    end = counters(seq=5, logins=1, fired__refuse_login=1, fired__notice=1 + late_frames,
                   armed__refuse_login=1, armed__notice=3)  # fmt: skip
    return reconcile([refuse, notice], start, end, {}), refuse, notice


def test_a_notice_frame_aimed_by_an_earlier_arming_but_sent_late_is_not_a_problem() -> None:
    problems, refuse, notice = scenario(late_frames=2)  # its own frame and refuse_login's 2nd
    assert problems == []
    assert notice.fired == 1 and notice.sent == 1


def test_more_frames_than_every_arming_aimed_is_still_a_problem() -> None:
    problems, _, notice = scenario(late_frames=3)  # 1 + 2 aimed, 4 sent
    assert any("frames sent" in p for p in problems), problems


def test_a_bounded_store_entry_is_not_an_object_leak_but_anything_beyond_is() -> None:
    """The 20k soak failed 'objects grew: {reconcile.Settled: 65}': 65 late replies kept,
    65 entries of the store.  One object more than the store holds is still counted."""
    from soak.checks import client_resources
    from soak.config import SoakConfig
    from soak.report import Checkpoint, SoakReport

    def checkpoint(settled: int, entries: int) -> Checkpoint:
        cp = Checkpoint("x", 0, {}, [], 10, {}, 0, 0, {"okx_ws_core.orders.fates.Settled": settled})
        cp.retained = {"late replies": (entries, 10_000)}
        return cp

    report = SoakReport(SoakConfig())
    report.checkpoints = [checkpoint(0, 0), checkpoint(65, 65)]
    report.object_growth = {"okx_ws_core.orders.fates.Settled": 65}
    assert client_resources(report) == []
    report.checkpoints[-1] = checkpoint(65 + 21, 65)
    report.object_growth = {"okx_ws_core.orders.fates.Settled": 65 + 21}
    assert any("objects grew" in p for p in client_resources(report))
