"""Every entry of spec/okx-changes.yaml is reflected in what okx-ws does.

Each spec path is proven by its kind: a request field reaches the wire, a
reply or push field is kept on the typed model, a retired name or value is
refused before sending with a message naming its replacement, an enum value
is accepted.  Runtime entries must import; named proofs run below.
"""

from __future__ import annotations

import importlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from okx_ws import CHANNELS, OPERATIONS, models

from codegen.channels import pascal_case, snake_case
from codegen.spec_loader import SpecError, load_spec
from codegen.spec_rules import spec_path_exists
from okx_ws_core import ParamsValidationError
from okx_ws_core.protocol.endpoints import CONNECTION_KEYS, DEMO_HOSTS, LIVE_HOSTS, resolve_url

SPEC_DIR = Path(__file__).resolve().parent.parent / "spec"
SPEC = load_spec(SPEC_DIR)
CHANGES: list[dict[str, Any]] = SPEC.raw["okx_changes"]
ORDER = {"instIdCode": 1, "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "1", "px": "1"}
MINIMAL = {
    "OrderParams": ORDER,
    "AmendOrderParams": {"instIdCode": 1, "ordId": "1"},
    "CancelOrderParams": {"instIdCode": 1, "ordId": "1"},
}
REQUEST_MODELS = {op.params_model.__name__ for op in OPERATIONS.values()}


def _ids() -> list[str]:
    return [f"{c['date']} {c['title'][:40]}" for c in CHANGES]


def _model(definition: str) -> Any:
    return getattr(models, definition)


def _params_operation(definition: str) -> str:
    return next(n for n, op in OPERATIONS.items() if op.params_model is _model(definition))


def _valid_example_value(definition: str, field: str) -> object:
    """The value a valid spec example sends for ``field`` (every request field has one)."""
    for name, entry in SPEC.raw["operations"].items():
        if OPERATIONS[name].params_model is not _model(definition):
            continue
        for example in entry["examples"]["valid"]:
            items = (
                example["params"] if isinstance(example["params"], list) else [example["params"]]
            )
            for item in items:
                if field in item:
                    return item[field]
    raise AssertionError(f"no valid example of {definition} sends {field}")


def _prove_spec_path(dotted: str) -> None:
    parts = dotted.split(".")
    if parts[0] == "channels":
        item = _model(f"{pascal_case(parts[1])}PushItem")
        if parts[2] == "push_item":
            _prove_inbound(item, parts[4:], _push_example(parts[1]))
        else:  # args: the generated subscribe method takes the value
            assert parts[-2] == "enum"
            channel = CHANNELS[parts[1]]
            assert channel.prepare({parts[4]: parts[-1]})[parts[4]] == parts[-1]
        return
    definition = parts[1]
    model = _model(definition)
    if parts[2] == "x-retired":
        _prove_retired_name(definition, parts[3])
    elif definition in REQUEST_MODELS:  # a request model (MINIMAL has its required fields)
        field = parts[3]
        if len(parts) == 4:
            value = _valid_example_value(definition, field)
            args = OPERATIONS[_params_operation(definition)].prepare(
                {**MINIMAL[definition], field: value}
            )
            assert args[0][field] == value  # on the wire unchanged
        elif parts[4] == "enum":
            args = OPERATIONS[_params_operation(definition)].prepare(
                {**MINIMAL[definition], field: parts[5]}
            )
            assert args[0][field] == parts[5]
        else:
            assert parts[4] == "x-retired"
            _prove_retired_value(definition, field, parts[5])
    else:
        required = {f.alias or n: "" for n, f in model.model_fields.items() if f.is_required()}
        _prove_inbound(model, parts[3:], required)


def _push_example(channel: str) -> dict[str, Any]:
    """The first item of the channel's first push example, as the model reads it."""
    item = SPEC.raw["channels"][channel]["examples"]["push"][0]["message"]["data"][0]
    columns = CHANNELS[channel].row_columns
    return dict(zip(columns, item, strict=False)) if columns else dict(item)


def _prove_inbound(model: Any, rest: list[str], base: dict[str, Any]) -> None:
    """A reply or push field is kept on the typed model, under its snake_case name."""
    field = rest[0]
    value = rest[2] if len(rest) > 2 else (base[field] if field in base else "x")
    item = model.model_validate({**base, field: value, "anUnknownField": 1})
    assert getattr(item, snake_case(field)) == value
    assert item.model_dump(by_alias=True)[field] == value
    assert item.model_extra == {"anUnknownField": 1}


def _prove_retired_name(definition: str, name: str) -> None:
    entry = SPEC.raw["definitions"][definition]["x-retired"][name]
    with pytest.raises(ParamsValidationError) as caught:
        OPERATIONS[_params_operation(definition)].prepare({**MINIMAL[definition], name: True})
    message = str(caught.value)
    assert f"{name}: renamed {entry['replacement']} by OKX ({entry['renamed']})" in message
    assert f"refused since {entry['refused']}" in message


def _prove_retired_value(definition: str, field: str, value: str) -> None:
    entry = SPEC.raw["definitions"][definition]["properties"][field]["x-retired"][value]
    with pytest.raises(ParamsValidationError) as caught:
        OPERATIONS[_params_operation(definition)].prepare({**MINIMAL[definition], field: value})
    assert f"{field}: {value!r} was renamed {entry['replacement']!r}" in str(caught.value)


def _resolve_runtime(dotted: str) -> object:
    """``module[.attribute[.key]]``: the longest importable module, then attributes or keys."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            node: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for part in parts[cut:]:
            node = node[part] if isinstance(node, dict) else getattr(node, part)
        return node
    raise AssertionError(f"{dotted}: no such module")


def _proof_port_443() -> None:
    for key in CONNECTION_KEYS:
        for market in LIVE_HOSTS:
            for demo in (False, True):
                assert ":8443" not in resolve_url(key, market=market, demo_trading=demo)
    assert not any(":8443" in host for host in (*LIVE_HOSTS.values(), *DEMO_HOSTS.values()))


def _proof_port_8443_refused() -> None:
    from okx_ws_core import ClientOptions, ConfigurationError

    with pytest.raises(ConfigurationError, match="2026-10-31"):
        ClientOptions(base_url="wss://ws.okx.com:8443")


def _proof_tracker_canceled_without_live() -> None:
    """A post-only order rejected for crossing: the reply, then only a canceled push."""
    from okx_ws import ORDER_OPS

    from okx_ws_core.orders.tracker import OrderTracker

    tracker, op = OrderTracker(), ORDER_OPS["order"]
    args = [{"instId": "BTC-USDT", "clOrdId": "po1", "ordType": "post_only", "sz": "1"}]
    tracker.on_request(op, args, 0.0)
    tracker.on_reply(
        op, args, {"code": "0", "data": [{"clOrdId": "po1", "ordId": "7", "sCode": "0"}]}, 0.1
    )
    push = {"instId": "BTC-USDT", "clOrdId": "po1", "ordId": "7", "state": "canceled",
            "ordType": "post_only", "sz": "1", "accFillSz": "0", "cancelSource": "31"}  # fmt: skip
    tracker.on_push([push], "order", 0.2)
    order = tracker.get("po1")
    assert order is not None and order.state == "canceled" and order.final


def _proof_notice_64008_on_business() -> None:
    from okx_ws_core.protocol.frames import NOTICE_RECONNECT_CODE, Notice, parse_frame

    frame = '{"event":"notice","code":"64008","msg":"reconnect","connId":"b1"}'
    assert parse_frame(frame) == Notice(
        NOTICE_RECONNECT_CODE, "reconnect", parse_frame(frame).message
    )  # type: ignore[union-attr]


def _proof_book_ignores_checksum_and_chains_seq_ids() -> None:
    """checksum 0 is not checked; prevSeqId chaining is, and a break invalidates the book."""
    from okx_ws_core.book.orderbook import OrderBook

    def frame(action: str, prev: int, seq: int, bids: list[list[str]]) -> dict[str, Any]:
        data = {"bids": bids, "asks": [["101", "1", "0", "1"]], "ts": "1", "checksum": 0,
                "prevSeqId": prev, "seqId": seq}  # fmt: skip
        return {"arg": {"channel": "books", "instId": "BTC-USDT"}, "action": action, "data": [data]}

    book = OrderBook("BTC-USDT", "books")
    book.apply(frame("snapshot", -1, 10, [["100", "1", "0", "1"]]), 0.0)
    book.apply(frame("update", 10, 11, [["100", "2", "0", "1"]]), 0.1)
    assert book.valid and book.seq_id == 11 and book.best_bid() == (Decimal(100), Decimal(2))
    book.apply(frame("update", 12, 13, [["100", "3", "0", "1"]]), 0.2)  # 11 -> 12 missing
    assert not book.valid


PROOFS = {
    "book_ignores_checksum_and_chains_seq_ids": _proof_book_ignores_checksum_and_chains_seq_ids,
    "port_443": _proof_port_443,
    "port_8443_refused": _proof_port_8443_refused,
    "tracker_canceled_without_live": _proof_tracker_canceled_without_live,
    "notice_64008_on_business": _proof_notice_64008_on_business,
}


@pytest.mark.parametrize("change", CHANGES, ids=_ids())
def test_each_change_is_reflected(change: dict[str, Any]) -> None:
    assert change.get("spec_paths") or change.get("runtime") or change.get("not_followed")
    for dotted in change.get("spec_paths") or ():
        assert spec_path_exists(SPEC.raw, dotted), dotted
        _prove_spec_path(dotted)
    for dotted in change.get("runtime") or ():
        assert _resolve_runtime(dotted) is not None, dotted
    for proof in change.get("proofs") or ():
        PROOFS[proof]()


def test_entries_are_in_date_order_per_file_and_dated_like_okx() -> None:
    for change in CHANGES:
        assert len(change["date"]) == 10 and change["source"]
        if "demo_date" in change:
            assert change["demo_date"] <= change["date"]


def test_every_retired_name_and_new_field_of_the_spec_has_an_entry() -> None:
    """A rename or a dated field added to the spec without an entry here fails."""
    named = {path for change in CHANGES for path in change.get("spec_paths") or ()}
    for definition, schema in SPEC.raw["definitions"].items():
        for name in schema.get("x-retired") or {}:
            assert f"definitions.{definition}.x-retired.{name}" in named
        for field, sub in (schema.get("properties") or {}).items():
            if "x-since" in sub and sub["x-since"]["date"] >= "2025-08-01":
                assert f"definitions.{definition}.properties.{field}" in named, field


def test_a_spec_path_that_does_not_exist_fails_the_spec(tmp_path: Path) -> None:
    for source in SPEC_DIR.glob("*.yaml"):
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    changes = yaml.safe_load((tmp_path / "okx-changes.yaml").read_text(encoding="utf-8"))
    changes["okx_changes"][0]["spec_paths"] = ["definitions.OrderParams.properties.noSuchField"]
    (tmp_path / "okx-changes.yaml").write_text(yaml.safe_dump(changes), encoding="utf-8")
    with pytest.raises(SpecError, match="noSuchField.*does not exist"):
        load_spec(tmp_path)
    assert not spec_path_exists(SPEC.raw, "definitions.OrderParams.properties.ordType.enum.elp")
